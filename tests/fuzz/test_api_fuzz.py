"""Property-based fuzzing of every operation in /api/schema/ with schemathesis.

Each operation becomes its own pytest test (one database transaction each) and runs a
bounded, derandomized set of generated requests, once signed in with a JWT and once
anonymously. Every answer must be no 5xx, conform to the documented status codes, media
types and schemas, and every 4xx/5xx must be the error envelope carrying the response's
request id. Random input rarely gets past validation, so one walk through the documented
success answers is validated against the schema too.
"""

import re

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import PASSWORD, bearer_token
from notifications.models import EmailMessage, Notification, NotificationType

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

SEED = 20240611
# The database makes some examples slow and the schema's constraints filter some out;
# neither is a bug of the API.
HEALTH_CHECKS = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]


def _config(*, max_examples: int, phases: dict) -> schemathesis.Config:
    # Fixed seed and derandomized generation: a failure reproduces on every run and machine.
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "suppress-health-check": HEALTH_CHECKS,
            "generation": {"max-examples": max_examples, "deterministic": True, "database": "none"},
            "phases": {"stateful": {"enabled": False}, **phases},
        }
    )


def _load(config: schemathesis.Config):
    # The schema client sends `Host: localhost`, which only DEBUG allows by default.
    with override_settings(ALLOWED_HOSTS=["localhost", "testserver"]):
        return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


# Signed in, every phase: explicit examples, the coverage phase's boundary values, wrong
# types and unexpected methods, then generated requests.
schema = _load(_config(max_examples=25, phases={}))
# Anonymous requests mostly stop at authentication (and the public endpoints ignore the
# token anyway), so a smaller budget suffices and keeps the folder fast.
anonymous_schema = _load(_config(max_examples=10, phases={"coverage": {"enabled": False}}))

# 25 generated requests per operation while the API is small, fewer as it grows, so the
# folder stays well under two minutes on two cores (the coverage phase adds its own
# boundary cases on top: about 1,200 requests in all for 15 operations).
OPERATIONS = sum(len(operations) for operations in schema.raw_schema["paths"].values())
schema.config.generation.update(max_examples=max(5, min(25, 1000 // OPERATIONS)))
anonymous_schema.config.generation.update(max_examples=max(3, min(10, 500 // OPERATIONS)))


@schemathesis.check
def error_envelope(ctx, response, case):
    """Every 4xx/5xx is `{"error": {code, message, details, request_id}}`, and the
    request id is the one in the `X-Request-ID` response header."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except Exception as exc:
        raise AssertionError(f"{response.status_code} body is not JSON: {response.content[:200]!r}") from exc
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error envelope: {body!r}"
    error = body["error"]
    assert isinstance(error, dict), f"not the error envelope: {body!r}"
    assert set(error) == {"code", "message", "details", "request_id"}, f"envelope keys: {sorted(error)}"
    assert isinstance(error["code"], str) and error["code"], f"empty code: {error!r}"
    assert isinstance(error["message"], str) and error["message"], f"empty message: {error!r}"
    assert isinstance(error["details"], dict), f"details is not an object: {error!r}"
    header = (response.headers.get("x-request-id") or [None])[0]
    assert error["request_id"], f"empty request_id: {error!r}"
    assert error["request_id"] == header, f"request_id {error['request_id']!r} != X-Request-ID {header!r}"
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    error_envelope,
]


@pytest.fixture(autouse=True)
def _fuzz_runtime(settings):
    settings.RATE_LIMIT_SCALE = 10000
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # Requests go through the real WSGI handler, whose request signals would close the
    # connection holding the test transaction; Django's test client unhooks them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer_headers(user):
    # Something to list and mark read, so success answers carry items to validate.
    for n in range(3):
        Notification.objects.create(user=user, type=NotificationType.ACCOUNT, title=f"Notice {n}")
    return {"Authorization": f"Bearer {bearer_token(user)}"}


@schema.parametrize()
# The signed-in user and their token are meant to be shared by every generated request.
@hypothesis_settings(
    suppress_health_check=[*(HealthCheck[name] for name in HEALTH_CHECKS), HealthCheck.function_scoped_fixture]
)
def test_api_authenticated(case, bearer_headers):
    case.call_and_validate(headers=bearer_headers, checks=CHECKS)


@anonymous_schema.parametrize()
def test_api_anonymous(case):
    case.call_and_validate(checks=CHECKS)


def _call(path: str, method: str, expected: int, *, headers=None, **parts):
    if "body" in parts:
        parts.setdefault("media_type", "application/json")
    case = schema[path][method].Case(**parts)
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS, headers=headers)
    assert response.status_code == expected, (response.status_code, response.content[:500])
    return response.json() if response.content else None


def _emailed(to: str, template: str, pattern: str) -> str:
    text = EmailMessage.objects.filter(to=to, template=template).latest("created_at").text
    return re.search(pattern, text).group(1)


def test_documented_success_answers_conform(user):
    email = "fuzz.walk@example.com"
    register = {
        "email": email,
        "password": "orbit-lattice-42",
        "full_name": "Walk Through",
        "organization_name": "Walkers",
        "account_type": "both",
    }
    assert _call("/api/auth/register/", "POST", 201, body=register)["email"] == email
    _call("/api/auth/verify/resend/", "POST", 202, body={"email": email})
    token = _emailed(email, "verify_email", r"/verify\?token=([\w-]+)")
    _call("/api/auth/verify/", "POST", 200, body={"token": token})

    tokens = _call("/api/auth/login/", "POST", 200, body={"email": user.email, "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {tokens['access']}"}
    _call("/api/auth/me/", "GET", 200, headers=bearer)
    _call("/api/users/", "GET", 200, headers=bearer)
    _call("/api/users/{id}/", "GET", 200, headers=bearer, path_parameters={"id": user.pk})
    notification = Notification.objects.create(user=user, type=NotificationType.ACCOUNT, title="Hello")
    _call("/api/workflows/notifications/", "GET", 200, headers=bearer, query={"unread": True})
    _call(
        "/api/workflows/notifications/{id}/read/", "POST", 200, headers=bearer, path_parameters={"id": notification.pk}
    )
    _call("/api/workflows/notifications/read-all/", "POST", 200, headers=bearer)

    refreshed = _call("/api/auth/refresh/", "POST", 200, body={"refresh": tokens["refresh"]})
    _call("/api/auth/logout/", "POST", 204, body={"refresh": refreshed["refresh"]})

    _call("/api/auth/forgot-password/", "POST", 202, body={"email": user.email})
    otp = _emailed(user.email, "password_reset_code", r"\b(\d{6})\b")
    reset = _call("/api/auth/verify-otp/", "POST", 200, body={"email": user.email, "otp": otp})
    _call("/api/auth/reset-password/", "POST", 200, body={**reset, "new_password": "quartz-meadow-77"})
