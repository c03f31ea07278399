"""The marketplace from end to end, with a real Celery worker on Redis doing the background work.

A vendor signs up and verifies the email, uploads a file whose email column is not recognised
and which has a row that cannot be listed, maps the column, and watches the bar fill as the
worker lists the rows. Staff approve the listings. A buyer signs up, adds a sales rep to the
team and a rule giving the rep every lead bought, finds the listings by goal search with their
contacts masked, pays with the card that is declined (nothing bought) and then with the one
that succeeds: the contacts appear and the leads are the buyer's, assigned to the rep. The rep
converts one and drags its opportunity to won; the buyer dashboard's won amount follows. The
buyer disputes the other purchase, staff refund it to the wallet, the wallet shows the credit.

Run at a desktop in the light theme, on a phone, and on a device set to dark.
"""

import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.tests.factories import PASSWORD, StaffUserFactory
from crm.models import Opportunity
from leads.models import Lead
from marketplace.masking import mask_email
from marketplace.models import Listing, Purchase
from marketplace.tests.helpers import CARD_DECLINED, CARD_OK
from tests.browser.helpers import (
    DESKTOP,
    INVITE_LINK,
    PHONE,
    VERIFY_LINK,
    assert_no_horizontal_overflow,
    assert_readable,
    drag,
    emailed_link,
    sign_in,
)

FILE = (
    b"Title,Price (USD),Exclusive?,First name,Last name,Mail,Role,Company,Industry,Location\n"
    b"VP of Sales at a SaaS scale-up,120,yes,Ada,Lovelace,ada@engines.example,VP of Sales,Analytical Engines,"
    b'SaaS,"Austin, TX"\n'
    b"Head of Growth at a SaaS start-up,80,yes,Grace,Hopper,grace@cobol.example,Head of Growth,Cobol Cloud,"
    b'SaaS,"Dallas, TX"\n'
    b"Nobody reachable,30,yes,No,Body,not-an-email,,Nowhere Ltd,,\n"
)
NEW_PASSWORD = "ledger-of-leads-1984"
WORKER_SECONDS = 30


@dataclass
class Device:
    phone: bool
    dark: bool

    def check(self, page: Page) -> None:
        """What every key page owes the device: no sideways scrolling on a phone, the dark
        theme where the device asks for it, text that can be read."""
        if self.phone:
            assert_no_horizontal_overflow(page)
        expect(page.locator("html")).to_have_attribute("data-theme", "dark" if self.dark else "light")
        assert_readable(page)


def _sign_up(page: Page, device: Device, *, name: str, email: str, company: str, account: str) -> None:
    """Fill the sign-up form in (sent by `_verify_and_sign_in`)."""
    page.goto("/signup/")
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_label("Company").fill(company)
    page.get_by_label(account).check()
    device.check(page)


def _verify_and_sign_in(page: Page, live_server, *, name: str, email: str) -> None:
    page.locator("main").get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    link = emailed_link(email, "verify_email", VERIFY_LINK)
    assert link.startswith(live_server.url), link
    page.goto(link)
    expect(page.get_by_role("status")).to_have_text("Your email is verified. Sign in to get started.")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Welcome, {name.split()[0]}")


def _switch_to(page: Page, email: str, password: str = PASSWORD) -> None:
    page.context.clear_cookies()
    sign_in(page, email, password)


def _reload_until(page: Page, url: str, locator: Locator, text: str) -> None:
    """Open `url` again until `locator` reads `text`: what a worker computes shows on the next
    page load, not on the one that asked for it."""
    deadline = time.monotonic() + WORKER_SECONDS
    while True:
        page.goto(url)
        if locator.text_content() == text or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(locator).to_have_text(text)


def _axis_labels(page: Page, chart: str) -> list[str]:
    """The labels under a dashboard chart's bars, as drawn."""
    canvas = f"document.querySelector('canvas[data-chart=\"chart-{chart}-data\"]')"
    page.wait_for_function(f"typeof Chart !== 'undefined' && Chart.getChart({canvas}) !== undefined")
    return page.evaluate(f"Chart.getChart({canvas}).scales.x.ticks.map((tick) => tick.label)")


