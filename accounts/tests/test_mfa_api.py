import base64
import time

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from accounts.tests.test_mfa_services import app_code, back_off_passed, mfa_on, wrong_code
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db


def _login(client, user, password=PASSWORD):
    return client.post("/api/auth/login", {"email": user.email, "password": password}, format="json")


def _mfa_token(client, user) -> str:
    body = _login(client, user).json()
    assert body["mfa_required"] is True and set(body) == {"mfa_required", "mfa_token"}, body
    return body["mfa_token"]


# --- Turning it on ----------------------------------------------------------------------------


def test_setup_confirm_and_recovery_codes(auth_client, user):
    # given two-factor is off
    assert auth_client.get("/api/auth/mfa").json() == {
        "enabled": False,
        "enabled_at": None,
        "recovery_codes_left": 0,
        "required_by_organization": False,
        "setup_started": False,
    }

    # when the user starts the setup
    response = auth_client.post("/api/auth/mfa/setup/")
    assert response.status_code == 200, response.content
    setup = response.json()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert base64.b32decode(setup["secret"]) == device.bin_key
    assert setup["otpauth_url"] == device.config_url
    svg = base64.b64decode(setup["qr_code"].removeprefix("data:image/svg+xml;base64,"))
    assert setup["qr_code"].startswith("data:image/svg+xml;base64,") and b"<svg" in svg
    assert auth_client.get("/api/auth/mfa").json()["setup_started"] is True

    # a wrong first code leaves it off
    wrong = auth_client.post("/api/auth/mfa/confirm", {"code": wrong_code(user)}, format="json")
    assert assert_error(wrong, 400, "validation_error")["details"] == {
        "code": ["This code is not correct or has expired."]
    }
    back_off_passed(user)

    # then the code from the app turns it on and returns ten recovery codes, once
    response = auth_client.post("/api/auth/mfa/confirm", {"code": app_code(user)}, format="json")
    assert response.status_code == 200, response.content
    codes = response.json()["recovery_codes"]
    assert len(set(codes)) == 10
    status = auth_client.get("/api/auth/mfa").json()
    assert status["enabled"] is True and status["recovery_codes_left"] == 10 and status["enabled_at"]
    assert auth_client.get("/api/auth/me").json()["mfa_enabled"] is True

    # and a fresh set replaces them
    response = auth_client.post("/api/auth/mfa/recovery-codes/", {"code": app_code(user)}, format="json")
    assert response.status_code == 200
    assert set(response.json()["recovery_codes"]).isdisjoint(codes)
    assert Event.objects.filter(name="accounts.mfa.recovery_codes_regenerated", actor=user).exists()


def test_setup_is_refused_while_it_is_on_and_confirm_without_a_setup(auth_client, user):
    assert_error(auth_client.post("/api/auth/mfa/confirm", {"code": "123456"}, format="json"), 409, "conflict")
    assert_error(auth_client.post("/api/auth/mfa/recovery-codes", {"code": "123456"}, format="json"), 409, "conflict")
    mfa_on(user)
    assert_error(auth_client.post("/api/auth/mfa/setup"), 409, "conflict")


def test_two_factor_endpoints_need_a_signed_in_user(api_client):
    for action in ("setup", "confirm", "disable", "recovery-codes"):
        response = api_client.post(f"/api/auth/mfa/{action}/", {"code": "123456"}, format="json")
        assert_error(response, 401, "not_authenticated")
    assert_error(api_client.get("/api/auth/mfa/"), 401, "not_authenticated")


def test_each_user_sets_up_only_their_own(auth_client, user, other_org_user):
    mfa_on(other_org_user)

    auth_client.post("/api/auth/mfa/setup/")

    assert TOTPDevice.objects.filter(user=other_org_user, confirmed=True).count() == 1
    assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 1
    assert auth_client.get("/api/auth/me").json()["mfa_enabled"] is False


# --- Signing in ----------------------------------------------------------------------------


def test_sign_in_with_a_code_from_the_app(api_client, user):
    mfa_on(user)

    # the password step answers with a challenge instead of tokens
    token = _mfa_token(api_client, user)

    response = api_client.post("/api/auth/login/mfa/", {"mfa_token": token, "code": app_code(user)}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "user"}
    assert body["user"]["email"] == user.email and body["user"]["mfa_enabled"] is True
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert api_client.get("/api/auth/me").json()["id"] == user.pk


