"""Reading spreadsheets and matching their headers: encodings, delimiters, quoted newlines,
XLSX, the content-based 415, the limits (413) and malformed files (400 naming where)."""

import codecs
import io
import zipfile

import pytest
from openpyxl import Workbook

from leadnexus.core.exceptions import ValidationFailed
from leads.exceptions import ImportFileMalformed, ImportFileTooLarge, ImportFileUnsupported
from leads.imports.mapping import mapping_check, mapping_guess
from leads.imports.readers import table_read
from leads.imports.specs import spec_for


def _read(raw: bytes):
    table = table_read(raw)
    return table.columns, list(table.rows)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Text files ---------------------------------------------------------------------------


def test_utf8_with_bom_semicolons_and_quoted_newlines():
    # given a UTF-8 file with a BOM, semicolons, accents and a cell spanning two lines
    raw = codecs.BOM_UTF8 + 'Name;Email;Notes\r\nJosé Müller;jose@example.com;"first line\nsecond; line"\r\n'.encode()

    # when it is read
    columns, rows = _read(raw)

    # then the BOM is gone from the first header and the quoted cell keeps its newline and semicolon
    assert columns == ["Name", "Email", "Notes"]
    assert rows == [(1, {"Name": "José Müller", "Email": "jose@example.com", "Notes": "first line\nsecond; line"})]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_bom_is_read(codec):
    # given a tab-separated file saved as UTF-16 (with its byte order mark)
    text = "Email\tCompany\nana@example.com\tCafé Ltd\n"
    raw = text.encode("utf-16") if codec == "utf-16" else codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    if codec == "utf-16-be":
        raw = codecs.BOM_UTF16_BE + text.encode("utf-16-be")

    # when it is read, then the cells come back as text
    assert _read(raw) == (["Email", "Company"], [(1, {"Email": "ana@example.com", "Company": "Café Ltd"})])


def test_latin1_file_falls_back_from_utf8():
    # given a comma-separated file saved by a Windows spreadsheet (Windows-1252 / Latin-1)
    raw = "Name,City\nFrançois,Zürich\nAnaïs,Málaga\n".encode("cp1252")

    # when it is read, then the accents survive
    _, rows = _read(raw)
    assert [row["Name"] for _, row in rows] == ["François", "Anaïs"]
    assert rows[0][1]["City"] == "Zürich"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ["a", "b", "c"]),
        ("a;b;c\n1;2,5;3\n", ["a", "b", "c"]),
        ("a\tb\tc\n1\t2\t3\n", ["a", "b", "c"]),
        ("sep=;\na;b\n1;2\n", ["a", "b"]),
    ],
    ids=["comma", "semicolon with a decimal comma", "tab", "excel sep line"],
)
def test_the_delimiter_is_guessed(text, expected):
    columns, _ = _read(text.encode())
    assert columns == expected


def test_blank_rows_are_skipped_but_keep_the_numbering():
    # given blank lines before the header and between rows
    columns, rows = _read(b"\n\nEmail,Name\na@example.com,A\n\n,\nb@example.com,B\n")

    # then rows are numbered as in the file after the header, blank ones left out
    assert columns == ["Email", "Name"]
    assert [number for number, _ in rows] == [1, 4]


def test_duplicate_and_empty_headers_get_distinct_names():
    columns, rows = _read(b"Email,Email,,Phone\na@example.com,b@example.com,x,555\n")
    assert columns == ["Email", "Email (2)", "Column 3", "Phone"]
    assert rows[0][1]["Email (2)"] == "b@example.com"


def test_a_stray_quote_inside_a_cell_is_read_leniently():
    _, rows = _read(b'Name,Email\nO"Brien,ob@example.com\n"Ann" Lee,ann@example.com\n')
    assert [row["Email"] for _, row in rows] == ["ob@example.com", "ann@example.com"]


# --- XLSX -----------------------------------------------------------------------------------


def test_xlsx_first_sheet_with_numbers_and_dates():
    # given a workbook where a phone and a head count were typed as numbers
    from datetime import date

    raw = _xlsx([["Email", "Phone", "Employees", "Since"], ["a@example.com", 4155550123, 250.0, date(2024, 5, 1)]])

    # when it is read, then numbers read as the digits people typed
    columns, rows = _read(raw)
    assert columns == ["Email", "Phone", "Employees", "Since"]
    assert rows == [(1, {"Email": "a@example.com", "Phone": "4155550123", "Employees": "250", "Since": "2024-05-01"})]


