"""The error envelope, `{"error": {"code", "message", "details", "request_id"}}`, for
every error the project answers: DRF's exception handler, Django's error views
(400, 403, 404, 500, CSRF failure) and domain errors escaping a page view.
API requests get JSON; pages get an HTML page carrying the same code and request id.
A database that cannot be reached (connection refused or cut mid-request) answers 503
`service_unavailable` with Retry-After, not a 500: the request may simply be tried again,
and Django closes the broken connection at the end of the request so the next one
reconnects."""

import logging
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from leadnexus.core.exceptions import ApplicationError
from leadnexus.core.logging import get_request_id

logger = logging.getLogger(__name__)

_DRF_CODES = {
    drf.ValidationError: "validation_error",
    drf.ParseError: "validation_error",
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "not_authenticated",
    drf.PermissionDenied: "permission_denied",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
}
_STATUS_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "throttled",
    500: "server_error",
}
DATABASE_UNAVAILABLE = (
    503,
    "service_unavailable",
    "The service is briefly unavailable. Try again in a moment.",
    {},
    {"Retry-After": "5"},
)


def error_body(*, code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}, "request_id": get_request_id()}}


def _field_errors(detail) -> dict:
    """DRF/Django validation detail as `{field: [messages]}` (nested serializers stay nested)."""
    if isinstance(detail, dict):
        return {str(field): _messages(value) for field, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def _messages(value):
    if isinstance(value, dict):
        return _field_errors(value)
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, dict) for item in value):
            return [_messages(item) for item in value]
        return [str(item) for item in value]
    return [str(value)]


def _validation_message(details: dict) -> str:
    non_field = details.get("non_field_errors")
    if non_field and isinstance(non_field[0], str):
        return non_field[0]
    return "Some fields are not valid: " + ", ".join(details) + "."


def _describe(exc) -> tuple[int, str, str, dict, dict]:
    """(status, code, message, details, headers) for any exception."""
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": str(exc.retry_after)} if hasattr(exc, "retry_after") else {}
        return exc.status, exc.code, exc.message, exc.details, headers
    if isinstance(exc, RequestDataTooBig):
        return 413, "payload_too_large", "The request body is too large.", {}, {}
    if isinstance(exc, SuspiciousOperation):
        return 400, "validation_error", "The request could not be understood.", {}, {}
    if isinstance(exc, Http404):
        return 404, "not_found", "Not found.", {}, {}
    if isinstance(exc, DjangoPermissionDenied):
        return 403, "permission_denied", "You do not have permission to perform this action.", {}, {}
    if isinstance(exc, DjangoValidationError):
        details = _field_errors(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return 400, "validation_error", _validation_message(details), details, {}
    if isinstance(exc, drf.APIException):
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, drf.ValidationError):
            details = _field_errors(exc.detail)
            return exc.status_code, "validation_error", _validation_message(details), details, headers
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        # DRF answers 403 instead of 401 when no authenticator offers a challenge.
        if exc.status_code == 403:
            code = "permission_denied"
        code = code or _STATUS_CODES.get(exc.status_code, str(exc.default_code))
        # simplejwt hands over a dict whose "detail" is the readable part.
        message = exc.detail.get("detail", exc.default_detail) if isinstance(exc.detail, dict) else exc.detail
        return exc.status_code, code, str(message), {}, headers
    if isinstance(exc, (OperationalError, InterfaceError)):
        return DATABASE_UNAVAILABLE
    return 500, "server_error", "Something went wrong on our side. It has been logged.", {}, {}


def api_exception_handler(exc, context):
    status, code, message, details, headers = _describe(exc)
    if status >= 500:
        logger.error("Unhandled error in API view", exc_info=exc)
    set_rollback()
    return Response(error_body(code=code, message=message, details=details), status=status, headers=headers)


def wants_json(request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request, *, status: int, code: str, message: str, details: dict | None = None, headers=None):
    if wants_json(request):
        response = JsonResponse(error_body(code=code, message=message, details=details), status=status)
    else:
        # Standalone template: a 500 must render even when the database is down.
        html = render_to_string(
            "errors/error.html",
            {"status": status, "code": code, "message": message, "request_id": get_request_id()},
        )
        response = HttpResponse(html, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def bad_request(request, exception=None):
    status, code, message, _, _ = _describe(exception or SuspiciousOperation())
    return error_response(request, status=status, code=code, message=message)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to see this page."
    return error_response(request, status=403, code="permission_denied", message=message)


def page_not_found(request, exception=None):
    return error_response(request, status=404, code="not_found", message="Not found.")


def server_error(request):
    """Django's handler500, called while the exception is being handled: a database that
    cannot be reached is a 503, anything else a 500."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        status, code, message, _, headers = DATABASE_UNAVAILABLE
        return error_response(request, status=status, code=code, message=message, headers=headers)
    return error_response(
        request, status=500, code="server_error", message="Something went wrong on our side. It has been logged."
    )


def csrf_failure(request, reason=""):
    return error_response(
        request,
        status=403,
        code="permission_denied",
        message="The form expired or came from another site. Reload the page and try again.",
    )


class ApplicationErrorMiddleware:
    """A domain error a page view did not turn into a form error still gets its status and
    an error page (a selector's `NotFound` in a page view is a 404, not a 500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, ApplicationError):
            status, code, message, details, headers = _describe(exception)
            return error_response(request, status=status, code=code, message=message, details=details, headers=headers)
        return None
