import re

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db


def _csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)


def _post_form(client: Client, url: str, data: dict):
    """Submit like a browser: load the page for its CSRF token, then post the form."""
    page = client.get(url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def test_sign_up_verify_sign_in_and_out_in_pages():
    client = _csrf_client()
    response = _post_form(
        client,
        "/signup/",
        {
            "full_name": "Grace Hopper",
            "email": "grace@example.com",
            "password": "compiler-nanosecond-9",
            "organization_name": "Cobol Leads",
            "account_type": "vendor",
        },
    )
    assert response.status_code == 302 and response["Location"].startswith("/signup/done/")
    assert b"grace@example.com" in client.get(response["Location"]).content

    link = re.search(r"http://testserver(/verify\?token=[\w-]+)", EmailMessage.objects.get().text).group(1)
    response = client.get(link, follow=True)
    assert b"Your email is verified" in response.content

    response = _post_form(client, "/login/", {"email": "grace@example.com", "password": "compiler-nanosecond-9"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/")
    assert b"Welcome, Grace" in dashboard.content and b"Cobol Leads" in dashboard.content

    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', dashboard.content).group(1).decode()
    assert client.post("/logout/", {"csrfmiddlewaretoken": token})["Location"] == "/"
    assert client.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"


def test_sign_up_form_shows_field_errors(client, user):
    response = client.post(
        "/signup/",
        {"full_name": "X", "email": user.email, "password": "123", "organization_name": "", "account_type": "buyer"},
    )
    assert response.status_code == 400
    assert b"This field is required" in response.content  # organization
    response = client.post(
        "/signup/",
        {
            "full_name": "X",
            "email": user.email,
            "password": "sturdy-pass-2026",
            "organization_name": "Y",
            "account_type": "buyer",
        },
    )
    assert response.status_code == 409
    assert b"already exists" in response.content


def test_unverified_sign_in_offers_to_resend(client):
    user = UserFactory(email_verified=False)
    response = client.post("/login/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert b"Verify your email address" in response.content
    assert b"Send the verification link again" in response.content

    client.post("/verify/resend/", {"email": user.email})
    assert EmailMessage.objects.filter(to=user.email, template="verify_email").count() == 1


def test_a_bad_verification_link_offers_a_new_one(client):
    response = client.get("/verify?token=nonsense")
    assert response.status_code == 400
    assert b"Send me a new link" in response.content


def test_forgot_password_pages(client, user):
    response = client.post("/forgot-password/", {"email": user.email})
    assert response.status_code == 302
    code = re.search(r"\b(\d{6})\b", EmailMessage.objects.get(template="password_reset_code").text).group(1)

    assert client.get("/forgot-password/new/")["Location"] == "/forgot-password/"  # no code entered yet
    wrong = client.post(
        "/forgot-password/code/", {"email": user.email, "otp": "000000" if code != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and b"not correct" in wrong.content
    response = client.post("/forgot-password/code/", {"email": user.email, "otp": code})
    assert response["Location"] == "/forgot-password/new/"

    mismatch = client.post("/forgot-password/new/", {"new_password": "river-stone-31", "confirm_password": "other"})
    assert b"do not match" in mismatch.content
    response = client.post(
        "/forgot-password/new/", {"new_password": "river-stone-31", "confirm_password": "river-stone-31"}
    )
    assert response.status_code == 302
    assert client.post("/login/", {"email": user.email, "password": "river-stone-31"}).status_code == 302


def test_login_redirects_only_to_this_site(client, user):
    response = client.post(
        "/login/?next=/notifications/", {"email": user.email, "password": PASSWORD, "next": "/notifications/"}
    )
    assert response["Location"] == "/notifications/"
    client.logout()
    response = client.post("/login/", {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/"


def test_navigation_is_role_aware(client, user, staff_user):
    client.force_login(user)
    assert b"Staff admin" not in client.get("/dashboard/").content
    client.force_login(staff_user)
    assert b"Staff admin" in client.get("/dashboard/").content


def test_landing_page_for_visitors_and_members(client, user):
    assert b"Create your free account" in client.get("/").content
    client.force_login(user)
    assert client.get("/")["Location"] == "/dashboard/"


def test_pages_send_security_headers(client):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_sessions_are_stored_in_the_database(client, user):
    from django.contrib.sessions.models import Session

    client.post("/login/", {"email": user.email, "password": PASSWORD})
    assert Session.objects.count() == 1
    assert User.objects.get(pk=user.pk).last_login is not None
