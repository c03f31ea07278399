import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import SubUserPermissions, User, UserSession
from accounts.services.preferences import password_change
from accounts.services.tokens import api_token_create
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quartz-meadow-77"
CHANGE = "/api/profile/change-password/"


def _page_client(user) -> Client:
    """A browser signed in through the sign-in page (a real page sign-in session)."""
    client = Client(enforce_csrf_checks=True)
    _post_form(client, "/login/", {"email": user.email, "password": PASSWORD})
    return client


def _post_form(client: Client, url: str, data: dict, *, page: str | None = None):
    """Submit like a browser: load the page for its CSRF token, then post the form."""
    content = client.get(page or url).content
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1).decode()
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def _signed_in(client) -> bool:
    return client.get("/dashboard/").status_code == 200


# --- Profile ------------------------------------------------------------------------


def test_patch_profile_changes_my_name_and_never_the_email(auth_client, user):
    # given a signed-in user
    email = user.email
    # when they change their name (and try to sneak in an email)
    response = auth_client.patch("/api/profile/", {"full_name": "  Ada King  ", "email": "x@evil.example"})
    # then the name is saved trimmed and the email is untouched
    assert response.status_code == 200
    assert response.json()["full_name"] == "Ada King" and response.json()["email"] == email
    user.refresh_from_db()
    assert user.full_name == "Ada King" and user.email == email
    event = Event.objects.get(name="accounts.user.updated")
    assert event.actor == user and event.data["full_name"]["to"] == "Ada King"


def test_profile_reads_me_and_an_empty_patch_changes_nothing(auth_client, user):
    assert auth_client.get("/api/profile/").json()["email"] == user.email
    assert auth_client.patch("/api/profile/", {}).json()["full_name"] == user.full_name
    assert not Event.objects.filter(name="accounts.user.updated").exists()


def test_blank_name_is_a_validation_error(auth_client, user):
    error = assert_error(auth_client.patch("/api/profile/", {"full_name": "   "}), 400, "validation_error")
    assert "full_name" in error["details"]


def test_profile_and_password_need_authentication(api_client):
    assert_error(api_client.get("/api/profile/"), 401, "not_authenticated")
    assert_error(api_client.patch("/api/profile/", {"full_name": "X"}), 401, "not_authenticated")
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert_error(api_client.post(CHANGE, body), 401, "not_authenticated")


def test_profile_page_saves_my_name(client, user):
    client.force_login(user)
    page = client.get("/settings/profile/")
    assert page.status_code == 200
    assert f'value="{user.email}" readonly'.encode() in page.content
    assert b"Change password" in page.content

    response = client.post("/settings/profile/", {"full_name": "Grace Hopper"})
    assert response.status_code == 302 and response["Location"] == "/settings/profile/"
    assert b"Your profile is saved." in client.get("/settings/profile/").content
    user.refresh_from_db()
    assert user.full_name == "Grace Hopper"

    assert client.post("/settings/profile/", {"full_name": ""}).status_code == 400


def test_profile_page_needs_sign_in(client):
    assert client.get("/settings/profile/")["Location"] == "/login/?next=/settings/profile/"
    response = client.post("/settings/profile/password/", {"current_password": PASSWORD})
    assert response["Location"].startswith("/login/")


# --- Password change ------------------------------------------------------------------


def test_password_change_ends_my_other_sign_ins_and_keeps_this_one(user):
    # given the same user signed in three times: two API clients and a browser
    mine, other_api = bearer_client(user), bearer_client(user)
    browser = _page_client(user)
    assert _signed_in(browser)
    colleague_client = bearer_client(UserFactory(organization=user.organization))

    # when one API client changes the password
    response = mine.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    # then that client keeps working and every other sign-in of the user has ended
    assert response.status_code == 200
    assert response.json()["sessions_ended"] == 2
    assert mine.get("/api/auth/me").status_code == 200
    assert_error(other_api.get("/api/auth/me"), 401, "not_authenticated")
    assert browser.get("/dashboard/")["Location"].startswith("/login/")
    assert colleague_client.get("/api/auth/me").status_code == 200  # other users are not touched
    assert UserSession.objects.filter(user=user, revoked_at__isnull=True).count() == 1
    # and the new password signs in, the old one does not, the user is told by email
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert EmailMessage.objects.filter(to=user.email, template="password_changed").count() == 1
    event = Event.objects.get(name="accounts.user.password_changed")
    assert event.actor == user and event.data == {"sessions_ended": 2}


def test_wrong_current_password_changes_nothing(auth_client, user):
    other = bearer_client(user)
    error = assert_error(
        auth_client.post(CHANGE, {"current_password": "not-my-password", "new_password": NEW_PASSWORD}),
        400,
        "validation_error",
    )
    assert error["details"] == {"current_password": ["The current password is not correct."]}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert other.get("/api/auth/me").status_code == 200
    assert not EmailMessage.objects.filter(template="password_changed").exists()


