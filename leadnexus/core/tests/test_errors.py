import io
import json
import logging

import pytest
from django.test import Client
from pythonjsonlogger.json import JsonFormatter

from leadnexus.core.testing import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("leadnexus.core.tests.urls")]


def test_validation_error_lists_each_field(api_client):
    error = assert_error(api_client.post("/api/auth/register", {}, format="json"), 400, "validation_error")
    assert set(error["details"]) == {"email", "password", "full_name", "organization_name", "account_type"}
    assert error["details"]["email"] == ["This field is required."]


def test_malformed_json_is_a_validation_error(api_client):
    response = api_client.post("/api/auth/login", data="{not json", content_type="application/json")
    assert_error(response, 400, "validation_error")


def test_not_authenticated_carries_a_challenge(api_client):
    response = api_client.get("/api/auth/me")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_permission_denied(auth_client):
    assert_error(auth_client.get("/api/test/forbidden/"), 403, "permission_denied")


def test_unknown_api_path_is_not_found_in_the_envelope(api_client):
    assert_error(api_client.get("/api/no-such-thing/"), 404, "not_found")


def test_method_not_allowed(api_client):
    assert_error(api_client.get("/api/auth/login"), 405, "method_not_allowed")


def test_unsupported_media_type(api_client):
    response = api_client.post("/api/auth/login", data="email=a", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_conflict(api_client, user):
    payload = {
        "email": user.email.upper(),
        "password": "orbit-lattice-42",
        "full_name": "Someone",
        "organization_name": "Another Co",
        "account_type": "buyer",
    }
    assert_error(api_client.post("/api/auth/register", payload, format="json"), 409, "conflict")


def test_unhandled_api_error_is_a_logged_500_envelope(auth_client, caplog):
    with caplog.at_level(logging.ERROR):
        response = auth_client.get("/api/test/boom/")
    error = assert_error(response, 500, "server_error")
    assert "boom" not in error["message"]
    assert any(record.exc_info and record.request_id == error["request_id"] for record in caplog.records)


def test_unhandled_page_error_is_a_500_page_with_the_request_id():
    client = Client(raise_request_exception=False)
    response = client.get("/test/boom/", headers={"X-Request-ID": "trace-123"})
    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-123"
    assert b"trace-123" in response.content and b"server_error" in response.content


def test_an_unreachable_database_is_a_503_envelope_to_try_again(auth_client, caplog):
    with caplog.at_level(logging.ERROR):
        response = auth_client.get("/api/test/database-down/")
    error = assert_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5" and "Connection refused" not in error["message"]
    assert any(record.exc_info and record.request_id == error["request_id"] for record in caplog.records)


def test_an_unreachable_database_is_a_503_page_with_the_request_id():
    client = Client(raise_request_exception=False)
    response = client.get("/test/database-down/", headers={"X-Request-ID": "trace-503"})
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert b"trace-503" in response.content and b"service_unavailable" in response.content


def test_page_404_is_html_with_the_request_id(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert response["X-Request-ID"].encode() in response.content


def test_json_clients_get_the_envelope_outside_api(client):
    response = client.get("/no-such-page/", headers={"Accept": "application/json"})
    assert_error(response, 404, "not_found")


def test_csrf_failure_is_permission_denied():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/login/", {"email": "a@example.com", "password": "x"}, headers={"Accept": "application/json"}
    )
    error = assert_error(response, 403, "permission_denied")
    assert "Reload the page" in error["message"]


def test_request_id_is_taken_from_the_caller_or_made(api_client):
    response = api_client.get("/api/auth/me", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"
    assert response.json()["error"]["request_id"] == "abc-123"

    forged = api_client.get("/api/auth/me", headers={"X-Request-ID": "bad id\nwith newline"})
    assert forged["X-Request-ID"] != "bad id\nwith newline"
    assert len(forged["X-Request-ID"]) == 32


def test_every_path_answers_with_or_without_trailing_slash(auth_client):
    assert auth_client.get("/api/auth/me").status_code == 200
    assert auth_client.get("/api/auth/me/").status_code == 200


def test_logs_are_json_lines_with_the_request_id(api_client):
    # Format through the project's configured console handler, as production writes it.
    console = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(console.formatter)
    for log_filter in console.filters:
        capture.addFilter(log_filter)
    access_log = logging.getLogger("leadnexus.access")
    access_log.addHandler(capture)
    try:
        api_client.get("/api/auth/me", headers={"X-Request-ID": "log-check-1"})
    finally:
        access_log.removeHandler(capture)
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["request_id"] == "log-check-1"
    assert line["level"] == "INFO" and line["status"] == 401 and line["path"] == "/api/auth/me/"


def test_payload_too_large(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api_client.post("/api/auth/login", {"email": "a@example.com", "password": "x" * 5000}, format="json")
    assert_error(response, 413, "payload_too_large")


def test_payload_too_large_on_a_page(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = Client().post("/login/", {"email": "a@example.com", "password": "x" * 5000})
    assert response.status_code == 413
    assert b"payload_too_large" in response.content
