"""A manager imports a spreadsheet of leads: uploads it, sees that the "Mail" column was not
recognised, maps it to the email, checks the preview again, starts the import and watches
the progress bar fill without reloading the page, then finds the counts and the rejected rows."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import UserFactory
from leadnexus.core.testing import celery_eager
from leads.imports import services
from leads.models import ImportJob, Lead
from tests.browser.helpers import DESKTOP, PHONE, assert_no_horizontal_overflow, sign_in

FILE = (
    b"Full name;Mail;Company;Mobile\n"
    b"Ada Lovelace;ada@engines.example;Analytical Engines;+44 20 7946 0958\n"
    b"Grace Hopper;GRACE@navy.example;US Navy;\n"
    b"Nobody;not-an-email;Nowhere Ltd;\n"
)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_import_a_file_fix_a_column_and_watch_it_finish(page: Page, shot, viewport):
    user = UserFactory(email="maria@import.example", full_name="Maria Anders")
    sign_in(page, user.email)

    # the upload page
    page.goto("/leads/import/")
    expect(page.get_by_role("heading", name="Import leads", level=1)).to_be_visible()
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "people.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    shot("upload")
    page.get_by_role("button", name="Upload and preview").click()

    # the preview: "Mail" is not recognised, so every row would be rejected for want of an email
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the import of people.csv")
    expect(page.get_by_role("status")).to_contain_text("3 rows read")
    mail = page.get_by_label("Mail", exact=True)
    expect(mail).to_have_value("")
    expect(page.get_by_label("Full name", exact=True)).to_have_value("full_name")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("2 would be rejected")
    assert_no_horizontal_overflow(page)
    shot("preview-unmapped")

    # the user maps it to the email and checks again
    mail.select_option("email")
    page.get_by_role("button", name="Check the preview again").click()
    expect(page.get_by_role("status")).to_have_text("The preview is checked again with your columns.")
    expect(page.get_by_label("Mail", exact=True)).to_have_value("email")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("1 would be rejected")
    shot("preview-mapped")

    # the import starts; no worker has picked it up yet
    with celery_eager(False):
        page.get_by_role("button", name="Import 3 rows").click()
        expect(page.get_by_test_id("import-status")).to_have_text("Queued")
    expect(page.locator("progress")).to_have_attribute("value", "0")
    job = ImportJob.objects.get(created_by=user)
    shot("queued")

    # a worker runs it; the page follows without being reloaded
    url = page.url
    with page.expect_response(re.compile(rf"/leads/import/{job.pk}/progress/$")):
        services.import_process(job_id=job.pk)
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.locator("progress")).to_have_attribute("value", "3")
    expect(page.locator("progress")).to_have_attribute("max", "3")
    expect(page.get_by_test_id("import-processed")).to_have_text("3 of 3 rows")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-invalid")).to_have_text("1")
    assert page.url == url
    assert_no_horizontal_overflow(page)
    shot("done")

    # the rejected row downloads with its reason
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the rows not imported (CSV)").click()
    rejected = download.value.path().read_text(encoding="utf-8-sig").splitlines()
    assert rejected[0] == "Full name,Mail,Company,Mobile,reason"
    assert rejected[1].startswith("Nobody,not-an-email,Nowhere Ltd,,A lead needs a valid email")
    assert sorted(Lead.objects.filter(organization=user.organization).values_list("email", flat=True)) == [
        "GRACE@navy.example",
        "ada@engines.example",
    ]