@pytest.mark.parametrize("weak", ["1234", "password", "98765432109"])
def test_new_password_follows_the_password_rules(auth_client, weak):
    error = assert_error(
        auth_client.post(CHANGE, {"current_password": PASSWORD, "new_password": weak}), 400, "validation_error"
    )
    assert list(error["details"]) == ["new_password"]


def test_new_password_must_differ_from_the_current_one(auth_client):
    error = assert_error(
        auth_client.post(CHANGE, {"current_password": PASSWORD, "new_password": PASSWORD}), 400, "validation_error"
    )
    assert list(error["details"]) == ["new_password"]


def test_password_change_with_an_api_token_ends_every_sign_in(user):
    # an API token has no sign-in session to keep: every session ends, the token keeps working
    issued = api_token_create(actor=user, name="nightly sync")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    jwt_client = bearer_client(user)

    response = token_client.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 200 and response.json()["sessions_ended"] == 1
    assert_error(jwt_client.get("/api/auth/me"), 401, "not_authenticated")
    assert token_client.get("/api/auth/me").status_code == 200


def test_guessing_the_current_password_is_rate_limited(auth_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "2/minute"}
    body = {"current_password": "guess", "new_password": NEW_PASSWORD}
    for _ in range(2):
        assert_error(auth_client.post(CHANGE, body), 400, "validation_error")
    response = auth_client.post(CHANGE, body)
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_password_change_on_the_page_keeps_this_browser_signed_in(user):
    # given a browser and an API client signed in as the same user
    browser = _page_client(user)
    api = bearer_client(user)
    # when the browser changes the password on the profile page
    response = _post_form(
        browser,
        "/settings/profile/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        page="/settings/profile/",
    )
    # then the browser stays signed in, the API client is signed out
    assert response.status_code == 302 and response["Location"] == "/settings/profile/"
    page = browser.get("/settings/profile/")
    assert page.status_code == 200 and b"Your password has been changed. 1 other sign-in ended." in page.content
    assert _signed_in(browser)
    assert_error(api.get("/api/auth/me"), 401, "not_authenticated")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_password_change_page_shows_errors_on_their_fields(user):
    browser = _page_client(user)
    wrong = _post_form(
        browser,
        "/settings/profile/password/",
        {"current_password": "nope", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        page="/settings/profile/",
    )
    assert wrong.status_code == 400
    assert b'id="id_current_password-error">The current password is not correct.' in wrong.content
    mismatch = _post_form(
        browser,
        "/settings/profile/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": "other-thing-88"},
        page="/settings/profile/",
    )
    assert mismatch.status_code == 400 and b"The two passwords do not match." in mismatch.content
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert _signed_in(browser)


def test_password_change_service_refuses_a_wrong_current_password(user):
    with pytest.raises(ValidationFailed) as caught:
        password_change(actor=user, current_password="wrong", new_password=NEW_PASSWORD)
    assert "current_password" in caught.value.details


@pytest.mark.parametrize(
    "kind",
    [*User.Role.values, *(f"sub-user without {flag}" for flag in SubUserPermissions.FLAGS)],
)
def test_every_user_edits_their_own_profile_and_password(kind):
    # given any kind of user, whatever their role or permission flags
    owner = UserFactory()
    if kind.startswith("sub-user"):
        flag = kind.rsplit(" ", 1)[1]
        someone = SubUserFactory(parent=owner, permissions={flag: False})
    else:
        someone = UserFactory(organization=owner.organization, role=kind)
    client = bearer_client(someone)
    # when they edit their profile and password, then it works and only their row changes
    assert client.patch("/api/profile/", {"full_name": "Renamed"}).status_code == 200
    assert client.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}).status_code == 200
    someone.refresh_from_db()
    owner.refresh_from_db()
    assert someone.full_name == "Renamed" and someone.check_password(NEW_PASSWORD)
    assert owner.full_name != "Renamed" and owner.check_password(PASSWORD)


def test_the_browser_kept_signed_in_can_still_be_signed_out_from_elsewhere(user):
    # given a browser that changed the password (its session key changes to keep it signed in)
    browser = _page_client(user)
    _post_form(
        browser,
        "/settings/profile/password/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        page="/settings/profile/",
    )
    kept = UserSession.objects.get(user=user, revoked_at__isnull=True)
    assert kept.session_key == browser.cookies["sessionid"].value

    # when that sign-in is ended from another device
    other = bearer_client(user)
    assert other.delete(f"/api/auth/sessions/{kept.pk}/").status_code == 204

    # then the browser is signed out at its next request
    assert browser.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"
