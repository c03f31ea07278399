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
    assert_error(api_client.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json"), 401, "not_authenticated")

    assert api_client.post("/api/auth/logout", {"refresh": refreshed["refresh"]}, format="json").status_code == 204
    assert_error(
        api_client.post("/api/auth/refresh", {"refresh": refreshed["refresh"]}, format="json"), 401, "not_authenticated"
    )
