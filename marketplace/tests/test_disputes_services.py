"""After the sale, through the services: disputes within their window and monthly cap, the
vendor's response, staff's refund to the wallet or the card (reversing earning and fee) or
rejection, a buyer flagged to staff, earnings released when the window closes, and a merged
delivered lead followed by its purchase. The ledger balances after every scenario."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import StaffUserFactory, UserFactory
from leadnexus.core.exceptions import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leads.services.merge import lead_merge
from leads.tests.factories import LeadFactory
from marketplace.exceptions import DisputeLimitReached, DisputeWindowClosed
from marketplace.models import Dispute, MockProcessorIntent, Payment, Purchase, VendorStanding
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.services.disputes import dispute_open, dispute_resolve, dispute_respond, earnings_release
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK, assert_ledger_balanced, balances_of
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return VendorUserFactory()


@pytest.fixture
def staff():
    return StaffUserFactory()


def _bought(buyer, seller, price="25.00", count=1) -> list[Purchase]:
    listings = [
        ListingFactory(vendor=seller.organization, created_by=seller, price=Decimal(price)) for _ in range(count)
    ]
    for listing in listings:
        cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    return list(Purchase.objects.filter(order_item__order=order).order_by("id"))


def test_a_dispute_opens_within_the_window_and_tells_both_sides(buyer, seller):
    (purchase,) = _bought(buyer, seller)

    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="invalid_email", details="It bounced.")

    assert dispute.status == Dispute.Status.OPEN and dispute.vendor_id == seller.organization_id
    standing = VendorStanding.objects.get(vendor=seller.organization)
    assert (standing.sales, standing.disputes, standing.dispute_rate) == (1, 1, Decimal("100.0"))
    assert Event.objects.filter(name="marketplace.dispute.opened").count() == 1
    for user in (buyer, seller):
        assert Notification.objects.filter(user=user, type="dispute", title__startswith="Dispute opened").exists()


def test_a_purchase_is_disputed_once_and_only_by_its_buyer(buyer, seller):
    (purchase,) = _bought(buyer, seller)
    dispute_open(actor=buyer, purchase_id=purchase.pk, reason="wrong_phone")

    with pytest.raises(Conflict):
        dispute_open(actor=buyer, purchase_id=purchase.pk, reason="wrong_phone")
    with pytest.raises(NotFound):
        dispute_open(actor=UserFactory(), purchase_id=purchase.pk, reason="wrong_phone")
    with pytest.raises(ValidationFailed):
        dispute_open(actor=buyer, purchase_id=purchase.pk, reason="i_changed_my_mind")


def test_after_the_window_a_dispute_is_refused(buyer, seller):
    (purchase,) = _bought(buyer, seller)
    Purchase.objects.filter(pk=purchase.pk).update(dispute_deadline=timezone.now() - timedelta(minutes=1))

    with pytest.raises(DisputeWindowClosed) as refused:
        dispute_open(actor=buyer, purchase_id=purchase.pk, reason="duplicate")

    assert refused.value.code == "dispute_window_closed"


def test_the_monthly_cap_is_a_setting(buyer, seller, settings):
    settings.DISPUTES_PER_MONTH = 2
    purchases = _bought(buyer, seller, count=3)
    for purchase in purchases[:2]:
        dispute_open(actor=buyer, purchase_id=purchase.pk, reason="duplicate")

    with pytest.raises(DisputeLimitReached) as refused:
        dispute_open(actor=buyer, purchase_id=purchases[2].pk, reason="duplicate")

    assert refused.value.code == "dispute_limit_reached" and "(2)" in refused.value.message


def test_the_vendor_responds_once_and_no_one_else_can(buyer, seller):
    (purchase,) = _bought(buyer, seller)
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="not_as_described")

    with pytest.raises(NotFound):
        dispute_respond(actor=VendorUserFactory(), dispute_id=dispute.pk, response="Not ours")
    with pytest.raises(PermissionDenied):
        dispute_respond(actor=buyer, dispute_id=dispute.pk, response="Me neither")
    answered = dispute_respond(actor=seller, dispute_id=dispute.pk, response="The lead matched the description.")

    assert answered.status == Dispute.Status.RESPONDED and answered.responded_by == seller
    assert Notification.objects.filter(user=buyer, title__startswith="The vendor responded").exists()
    with pytest.raises(IllegalTransition):
        dispute_respond(actor=seller, dispute_id=dispute.pk, response="Again")


def test_a_refund_to_the_wallet_reverses_the_earning_and_the_fee(buyer, seller, staff):
    (purchase,) = _bought(buyer, seller, price="25.00")
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="invalid_email")

    resolved = dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund", note="Bounced, confirmed.")

    assert resolved.status == Dispute.Status.REFUNDED and resolved.decision == "refund"
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.REFUNDED
    assert balances_of(buyer.organization_id)["wallet"] == Decimal("25.00")
    assert balances_of(seller.organization_id) == {"wallet": 0, "vendor_pending": 0, "vendor_available": 0}
    assert balances_of() == {"fees": 0, "provider_clearing": Decimal("-25.00")}
    assert_ledger_balanced()
    for user in (buyer, seller):
        assert Notification.objects.filter(user=user, title__startswith="Dispute resolved").exists()
    with pytest.raises(IllegalTransition):
        dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund")
    assert balances_of(buyer.organization_id)["wallet"] == Decimal("25.00")  # money never moves twice


def test_a_refund_to_the_card_goes_back_through_the_provider(buyer, seller, staff):
    (purchase,) = _bought(buyer, seller, price="25.00")
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="invalid_email")

    dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund_to_card")

    payment = Payment.objects.get()
    assert payment.refunded_amount == Decimal("25.00")
    assert MockProcessorIntent.objects.get(intent_id=payment.intent_id).refunded_minor == 2500
    assert balances_of(buyer.organization_id)["wallet"] == 0
    assert balances_of() == {"fees": 0, "provider_clearing": 0}
    assert_ledger_balanced()


def test_a_rejected_dispute_moves_no_money(buyer, seller, staff):
    (purchase,) = _bought(buyer, seller)
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="duplicate")

    with pytest.raises(PermissionDenied):
        dispute_resolve(actor=seller, dispute_id=dispute.pk, decision="reject")
    resolved = dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="reject", note="Not a duplicate.")

    assert resolved.status == Dispute.Status.REJECTED
    assert balances_of(seller.organization_id)["vendor_pending"] == Decimal("20.00")


def test_earnings_are_released_when_the_window_closes_without_an_open_dispute(buyer, seller, staff):
    _calm, disputed, refunded = _bought(buyer, seller, count=3)
    open_dispute = dispute_open(actor=buyer, purchase_id=disputed.pk, reason="duplicate")
    dispute_resolve(
        actor=staff,
        dispute_id=dispute_open(actor=buyer, purchase_id=refunded.pk, reason="duplicate").pk,
        decision="refund",
    )
    later = timezone.now() + timedelta(days=15)

    assert earnings_release(now=timezone.now()) == 0  # the windows are still open
    assert earnings_release(now=later) == 1  # the calm one; the disputed one waits; the refunded one is gone

    assert balances_of(seller.organization_id)["vendor_available"] == Decimal("20.00")
    assert balances_of(seller.organization_id)["vendor_pending"] == Decimal("20.00")
    dispute_resolve(actor=staff, dispute_id=open_dispute.pk, decision="reject")
    assert earnings_release(now=later) == 1
    assert earnings_release(now=later) == 0  # each earning once
    assert balances_of(seller.organization_id)["vendor_available"] == Decimal("40.00")
    assert_ledger_balanced()


def test_a_refund_after_the_release_comes_out_of_the_available_earnings(buyer, seller, staff):
    # the release ran at the very end of the window, just before a last-minute dispute
    (purchase,) = _bought(buyer, seller)
    earnings_release(now=purchase.dispute_deadline)
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="duplicate")

    dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund")

    assert balances_of(seller.organization_id) == {"wallet": 0, "vendor_pending": 0, "vendor_available": 0}
    assert_ledger_balanced()


def test_a_buyer_with_many_refunds_is_flagged_to_staff_once(buyer, seller, staff, settings):
    settings.DISPUTE_FLAG_MIN_PURCHASES = 2
    settings.DISPUTE_FLAG_PERCENT = 50
    purchases = _bought(buyer, seller, count=3)
    for purchase in purchases[:2]:
        dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="duplicate")
        dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund")

    assert Event.objects.filter(name="marketplace.buyer.flagged", org_id=buyer.organization_id).count() == 1
    assert Notification.objects.filter(user=staff, title__startswith="Buyer flagged").count() == 1


def test_a_merged_delivered_lead_is_followed_by_its_purchase(buyer, seller):
    (purchase,) = _bought(buyer, seller)
    survivor = LeadFactory(organization=buyer.organization, email="someone@else.com")

    lead_merge(actor=buyer, lead_id=survivor.pk, other_id=purchase.delivered_lead_id)

    purchase.refresh_from_db()
    assert purchase.delivered_lead_id == survivor.pk
