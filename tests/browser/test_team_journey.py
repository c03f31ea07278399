"""A management user adds a colleague with limited rights; the colleague accepts the emailed
invitation, lands signed in, and finds the team settings closed to them."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.factories import UserFactory
from tests.browser.helpers import DESKTOP, INVITE_LINK, PHONE, assert_no_horizontal_overflow, emailed_link, sign_in


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_management_invites_a_colleague_with_limited_rights(
    page: Page, shot, live_server, settings, expect_http_error, viewport
):
    # The invitation link is built from SITE_URL; point it at the live server.
    settings.SITE_URL = live_server.url
    UserFactory(email="maria@northwind.example", full_name="Maria Anders", organization__name="Northwind Leads")
    colleague = "tom.rep@northwind.example"
    expect_http_error(403, "/settings/team/")

    # The manager signs in and opens the team page from the settings menu.
    sign_in(page, "maria@northwind.example", to_dashboard=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Maria")
    page.goto("/settings/organization/")
    page.locator(".settings-nav").get_by_role("link", name="Team").click()
    expect(page).to_have_url(re.compile(r"/settings/team/$"))
    expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    expect(page.get_by_test_id("seats")).to_have_text("1 of 3 seats in use · Free plan")
    assert_no_horizontal_overflow(page)
    shot("team")

    # They add a sales rep who may not buy or export.
    form = page.locator("#add-member")
    form.get_by_label("Email").fill(colleague)
    form.get_by_label("Name", exact=True).fill("Tom Rep")
    form.get_by_label("Role").select_option("sales_rep")
    form.get_by_label("Buy leads").uncheck()
    form.get_by_label("Export").uncheck()
    expect(form.get_by_label("View leads")).to_be_checked()
    shot("add-member-filled")
    form.get_by_role("button", name="Add member and send invitation").click()

    expect(page.get_by_role("status")).to_have_text(
        f"{colleague} was added. An invitation to set a password is on its way."
    )
    row = page.locator("tbody tr", has_text=colleague)
    expect(row).to_contain_text("Invitation pending")
    expect(row).to_contain_text("Never")
    expect(page.get_by_test_id("seats")).to_have_text("2 of 3 seats in use · Free plan")
    assert_no_horizontal_overflow(page)
    shot("member-added")

    # The member's page shows the rights as chosen.
    row.get_by_role("link", name="Tom Rep").click()
    expect(page.get_by_role("heading", name="Tom Rep", level=1)).to_be_visible()
    expect(page.get_by_label("Buy leads")).not_to_be_checked()
    expect(page.get_by_label("Export")).not_to_be_checked()
    expect(page.get_by_role("button", name="Resend invitation")).to_be_visible()
    assert_no_horizontal_overflow(page)
    shot("member-page")

    # The manager signs out; the colleague opens the link from the email.
    account_menu = page.locator(".site-header details.dropdown")
    account_menu.locator("summary").click()
    account_menu.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")

    link = emailed_link(colleague, "sub_user_invite", INVITE_LINK)
    assert link.startswith(f"{live_server.url}/invite/"), link
    page.goto(link)
    expect(page.get_by_role("heading", name="Join Northwind Leads")).to_be_visible()
    expect(page.locator("main")).to_contain_text(colleague)
    page.get_by_label("New password").fill("tidal-compass-204")
    page.get_by_label("Repeat it").fill("tidal-compass-204")
    assert_no_horizontal_overflow(page)
    shot("invitation")
    page.get_by_role("button", name="Set password and sign in").click()

    # They land on the dashboard, signed in.
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Tom")
    expect(page.get_by_role("status")).to_have_text("Welcome to Northwind Leads. Your password is set.")
    shot("colleague-dashboard")
    member = User.objects.get(email=colleague)
    assert member.email_verified and member.parent.email == "maria@northwind.example"
    assert not member.sub_user_permissions.can_buy and not member.sub_user_permissions.can_export

    # The settings menu offers them no team; the organization is read-only for them.
    page.goto("/settings/organization/")
    expect(page.get_by_role("heading", name="Organization", level=1)).to_be_visible()
    expect(page.locator(".settings-nav").get_by_role("link", name="Team")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Only management users can change these settings.")
    assert_no_horizontal_overflow(page)
    shot("organization-read-only")

    # Opening the team page directly is refused.
    response = page.goto("/settings/team/")
    assert response is not None and response.status == 403
    expect(page.locator("main")).to_contain_text("Only management users can manage the team.")
    shot("team-forbidden")

    # The link works once.
    account_menu = page.locator(".site-header details.dropdown")
    page.goto("/dashboard/")
    account_menu.locator("summary").click()
    account_menu.get_by_role("button", name="Sign out").click()
    expect_http_error(400, "/invite/")
    page.goto(link)
    expect(page.get_by_role("heading", name="This invitation does not work")).to_be_visible()
    expect(page.locator("main")).to_contain_text("already been used")
    shot("invitation-used")
