"""The documented success answers of the team and organization endpoints match the OpenAPI
schema (random fuzzing seldom gets past their validation, so walk them once on purpose)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services.organization import organization_update_by_staff
from accounts.tests.factories import bearer_token

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def schema(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # The real WSGI handler's request signals would close the connection holding the test
    # transaction; Django's test client unhooks them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    # The schema client sends `Host: localhost`.
    yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _caller(schema, headers):
    def call(path: str, method: str, expected: int, **parts):
        if "body" in parts:
            parts.setdefault("media_type", "application/json")
        case = schema[path][method].Case(**parts)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert response.status_code == expected, (response.status_code, response.content[:500])
        return response.json() if response.content else None

    return call


def test_team_and_organization_answers_conform_to_the_schema(schema, user, staff_user):
    organization_update_by_staff(actor=staff_user, organization_id=user.organization_id, changes={"plan": "enterprise"})
    call = _caller(schema, {"Authorization": f"Bearer {bearer_token(user)}"})
    sub_users, member = "/api/profile/sub-users/", "/api/profile/sub-users/{id}/"

    created = call(
        sub_users,
        "POST",
        201,
        body={"email": "schema.walk@example.com", "full_name": "Schema Walk", "permissions": {"can_buy": False}},
    )
    ids = {"id": created["id"]}
    listed = call(sub_users, "GET", 200, query={"role": "sales_rep", "is_active": True})
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    call(member, "GET", 200, path_parameters=ids)
    call(member, "PATCH", 200, path_parameters=ids, body={"full_name": "Renamed", "role": "sales_manager"})
    call(f"{member}permissions/", "PATCH", 200, path_parameters=ids, body={"can_export": False})
    call(f"{member}resend-invitation/", "POST", 200, path_parameters=ids)
    deactivated = call(member, "PATCH", 200, path_parameters=ids, body={"is_active": False})
    assert deactivated["is_active"] is False
    call(member, "DELETE", 204, path_parameters=ids)

    call("/api/organization/", "GET", 200)
    updated = call(
        "/api/organization/",
        "PATCH",
        200,
        body={"website": "https://acme.example", "phone": "+14155552671", "time_zone": "America/New_York"},
    )
    assert updated["seats"] == {"limit": None, "used": 1}
