import base64
import re
import time

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.selectors import mfa_enabled
from accounts.services import mfa as services
from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from accounts.tests.test_mfa_services import app_code, back_off_passed, mfa_on, wrong_code

pytestmark = pytest.mark.django_db

PAGE = "/settings/two-factor/"


def _post_form(client: Client, page_url: str, action_url: str, data: dict):
    """Submit like a browser: load the page for its CSRF token, then post the form."""
    page = client.get(page_url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    return client.post(action_url, {**data, "csrfmiddlewaretoken": token})


def _signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


# --- The settings page -----------------------------------------------------------------------


def test_turn_it_on_from_the_settings_page(user):
    client = _signed_in(user)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"Two-factor sign-in is off" in page.content

    # when the user starts the setup, the page shows the QR code and the key
    response = _post_form(client, PAGE, f"{PAGE}setup/", {})
    assert response.status_code == 302 and response["Location"] == PAGE
    page = client.get(PAGE).content.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert base64.b32decode(secret) == TOTPDevice.objects.get(user=user).bin_key
    assert 'src="data:image/svg+xml;base64,' in page

    # a wrong code is refused on the page
    response = _post_form(client, PAGE, f"{PAGE}confirm/", {"confirm-code": wrong_code(user)})
    assert response.status_code == 400
    assert b"This code is not correct or has expired." in response.content
    assert not mfa_enabled(user=user)

    # then the right code turns it on and the recovery codes are shown once
    back_off_passed(user)
    response = _post_form(client, PAGE, f"{PAGE}confirm/", {"confirm-code": app_code(user)})
    assert response.status_code == 302
    page = client.get(PAGE).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(codes) == 10
    assert "Two-factor sign-in is on. Save your recovery codes now." in page
    assert "10 recovery codes left" in page
    assert "<code>" + codes[0] not in client.get(PAGE).content.decode()


def test_new_recovery_codes_and_turning_it_off_on_the_page(user):
    old_codes = mfa_on(user)
    client = _signed_in(user)

    response = _post_form(client, PAGE, f"{PAGE}recovery-codes/", {"codes-code": old_codes[0]})
    assert response.status_code == 302
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", client.get(PAGE).content.decode())
    assert len(new_codes) == 10 and set(new_codes).isdisjoint(old_codes)

    wrong = _post_form(client, PAGE, f"{PAGE}disable/", {"disable-password": "not-my-password"})
    assert wrong.status_code == 400 and b"The password is not correct." in wrong.content
    neither = _post_form(client, PAGE, f"{PAGE}disable/", {})
    assert neither.status_code == 400 and b"Enter either a code or your password." in neither.content

    response = _post_form(client, PAGE, f"{PAGE}disable/", {"disable-password": PASSWORD})
    assert response.status_code == 302
    assert not mfa_enabled(user=user)
    assert b"Two-factor sign-in is off." in client.get(PAGE).content


def test_a_second_tab_setting_it_up_again_is_told_it_is_on(user):
    client = _signed_in(user)
    stale_tab = client.get(PAGE)
    mfa_on(user)

    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', stale_tab.content).group(1).decode()
    response = client.post(f"{PAGE}setup/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 409
    assert b"Two-factor sign-in is already on." in response.content
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_the_settings_page_needs_a_signed_in_user(client):
    assert client.get(PAGE)["Location"] == f"/login/?next={PAGE}"
    assert client.post(f"{PAGE}setup/")["Location"].startswith("/login/")


def test_the_organization_requirement_form_is_for_management(user):
    mfa_on(user)
    rep = UserFactory(organization=user.organization, role=User.Role.SALES_REP)

    assert b"For your whole organization" not in _signed_in(rep).get(PAGE).content
    # a post from a rep is refused, whatever the form shows
    rep_client = _signed_in(rep)
    response = _post_form(rep_client, PAGE, f"{PAGE}requirement/", {"requirement-required": "on"})
    assert response.status_code == 403
    assert b"Only management can change what the organization requires at sign-in." in response.content
    user.organization.refresh_from_db()
    assert not user.organization.require_mfa

    client = _signed_in(user)
    assert b"For your whole organization" in client.get(PAGE).content
    response = _post_form(client, PAGE, f"{PAGE}requirement/", {"requirement-required": "on"})
    assert response.status_code == 302
    user.organization.refresh_from_db()
    assert user.organization.require_mfa
    page = client.get(PAGE).content
    assert b"Every member of your organization now signs in with two-factor." in page
    # and, required, it cannot be turned off
    assert b"Turn off two-factor sign-in" not in page
    response = _post_form(client, PAGE, f"{PAGE}disable/", {"disable-password": PASSWORD})
    assert response.status_code == 409 and mfa_enabled(user=user)
    assert b"Your organization requires two-factor sign-in, so it cannot be turned off." in response.content


def test_requiring_it_on_the_page_needs_it_on_for_oneself(user):
    client = _signed_in(user)

    response = _post_form(client, PAGE, f"{PAGE}requirement/", {"requirement-required": "on"})

    assert response.status_code == 409
    assert b"Turn on two-factor sign-in for your own account first" in response.content


# --- Signing in on pages ---------------------------------------------------------------------


def test_sign_in_asks_for_the_code_on_a_second_page(user):
    mfa_on(user)
    client = Client(enforce_csrf_checks=True)

    # the password is right: a second page asks for the code, nobody is signed in yet
    response = _post_form(
        client,
        "/login/?next=/notifications/",
        "/login/",
        {"email": user.email, "password": PASSWORD, "next": "/notifications/"},
    )
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert client.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"
    page = client.get("/login/code/")
    assert page.status_code == 200 and user.email.encode() in page.content
    assert b"Use a recovery code instead" in page.content

    # a wrong code keeps the visitor on the code page
    wrong = _post_form(client, "/login/code/", "/login/code/", {"code": wrong_code(user)})
    assert wrong.status_code == 400 and b"This code is not correct" in wrong.content
    back_off_passed(user)

    # then the code signs them in and sends them where they were going
    response = _post_form(client, "/login/code/", "/login/code/", {"code": app_code(user)})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert client.get("/dashboard/").status_code == 200
    # the pending step is gone
    assert client.session.get("login_pending") is None


def test_sign_in_with_a_recovery_code_on_the_page(client, user):
    codes = mfa_on(user)
    client.post("/login/", {"email": user.email, "password": PASSWORD})

    page = client.get("/login/code/?recovery=1")
    assert b"Recovery code" in page.content and b"Use a code from the app instead" in page.content
    response = client.post("/login/code/?recovery=1", {"code": codes[0]})
    assert response["Location"] == "/dashboard/"

    client.post("/logout/")
    client.post("/login/", {"email": user.email, "password": PASSWORD})
    again = client.post("/login/code/?recovery=1", {"code": codes[0]})
    assert again.status_code == 400
    assert client.get("/dashboard/").status_code == 302


def test_the_code_page_without_a_pending_sign_in_goes_back_to_sign_in(client):
    response = client.get("/login/code/", follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert b"Sign in with your email and password first." in response.content


def test_an_expired_code_step_goes_back_to_sign_in(client, user, monkeypatch):
    mfa_on(user)
    client.post("/login/", {"email": user.email, "password": PASSWORD})
    six_minutes_later = time.time() + 6 * 60
    monkeypatch.setattr(time, "time", lambda: six_minutes_later)

    response = client.post("/login/code/", {"code": app_code(user)}, follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert b"This sign-in took too long. Sign in again with your password." in response.content
    assert client.get("/login/code/")["Location"] == "/login/"


def test_sign_in_without_two_factor_skips_the_code_page(client, user):
    response = client.post("/login/", {"email": user.email, "password": PASSWORD})

    assert response["Location"] == "/dashboard/"


# --- The organization-wide requirement on pages ------------------------------------------


def test_members_without_two_factor_are_sent_to_set_it_up(user):
    mfa_on(user)
    services.organization_mfa_requirement_set(actor=user, required=True)
    member = SubUserFactory(parent=user)
    client = Client(enforce_csrf_checks=True)

    # the password signs them in, but every page leads to the two-factor setup
    response = _post_form(client, "/login/", "/login/", {"email": member.email, "password": PASSWORD})
    assert response["Location"] == "/dashboard/"
    response = client.get("/dashboard/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert b"Your organization requires two-factor sign-in. Set it up to continue." in response.content
    assert client.get("/notifications/")["Location"] == PAGE

    # setting it up is allowed, and afterwards everything is open again
    assert _post_form(client, PAGE, f"{PAGE}setup/", {})["Location"] == PAGE
    assert _post_form(client, PAGE, f"{PAGE}confirm/", {"confirm-code": app_code(member)})["Location"] == PAGE
    assert client.get("/dashboard/").status_code == 200


def test_members_held_at_the_setup_page_can_still_sign_out(user):
    mfa_on(user)
    services.organization_mfa_requirement_set(actor=user, required=True)
    member = SubUserFactory(parent=user)
    client = _signed_in(member)
    assert client.get("/dashboard/")["Location"] == PAGE

    response = _post_form(client, PAGE, "/logout/", {})

    assert response["Location"] == "/"
    assert client.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"


def test_organizations_that_do_not_require_it_are_not_held(user):
    member = SubUserFactory(parent=user)

    assert _signed_in(member).get("/dashboard/").status_code == 200
