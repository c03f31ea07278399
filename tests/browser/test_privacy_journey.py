"""A management user answers a person's data request: finds the Data protection settings,
downloads everything held on the person, then erases it and reads what went."""

import json
import re

from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from crm.tests.factories import ContactFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from tests.browser.helpers import assert_no_horizontal_overflow, sign_in

EMAIL = "ana.trujillo@example.org"


def test_management_exports_then_erases_a_persons_data(page: Page, shot):
    manager = UserFactory(email="maria@northwind.example", full_name="Maria Anders")
    LeadFactory(organization=manager.organization, email=EMAIL, first_name="Ana")
    ContactFactory(created_by=manager, email=EMAIL, first_name="Ana")

    sign_in(page, manager.email, to_dashboard=False)
    page.goto("/settings/organization/")
    page.locator(".settings-nav").get_by_role("link", name="Data protection").click()
    expect(page).to_have_url(re.compile(r"/settings/privacy/$"))
    expect(page.get_by_role("heading", name="Data protection", level=1)).to_be_visible()
    assert_no_horizontal_overflow(page)
    page.get_by_label("Email").fill(EMAIL)
    shot("privacy-filled")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export their data").click()
    document = json.loads(download.value.path().read_text())
    assert len(document["records"]["leads.lead"]) == 1 and len(document["records"]["crm.contact"]) == 1

    page.get_by_label("I understand erasing cannot be undone").check()
    page.get_by_role("button", name="Erase their data").click()

    result = page.get_by_test_id("erasure")
    expect(result).to_contain_text("leads.lead")
    expect(result).to_contain_text("1 deleted")
    shot("privacy-erased")
    assert not Lead.objects.filter(email=EMAIL).exists()
