import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import PasswordResetOTP
from accounts.tests.factories import PASSWORD
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quartz-meadow-77"


def _request_code(api_client, email) -> str:
    response = api_client.post("/api/auth/forgot-password", {"email": email}, format="json")
    assert response.status_code == 202
    message = EmailMessage.objects.filter(to=email, template="password_reset_code").latest("id")
    return re.search(r"\b(\d{6})\b", message.text).group(1)


def _verify(api_client, email, otp):
    return api_client.post("/api/auth/verify-otp", {"email": email, "otp": otp}, format="json")


def test_code_reset_changes_the_password_and_signs_out_api_clients(api_client, user):
    old_refresh = api_client.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json").json()[
        "refresh"
    ]
    code = _request_code(api_client, user.email)

    reset_token = _verify(api_client, user.email, code).json()["reset_token"]
    response = api_client.post(
        "/api/auth/reset-password", {"reset_token": reset_token, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 200

    assert_error(
        api_client.post("/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"),
        401,
        "not_authenticated",
    )
    assert (
        api_client.post("/api/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json").status_code
        == 200
    )
    assert_error(
        api_client.post("/api/auth/refresh", {"refresh": old_refresh}, format="json"), 401, "not_authenticated"
    )
    assert EmailMessage.objects.filter(to=user.email, template="password_changed").exists()
    # the reset token is single use
    assert_error(
        api_client.post(
            "/api/auth/reset-password", {"reset_token": reset_token, "new_password": "another-pass-99"}, format="json"
        ),
        400,
        "validation_error",
    )


def test_unknown_email_gets_the_same_answer_and_no_email(api_client):
    response = api_client.post("/api/auth/forgot-password", {"email": "ghost@example.com"}, format="json")
    assert response.status_code == 202
    assert not EmailMessage.objects.exists()


def test_a_used_code_never_works_again(api_client, user):
    code = _request_code(api_client, user.email)
    assert _verify(api_client, user.email, code).status_code == 200
    assert_error(_verify(api_client, user.email, code), 400, "validation_error")


def test_an_expired_code_is_refused(api_client, user):
    code = _request_code(api_client, user.email)
    PasswordResetOTP.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(_verify(api_client, user.email, code), 400, "validation_error")


def test_five_wrong_codes_burn_the_code(api_client, user):
    code = _request_code(api_client, user.email)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        error = assert_error(_verify(api_client, user.email, wrong), 400, "validation_error")
        assert "otp" in error["details"]
    assert PasswordResetOTP.objects.get().used_at is not None
    # even the right code is refused now
    assert_error(_verify(api_client, user.email, code), 400, "validation_error")


def test_a_new_code_replaces_the_previous_one(api_client, user):
    first = _request_code(api_client, user.email)
    second = _request_code(api_client, user.email)
    if first != second:
        assert_error(_verify(api_client, user.email, first), 400, "validation_error")
    assert _verify(api_client, user.email, second).status_code == 200


def test_reset_applies_the_password_rules(api_client, user):
    code = _request_code(api_client, user.email)
    reset_token = _verify(api_client, user.email, code).json()["reset_token"]
    for weak in ["short1", "12345678901", "password123", user.email]:
        error = assert_error(
            api_client.post(
                "/api/auth/reset-password", {"reset_token": reset_token, "new_password": weak}, format="json"
            ),
            400,
            "validation_error",
        )
        assert error["details"]["new_password"]
    # a refused password leaves the token usable
    assert (
        api_client.post(
            "/api/auth/reset-password", {"reset_token": reset_token, "new_password": NEW_PASSWORD}, format="json"
        ).status_code
        == 200
    )


def test_the_code_is_six_digits(api_client, user):
    error = assert_error(_verify(api_client, user.email, "12ab"), 400, "validation_error")
    assert error["details"]["otp"] == ["Enter the 6-digit code from the email."]
