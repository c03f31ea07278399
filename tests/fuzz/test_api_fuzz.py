"""Property-based fuzzing of every operation in /api/schema/ with schemathesis.

Each operation becomes its own pytest test (one database transaction each) and runs a
bounded, derandomized set of generated requests signed in with a JWT as each role of the
seeded dataset (buyer, vendor, sales rep, management, staff), and anonymously. Every answer
must be no 5xx, conform to the documented status codes, media types and schemas, and every
4xx/5xx must be the error envelope carrying the response's request id. Random input rarely
gets past validation, so one walk through the documented success answers is validated
against the schema too.
"""

import re

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from accounts.tests.factories import PASSWORD
from notifications.models import EmailMessage, Notification, NotificationType
from tests.fuzz.api import CHECKS, HEALTH_CHECKS, config, load
from tests.fuzz.dataset import ROLES

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Budget: CI runs the whole suite serially in under 15 minutes and the rest of it takes ~7, so
# this folder keeps to about 4 minutes on two cores. Measured on SQLite with 187 operations:
#   start-up (migrations, three schema loads)                              ~15 s
#   each role, explicit examples and 5 generated requests: ~9 s a role    ~45 s
#   the coverage phase (boundary values, wrong types, unexpected methods,
#     about 20 requests an operation), once, as management                ~65 s
#   anonymously, 2 generated requests                                       ~5 s
#   stateful phase (test_api_stateful.py)                                  ~16 s
#   hostile values in every field (test_hostile_values.py)                 ~14 s
#   links walk, hand-written bad input, schema generation                   ~5 s
# about 165 s in all, the same on PostgreSQL (2 min 40 s measured on each, the machine
# shared); the coverage phase for a second role would cost another ~65 s, each more
# generated request ~1.5 s a role.
ROLE_EXAMPLES = 5
schema = load(config(max_examples=ROLE_EXAMPLES, phases={"coverage": {"enabled": False}}))
covered_schema = load(config(max_examples=1, phases={"examples": {"enabled": False}, "fuzzing": {"enabled": False}}))
anonymous_schema = load(config(max_examples=2, phases={"coverage": {"enabled": False}}))
# The signed-in user and their token are meant to be shared by every generated request.
SHARED_FIXTURES = hypothesis_settings(
    suppress_health_check=[*(HealthCheck[name] for name in HEALTH_CHECKS), HealthCheck.function_scoped_fixture]
)


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
@SHARED_FIXTURES
def test_api_as_each_role(case, role_headers):
    case.call_and_validate(headers=role_headers, checks=CHECKS)


@covered_schema.parametrize()
@pytest.mark.parametrize("role", ["management"])
@SHARED_FIXTURES
def test_api_boundaries_and_wrong_types(case, role_headers):
    case.call_and_validate(headers=role_headers, checks=CHECKS)


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