def test_sign_in_with_a_recovery_code_works_once(api_client, user):
    codes = mfa_on(user)
    token = _mfa_token(api_client, user)

    first = api_client.post("/api/auth/login/mfa", {"mfa_token": token, "code": codes[0]}, format="json")
    assert first.status_code == 200 and "access" in first.json()

    token = _mfa_token(api_client, user)
    again = api_client.post("/api/auth/login/mfa", {"mfa_token": token, "code": codes[0]}, format="json")
    assert_error(again, 400, "validation_error")
    assert bearer_client(user).get("/api/auth/mfa").json()["recovery_codes_left"] == 9


def test_wrong_codes_are_rate_limited_per_account(api_client, user):
    mfa_on(user)  # one code check of the ten allowed in 15 minutes
    token = _mfa_token(api_client, user)

    for _ in range(9):
        response = api_client.post("/api/auth/login/mfa", {"mfa_token": token, "code": wrong_code(user)}, format="json")
        assert_error(response, 400, "validation_error")

    # then even the right code waits for the window to pass
    limited = api_client.post("/api/auth/login/mfa", {"mfa_token": token, "code": app_code(user)}, format="json")
    assert_error(limited, 429, "throttled")
    assert 0 < int(limited["Retry-After"]) <= 15 * 60


def test_an_expired_or_forged_mfa_token_is_refused(api_client, user, monkeypatch):
    mfa_on(user)
    token = _mfa_token(api_client, user)

    forged = api_client.post("/api/auth/login/mfa", {"mfa_token": "x" + token, "code": "123456"}, format="json")
    assert assert_error(forged, 400, "validation_error")["details"]["mfa_token"]

    six_minutes_later = time.time() + 6 * 60
    monkeypatch.setattr(time, "time", lambda: six_minutes_later)
    expired = api_client.post("/api/auth/login/mfa", {"mfa_token": token, "code": app_code(user)}, format="json")
    assert assert_error(expired, 400, "validation_error")["message"].startswith("This sign-in took too long")


def test_sign_in_without_two_factor_is_unchanged(api_client, user):
    response = _login(api_client, user)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "user"}
    assert response.json()["user"]["mfa_enabled"] is False


# --- Turning it off ------------------------------------------------------------------------


