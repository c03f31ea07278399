"""A user makes LeadNexus theirs: a dark theme that follows them to every device, and
shorter lists."""

import re

from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from notifications.models import Notification, NotificationType
from tests.browser.helpers import sign_in


def test_dark_theme_and_ten_items_per_page(page: Page, shot):
    user = UserFactory(email="lin@journey.example", full_name="Lin Park")
    Notification.objects.bulk_create(
        Notification(user=user, type=NotificationType.NEW_LEAD, title=f"New lead {n:02d}") for n in range(12)
    )
    sign_in(page, user.email)

    # dark theme, chosen on the preferences page, is kept across reloads
    page.goto("/settings/preferences/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Preferences")
    page.get_by_label("Dark").check()
    page.get_by_label("Items per page").select_option("10")
    shot("preferences-filled")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_have_text("Your preferences are saved.")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_label("Dark")).to_be_checked()
    shot("preferences-dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")

    # ten notifications a page
    page.goto("/notifications/")
    expect(page.locator(".notification-list li")).to_have_count(10)
    expect(page.locator(".pagination")).to_contain_text("Page 1 of 2")
    shot("notifications-paged")
    page.locator(".pagination").get_by_role("link", name=re.compile("Next")).click()
    expect(page.locator(".notification-list li")).to_have_count(2)


def test_theme_toggle_follows_the_user_to_another_device(page: Page, browser, live_server, shot):
    user = UserFactory(email="sam@journey.example", full_name="Sam Reyes")
    sign_in(page, user.email)
    expect(page.locator("html")).to_have_attribute("data-theme", "light")

    menu = page.locator(".site-header details.dropdown")
    menu.locator("summary").click()
    with page.expect_response(re.compile(r"/settings/theme/$")) as saved:
        menu.get_by_role("button", name="Toggle theme").click()
    assert saved.value.status == 204
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    shot("toggled-dark")

    # another browser, nothing in its storage: signing in brings the dark theme along
    other = browser.new_context(base_url=live_server.url)
    try:
        phone = other.new_page()
        sign_in(phone, user.email)
        expect(phone.locator("html")).to_have_attribute("data-theme", "dark")
        expect(phone.locator("html")).to_have_attribute("data-theme-choice", "dark")
    finally:
        other.close()
