"""Spreadsheet files to rows of text cells.

The content decides what a file is, never its name: an XLSX is a zip holding
`xl/workbook.xml`; anything else must read as text (UTF-8 with or without BOM, UTF-16 with
BOM, else Windows-1252/Latin-1) with a comma, semicolon or tab between cells (guessed from
the first lines). Quoted cells may hold newlines. What is neither is 415; a file too large
or with too many rows is 413; a file that starts well and then breaks is 400 naming the
line or row.
"""

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings

from leads.exceptions import ImportFileMalformed, ImportFileTooLarge, ImportFileUnsupported

MAX_COLUMNS = 200
# A cell longer than this is certainly not a spreadsheet cell (and stops a runaway quote early).
MAX_CELL_CHARS = 100_000
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"^sep=(.)\r?\n", re.IGNORECASE)
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) or Word file; save it as XLSX or CSV",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
}
# Control characters other than tab, newline and carriage return: text files have none.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass
class Table:
    """A file's header and its data rows: (row number, cells by column) for each non-blank
    row, numbered from 1 after the header the way a spreadsheet user counts them."""

    columns: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    format: str  # "csv" or "xlsx"


def table_read(raw: bytes) -> Table:
    if len(raw) > settings.IMPORT_MAX_FILE_BYTES:
        limit = settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)
        raise ImportFileTooLarge(f"The file is larger than the import limit of {limit} MB.")
    if not raw.strip():
        raise ImportFileMalformed("The file is empty.", details={"file": ["The file is empty."]})
    if raw.startswith(b"PK\x03\x04"):
        return _xlsx_read(raw)
    for signature, what in _BINARY_SIGNATURES.items():
        if raw.startswith(signature):
            raise ImportFileUnsupported(f"The file is {what}, not a CSV or XLSX spreadsheet.")
    return _csv_read(_decode(raw))


# --- Text ------------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        text = raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileUnsupported("The file says it is UTF-16 text but is not.") from None
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            # Spreadsheets saved on Windows: Windows-1252, a superset of Latin-1's printable
            # characters; the five bytes it leaves undefined fall back to Latin-1.
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) > max(2, len(sample) // 200):
        raise ImportFileUnsupported("The file is not text: it is not a CSV or XLSX spreadsheet.")
    return _CONTROL.sub("", text) if "\x00" in text else text


def _sniff(sample: str) -> str:
    """The delimiter that gives the first lines the most consistent number of cells."""
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            rows = [row for row in itertools.islice(reader, 50) if any(cell.strip() for cell in row)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        # The sample may end inside a row: leave its last row out when there are others.
        body = rows[1:-1] if len(rows) > 2 else rows[1:]
        consistency = sum(len(row) == width for row in body) / len(body) if body else 0.5
        score = (consistency, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_read(text: str) -> Table:
    delimiter = None
    sep = _SEP_LINE.match(text)
    if sep:  # Excel's "sep=;" first line
        delimiter, text = sep.group(1), text[sep.end() :]
    delimiter = delimiter or _sniff(text[:_SNIFF_CHARS])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows = _csv_rows(reader, text, delimiter)
    header = next((row for row in rows if any(cell.strip() for cell in row[1])), None)
    if header is None:
        raise ImportFileMalformed("The file has no header row.", details={"file": ["The file has no header row."]})
    columns = _columns(header[1])
    return Table(columns=columns, rows=_records(columns, rows), format="csv")


def _csv_rows(reader, text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells) for every row; strict about a quote left open at the
    end of the file, lenient about a stray quote inside a cell."""
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            message = f'Line {line}: a quoted cell is never closed (a missing " before the end of the file).'
            raise ImportFileMalformed(message, details={"file": [message]}) from None
        if "field larger than field limit" in str(exc):
            message = f"Line {line}: a cell is far too long (is a quote left open?)."
            raise ImportFileMalformed(message, details={"file": [message]}) from None
        # A stray quote inside a cell (`a"b` or `"a"b`): read the rest leniently, like a spreadsheet does.
        lenient = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        resume_at = line
        for cells in lenient:
            if lenient.line_num >= resume_at:
                yield line, cells
            line = lenient.line_num + 1


def _columns(header: list[str]) -> list[str]:
    if len(header) > MAX_COLUMNS:
        message = f"The file has {len(header)} columns; at most {MAX_COLUMNS} can be imported."
        raise ImportFileMalformed(message, details={"file": [message]})
    columns: list[str] = []
    for index, cell in enumerate(header, start=1):
        name = " ".join(str(cell if cell is not None else "").replace("\ufeff", "").split())[:100]
        name = name or f"Column {index}"
        if name in columns:  # two "Email" columns: keep both, apart
            name = next(f"{name} ({n})" for n in itertools.count(2) if f"{name} ({n})" not in columns)
        columns.append(name)
    return columns


def _records(columns: list[str], rows) -> Iterator[tuple[int, dict[str, str]]]:
    """Cells by column for each row with anything in it, counting rows past the header; more
    rows than IMPORT_MAX_ROWS is 413. Empty cells are left out; cells past the header's
    width are kept under "Column <n>" names."""
    limit = settings.IMPORT_MAX_ROWS
    kept = 0
    for row_no, (_, cells) in enumerate(rows, start=1):
        record = {}
        for index, cell in enumerate(cells):
            if cell is None or cell == "":
                continue
            text = cell if isinstance(cell, str) else _cell_text(cell)
            if not text.strip():
                continue
            if len(text) > MAX_CELL_CHARS:
                message = f"Row {row_no}: a cell is longer than {MAX_CELL_CHARS:,} characters."
                raise ImportFileMalformed(message, details={"file": [message]})
            name = columns[index] if index < len(columns) else f"Column {index + 1}"
            record[name] = text
        if not record:
            continue
        kept += 1
        if kept > limit:
            raise ImportFileTooLarge(f"The file has more than {limit:,} rows, the most one import takes.")
        yield row_no, record


# --- XLSX ------------------------------------------------------------------------------


def _xlsx_read(raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = set(archive.namelist())
    except zipfile.BadZipFile:
        message = "The XLSX file is damaged: its zip structure cannot be read."
        raise ImportFileMalformed(message, details={"file": [message]}) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileUnsupported("The file is a zip archive, not an XLSX spreadsheet.")
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = _xlsx_rows(sheet.iter_rows(values_only=True))
        header = next(rows, None)
    except ImportFileMalformed:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        message = f"The XLSX file could not be read: {_reason(exc)}."
        raise ImportFileMalformed(message, details={"file": [message]}) from None
    if header is None:
        raise ImportFileMalformed("The sheet is empty.", details={"file": ["The first sheet is empty."]})
    columns = _columns(list(header[1]))
    return Table(columns=columns, rows=_records(columns, rows), format="xlsx")


def _xlsx_rows(rows) -> Iterator[tuple[int, list]]:
    """The sheet's rows from the first non-empty one, turning a failure midway into a 400 that
    names the row."""
    number = 0
    started = False
    iterator = iter(rows)
    while True:
        number += 1
        try:
            cells = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            message = f"Row {number} of the sheet could not be read: {_reason(exc)}."
            raise ImportFileMalformed(message, details={"file": [message]}) from None
        if not started:
            if not any(cell not in (None, "") for cell in cells):
                continue
            started = True
        # Trailing empty cells of wide sheets cost memory for nothing.
        cells = list(cells)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        yield number, cells


def _cell_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # 4155550123.0 is a phone number, 250.0 a head count
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
