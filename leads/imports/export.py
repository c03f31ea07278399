"""Lead exports (CSV or XLSX) and spreadsheet downloads in general.

An export is exactly the list the user sees: `leads.selectors.lead_list` (the visibility
rules) filtered by `leads.filters.LeadFilter` with the list's own query parameters. It needs
`can_export`. Other lists (the CRM's contacts) export through `export_response` with their
own columns. CSV is streamed row by row; XLSX is written by openpyxl's write-only mode to
an anonymous temporary file, then streamed back. Either way the server never holds the
whole list in memory.

Every text cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
`@`, a tab or a carriage return) gets a leading `'`, so opening an export never runs what
a lead's data smuggled in.
"""

import csv
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import export_format_of, export_include_notes_of
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads.filters import LeadFilter
from leads.models import Lead
from leads.selectors import lead_list

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 2000


def cell_safe(value):
    """The value as a spreadsheet cell that cannot run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


# --- The lead columns ------------------------------------------------------------------

_LEAD_COLUMNS: list[tuple[str, Callable[[Lead], object]]] = [
    ("id", lambda lead: lead.pk),
    ("first_name", lambda lead: lead.first_name),
    ("last_name", lambda lead: lead.last_name),
    ("email", lambda lead: lead.email),
    ("phone", lambda lead: lead.phone),
    ("company", lambda lead: lead.company),
    ("job_title", lambda lead: lead.job_title),
    ("industry", lambda lead: lead.industry),
    ("location", lambda lead: lead.location),
    ("website", lambda lead: lead.website),
    ("employee_count", lambda lead: lead.employee_count),
    ("annual_revenue", lambda lead: lead.annual_revenue),
    ("customer_category", lambda lead: lead.customer_category),
    ("source", lambda lead: lead.source),
    ("status", lambda lead: lead.status),
    ("score", lambda lead: lead.score),
    ("validation_status", lambda lead: lead.validation_status),
    ("validation_reasons", lambda lead: "; ".join(lead.validation_reasons or [])),
    ("assigned_to", lambda lead: lead.assigned_to.email if lead.assigned_to_id else ""),
    ("created_at", lambda lead: lead.created_at),
    ("updated_at", lambda lead: lead.updated_at),
]
_NOTES_COLUMN = ("notes", lambda record: record.notes)


def _rows(queryset, columns) -> Iterator[list]:
    yield [name for name, _ in columns]
    for record in queryset.iterator(chunk_size=_CHUNK):
        yield [cell_safe(get(record)) for _, get in columns]


# --- Files -----------------------------------------------------------------------------


class _Echo:
    """A file-like whose write returns what it was given, for csv.writer in a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterable[list], *, filename: str) -> StreamingHttpResponse:
    """Stream `rows` (already made safe) as UTF-8 CSV with a BOM, so spreadsheets read accents right."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type=CSV_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def csv_write(rows: Iterable[list], file) -> None:
    """Write `rows` (already made safe) as UTF-8 CSV with a BOM into the binary `file`."""
    text = io.TextIOWrapper(file, encoding="utf-8", newline="")
    text.write("\ufeff")
    csv.writer(text).writerows(rows)
    text.flush()
    text.detach()  # the caller keeps its file open


def xlsx_write(rows: Iterable[list], file, *, title: str) -> None:
    """Write `rows` (already made safe) as a one-sheet XLSX workbook (openpyxl's write-only mode)
    into the binary `file`; text cells stay text whatever their first character."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                # A string cell, never a formula, whatever its first character.
                cell = WriteOnlyCell(sheet, value=None)
                cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    workbook.save(file)


def xlsx_response(rows: Iterable[list], *, filename: str, title: str) -> FileResponse:
    # Anonymous temporary file: gone from the disk once the response closes it.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    xlsx_write(rows, spool, title=title)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def spreadsheet_response(rows: Iterable[list], *, format: str, basename: str, title: str = "Sheet"):
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if format == "xlsx":
        return xlsx_response(rows, filename=f"{basename}-{stamp}.xlsx", title=title)
    return csv_response(rows, filename=f"{basename}-{stamp}.csv")


def rejected_response(rejected):
    """An import's rejected rows (`leads.imports.selectors.import_rejected`) as a CSV download:
    the file's own columns, then why each row was not imported."""
    columns = rejected.columns
    reason = "reason" if "reason" not in columns else "import reason"

    def rows():
        yield [cell_safe(name) for name in [*columns, reason]]
        for _, data, message in rejected.rows:
            yield [cell_safe(data.get(column, "")) for column in columns] + [cell_safe(message)]

    stem = rejected.job.file_name.rsplit(".", 1)[0] or "import"
    return spreadsheet_response(rows(), format="csv", basename=f"{stem}-rejected")


# --- Exports of a list ---------------------------------------------------------------------


def require_export(user: User, label: str) -> None:
    if not permissions_of(user)["can_export"]:
        raise PermissionDenied(f"You do not have permission to export {label}.")


def list_filtered(filterset) -> QuerySet:
    """A list filtered by its query parameters; filters that are not valid are a validation error."""
    if not filterset.is_valid():
        raise ValidationFailed(
            "Some filters are not valid.",
            details={name: [str(message) for message in messages] for name, messages in filterset.errors.items()},
        )
    return filterset.qs


def export_response(
    *,
    user: User,
    queryset,
    columns: list[tuple[str, Callable]],
    basename: str,
    title: str,
    format: str | None = None,
    include_notes: bool | None = None,
):
    """A download of `queryset` (already scoped to `user`) with `columns`, in `format` (default:
    the user's preference), with a notes column as their preference says."""
    require_export(user, basename)
    if format and format not in FORMATS:
        raise ValidationFailed("Unknown export format.", details={"format": ["Choose csv or xlsx."]})
    format = export_format_of(user=user, requested=format)
    if export_include_notes_of(user=user, requested=include_notes):
        columns = [*columns, _NOTES_COLUMN]
    return spreadsheet_response(_rows(queryset, columns), format=format, basename=basename, title=title)


# --- Lead exports ------------------------------------------------------------------------


def leads_for_export(*, user: User, params) -> QuerySet[Lead]:
    """The leads the user's list shows for these query parameters (filters, search, ordering)."""
    require_export(user, "leads")
    return list_filtered(LeadFilter(data=params, queryset=lead_list(user=user), user=user))


def leads_export_response(*, user: User, queryset, format: str | None = None, include_notes: bool | None = None):
    """A download of `queryset` (already scoped to `user`, e.g. a bulk selection)."""
    return export_response(
        user=user,
        queryset=queryset,
        columns=_LEAD_COLUMNS,
        basename="leads",
        title="Leads",
        format=format,
        include_notes=include_notes,
    )


def leads_export(*, user: User, params, format: str | None = None):
    """The export of the user's lead list as filtered by `params` (the list page's GET)."""
    return leads_export_response(user=user, queryset=leads_for_export(user=user, params=params), format=format)
