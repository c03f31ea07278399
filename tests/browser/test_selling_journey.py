"""A vendor lists leads from a spreadsheet, staff review them, a buyer finds one: the vendor opens
Sell, uploads a small file, sees the preview with the row that cannot be listed, confirms and
watches the progress bar fill without reloading; the listings wait for review. Staff open
Review, approve one listing and reject the other with a reason; the vendor's list says so. A
buyer opens the marketplace, searches by goal, sees the goal read as chips and the approved
listing among the results with its contacts masked, and on its page too."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import StaffUserFactory, UserFactory
from leadnexus.core.testing import celery_eager
from leads.imports import services
from leads.models import ImportJob
from marketplace.masking import mask_email, mask_name
from marketplace.models import Listing
from marketplace.tests.factories import VendorUserFactory
from tests.browser.helpers import DESKTOP, PHONE, assert_no_horizontal_overflow, sign_in

FILE = (
    b"Title,Price (USD),Exclusive?,First name,Last name,Email,Role,Company,Industry,Location\n"
    b"VP of Sales at a SaaS scale-up,120,yes,Ada,Lovelace,ada@engines.example,VP of Sales,Analytical Engines,"
    b'SaaS,"Austin, TX"\n'
    b"CTO of a regional bank,90,no,Grace,Hopper,grace@navy.example,CTO,First Navy Bank,"
    b'Finance,"Boston, MA"\n'
    b"Nobody reachable,30,yes,No,Body,not-an-email,,Nowhere Ltd,,\n"
)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_vendor_uploads_listings_staff_review_them_and_a_buyer_finds_one(page: Page, shot, viewport):
    vendor = VendorUserFactory(email="vera@northwind.example", full_name="Vera Vendor")
    staff = StaffUserFactory(email="sam@leadnexus.example")
    buyer = UserFactory(email="bob@globex.example", full_name="Bob Buyer")

    # the vendor goes to Sell: nothing listed yet
    sign_in(page, vendor.email)
    page.get_by_role("link", name="Sell", exact=True).click()
    expect(page.get_by_role("heading", name="My listings", level=1)).to_be_visible()
    expect(page.get_by_text("You have not listed any lead yet.")).to_be_visible()
    page.locator("main").get_by_role("link", name="Upload a file").first.click()

    # the upload and its preview
    expect(page.get_by_role("heading", name="Upload listings", level=1)).to_be_visible()
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    shot("upload")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the upload of stock.csv")
    expect(page.get_by_label("Title", exact=True)).to_have_value("title")
    expect(page.get_by_label("Role", exact=True)).to_have_value("job_title")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("1 would be rejected")
    assert_no_horizontal_overflow(page)
    shot("preview")

    # confirmed; no worker has taken it yet
    with celery_eager(False):
        page.get_by_role("button", name="List 3 rows").click()
        expect(page.get_by_test_id("import-status")).to_have_text("Queued")
    expect(page.locator("progress")).to_have_attribute("value", "0")
    job = ImportJob.objects.get(created_by=vendor, kind="listings")

    # a worker runs it; the bar fills without a reload
    url = page.url
    with page.expect_response(re.compile(rf"/marketplace/uploads/{job.pk}/progress/$")):
        services.import_process(job_id=job.pk)
    expect(page.get_by_test_id("import-status")).to_have_text("Done")
    expect(page.locator("progress")).to_have_attribute("value", "3")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-invalid")).to_have_text("1")
    assert page.url == url
    shot("done")

    # the listings wait for review
    page.get_by_role("button", name="See the listings").click()
    expect(page.get_by_test_id("my-listing")).to_have_count(2)
    expect(page.get_by_test_id("approval-status").first).to_have_text("Pending")
    assert_no_horizontal_overflow(page)
    shot("pending")

    # staff review them
    page.context.clear_cookies()
    sign_in(page, staff.email)
    page.get_by_role("link", name="Review", exact=True).click()
    expect(page.get_by_role("heading", name="Review listings", level=1)).to_be_visible()
    cards = page.get_by_test_id("review-card")
    expect(cards).to_have_count(2)
    expect(cards.first.get_by_test_id("lead-email")).to_have_text("ada@engines.example")  # staff see it in full
    assert_no_horizontal_overflow(page)
    shot("queue")
    cards.filter(has_text="VP of Sales at a SaaS scale-up").get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text("is approved and in the catalog")
    expect(cards).to_have_count(1)
    bank = cards.filter(has_text="CTO of a regional bank")
    bank.get_by_role("textbox").fill("The company could not be verified.")
    bank.get_by_role("button", name="Reject").click()
    expect(page.get_by_role("status")).to_contain_text("is rejected; its vendor is told why")
    expect(page.get_by_text("Nothing waits for review.")).to_be_visible()
    shot("reviewed")

    assert dict(Listing.objects.values_list("title", "approval_status")) == {
        "VP of Sales at a SaaS scale-up": "approved",
        "CTO of a regional bank": "rejected",
    }

    # the vendor sees the outcome
    page.context.clear_cookies()
    sign_in(page, vendor.email)
    page.goto("/marketplace/my-listings/?approval_status=rejected")
    expect(page.get_by_test_id("my-listing")).to_have_count(1)
    expect(page.get_by_text("The company could not be verified.")).to_be_visible()

    # a buyer searches by goal and finds the approved listing, its contacts masked
    page.context.clear_cookies()
    sign_in(page, buyer.email)
    page.get_by_role("link", name="Marketplace", exact=True).click()
    expect(page.get_by_test_id("listing-card")).to_have_count(1)
    shot("catalog")
    page.get_by_role("link", name="Search by goal").click()
    page.get_by_label("What are you looking for?").fill("SaaS companies in Texas under $150")
    page.locator("main").get_by_role("button", name="Search", exact=True).click()
    chips = page.get_by_test_id("strategy-chips")
    expect(chips).to_contain_text("SaaS")
    expect(chips).to_contain_text("in TX")
    card = page.get_by_test_id("listing-card").filter(has_text="VP of Sales at a SaaS scale-up")
    expect(card).to_have_count(1)
    expect(page.get_by_test_id("listing-card").filter(has_text="CTO of a regional bank")).to_have_count(0)
    contact = card.get_by_test_id("listing-contact")
    expect(contact).to_contain_text(mask_name("Ada Lovelace"))
    expect(contact).to_contain_text(mask_email("ada@engines.example"))
    expect(contact).not_to_contain_text("ada@engines.example")
    assert_no_horizontal_overflow(page)
    shot("goal-search")
    card.get_by_role("link", name="VP of Sales at a SaaS scale-up").click()
    expect(page.get_by_role("heading", name="VP of Sales at a SaaS scale-up", level=1)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("ada@engines.example")
    expect(page.locator("main")).not_to_contain_text("Analytical Engines")
    expect(page.locator("main")).to_contain_text(mask_email("ada@engines.example"))
    shot("listing")
