"""Request id for the duration of a request, and a logging filter that stamps it on every record."""

import logging
import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_request_id(incoming: str | None = None) -> str:
    """Keep a caller's well-formed `X-Request-ID`, otherwise make one."""
    if incoming and _VALID_INCOMING_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def get_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None):
    return _request_id.set(request_id)


def unbind_request_id(token) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = get_request_id()
        return True
