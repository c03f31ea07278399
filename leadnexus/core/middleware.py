import logging
import time

from django.urls import Resolver404, resolve

from leadnexus.core.logging import bind_request_id, new_request_id, unbind_request_id

access_log = logging.getLogger("leadnexus.access")


class RequestIdMiddleware:
    """Give each request an id (the caller's `X-Request-ID` or a new one), bind it to the
    logs, echo it in the response header, and write one access line per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = new_request_id(request.headers.get("X-Request-ID"))
        token = bind_request_id(request.request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            unbind_request_id(token)


class ApiTrailingSlashMiddleware:
    """Every API path answers with or without its trailing slash, without a redirect
    (a redirected POST would lose its body). Routes are declared with the slash."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and not path.endswith("/"):
            try:
                resolve(path)
            except Resolver404:
                try:
                    resolve(path + "/")
                except Resolver404:
                    pass
                else:
                    request.path_info = path + "/"
                    request.path = request.path + "/"
        return self.get_response(request)
