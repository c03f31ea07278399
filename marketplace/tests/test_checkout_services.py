"""Checkout through its services: the order frozen from the cart, holds and no oversell, the
card answers (success, decline, insufficient funds), wallet credit, budgets, the ledger
after each scenario, delivery into the buyer's pipeline, expired holds, and the
provider's webhook twice, out of order and before the confirmation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.exceptions import Conflict, ValidationFailed
from leadnexus.core.models import Event
from leads.models import Lead
from marketplace.exceptions import AlreadyPurchased, BudgetExceeded, ListingUnavailable, PaymentFailed
from marketplace.models import (
    LedgerTransaction,
    Listing,
    MockProcessorIntent,
    Order,
    OrderItem,
    Payment,
    ProviderEvent,
    Purchase,
)
from marketplace.payments import webhook_sign
from marketplace.services.cart import cart_add, cart_remove
from marketplace.services.checkout import (
    checkout_confirm,
    checkout_create_intent,
    payment_succeeded,
    payment_webhook_receive,
    reservations_expire,
)
from marketplace.services.ledger import Account, Posting, ledger_post
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_DECLINED, CARD_NO_FUNDS, CARD_OK, assert_ledger_balanced, balances_of
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return VendorUserFactory()


def _listing(seller, **kwargs) -> Listing:
    return ListingFactory(vendor=seller.organization, created_by=seller, **kwargs)


def _order(buyer, *listings, use_wallet_credit=False) -> Order:
    for listing in listings:
        cart_add(actor=buyer, listing_id=listing.pk)
    return checkout_create_intent(actor=buyer, use_wallet_credit=use_wallet_credit)


def _charges() -> int:
    return sum(MockProcessorIntent.objects.values_list("charges", flat=True))


def _credit_wallet(org_id: int, amount: str) -> None:
    ledger_post(
        kind=LedgerTransaction.Kind.WALLET_CREDIT,
        ref_type="test",
        ref_id=f"{org_id}-{amount}",
        postings=[
            Posting(Account.WALLET, Decimal(amount), org_id),
            Posting(Account.PROVIDER_CLEARING, -Decimal(amount)),
        ],
    )


# --- The order ---------------------------------------------------------------------------------


def test_checkout_freezes_the_cart_into_an_order_and_an_intent(buyer, seller):
    first = _listing(seller, price=Decimal("30.00"))
    second = _listing(seller, price=Decimal("12.50"))

    order = _order(buyer, first, second)

    assert order.status == Order.Status.AWAITING_PAYMENT
    assert order.total == Decimal("42.50") and order.wallet_applied == 0 and order.amount_due == Decimal("42.50")
    assert [(item.listing_id, item.price, item.state) for item in order.items.all()] == [
        (first.pk, Decimal("30.00"), "pending"),
        (second.pk, Decimal("12.50"), "pending"),
    ]
    payment = order.payment
    assert payment.provider == "mock" and payment.status == "requires_payment_method"
    intent = MockProcessorIntent.objects.get(intent_id=payment.intent_id)
    assert intent.amount_minor == 4250 and intent.charges == 0
    # prices are frozen: a later edit of the listing does not change the order
    Listing.objects.filter(pk=first.pk).update(price=Decimal("99.00"))
    assert Order.objects.get(pk=order.pk).total == Decimal("42.50")


def test_an_empty_cart_cannot_check_out(buyer):
    with pytest.raises(ValidationFailed):
        checkout_create_intent(actor=buyer)


def test_a_stale_item_stops_the_checkout_naming_it(buyer, seller):
    fine = _listing(seller)
    gone = _listing(seller)
    cart_add(actor=buyer, listing_id=fine.pk)
    cart_add(actor=buyer, listing_id=gone.pk)
    Listing.objects.filter(pk=gone.pk).update(status=Listing.Status.WITHDRAWN)

    with pytest.raises(ListingUnavailable) as raised:
        checkout_create_intent(actor=buyer)

    assert raised.value.details == {"listing_ids": [str(gone.pk)]}
    assert not Order.objects.exists()


# --- Paying by card ----------------------------------------------------------------------------


def test_a_paid_order_sells_delivers_posts_the_ledger_and_tells_both_sides(buyer, seller):
    other_seller = VendorUserFactory()
    first = _listing(seller, price=Decimal("30.00"))
    second = _listing(other_seller, price=Decimal("12.50"), exclusive=False, max_sales=3)
    order = _order(buyer, first, second)

    paid = checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert paid.status == Order.Status.PAID and paid.paid_at is not None
    assert _charges() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sold_count, first.reserved_count, first.status) == (1, 0, Listing.Status.SOLD_OUT)
    assert (second.sold_count, second.reserved_count, second.status) == (1, 0, Listing.Status.AVAILABLE)
    purchases = {purchase.listing_id: purchase for purchase in Purchase.objects.filter(buyer=buyer.organization)}
    assert set(purchases) == {first.pk, second.pk}
    bought = purchases[first.pk]
    assert (bought.price, bought.vendor_earning, bought.platform_fee) == (
        Decimal("30.00"),
        Decimal("24.00"),
        Decimal("6.00"),
    )
    assert bought.dispute_deadline > timezone.now() + timedelta(days=13)
    # each lead is now the buyer's own, with its contacts
    lead = bought.delivered_lead
    assert lead.organization_id == buyer.organization_id and lead.source == Lead.Source.MARKETPLACE
    assert not lead.is_inventory and lead.email == first.lead.email and lead.created_by == buyer
    assert lead.pk != first.lead_id
    # the ledger: vendors' earnings pending, the platform's fees, the money in through the card
    assert balances_of(seller.organization_id) == {
        "wallet": 0,
        "vendor_pending": Decimal("24.00"),
        "vendor_available": 0,
    }
    assert balances_of(other_seller.organization_id)["vendor_pending"] == Decimal("10.00")
    assert balances_of() == {"fees": Decimal("8.50"), "provider_clearing": Decimal("-42.50")}
    assert_ledger_balanced()
    # the cart is empty, the events are stored, both sides are told
    assert not buyer.cart.items.exists()
    names = list(Event.objects.values_list("name", flat=True))
    assert names.count("marketplace.purchase.completed") == 2 and "marketplace.order.paid" in names
    assert Notification.objects.filter(user=buyer, title__startswith="Purchase complete").count() == 1
    assert Notification.objects.filter(user=seller, title=f"Sold: {first.title}").count() == 1


def test_a_declined_card_leaves_nothing_paid_or_held_and_another_card_pays(buyer, seller):
    listing = _listing(seller)
    order = _order(buyer, listing)
    intent_id = order.payment.intent_id

    with pytest.raises(PaymentFailed) as declined:
        checkout_confirm(actor=buyer, intent_id=intent_id, card_number=CARD_DECLINED)

    assert declined.value.code == "card_declined" and declined.value.status == 402
    listing.refresh_from_db()
    assert (listing.sold_count, listing.reserved_count) == (0, 0)
    payment = Payment.objects.get(intent_id=intent_id)
    assert payment.status == "requires_payment_method" and payment.last_error_code == "card_declined"
    assert list(order.items.values_list("state", flat=True)) == ["pending"]
    assert not Purchase.objects.exists() and not LedgerTransaction.objects.exists() and _charges() == 0

    checkout_confirm(actor=buyer, intent_id=intent_id, card_number=CARD_OK)

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Purchase.objects.count() == 1 and _charges() == 1
    assert_ledger_balanced()


def test_insufficient_funds_is_its_own_code(buyer, seller):
    order = _order(buyer, _listing(seller))

    with pytest.raises(PaymentFailed) as refused:
        checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_NO_FUNDS)

    assert refused.value.code == "insufficient_funds"
    assert not Purchase.objects.exists()


def test_confirming_a_paid_order_again_charges_nothing_more(buyer, seller):
    order = _order(buyer, _listing(seller))
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    again = checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert again.pk == order.pk and _charges() == 1 and Purchase.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1


def test_a_card_number_is_needed_for_a_card_payment(buyer, seller):
    order = _order(buyer, _listing(seller))

    with pytest.raises(ValidationFailed) as missing:
        checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number="  ")

    assert "card_number" in missing.value.details


def test_another_organizations_payment_is_not_found(buyer, seller):
    order = _order(buyer, _listing(seller))

    with pytest.raises(Exception) as raised:
        checkout_confirm(actor=UserFactory(), intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert getattr(raised.value, "code", "") == "not_found"


# --- No oversell -------------------------------------------------------------------------------


def test_a_listing_sold_meanwhile_is_refused_with_nothing_charged_or_held(buyer, seller):
    keep = _listing(seller)
    sold = _listing(seller)
    order = _order(buyer, keep, sold)
    Listing.objects.filter(pk=sold.pk).update(sold_count=1)

    with pytest.raises(ListingUnavailable) as refused:
        checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert refused.value.details == {"listing_id": [str(sold.pk)]}
    keep.refresh_from_db()
    assert keep.reserved_count == 0 and _charges() == 0
    assert Payment.objects.get(pk=order.payment.pk).status == "requires_payment_method"


def test_a_listing_bought_through_another_order_is_already_purchased(buyer, seller):
    listing = _listing(seller, exclusive=False, max_sales=5)
    first = _order(buyer, listing)
    cart_add(actor=buyer, listing_id=listing.pk)  # still in the cart: the first order is unpaid
    second = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=first.payment.intent_id, card_number=CARD_OK)

    with pytest.raises(AlreadyPurchased):
        checkout_confirm(actor=buyer, intent_id=second.payment.intent_id, card_number=CARD_OK)

    assert _charges() == 1


def test_two_orders_of_one_organization_cannot_hold_one_listing(buyer, seller):
    listing = _listing(seller, exclusive=False, max_sales=5)
    first = _order(buyer, listing)
    cart_add(actor=buyer, listing_id=listing.pk)
    second = checkout_create_intent(actor=buyer)
    # the first order holds the listing (its payment is being processed)
    OrderItem.objects.filter(order=first).update(state=OrderItem.State.RESERVED)

    with pytest.raises(AlreadyPurchased) as refused:
        checkout_confirm(actor=buyer, intent_id=second.payment.intent_id, card_number=CARD_OK)

    assert "Another checkout" in refused.value.message and _charges() == 0


# --- Wallet credit -----------------------------------------------------------------------------


def test_wallet_credit_pays_part_and_the_card_the_rest(buyer, seller):
    _credit_wallet(buyer.organization_id, "10.00")
    order = _order(buyer, _listing(seller, price=Decimal("25.00")), use_wallet_credit=True)

    assert (order.wallet_applied, order.amount_due) == (Decimal("10.00"), Decimal("15.00"))
    assert MockProcessorIntent.objects.get(intent_id=order.payment.intent_id).amount_minor == 1500
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert balances_of(buyer.organization_id)["wallet"] == 0
    assert balances_of(seller.organization_id)["vendor_pending"] == Decimal("20.00")
    assert balances_of() == {"fees": Decimal("5.00"), "provider_clearing": Decimal("-25.00")}
    assert_ledger_balanced()


def test_an_order_the_wallet_pays_in_full_needs_no_card(buyer, seller):
    _credit_wallet(buyer.organization_id, "50.00")
    order = _order(buyer, _listing(seller, price=Decimal("25.00")), use_wallet_credit=True)

    assert order.amount_due == 0 and order.payment.provider == "wallet"
    paid = checkout_confirm(actor=buyer, intent_id=order.payment.intent_id)

    assert paid.status == Order.Status.PAID and _charges() == 0
    assert balances_of(buyer.organization_id)["wallet"] == Decimal("25.00")
    assert_ledger_balanced()


def test_the_wallet_part_is_not_spent_when_the_card_fails(buyer, seller):
    _credit_wallet(buyer.organization_id, "10.00")
    order = _order(buyer, _listing(seller, price=Decimal("25.00")), use_wallet_credit=True)

    with pytest.raises(PaymentFailed):
        checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_DECLINED)

    assert balances_of(buyer.organization_id)["wallet"] == Decimal("10.00")
    assert LedgerTransaction.objects.filter(kind="purchase").count() == 0


def test_credit_spent_elsewhere_meanwhile_stops_the_payment(buyer, seller):
    _credit_wallet(buyer.organization_id, "10.00")
    order = _order(buyer, _listing(seller, price=Decimal("25.00")), use_wallet_credit=True)
    ledger_post(
        kind=LedgerTransaction.Kind.WALLET_CREDIT,
        ref_type="test",
        ref_id="spent",
        postings=[Posting(Account.WALLET, Decimal("-5.00"), buyer.organization_id), Posting(Account.FEES, Decimal(5))],
    )

    with pytest.raises(Conflict) as refused:
        checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    assert "wallet" in refused.value.message and _charges() == 0


# --- Budgets -----------------------------------------------------------------------------------


def test_a_sub_user_over_their_monthly_budget_is_refused_naming_it(seller):
    rep = SubUserFactory(permissions={"monthly_budget": Decimal("40.00")})
    first = _order(rep, _listing(seller, price=Decimal("30.00")))
    checkout_confirm(actor=rep, intent_id=first.payment.intent_id, card_number=CARD_OK)
    cart_add(actor=rep, listing_id=_listing(seller, price=Decimal("20.00")).pk)

    with pytest.raises(BudgetExceeded) as refused:
        checkout_create_intent(actor=rep)

    assert refused.value.code == "budget_exceeded"
    assert "monthly budget of 40.00" in refused.value.message
    assert refused.value.details["spent_this_month"] == ["30.00"]


def test_the_budget_is_checked_again_when_paying(seller):
    rep = SubUserFactory(permissions={"monthly_budget": Decimal("50.00")})
    first = _order(rep, _listing(seller, price=Decimal("30.00")))
    cart_remove(actor=rep, item_id=rep.cart.items.get().pk)
    second = _order(rep, _listing(seller, price=Decimal("30.00")))  # each fits alone
    checkout_confirm(actor=rep, intent_id=first.payment.intent_id, card_number=CARD_OK)

    with pytest.raises(BudgetExceeded):
        checkout_confirm(actor=rep, intent_id=second.payment.intent_id, card_number=CARD_OK)

    assert _charges() == 1


# --- Holds left behind and late answers --------------------------------------------------------


def _held(buyer, listing) -> Payment:
    """An order whose payment took its hold and never got an answer (a worker died)."""
    order = _order(buyer, listing)
    listing_row = Listing.objects.filter(pk=listing.pk)
    listing_row.update(reserved_count=1)
    order.items.update(state=OrderItem.State.RESERVED, reserved_until=timezone.now() - timedelta(minutes=1))
    Payment.objects.filter(pk=order.payment.pk).update(status="processing", processing_since=timezone.now())
    return Payment.objects.get(pk=order.payment.pk)


def test_an_expired_hold_is_given_back(buyer, seller):
    listing = _listing(seller)
    payment = _held(buyer, listing)

    assert reservations_expire() == 1

    listing.refresh_from_db()
    payment.refresh_from_db()
    assert listing.reserved_count == 0 and payment.status == "requires_payment_method"
    assert payment.last_error_code == "expired"
    assert reservations_expire() == 0


def test_a_charge_after_its_hold_expired_still_sells_a_free_listing(buyer, seller):
    listing = _listing(seller)
    payment = _held(buyer, listing)
    reservations_expire()

    order = payment_succeeded(intent_id=payment.intent_id, charge_id="ch_late")

    assert order.status == Order.Status.PAID
    listing.refresh_from_db()
    assert (listing.sold_count, listing.reserved_count) == (1, 0)
    assert_ledger_balanced()


def test_a_charge_for_a_listing_sold_meanwhile_is_refunded_not_oversold(
    buyer, seller, django_capture_on_commit_callbacks
):
    listing = _listing(seller)
    payment = _held(buyer, listing)
    reservations_expire()
    Listing.objects.filter(pk=listing.pk).update(sold_count=1, status=Listing.Status.SOLD_OUT)
    MockProcessorIntent.objects.filter(intent_id=payment.intent_id).update(status="succeeded", charges=1)

    order = payment_succeeded(intent_id=payment.intent_id, charge_id="ch_late")

    assert order.status == Order.Status.CANCELED
    listing.refresh_from_db()
    assert listing.sold_count == 1 and not Purchase.objects.exists()
    assert Payment.objects.get(pk=payment.pk).refunded_amount == payment.amount
    assert MockProcessorIntent.objects.get(intent_id=payment.intent_id).refunded_minor == 2500


# --- The webhook -------------------------------------------------------------------------------


def _event(event_type: str, intent_id: str, *, created: int | None = None, event_id: str = "evt_1") -> bytes:
    import json
    import time

    return json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "created": created or int(time.time()),
            "data": {"object": {"id": intent_id, "latest_charge": "ch_x", "last_payment_error": None}},
        }
    ).encode()


def test_each_event_is_delivered_twice_and_handled_once(buyer, seller):
    order = _order(buyer, _listing(seller))

    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)

    events = ProviderEvent.objects.filter(type="payment_intent.succeeded")
    assert events.count() == 1  # the second delivery was recognised by its id
    assert Purchase.objects.count() == 1 and LedgerTransaction.objects.count() == 1


def test_a_success_event_before_the_confirmation_returns_pays_the_order_once(buyer, seller):
    listing = _listing(seller)
    payment = _held(buyer, listing)
    Payment.objects.filter(pk=payment.pk).update(processing_since=timezone.now())
    body = _event("payment_intent.succeeded", payment.intent_id)

    assert payment_webhook_receive(body=body, signature=webhook_sign(body)).endswith("paid")
    assert payment_webhook_receive(body=body, signature=webhook_sign(body)) == "duplicate"
    order = payment_succeeded(intent_id=payment.intent_id, charge_id="ch_x")  # the confirmation, late

    assert order.status == Order.Status.PAID
    assert Purchase.objects.count() == 1 and LedgerTransaction.objects.count() == 1
    assert_ledger_balanced()


def test_a_failure_event_of_an_earlier_attempt_does_not_release_the_current_one(buyer, seller):
    listing = _listing(seller)
    payment = _held(buyer, listing)
    old = _event(
        "payment_intent.payment_failed", payment.intent_id, created=int(payment.processing_since.timestamp()) - 60
    )

    outcome = payment_webhook_receive(body=old, signature=webhook_sign(old))

    assert outcome == "nothing held for that attempt"
    listing.refresh_from_db()
    assert listing.reserved_count == 1
    assert Payment.objects.get(pk=payment.pk).status == "processing"


def test_a_failure_event_of_the_current_attempt_releases_it(buyer, seller):
    listing = _listing(seller)
    payment = _held(buyer, listing)
    current = _event("payment_intent.payment_failed", payment.intent_id, event_id="evt_2")

    assert payment_webhook_receive(body=current, signature=webhook_sign(current)) == "hold released"

    listing.refresh_from_db()
    assert listing.reserved_count == 0


def test_a_late_failure_event_does_not_undo_a_paid_order(buyer, seller):
    order = _order(buyer, _listing(seller))
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    late = _event("payment_intent.payment_failed", order.payment.intent_id, event_id="evt_late")

    payment_webhook_receive(body=late, signature=webhook_sign(late))

    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert Purchase.objects.count() == 1


@pytest.mark.parametrize(
    "signature",
    ["", "t=1,v1=abc", "v1=deadbeef", "nonsense"],
)
def test_an_unsigned_or_forged_event_is_refused(buyer, seller, signature):
    body = _event("payment_intent.succeeded", _order(buyer, _listing(seller)).payment.intent_id)

    with pytest.raises(ValidationFailed):
        payment_webhook_receive(body=body, signature=signature)

    assert not ProviderEvent.objects.exists()


def test_an_old_signed_event_is_refused(buyer, seller):
    body = _event("payment_intent.succeeded", _order(buyer, _listing(seller)).payment.intent_id)
    stale = webhook_sign(body, timestamp=int(timezone.now().timestamp()) - 3600)

    with pytest.raises(ValidationFailed):
        payment_webhook_receive(body=body, signature=stale)


def test_an_event_about_an_unknown_intent_is_kept_and_ignored():
    body = _event("payment_intent.succeeded", "pi_someone_else")

    assert payment_webhook_receive(body=body, signature=webhook_sign(body)) == "unknown payment intent"
    assert ProviderEvent.objects.get().outcome == "unknown payment intent"