def test_broken_xlsx_is_400_saying_so():
    # given an XLSX cut in half
    raw = _xlsx([["Email"], ["a@example.com"]])[:300]

    # when it is read, then it is malformed, not unsupported
    with pytest.raises(ImportFileMalformed) as caught:
        table_read(raw)
    assert "XLSX" in caught.value.message


# --- What is refused --------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
        bytes(range(256)) * 4,
    ],
    ids=["pdf", "png", "old xls", "binary noise"],
)
def test_files_that_are_not_spreadsheets_by_content_are_415(raw):
    with pytest.raises(ImportFileUnsupported):
        table_read(raw)


def test_a_zip_that_is_not_a_workbook_is_415():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("leads.csv", "Email\na@example.com\n")
    with pytest.raises(ImportFileUnsupported):
        table_read(buffer.getvalue())


def test_a_file_over_the_size_limit_is_413(settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    with pytest.raises(ImportFileTooLarge):
        table_read(b"Email\n" + b"a@example.com\n" * 20)


def test_more_rows_than_the_limit_is_413(settings):
    # given a limit of 3 rows and a file of 4
    settings.IMPORT_MAX_ROWS = 3
    table = table_read(b"Email\na@x.com\nb@x.com\nc@x.com\nd@x.com\n")

    # when the rows are read, then the fourth one stops it
    with pytest.raises(ImportFileTooLarge) as caught:
        list(table.rows)
    assert "3" in caught.value.message


def test_a_quote_left_open_at_the_end_is_400_naming_the_line():
    # given a quote opened on line 3 and never closed
    raw = b'Email,Notes\na@example.com,fine\nb@example.com,"never closed\nc@example.com,x\n'

    # when it is read, then the error names line 3
    with pytest.raises(ImportFileMalformed) as caught:
        list(table_read(raw).rows)
    assert "Line 3" in caught.value.message
    assert caught.value.status == 400 and "file" in caught.value.details


@pytest.mark.parametrize("raw", [b"", b"   \n\n"], ids=["empty", "blank"])
def test_an_empty_file_is_400(raw):
    with pytest.raises(ImportFileMalformed):
        table_read(raw)


# --- Header matching ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("e_mail", "email"),
        ("EMAIL", "email"),
        ("Work email", "email"),
        ("First Name", "first_name"),
        ("Given name", "first_name"),
        ("Prénom", "first_name"),
        ("Surname", "last_name"),
        ("Company name", "company"),
        ("Organisation", "company"),
        ("Mobile", "phone"),
        ("Tel", "phone"),
        ("Phone Number", "phone"),
        ("Company phone", "phone"),
        ("Title", "job_title"),
        ("Position", "job_title"),
        ("Job title", "job_title"),
        ("Company size", "employee_count"),
        ("Annual Revenue", "annual_revenue"),
        ("Name", "full_name"),
        ("Web site", "website"),
        ("Mail", None),
        ("Favourite colour", None),
    ],
)
def test_headers_are_matched_loosely(header, field):
    assert mapping_guess([header], spec_for("leads")) == {header: field}


def test_each_field_takes_the_leftmost_matching_column():
    mapping = mapping_guess(["Email", "E-mail", "Phone"], spec_for("leads"))
    assert mapping == {"Email": "email", "E-mail": None, "Phone": "phone"}


def test_a_corrected_mapping_keeps_the_columns_it_does_not_name():
    spec = spec_for("leads")
    current = {"Mail": None, "Company": "company"}

    mapping = mapping_check(given={"Mail": "email"}, columns=["Mail", "Company"], current=current, spec=spec)

    assert mapping == {"Mail": "email", "Company": "company"}


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"Nope": "email"}, "no column"),
        ({"Mail": "favourite_colour"}, "not a field"),
        ({"Mail": "company"}, "more than one column"),
        ({"Mail": None}, "Map a column to email or phone"),
    ],
)
def test_a_wrong_mapping_is_a_validation_error(given, problem):
    spec = spec_for("leads")
    current = {"Mail": "email", "Company": "company"}
    with pytest.raises(ValidationFailed) as caught:
        mapping_check(given=given, columns=["Mail", "Company"], current=current, spec=spec)
    assert problem in caught.value.message
    assert caught.value.details["mapping"]
