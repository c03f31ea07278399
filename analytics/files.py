"""A report export's file as a download (pages and API alike)."""

from django.http import FileResponse

from analytics.models import ReportExport
from analytics.services.exports import report_filename
from leads.imports.export import CSV_TYPE, XLSX_TYPE


def report_file_response(export: ReportExport) -> FileResponse:
    """Stream the stored file back in chunks (FileResponse is a streaming response)."""
    content_type = XLSX_TYPE if export.format == ReportExport.Format.XLSX else CSV_TYPE
    return FileResponse(
        export.file.open("rb"), as_attachment=True, filename=report_filename(export), content_type=content_type
    )