def _kpi(page: Page, label: str) -> Locator:
    return page.get_by_test_id("kpis").locator(".kpi", has_text=label).locator("strong")


@pytest.mark.real_worker
@pytest.mark.parametrize(
    ("viewport", "color_scheme"),
    [(DESKTOP, "light"), (PHONE, "light"), (DESKTOP, "dark")],
    ids=["desktop", "phone", "dark"],
)
def test_sell_review_buy_work_dispute_and_refund(
    real_worker, page: Page, shot, live_server, settings, expect_http_error, viewport, color_scheme
):
    # The links in emails are built from SITE_URL; point it at the live server.
    settings.SITE_URL = live_server.url
    device = Device(phone=viewport == PHONE, dark=color_scheme == "dark")
    staff = StaffUserFactory(email="sam@leadnexus.example")

    # --- the vendor signs up, verifies the email and uploads a file --------------------------
    vendor = {"name": "Vera Vendor", "email": "vera@northwind.example"}
    _sign_up(page, device, **vendor, company="Northwind Leads", account="Sell leads")
    shot("vendor-signup")
    _verify_and_sign_in(page, live_server, **vendor)
    device.check(page)
    page.goto("/marketplace/uploads/")
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "stock.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    page.get_by_role("button", name="Upload and preview").click()

    # "Mail" is not read as the email: every row would be rejected until it is mapped
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the upload of stock.csv")
    mail = page.get_by_label("Mail", exact=True)
    expect(mail).to_have_value("")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("3 would be rejected")
    mail.select_option("email")
    page.get_by_role("button", name="Check the preview again").click()
    expect(page.get_by_label("Mail", exact=True)).to_have_value("email")
    expect(page.get_by_test_id("preview-summary")).to_contain_text("1 would be rejected")
    device.check(page)
    shot("vendor-import-mapping")

    # the worker lists the rows; the bar fills without a reload (a mark left on the page stays)
    page.get_by_role("button", name="List 3 rows").click()
    expect(page.locator("progress")).to_be_visible()
    page.evaluate("window.stayed = true")
    expect(page.get_by_test_id("import-status")).to_have_text("Done", timeout=WORKER_SECONDS * 1000)
    assert page.evaluate("window.stayed === true")
    expect(page.locator("progress")).to_have_attribute("value", "3")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-invalid")).to_have_text("1")
    device.check(page)
    shot("vendor-import-done")

    page.get_by_role("button", name="See the listings").click()
    expect(page.get_by_test_id("my-listing")).to_have_count(2)
    expect(page.get_by_test_id("approval-status")).to_have_text(["Pending", "Pending"])
    device.check(page)
    shot("vendor-listings")

    # --- staff approve both ---------------------------------------------------------------------
    _switch_to(page, staff.email)
    page.goto("/marketplace/review/")
    cards = page.get_by_test_id("review-card")
    expect(cards).to_have_count(2)
    device.check(page)
    shot("staff-review")
    for title in ("VP of Sales at a SaaS scale-up", "Head of Growth at a SaaS start-up"):
        cards.filter(has_text=title).get_by_role("button", name="Approve").click()
        expect(page.get_by_role("status")).to_contain_text("is approved and in the catalog")
    expect(page.get_by_text("Nothing waits for review.")).to_be_visible()
    assert set(Listing.objects.values_list("approval_status", flat=True)) == {"approved"}

    # --- a buyer signs up and sets the team up: a rep, and a rule giving them bought leads --
    page.context.clear_cookies()
    buyer = {"name": "Bob Buyer", "email": "bob@globex.example"}
    _sign_up(page, device, **buyer, company="Globex", account="Buy leads")
    _verify_and_sign_in(page, live_server, **buyer)
    page.goto("/settings/team/")
    form = page.locator("#add-member")
    form.get_by_label("Email").fill("rita@globex.example")
    form.get_by_label("Name", exact=True).fill("Rita Rep")
    form.get_by_label("Role").select_option("sales_rep")
    form.get_by_role("button", name="Add member and send invitation").click()
    expect(page.get_by_role("status")).to_contain_text("rita@globex.example was added.")

    page.goto("/leads/assignment/new/")
    page.get_by_label("Name", exact=True).fill("Bought leads to Rita")
    page.get_by_label("Fixed user").check()
    page.get_by_label("Fixed member").select_option(label="Rita Rep")
    page.get_by_label("Marketplace").check()
    page.get_by_role("button", name="Add rule").click()
    expect(page.get_by_role("status")).to_have_text("The rule “Bought leads to Rita” was added.")
    expect(page.locator("main").get_by_role("row").filter(has_text="Bought leads to Rita")).to_contain_text("Rita Rep")
    device.check(page)
    shot("buyer-assignment-rule")

    # --- the buyer finds the listings by goal, their contacts masked -----------------------
    page.goto("/marketplace/search/")
    page.get_by_label("What are you looking for?").fill("SaaS companies in Texas under $150")
    page.locator("main").get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("strategy-chips")).to_contain_text("SaaS")
    found = page.get_by_test_id("listing-card")
    expect(found).to_have_count(2)
    for result in page.get_by_test_id("goal-results").locator(":scope > li").all():
        # why it was found is read under its card, inside its place in the grid
        place, why = result.bounding_box(), result.locator(".goal-matched").bounding_box()
        assert why["y"] >= place["y"] and why["y"] + why["height"] <= place["y"] + place["height"] + 1
    for email in ("ada@engines.example", "grace@cobol.example"):
        expect(found.get_by_test_id("listing-contact").filter(has_text=mask_email(email))).to_have_count(1)
        expect(page.locator("main")).not_to_contain_text(email)
    device.check(page)
    shot("buyer-goal-search")

    first = Listing.objects.get(title="VP of Sales at a SaaS scale-up")
    second = Listing.objects.get(title="Head of Growth at a SaaS start-up")
    found.filter(has_text=first.title).get_by_role("link", name=first.title).click()
    expect(page.get_by_role("heading", name=first.title, level=1)).to_be_visible()
    expect(page.get_by_test_id("contact-email")).to_have_text(mask_email("ada@engines.example"))
    expect(page.locator("main")).not_to_contain_text("Analytical Engines")
    device.check(page)
    shot("buyer-listing-masked")

    # --- the cart, the declined card, then the one that pays ------------------------------
    page.get_by_test_id("add-to-cart").click()
    expect(page).to_have_url(re.compile(r"/marketplace/cart/$"))
    page.goto(f"/marketplace/listings/{second.pk}/")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_test_id("cart-total")).to_have_text("200.00 USD")
    device.check(page)

    expect_http_error(402, "/pay/")
    page.get_by_test_id("checkout").click()
    expect(page.get_by_test_id("amount-due")).to_have_text("200.00 USD")
    page.get_by_label("Card number").fill(CARD_DECLINED)
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("pay-error")).to_contain_text("declined")
    assert not Purchase.objects.exists()
    device.check(page)
    shot("buyer-checkout-declined")

    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_test_id("pay").click()
    expect(page).to_have_url(re.compile(r"/marketplace/orders/\d+/$"))
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("delivered-lead")).to_have_count(2)
    device.check(page)
    shot("buyer-order-paid")

    # the contacts appear; the leads are the buyer's, assigned to the rep by the rule
    page.goto(f"/marketplace/listings/{first.pk}/")
    expect(page.get_by_test_id("contact-email")).to_have_text("ada@engines.example")
    expect(page.get_by_test_id("company-name")).to_have_text("Analytical Engines")
    device.check(page)
    shot("buyer-contacts")

    page.goto("/leads/")
    expect(page.get_by_test_id("lead-count")).to_have_text("2 leads")
    for name in ("Ada Lovelace", "Grace Hopper"):
        expect(page.locator("main").get_by_role("row").filter(has_text=name)).to_contain_text("Rita Rep")
    device.check(page)
    shot("buyer-leads")
    bought = Lead.objects.filter(source=Lead.Source.MARKETPLACE)
    assert {lead.assigned_to.email for lead in bought} == {"rita@globex.example"}

    # the buyer dashboard, before the rep works the leads
    page.goto("/dashboard/buyer/")
    won = _kpi(page, "Won from bought leads")
    expect(won).to_have_text("USD 0.00")
    device.check(page)

    # --- the rep joins, converts a lead and wins its deal ----------------------------------
    page.context.clear_cookies()
    page.goto(emailed_link("rita@globex.example", "sub_user_invite", INVITE_LINK))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat it").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Rita")

    page.goto("/leads/")
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_test_id("lead-owner")).to_have_text("Rita Rep")
    page.get_by_test_id("convert").click()
    page.get_by_label("Opportunity title").fill("Analytical Engines rollout")
    page.get_by_label("Amount").fill("1200")
    device.check(page)
    shot("rep-lead-convert")
    page.get_by_test_id("convert-form").get_by_role("button", name="Convert").click()
    expect(page).to_have_url(re.compile(r"/crm/opportunities/\d+/$"))
    deal = Opportunity.objects.get(title="Analytical Engines rollout")

    # on the board, the card goes to won, the amount won asked: dragged on a desktop; on a
    # phone, where the columns stack, through the card's page
    page.goto("/crm/opportunities/board/")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("1")
    card = page.get_by_test_id(f"card-{deal.pk}")
    if device.phone:
        card.get_by_role("link").click()
        close = page.get_by_test_id("close-won")
        close.get_by_label("Amount won").fill("1150")
        close.get_by_role("button", name="Close as won").click()
        page.goto("/crm/opportunities/board/")
    else:
        page.once("dialog", lambda dialog: dialog.accept("1150"))
        drag(page, card, page.get_by_test_id("column-closed_won").locator(".board-cards"))
    expect(page.get_by_test_id("count-closed_won")).to_have_text("1")
    expect(page.get_by_test_id("count-prospecting")).to_have_text("0")
    device.check(page)
    shot("rep-pipeline-board")
    deal.refresh_from_db()
    assert deal.stage == Opportunity.Stage.CLOSED_WON

    # --- the buyer dashboard follows, once the worker has recounted the day ----------------
    _switch_to(page, buyer["email"], NEW_PASSWORD)
    _reload_until(page, "/dashboard/buyer/", _kpi(page, "Won from bought leads"), "USD 1,150.00")
    expect(page.locator(".kpi", has_text="Won from bought leads").locator(".muted")).to_have_text("1 deal")
    device.check(page)
    shot("buyer-dashboard")

    page.goto("/dashboard/")
    expect(_kpi(page, "Won")).to_have_text("USD 1,150.00")
    assert "Marketplace" in _axis_labels(page, "source")
    device.check(page)
    shot("manager-sales-dashboard")

    page.goto("/settings/team/")
    expect(page.locator("tbody tr", has_text="rita@globex.example")).not_to_contain_text("Invitation pending")
    device.check(page)
    shot("manager-team")

    # --- the buyer disputes the other purchase; staff refund it to the wallet ---------------
    page.goto("/marketplace/purchases/")
    page.get_by_role("row").filter(has_text=second.title).get_by_test_id("dispute-link").click()
    page.get_by_label("Invalid email").check()
    page.get_by_label("Details").fill("The address bounced.")
    device.check(page)
    shot("buyer-dispute")
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.get_by_test_id("dispute-status")).to_have_text("Open")

    _switch_to(page, staff.email)
    page.goto("/marketplace/disputes/")
    page.get_by_role("link", name=second.title).click()
    page.get_by_label("Refund to the wallet").check()
    page.get_by_label("Note").fill("Bounce confirmed.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("dispute-status")).to_have_text("Refunded")
    device.check(page)
    shot("staff-dispute-refund")

    _switch_to(page, buyer["email"], NEW_PASSWORD)
    page.goto("/marketplace/wallet/")
    expect(page.get_by_test_id("wallet-balance")).to_have_text("80.00")
    expect(page.get_by_test_id("statement")).to_contain_text("Refund to the wallet")
    expect(page.get_by_test_id("statement").locator('td[data-label="Balance after"]')).to_have_text(["80.00"])
    device.check(page)
    shot("buyer-wallet")
