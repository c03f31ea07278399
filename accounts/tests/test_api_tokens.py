from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_shown_once_stored_hashed_and_authenticates_as_its_owner(auth_client, user):
    created = auth_client.post("/api/profile/api-tokens", {"name": "Nightly export"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    stored = ApiToken.objects.get()
    assert key.startswith(stored.prefix) and key not in (stored.key_digest, stored.prefix)

    listed = auth_client.get("/api/profile/api-tokens").json()
    assert "key" not in listed[0] and listed[0]["last_used_at"] is None

    assert _token_client(key).get("/api/auth/me").json()["email"] == user.email
    assert auth_client.get("/api/profile/api-tokens").json()[0]["last_used_at"] is not None


def test_a_token_carries_its_owners_permissions(user):
    sub = SubUserFactory(parent=user, permissions={"can_export": False})
    key = bearer_client(sub).post("/api/profile/api-tokens", {"name": "mine"}, format="json").json()["key"]
    me = _token_client(key).get("/api/auth/me").json()
    assert me["id"] == sub.pk and me["permissions"]["can_export"] is False
    listed = {u["email"] for u in _token_client(key).get("/api/users").json()["results"]}
    assert listed == {user.email, sub.email}


def test_a_revoked_token_stops_at_once(auth_client):
    created = auth_client.post("/api/profile/api-tokens", {"name": "CI"}, format="json").json()
    client = _token_client(created["key"])
    assert client.get("/api/auth/me").status_code == 200

    assert auth_client.delete(f"/api/profile/api-tokens/{created['id']}").status_code == 204
    assert_error(client.get("/api/auth/me"), 401, "not_authenticated")
    assert auth_client.get("/api/profile/api-tokens").json()[0]["active"] is False


def test_an_expired_or_unknown_token_is_refused(auth_client):
    created = auth_client.post(
        "/api/profile/api-tokens",
        {"name": "short", "expires_at": (timezone.now() + timedelta(days=1)).isoformat()},
        format="json",
    ).json()
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(_token_client(created["key"]).get("/api/auth/me"), 401, "not_authenticated")
    assert_error(_token_client("lnx_00000000.nonsense").get("/api/auth/me"), 401, "not_authenticated")
    response = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION="Token a b")
    assert_error(response, 401, "not_authenticated")


def test_token_input_is_validated(auth_client):
    assert_error(auth_client.post("/api/profile/api-tokens", {"name": ""}, format="json"), 400, "validation_error")
    past = (timezone.now() - timedelta(days=1)).isoformat()
    error = assert_error(
        auth_client.post("/api/profile/api-tokens", {"name": "x", "expires_at": past}, format="json"),
        400,
        "validation_error",
    )
    assert "expires_at" in error["details"]


def test_only_my_own_tokens_are_listed_or_revocable(auth_client, user, other_org_user):
    colleague = UserFactory(organization=user.organization)
    theirs = bearer_client(colleague).post("/api/profile/api-tokens", {"name": "colleague"}, format="json").json()
    foreign = bearer_client(other_org_user).post("/api/profile/api-tokens", {"name": "other"}, format="json").json()

    assert auth_client.get("/api/profile/api-tokens").json() == []
    for token in (theirs, foreign):
        assert_error(auth_client.delete(f"/api/profile/api-tokens/{token['id']}"), 404, "not_found")
    assert _token_client(theirs["key"]).get("/api/auth/me").status_code == 200


def test_tokens_need_authentication(api_client):
    assert_error(api_client.get("/api/profile/api-tokens"), 401, "not_authenticated")
    assert_error(api_client.post("/api/profile/api-tokens", {"name": "x"}, format="json"), 401, "not_authenticated")


def test_tokens_page_shows_a_new_key_once_and_revokes(user):
    browser = Client()
    browser.force_login(user)
    created = browser.post("/settings/api-tokens/", {"name": "Zapier", "expires_in_days": "30"})
    assert created.status_code == 201
    key = ApiToken.objects.get()
    assert key.prefix.encode() in created.content and b"Copy your new token now" in created.content
    assert (key.expires_at - timezone.now()).days in (29, 30)

    listing = browser.get("/settings/api-tokens/")
    assert b"Copy your new token now" not in listing.content and b"Zapier" in listing.content

    browser.post(f"/settings/api-tokens/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None
