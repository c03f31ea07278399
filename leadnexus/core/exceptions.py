"""The project-wide domain error. Every app's errors subclass `ApplicationError`.

A view never decides what an error looks like: the API turns it into the error
envelope (`leadnexus.core.errors`), a page into a form error or a flash message.
"""


class ApplicationError(Exception):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."

    def __init__(self, message: str | None = None, *, details: dict | None = None, code: str | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        if code:
            self.code = code
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status = 400
    default_message = "The request is not valid."


class NotAuthenticated(ApplicationError):
    code = "not_authenticated"
    status = 401
    default_message = "Authentication credentials were not provided or are not valid."


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403
    default_message = "You do not have permission to perform this action."


class NotFound(ApplicationError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class IllegalTransition(ApplicationError):
    code = "illegal_transition"
    status = 409
    default_message = "This change is not allowed from the current state."


class RateLimited(ApplicationError):
    code = "throttled"
    status = 429
    default_message = "Too many requests. Try again later."

    def __init__(self, message: str | None = None, *, retry_after: int, **kwargs):
        self.retry_after = retry_after
        super().__init__(message or f"Too many requests. Try again in {retry_after} seconds.", **kwargs)
