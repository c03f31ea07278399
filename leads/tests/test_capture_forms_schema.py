"""The documented success answers of the lead form endpoints (forms, submissions, attachment
download, reached out, public submit) match the OpenAPI schema: random fuzzing seldom gets
past their validation, so walk them once on purpose."""

import pytest
import schemathesis
from django.core import signals
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tests.factories import UserFactory, bearer_token
from leads.services.forms import submission_receive

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def schema(settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # The real WSGI handler's request signals would close the connection holding the test
    # transaction; Django's test client unhooks them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
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
        return response

    return call


def test_lead_form_answers_conform_to_the_schema(schema, user, private_files):
    call = _caller(schema, {"Authorization": f"Bearer {bearer_token(user)}"})
    member = UserFactory(organization=user.organization)
    forms, one = "/api/lead-forms/", "/api/lead-forms/{id}/"

    body = {
        "name": "Schema walk",
        "fields": [{"name": "email", "required": True}, {"name": "first_name", "label": "Name"}],
        "notify_users": [member.pk],
        "allow_attachment": True,
    }
    created = call(forms, "POST", 201, body=body).json()
    ids = {"id": created["id"]}
    assert call(forms, "GET", 200, query={"is_active": True}).json()["count"] == 1
    call(one, "GET", 200, path_parameters=ids)
    call(one, "PATCH", 200, path_parameters=ids, body={"thank_you_text": "Cheers."})

    # A visitor submits, once through the schema's multipart body and once with an attachment
    anonymous = _caller(schema, {})
    answer = anonymous(
        "/api/public/forms/{slug}/submit/",
        "POST",
        201,
        path_parameters={"slug": created["slug"]},
        body={"email": "walker@example.org", "first_name": "Walker"},
        media_type="multipart/form-data",
    ).json()
    assert answer == {"status": "received", "message": "Cheers."}
    receipt = submission_receive(
        slug=created["slug"],
        data={"email": "pdf@example.org"},
        ip="192.0.2.1",
        attachment=SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n%%EOF\n"),
    )

    listed = call(f"{one}submissions/", "GET", 200, path_parameters=ids).json()
    assert listed["count"] == 2
    submission = {"submission_id": receipt.submission.pk}
    download = call("/api/lead-forms/submissions/{submission_id}/attachment/", "GET", 200, path_parameters=submission)
    assert download.headers["content-type"] == ["application/pdf"]
    marked = call("/api/lead-forms/submissions/{submission_id}/reached-out/", "POST", 200, path_parameters=submission)
    assert marked.json()["lead"]["status"] == "contacted"
    call(one, "DELETE", 204, path_parameters=ids)


def test_assignment_rule_answers_conform_to_the_schema(schema, user):
    call = _caller(schema, {"Authorization": f"Bearer {bearer_token(user)}"})
    rep = UserFactory(organization=user.organization, role="sales_rep")
    rules, one = "/api/assignment-rules/", "/api/assignment-rules/{id}/"

    created = call(rules, "POST", 201, body={"name": "Walk", "sources": ["form"], "members": [rep.pk]}).json()
    ids = {"id": created["id"]}
    assert call(rules, "GET", 200, query={"mode": "round_robin"}).json()["count"] == 1
    call(one, "GET", 200, path_parameters=ids)
    fixed = call(one, "PATCH", 200, path_parameters=ids, body={"mode": "fixed", "fixed_user": rep.pk}).json()
    assert (fixed["mode"], fixed["fixed_user"]) == ("fixed", rep.pk)
    call(one, "DELETE", 204, path_parameters=ids)
