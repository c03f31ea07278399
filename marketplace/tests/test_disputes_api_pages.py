"""Disputes, wallet and earnings through the API and the pages: who may do each step, the
codes of the contract, and what each side sees."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from marketplace.models import Dispute, Purchase
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK

pytestmark = pytest.mark.django_db

DISPUTES = "/api/marketplace/disputes/"


@pytest.fixture
def seller():
    return VendorUserFactory()


@pytest.fixture
def purchase(buyer, seller) -> Purchase:
    listing = ListingFactory(vendor=seller.organization, created_by=seller, price=Decimal("25.00"))
    cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    return Purchase.objects.get()


def _open(client, purchase, **body):
    return client.post(
        f"/api/marketplace/purchases/{purchase.pk}/dispute/",
        {"reason": "invalid_email", "details": "Bounced.", **body},
        format="json",
    )


def test_the_whole_dispute_through_the_api(buyer, seller, purchase):
    buyer_api, seller_api, staff_api = bearer_client(buyer), bearer_client(seller), bearer_client(StaffUserFactory())

    opened = _open(buyer_api, purchase)
    assert opened.status_code == 201
    dispute = opened.json()
    assert (dispute["status"], dispute["reason"], dispute["purchase_id"]) == ("open", "invalid_email", purchase.pk)
    assert set(dispute) >= {"id", "purchase_id", "status", "reason", "details", "vendor_response", "resolution_note"}
    assert set(dispute) >= {"created_at", "resolved_at"}

    responded = seller_api.post(f"{DISPUTES}{dispute['id']}/respond/", {"response": "It was valid."}, format="json")
    assert responded.status_code == 200 and responded.json()["vendor_response"] == "It was valid."

    assert_error(
        buyer_api.post(f"{DISPUTES}{dispute['id']}/resolve/", {"decision": "refund"}, format="json"),
        403,
        "permission_denied",
    )
    resolved = staff_api.post(
        f"{DISPUTES}{dispute['id']}/resolve/", {"decision": "refund", "note": "OK"}, format="json"
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "refunded"
    shown = UserFactory()
    listing = bearer_client(shown).get(f"/api/marketplace/listings/{purchase.listing_id}/")
    assert listing.status_code == 404  # sold out, and not theirs: the standing shows on the vendor's other listings
    detail = buyer_api.get(f"/api/marketplace/listings/{purchase.listing_id}/").json()
    assert (detail["vendor_sales"], detail["vendor_dispute_rate"]) == (1, "100.0")
    assert buyer_api.get("/api/marketplace/wallet/").json()["balance"] == "25.00"
    assert bearer_client(seller).get("/api/marketplace/earnings/").json()["pending"] == "0.00"
    assert_error(
        staff_api.post(f"{DISPUTES}{dispute['id']}/resolve/", {"decision": "reject"}, format="json"),
        409,
        "illegal_transition",
    )


def test_the_dispute_codes_of_the_contract(buyer, purchase, settings):
    client = bearer_client(buyer)
    assert_error(_open(client, purchase, reason="bored"), 400, "validation_error")
    Purchase.objects.filter(pk=purchase.pk).update(dispute_deadline=timezone.now() - timedelta(seconds=1))
    assert_error(_open(client, purchase), 409, "dispute_window_closed")
    Purchase.objects.filter(pk=purchase.pk).update(dispute_deadline=timezone.now() + timedelta(days=1))
    settings.DISPUTES_PER_MONTH = 0
    assert_error(_open(client, purchase), 409, "dispute_limit_reached")


def test_who_sees_which_disputes(buyer, seller, purchase):
    dispute_id = _open(bearer_client(buyer), purchase).json()["id"]

    for user, sees in ((buyer, True), (seller, True), (StaffUserFactory(), True), (UserFactory(), False)):
        listed = [row["id"] for row in bearer_client(user).get(DISPUTES).json()["results"]]
        assert (dispute_id in listed) is sees
        assert bearer_client(user).get(f"{DISPUTES}{dispute_id}/").status_code == (200 if sees else 404)
    assert_error(APIClient().get(DISPUTES), 401, "not_authenticated")
    assert_error(
        bearer_client(VendorUserFactory()).post(f"{DISPUTES}{dispute_id}/respond/", {"response": "x"}, format="json"),
        404,
        "not_found",
    )


# --- Pages ------------------------------------------------------------------------------------------


def test_dispute_pages_from_the_purchase_to_the_decision(client, buyer, seller, purchase):
    client.login(email=buyer.email, password=PASSWORD)
    purchases_page = client.get("/marketplace/purchases/").content.decode()
    assert f"/marketplace/purchases/{purchase.pk}/dispute/" in purchases_page

    opened = client.post(f"/marketplace/purchases/{purchase.pk}/dispute/", {"reason": "wrong_phone", "details": "x"})
    dispute = Dispute.objects.get()
    assert opened.status_code == 302 and opened["Location"] == f"/marketplace/disputes/{dispute.pk}/"
    buyer_view = client.get(opened["Location"]).content.decode()
    assert "Wrong phone" in buyer_view and 'data-testid="dispute-answer"' not in buyer_view  # nothing to answer

    client.login(email=seller.email, password=PASSWORD)
    assert 'data-testid="dispute-answer"' in client.get(opened["Location"]).content.decode()
    client.post(opened["Location"], {"response": "It rang fine."})
    dispute.refresh_from_db()
    assert dispute.status == "responded"

    client.login(email=StaffUserFactory().email, password=PASSWORD)
    assert dispute.purchase.listing.title in client.get("/marketplace/disputes/").content.decode()
    client.post(opened["Location"], {"decision": "refund_to_card", "note": "Refunded."})
    dispute.refresh_from_db()
    assert dispute.status == "refunded" and dispute.decision == "refund_to_card"
    decided = client.get(opened["Location"]).content.decode()
    assert 'data-testid="dispute-decision"' in decided and 'data-testid="dispute-answer"' not in decided


def test_a_second_dispute_on_the_page_is_a_form_error(client, buyer, purchase):
    client.login(email=buyer.email, password=PASSWORD)
    client.post(f"/marketplace/purchases/{purchase.pk}/dispute/", {"reason": "wrong_phone"})

    again = client.post(f"/marketplace/purchases/{purchase.pk}/dispute/", {"reason": "wrong_phone"})

    assert again.status_code == 409 and "already disputed" in again.content.decode()


def test_the_wallet_and_earnings_pages_read_the_ledger(client, buyer, seller, purchase):
    client.login(email=seller.email, password=PASSWORD)
    earnings = client.get("/marketplace/earnings/").content.decode()
    assert 'data-testid="earnings-pending">20.00' in earnings and "Purchase" in earnings
    assert '<td data-label="Balance after">20.00</td>' in earnings

    client.login(email=buyer.email, password=PASSWORD)
    wallet = client.get("/marketplace/wallet/").content.decode()
    assert 'data-testid="wallet-balance">0.00' in wallet and "No movements yet" in wallet
    assert client.get("/marketplace/earnings/").status_code == 403


def test_staff_resolve_disputes_and_read_balances_in_the_admin(client, buyer, purchase):
    dispute_id = _open(bearer_client(buyer), purchase).json()["id"]
    client.force_login(StaffUserFactory())
    changelist = "/admin/marketplace/dispute/"

    asked = client.post(changelist, {"action": "refund", "_selected_action": [dispute_id]})
    assert asked.status_code == 200 and "Both sides are told" in asked.content.decode()
    done = client.post(changelist, {"action": "refund", "_selected_action": [dispute_id], "apply": "1", "note": "Yes"})

    assert done.status_code == 302
    assert Dispute.objects.get(pk=dispute_id).status == "refunded"
    balances = client.get("/admin/marketplace/ledgerentry/?account__exact=wallet").content.decode()
    assert 'data-testid="ledger-balances"' in balances and "25.00" in balances