def test_turn_off_with_a_code(auth_client, user):
    mfa_on(user)

    response = auth_client.post("/api/auth/mfa/disable/", {"code": app_code(user)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False
    assert set(_login(auth_client, user).json()) == {"access", "refresh", "user"}


def test_turn_off_with_the_password(auth_client, user):
    mfa_on(user)
    wrong = auth_client.post("/api/auth/mfa/disable/", {"password": "guess-guess-guess"}, format="json")
    assert assert_error(wrong, 400, "validation_error")["details"] == {"password": ["The password is not correct."]}

    response = auth_client.post("/api/auth/mfa/disable/", {"password": PASSWORD}, format="json")

    assert response.status_code == 200 and response.json()["enabled"] is False
    assert Event.objects.filter(name="accounts.mfa.disabled", actor=user, data={"with": "password"}).exists()


def test_turning_off_needs_exactly_one_proof(auth_client, user):
    mfa_on(user)
    assert_error(auth_client.post("/api/auth/mfa/disable/", {}, format="json"), 400, "validation_error")
    both = {"code": app_code(user), "password": PASSWORD}
    assert_error(auth_client.post("/api/auth/mfa/disable/", both, format="json"), 400, "validation_error")
    assert auth_client.get("/api/auth/mfa/").json()["enabled"] is True


def test_turning_off_is_refused_when_the_organization_requires_it(auth_client, user):
    mfa_on(user)
    assert auth_client.post("/api/organization/mfa-requirement/", {"required": True}, format="json").status_code == 200

    response = auth_client.post("/api/auth/mfa/disable/", {"password": PASSWORD}, format="json")

    assert assert_error(response, 409, "conflict")["message"] == (
        "Your organization requires two-factor sign-in, so it cannot be turned off."
    )
    assert auth_client.get("/api/auth/mfa/").json()["enabled"] is True


# --- The organization-wide requirement ---------------------------------------------------


def test_management_requires_two_factor_for_the_organization(auth_client, user, other_org_user):
    mfa_on(user)
    assert auth_client.get("/api/organization/mfa-requirement").json() == {"required": False}

    response = auth_client.post("/api/organization/mfa-requirement/", {"required": True}, format="json")

    assert response.status_code == 200 and response.json() == {"required": True}
    assert auth_client.get("/api/auth/mfa").json()["required_by_organization"] is True
    event = Event.objects.get(name="accounts.organization.mfa_requirement_changed")
    assert event.actor == user and event.org_id == user.organization_id and event.data == {"required": True}
    # another organization is not touched
    other_org_user.organization.refresh_from_db()
    assert not other_org_user.organization.require_mfa

    response = auth_client.put("/api/organization/mfa-requirement", {"required": False}, format="json")
    assert response.json() == {"required": False}


def test_requiring_it_needs_it_on_for_oneself_first(auth_client, user):
    response = auth_client.post("/api/organization/mfa-requirement/", {"required": True}, format="json")

    error = assert_error(response, 409, "conflict")
    assert "your own account first" in error["message"]
    user.organization.refresh_from_db()
    assert not user.organization.require_mfa


@pytest.mark.parametrize(
    "make_member",
    [
        lambda boss: UserFactory(organization=boss.organization, role=User.Role.SALES_MANAGER),
        lambda boss: UserFactory(organization=boss.organization, role=User.Role.SALES_REP),
        lambda boss: SubUserFactory(parent=boss, role=User.Role.SALES_MANAGER),
        lambda boss: SubUserFactory(parent=boss, role=User.Role.SALES_REP),
    ],
    ids=["sales-manager", "sales-rep", "sub-user-manager", "sub-user-rep"],
)
def test_only_management_may_change_the_requirement(user, make_member):
    member = make_member(user)
    mfa_on(member)
    client = bearer_client(member)

    response = client.post("/api/organization/mfa-requirement/", {"required": True}, format="json")

    assert_error(response, 403, "permission_denied")
    user.organization.refresh_from_db()
    assert not user.organization.require_mfa
    # reading it is fine for every member
    assert client.get("/api/organization/mfa-requirement/").json() == {"required": False}


def test_a_management_sub_user_may_change_the_requirement(user):
    deputy = SubUserFactory(parent=user, role=User.Role.MANAGEMENT)
    mfa_on(deputy)

    response = bearer_client(deputy).post("/api/organization/mfa-requirement/", {"required": True}, format="json")

    assert response.status_code == 200 and response.json() == {"required": True}


def test_the_requirement_needs_a_signed_in_user(api_client):
    assert_error(api_client.get("/api/organization/mfa-requirement/"), 401, "not_authenticated")
    response = api_client.post("/api/organization/mfa-requirement/", {"required": True}, format="json")
    assert_error(response, 401, "not_authenticated")


def test_members_without_two_factor_cannot_sign_in_to_the_api_once_it_is_required(api_client, user):
    mfa_on(user)
    member = UserFactory(organization=user.organization, role=User.Role.SALES_REP)
    protected = UserFactory(organization=user.organization, role=User.Role.SALES_REP)
    mfa_on(protected)
    bearer_client(user).post("/api/organization/mfa-requirement/", {"required": True}, format="json")

    assert_error(_login(api_client, member), 403, "mfa_setup_required")
    # a wrong password still says only that
    assert_error(_login(api_client, member, password="not-it-at-all"), 401, "not_authenticated")
    # members with two-factor on go on to the code step
    assert _login(api_client, protected).json()["mfa_required"] is True


# --- The user payload -----------------------------------------------------------------------


def test_user_list_reports_two_factor_without_a_query_per_member(auth_client, user, django_assert_max_num_queries):
    for member in SubUserFactory.create_batch(3, parent=user):
        mfa_on(member)
    with django_assert_max_num_queries(50) as few:
        auth_client.get("/api/users/")
    for member in SubUserFactory.create_batch(10, parent=user):
        mfa_on(member)

    with django_assert_max_num_queries(len(few)):
        rows = auth_client.get("/api/users/?page_size=50").json()["results"]

    assert sum(row["mfa_enabled"] for row in rows) == 13
    assert [row["mfa_enabled"] for row in rows if row["id"] == user.pk] == [False]
