import re

import pytest
from django.core import mail

from accounts.models import User
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

REGISTER = {
    "email": "Ada@Example.com",
    "password": "orbit-lattice-42",
    "full_name": "Ada Lovelace",
    "organization_name": "Analytical Engines",
    "account_type": "both",
}


def _token_from_outbox(to: str) -> str:
    email = EmailMessage.objects.filter(to=to, template="verify_email").latest("created_at")
    return re.search(r"/verify\?token=([\w-]+)", email.text).group(1)


def test_register_verify_login_refresh_logout(api_client):
    # given a new company signs up
    response = api_client.post("/api/auth/register", REGISTER, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["email"] == "ada@example.com"
    user = User.objects.get(email="ada@example.com")
    assert user.role == User.Role.MANAGEMENT and not user.email_verified
    assert user.organization.is_buyer and user.organization.is_vendor

    # signing in before verifying is refused
    login = {"email": "ada@example.com", "password": REGISTER["password"]}
    assert_error(api_client.post("/api/auth/login", login, format="json"), 403, "email_not_verified")

    # when the link from the email is used
    email = EmailMessage.objects.get(to="ada@example.com")
    assert email.status == EmailMessage.Status.SENT
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ada@example.com"]
    token = _token_from_outbox("ada@example.com")
    response = api_client.post("/api/auth/verify", {"token": token}, format="json")
    assert response.json() == {"email_verified": True}
    # a used token never works again
    assert_error(api_client.post("/api/auth/verify", {"token": token}, format="json"), 400, "validation_error")

    # then sign-in gives tokens and the user
    response = api_client.post("/api/auth/login", login, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["organization"]["name"] == "Analytical Engines"
    assert body["user"]["permissions"]["can_buy"] is True

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.get("/api/auth/me").json()["id"] == user.pk

    refreshed = api_client.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json").json()
    assert refreshed["refresh"] != body["refresh"]
    # rotation blacklists the old refresh token
    assert_error(
        api_client.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json"), 401, "not_authenticated"
    )

    assert api_client.post("/api/auth/logout", {"refresh": refreshed["refresh"]}, format="json").status_code == 204
    assert_error(
        api_client.post("/api/auth/refresh", {"refresh": refreshed["refresh"]}, format="json"), 401, "not_authenticated"
    )


def test_registration_validates_its_input(api_client):
    weak = {**REGISTER, "password": "12345678"}
    error = assert_error(api_client.post("/api/auth/register", weak, format="json"), 400, "validation_error")
    assert error["details"]["password"]

    similar = {**REGISTER, "password": "ada@example.com"}
    assert_error(api_client.post("/api/auth/register", similar, format="json"), 400, "validation_error")

    bad_type = {**REGISTER, "account_type": "reseller"}
    error = assert_error(api_client.post("/api/auth/register", bad_type, format="json"), 400, "validation_error")
    assert "account_type" in error["details"]

    bad_email = {**REGISTER, "email": "ada@"}
    assert_error(api_client.post("/api/auth/register", bad_email, format="json"), 400, "validation_error")
    assert not User.objects.exists()


def test_taken_email_is_a_conflict_and_creates_nothing(api_client, user):
    from accounts.models import Organization

    orgs = Organization.objects.count()
    taken = {**REGISTER, "email": user.email.upper()}
    assert_error(api_client.post("/api/auth/register", taken, format="json"), 409, "conflict")
    assert Organization.objects.count() == orgs


def test_verification_link_expires_and_can_be_resent(api_client):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import EmailVerification

    api_client.post("/api/auth/register", REGISTER, format="json")
    old_token = _token_from_outbox("ada@example.com")
    EmailVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(api_client.post("/api/auth/verify", {"token": old_token}, format="json"), 400, "validation_error")

    response = api_client.post("/api/auth/verify/resend", {"email": "ada@example.com"}, format="json")
    assert response.status_code == 202
    new_token = _token_from_outbox("ada@example.com")
    assert new_token != old_token
    assert api_client.post("/api/auth/verify", {"token": new_token}, format="json").status_code == 200


def test_resend_says_the_same_for_unknown_and_verified_accounts(api_client, user):
    for email in ["ghost@example.com", user.email]:
        response = api_client.post("/api/auth/verify/resend", {"email": email}, format="json")
        assert response.status_code == 202
    assert not EmailMessage.objects.exists()


def test_wrong_password_and_inactive_users_cannot_sign_in(api_client, user):
    from accounts.tests.factories import PASSWORD

    assert_error(
        api_client.post("/api/auth/login", {"email": user.email, "password": "nope-nope-nope"}, format="json"),
        401,
        "not_authenticated",
    )
    user.is_active = False
    user.save()
    assert_error(
        api_client.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"),
        401,
        "not_authenticated",
    )


def test_registration_is_recorded_as_an_event(api_client):
    from leadnexus.core.models import Event

    api_client.post("/api/auth/register", REGISTER, format="json")
    user = User.objects.get()
    event = Event.objects.get(name="accounts.user.registered")
    assert (event.actor, event.org_id, event.data) == (user, user.organization_id, {"account_type": "both"})
