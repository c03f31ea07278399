"""A new customer signs up, verifies the email, signs in, switches to dark mode and signs out."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD, UserFactory
from notifications.models import EmailMessage
from tests.browser.helpers import DESKTOP, PHONE, VERIFY_LINK, assert_no_horizontal_overflow, emailed_link


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_signup_verify_sign_in_and_out(page: Page, shot, live_server, settings, viewport):
    # The link in the email is built from SITE_URL; point it at the live server.
    settings.SITE_URL = live_server.url
    email = "ada.lovelace@analytical.example"

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Buy verified B2B leads")
    # app.css is served and applied (a missing file would also fail the test as a 404).
    expect(page.locator(".hero-actions")).to_have_css("display", "flex")
    assert_no_horizontal_overflow(page)
    shot("landing")

    sign_up = page.locator(".site-header").get_by_role("button", name="Sign up")
    expect(sign_up).to_be_in_viewport()
    sign_up.click()
    expect(page).to_have_url(re.compile(r"/signup/$"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    assert_no_horizontal_overflow(page)

    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill("engine-of-numbers-1843")
    page.get_by_label("Company").fill("Analytical Engines Ltd")
    page.get_by_label("Both").check()
    shot("signup-filled")
    page.locator("main").get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.locator("article")).to_contain_text(email)
    assert_no_horizontal_overflow(page)
    shot("check-inbox")

    link = emailed_link(email, "verify_email", VERIFY_LINK)
    assert link.startswith(f"{live_server.url}/verify?token="), link
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/login/\?email="))
    expect(page.get_by_role("status")).to_have_text("Your email is verified. Sign in to get started.")
    expect(page.get_by_label("Email")).to_have_value(email)
    assert_no_horizontal_overflow(page)
    shot("verified-sign-in")

    page.get_by_label("Password").fill("engine-of-numbers-1843")
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Ada")
    expect(page.locator("main")).to_contain_text("Analytical Engines Ltd · buyer · vendor")
    assert_no_horizontal_overflow(page)
    shot("dashboard")

    account_menu = page.locator(".site-header details.dropdown")
    expect(account_menu.locator("summary")).to_be_in_viewport()
    account_menu.locator("summary").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    account_menu.get_by_role("button", name="Toggle theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    shot("dashboard-dark")
    # The choice is kept for the next page.
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")

    account_menu.locator("summary").click()
    sign_out = account_menu.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_in_viewport()
    shot("account-menu-open")
    sign_out.click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    expect(page.locator(".site-header").get_by_role("link", name="Sign in")).to_be_visible()
    assert_no_horizontal_overflow(page)
    shot("signed-out")

    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/login/\?next="))


def test_sign_in_before_verifying_offers_a_new_link(page: Page, shot, expect_http_error):
    user = UserFactory(email="grace@cobol.example", full_name="Grace Hopper", email_verified=False)
    expect_http_error(403, "/login/")

    page.goto("/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Verify your email address before signing in. We can send the link again."
    )
    resend = page.get_by_role("button", name="Send the verification link again")
    expect(resend).to_be_visible()
    shot("not-verified")

    resend.click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_have_text("If that account waits for verification, a new link is on its way.")
    shot("link-sent-again")
    assert EmailMessage.objects.filter(to=user.email, template="verify_email").count() == 1
