"""A member turns on two-factor sign-in with an authenticator app, signs out, and signs in
again with a code from the app."""

import base64
import re

from django_otp.oath import totp
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from tests.browser.helpers import sign_in


def app_shows(secret: str, *, steps_ahead: int = 0) -> str:
    """What an authenticator app holding `secret` shows (`steps_ahead` periods from now)."""
    key = base64.b32decode(secret.replace(" ", ""))
    return f"{totp(key, drift=steps_ahead):06d}"


def test_turn_on_two_factor_then_sign_in_with_a_code(page: Page, shot):
    user = UserFactory(email="katherine@orbits.example", full_name="Katherine Johnson")

    sign_in(page, user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Katherine")

    page.goto("/settings/two-factor/")
    expect(page.get_by_role("heading", name="Two-factor sign-in is off")).to_be_visible()
    shot("two-factor-off")
    page.get_by_role("button", name="Set up two-factor sign-in").click()

    qr = page.get_by_role("img", name="QR code to add LeadNexus to an authenticator app")
    expect(qr).to_be_visible()
    # the data: image really rendered (a broken image has no natural width)
    assert page.evaluate("document.querySelector('img.qr-code').naturalWidth") > 0
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7 ]+", secret), secret
    shot("scan-the-code")

    page.get_by_label("6-digit code from the app").fill(app_shows(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    expect(page.get_by_role("status")).to_have_text("Two-factor sign-in is on. Save your recovery codes now.")
    expect(page.get_by_role("heading", name="Save your recovery codes")).to_be_visible()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    shot("recovery-codes")

    account_menu = page.locator(".site-header details.dropdown")
    account_menu.locator("summary").click()
    account_menu.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")

    # the password alone no longer signs in: a second page asks for the code
    sign_in(page, user.email, to_dashboard=False)
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    expect(page.get_by_role("link", name="Use a recovery code instead")).to_be_visible()
    shot("enter-your-code")

    # the code just used to turn it on is spent; the app's next one is accepted already
    page.get_by_label("6-digit code").fill(app_shows(secret, steps_ahead=1))
    page.locator("main").get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Katherine")
    shot("signed-in-with-a-code")
