from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import UserSession
from accounts.tests.factories import PASSWORD, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db


def _api_login(user, agent="integration-test/1.0"):
    client = APIClient(HTTP_USER_AGENT=agent)
    tokens = client.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client, tokens


def test_each_sign_in_is_a_session_listed_with_its_device(user):
    laptop, _ = _api_login(user, agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
    _api_login(user)
    page = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1"
    )
    page.post("/login/", {"email": user.email, "password": PASSWORD})

    sessions = laptop.get("/api/auth/sessions").json()
    assert [s["kind"] for s in sessions] == ["page", "api", "api"]
    assert {s["device"] for s in sessions} >= {"Chrome 156 on Linux"}
    assert [s["current"] for s in sessions].count(True) == 1
    assert next(s for s in sessions if s["current"])["device"] == "Chrome 156 on Linux"


def test_a_revoked_sessions_access_token_is_refused_on_the_next_request(user):
    phone, _ = _api_login(user)
    laptop, _ = _api_login(user)
    assert phone.get("/api/auth/me").status_code == 200

    phone_session = UserSession.objects.filter(user=user).order_by("id").first()
    assert laptop.delete(f"/api/auth/sessions/{phone_session.pk}").status_code == 204

    error = assert_error(phone.get("/api/auth/me"), 401, "not_authenticated")
    assert "ended" in error["message"]
    assert laptop.get("/api/auth/me").status_code == 200


def test_logout_ends_the_session_at_once(user):
    client, tokens = _api_login(user)
    assert client.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    assert_error(client.get("/api/auth/me"), 401, "not_authenticated")
    assert UserSession.objects.get().revoke_reason == "signed_out"


def test_signing_out_when_already_signed_out_goes_home(client):
    response = client.post("/logout/")

    assert response.status_code == 302 and response["Location"] == "/"


def test_refresh_keeps_the_session_and_stops_at_its_maximum_age(user, settings):
    client, tokens = _api_login(user)
    refreshed = client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json").json()
    assert UserSession.objects.count() == 1

    UserSession.objects.update(created_at=timezone.now() - settings.SESSION_MAX_AGE - timedelta(minutes=1))
    assert_error(
        client.post("/api/auth/refresh", {"refresh": refreshed["refresh"]}, format="json"), 401, "not_authenticated"
    )
    assert UserSession.objects.get().revoked_at is not None


def test_password_reset_ends_every_session(user, api_client):
    import re

    phone, _ = _api_login(user)
    api_client.post("/api/auth/forgot-password", {"email": user.email}, format="json")
    code = re.search(r"\b(\d{6})\b", EmailMessage.objects.filter(template="password_reset_code").get().text).group(1)
    reset_token = api_client.post("/api/auth/verify-otp", {"email": user.email, "otp": code}, format="json").json()
    api_client.post("/api/auth/reset-password", {**reset_token, "new_password": "fresh-harbour-88"}, format="json")
    assert_error(phone.get("/api/auth/me"), 401, "not_authenticated")
    assert not UserSession.objects.filter(revoked_at__isnull=True).exists()


def test_someone_elses_session_cannot_be_ended(user, other_org_user):
    theirs, _ = _api_login(other_org_user)
    colleague = UserFactory(organization=user.organization)
    colleague_client, _ = _api_login(colleague)
    mine = bearer_client(user)

    for session in UserSession.objects.exclude(user=user):
        assert_error(mine.delete(f"/api/auth/sessions/{session.pk}"), 404, "not_found")
    assert theirs.get("/api/auth/me").status_code == 200
    assert colleague_client.get("/api/auth/me").status_code == 200


def test_sessions_need_authentication(api_client):
    assert_error(api_client.get("/api/auth/sessions"), 401, "not_authenticated")
    assert_error(api_client.delete("/api/auth/sessions/1"), 401, "not_authenticated")


def test_each_new_sign_in_is_emailed_with_device_and_address(user):
    _api_login(user, agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0 Safari/537.36")
    email = EmailMessage.objects.get(template="new_sign_in")
    assert email.to == user.email
    assert "Chrome 156 on Linux" in email.text and "127.0.0.1" in email.text


def test_page_sessions_are_listed_and_ended_from_the_page(user):
    browser = Client()
    browser.post("/login/", {"email": user.email, "password": PASSWORD})
    api, _ = _api_login(user)
    api_session = UserSession.objects.get(kind="api")

    page = browser.get("/settings/sessions/")
    assert page.status_code == 200 and b"this device" in page.content

    response = browser.post(f"/settings/sessions/{api_session.pk}/end/")
    assert response["Location"] == "/settings/sessions/"
    assert_error(api.get("/api/auth/me"), 401, "not_authenticated")

    # ending the current one signs this browser out
    own = UserSession.objects.get(kind="page")
    assert browser.post(f"/settings/sessions/{own.pk}/end/")["Location"] == "/login/"
    assert browser.get("/settings/sessions/")["Location"].startswith("/login/")


def test_an_ended_page_session_signs_the_browser_out(user):
    browser = Client()
    browser.post("/login/", {"email": user.email, "password": PASSWORD})
    assert browser.get("/dashboard/").status_code == 200

    api, _ = _api_login(user)
    page_session = UserSession.objects.get(kind="page")
    api.delete(f"/api/auth/sessions/{page_session.pk}")

    assert browser.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"


def test_page_logout_ends_its_session(user):
    browser = Client()
    browser.post("/login/", {"email": user.email, "password": PASSWORD})
    browser.post("/logout/")
    assert UserSession.objects.get().revoke_reason == "signed_out"


def test_a_session_made_outside_the_sign_in_page_is_adopted(client, user):
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 200
    session = UserSession.objects.get()
    assert session.kind == "page" and session.session_key == client.session.session_key
    assert not EmailMessage.objects.filter(template="new_sign_in").exists()


def test_session_list_query_count_is_flat(user, django_assert_max_num_queries):
    client, _ = _api_login(user)
    for _ in range(15):
        _api_login(user)
    with django_assert_max_num_queries(3):
        assert len(client.get("/api/auth/sessions").json()) == 16
