"""Domain errors of analytics (subclasses of core's `ApplicationError`)."""

from leadnexus.core.exceptions import ApplicationError


class ReportExpired(ApplicationError):
    code = "export_expired"
    status = 410
    default_message = "This report's file has expired and was removed. Run the report again."


class ReportNotReady(ApplicationError):
    code = "conflict"
    status = 409
    default_message = "This report is not ready yet."
