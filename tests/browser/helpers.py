"""What the browser journeys share: the two viewports, signing in, and the check that a page
fits its window."""

import re

from playwright.sync_api import Page, expect

from accounts.tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def sign_in(page: Page, email: str, password: str = PASSWORD, *, to_dashboard: bool = True) -> None:
    """Submit the sign-in form; by default wait for the dashboard (`to_dashboard=False` when a
    second step, such as a two-factor code, follows)."""
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    if to_dashboard:
        expect(page).to_have_url(re.compile(r"/dashboard/$"))


def assert_no_horizontal_overflow(page: Page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: content {widths[0]}px, window {widths[1]}px"
