"""A buyer buys two listings and disputes one: they add both to the cart from their pages,
check out, pay with the card that is declined (refused, nothing bought), then with the card
that succeeds; the order is paid, the contacts are revealed on the listing's page and the
leads are in the buyer's list. The buyer disputes one purchase; staff refund it to the wallet;
the buyer's wallet shows the credit."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from accounts.tests.factories import StaffUserFactory, UserFactory
from marketplace.models import Purchase
from marketplace.tests.factories import ContactListingFactory, ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_DECLINED, CARD_OK
from tests.browser.helpers import DESKTOP, PHONE, assert_no_horizontal_overflow, sign_in


def _add_to_cart(page: Page, listing) -> None:
    page.goto(f"/marketplace/listings/{listing.pk}/")
    page.get_by_test_id("add-to-cart").click()
    expect(page).to_have_url(re.compile(r"/marketplace/cart/$"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_buyer_pays_after_a_decline_gets_the_leads_disputes_one_and_is_refunded(
    page: Page, shot, expect_http_error, viewport
):
    vendor = VendorUserFactory(email="vera@northwind.example")
    first = ContactListingFactory(
        vendor=vendor.organization, created_by=vendor, title="Head of IT at Acme", price=Decimal("25.00")
    )
    second = ListingFactory(
        vendor=vendor.organization, created_by=vendor, title="CFO of a logistics firm", price=Decimal("40.00")
    )
    buyer = UserFactory(email="bob@globex.example", full_name="Bob Buyer")
    staff = StaffUserFactory(email="sam@leadnexus.example")

    # the buyer puts both listings in the cart
    sign_in(page, buyer.email)
    _add_to_cart(page, first)
    _add_to_cart(page, second)
    expect(page.get_by_test_id("cart-line")).to_have_count(2)
    expect(page.get_by_test_id("cart-total")).to_have_text("65.00 USD")
    assert_no_horizontal_overflow(page)
    shot("cart")

    # checkout, the declined card: refused (402), nothing bought
    expect_http_error(402, "/pay/")
    page.get_by_test_id("checkout").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pay order")
    expect(page.get_by_test_id("amount-due")).to_have_text("65.00 USD")
    page.get_by_label("Card number").fill(CARD_DECLINED)
    page.get_by_test_id("pay").click()
    expect(page.get_by_test_id("pay-error")).to_contain_text("declined")
    assert not Purchase.objects.exists()
    shot("declined")

    # the card that succeeds
    page.get_by_label("Card number").fill(CARD_OK)
    page.get_by_test_id("pay").click()
    expect(page).to_have_url(re.compile(r"/marketplace/orders/\d+/$"))
    expect(page.get_by_test_id("order-status")).to_have_text("Paid")
    expect(page.get_by_test_id("delivered-lead")).to_have_count(2)
    assert_no_horizontal_overflow(page)
    shot("paid")

    # the contacts are revealed, and the leads are the buyer's
    page.goto(f"/marketplace/listings/{first.pk}/")
    expect(page.get_by_test_id("contact-email")).to_have_text("jane@acme.com")
    page.goto("/leads/")
    expect(page.locator("main")).to_contain_text("Jane Smith")
    shot("leads")

    # the buyer disputes the first purchase
    page.goto("/marketplace/purchases/")
    page.get_by_role("row").filter(has_text="Head of IT at Acme").get_by_test_id("dispute-link").click()
    page.get_by_label("Invalid email").check()
    page.get_by_label("Details").fill("The address bounced.")
    page.get_by_role("button", name="Open the dispute").click()
    expect(page.get_by_test_id("dispute-status")).to_have_text("Open")
    shot("disputed")

    # staff refund it to the wallet
    page.context.clear_cookies()
    sign_in(page, staff.email)
    page.goto("/marketplace/disputes/")
    page.get_by_role("link", name="Head of IT at Acme").click()
    page.get_by_label("Refund to the wallet").check()
    page.get_by_label("Note").fill("Bounce confirmed.")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("dispute-status")).to_have_text("Refunded")
    assert_no_horizontal_overflow(page)
    shot("refunded")

    # the buyer's wallet shows the credit
    page.context.clear_cookies()
    sign_in(page, buyer.email)
    page.goto("/marketplace/wallet/")
    expect(page.get_by_test_id("wallet-balance")).to_have_text("25.00")
    expect(page.get_by_test_id("statement")).to_contain_text("Refund to the wallet")
    assert_no_horizontal_overflow(page)
    shot("wallet")
