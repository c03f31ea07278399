"""Checkout: the cart frozen into an order, paid with wallet credit and/or a card through the
payment provider, without ever selling a listing past its capacity or charging twice.

1. `checkout_create_intent` freezes the cart (its prices, the wallet credit applied) into an
   Order and creates the provider's payment intent for what the card pays.
2. `checkout_confirm` first *holds*, in one short transaction: the payment moves to
   processing, the buyer's monthly budget and wallet are checked, and each item takes one
   unit of its listing with a conditional update (`sold_count + reserved_count <
   max_sales`, backed by the `listing_no_oversell` constraint and the one-hold-per-buyer
   constraint). If any item cannot be held, the transaction rolls back: nothing held,
   nothing charged, 409 naming the item. Then it *charges*, with no transaction open and no
   row locked. Then the answer is applied: `payment_succeeded` sells the held units,
   records the purchases, posts the ledger and delivers the leads, all in one transaction;
   `payment_declined` gives the units back for another card.
3. The provider's webhook (`payment_webhook_receive`) calls the same two functions. Each
   takes the payment's row lock and does its work once, whichever of the confirmation and the
   webhook arrives first, and whatever the order of the events.

A hold not followed by an answer (a crashed worker, an abandoned page) expires after
`CHECKOUT_RESERVATION_MINUTES` (`reservations_expire`, a beat job). If a charge then
succeeds anyway, its units are taken again if still free, else the payment is refunded.
"""

import logging
import secrets
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organization, User
from accounts.selectors import monthly_budget_of
from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, IllegalTransition, NotFound, ValidationFailed
from leads.services.records import leads_receive
from marketplace.catalog_cache import catalog_changed
from marketplace.exceptions import AlreadyPurchased, BudgetExceeded, ListingUnavailable, PaymentFailed
from marketplace.models import LedgerTransaction, Listing, Order, OrderItem, Payment, ProviderEvent, Purchase
from marketplace.payments import IntentState, payment_provider, to_minor
from marketplace.services.cart import cart_clear, cart_view, listing_problem, require_buyer
from marketplace.services.ledger import Account, Posting, balance, commission_split, ledger_post, money
from notifications.models import NotificationType
from notifications.services import notification_send

logger = logging.getLogger(__name__)

WALLET_PROVIDER = "wallet"
DECLINE_CODES = {"insufficient_funds"}  # reported with their own code; any other refusal is card_declined


# --- Money the buyer can spend ---------------------------------------------------------------


def wallet_held(*, organization_id: int) -> Decimal:
    """Wallet credit promised to payments being processed (spent once they succeed)."""
    held = Order.objects.filter(
        buyer_id=organization_id, status=Order.Status.AWAITING_PAYMENT, payment__status=Payment.Status.PROCESSING
    ).aggregate(total=Sum("wallet_applied"))["total"]
    return money(held or 0)


def wallet_available(*, organization_id: int) -> Decimal:
    return balance(account=Account.WALLET, organization_id=organization_id) - wallet_held(
        organization_id=organization_id
    )


def month_spent(*, user: User, exclude_order_id: int | None = None) -> Decimal:
    """What `user` spent this month (in their organization's time zone): orders paid, and
    payments being processed."""
    spent = (
        Order.objects.filter(placed_by=user)
        .filter(
            Q(status=Order.Status.PAID, paid_at__gte=user.organization.month_start())
            | Q(status=Order.Status.AWAITING_PAYMENT, payment__status=Payment.Status.PROCESSING)
        )
        .exclude(pk=exclude_order_id)
        .aggregate(total=Sum("total"))["total"]
    )
    return money(spent or 0)


def _budget_check(user: User, amount: Decimal, *, exclude_order_id: int | None = None) -> None:
    budget = monthly_budget_of(user=user)
    if budget is None:
        return
    spent = month_spent(user=user, exclude_order_id=exclude_order_id)
    if spent + amount > budget:
        raise BudgetExceeded(
            f"This order of {amount} {settings.CURRENCY} would go over your monthly budget of {budget} "
            f"{settings.CURRENCY} ({spent} spent this month).",
            details={"monthly_budget": [str(budget)], "spent_this_month": [str(spent)]},
        )


# --- 1. The order ----------------------------------------------------------------------------


def checkout_create_intent(*, actor: User, use_wallet_credit: bool = False) -> Order:
    """Freeze the actor's cart into an order (items and prices fixed from now on) with its
    payment: wallet credit first when asked for, the rest by card through the provider."""
    require_buyer(actor)
    cart = cart_view(user=actor)
    if not cart.lines:
        raise ValidationFailed("Your cart is empty.", details={"cart": ["Add listings to your cart first."]})
    stale = [line for line in cart.lines if line.stale]
    if stale:
        problem = listing_problem(actor, stale[0].listing, bought=False)
        message = " ".join(line.stale for line in stale) + " Remove it from your cart to pay for the rest."
        raise type(problem or ListingUnavailable())(
            message, details={"listing_ids": [str(line.listing.pk) for line in stale]}
        )
    total = cart.total
    _budget_check(actor, total)
    credit = wallet_available(organization_id=actor.organization_id) if use_wallet_credit else Decimal(0)
    wallet_applied = max(min(credit, total), Decimal("0.00"))
    amount_due = total - wallet_applied
    if amount_due:
        provider = payment_provider()
        intent = provider.create_intent(
            amount_minor=to_minor(amount_due), currency=settings.CURRENCY, metadata={"buyer": actor.organization_id}
        )
        provider_name, intent_id = provider.name, intent.intent_id
    else:
        provider_name, intent_id = WALLET_PROVIDER, f"wallet_{secrets.token_hex(12)}"
    with transaction.atomic():
        order = Order.objects.create(
            buyer_id=actor.organization_id,
            placed_by=actor,
            currency=settings.CURRENCY,
            total=total,
            wallet_applied=wallet_applied,
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=order,
                listing=line.listing,
                buyer_id=actor.organization_id,
                vendor_id=line.listing.vendor_id,
                title=line.listing.title,
                price=line.listing.price,
            )
            for line in cart.lines
        )
        Payment.objects.create(
            order=order, provider=provider_name, intent_id=intent_id, amount=amount_due, currency=settings.CURRENCY
        )
        publish(
            "marketplace.order.created",
            actor=actor,
            org=actor.organization_id,
            subject=order,
            data={
                "total": str(total),
                "wallet_applied": str(wallet_applied),
                "listings": [line.listing.pk for line in cart.lines],
            },
        )
    return order


def payment_for(*, user: User, intent_id: str) -> Payment:
    """A payment of the user's organization, by its intent id; anyone else's is not found."""
    payment = (
        Payment.objects.select_related("order")
        .filter(intent_id=str(intent_id)[:100], order__buyer_id=user.organization_id)
        .first()
    )
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


# --- 2. Hold, charge, apply the answer ---------------------------------------------------------


def checkout_confirm(*, actor: User, intent_id: str, card_number: str | None = None) -> Order:
    """Pay an order: hold its listings, charge the card (none when the wallet pays it all),
    then sell or give back. A declined card raises `PaymentFailed` (402) and leaves the
    payment ready for another card; a listing sold meanwhile raises 409 with nothing charged.
    Confirming a paid order again answers the same order."""
    require_buyer(actor)
    payment = payment_for(user=actor, intent_id=intent_id)
    if payment.status == Payment.Status.SUCCEEDED:
        return payment.order
    if payment.amount and not (card_number or "").strip():
        raise ValidationFailed("Give a card number.", details={"card_number": ["This field is required."]})
    _hold(actor, payment.pk)
    if payment.amount:
        answer = payment_provider().confirm(intent_id=payment.intent_id, card_number=card_number)
    else:
        answer = IntentState(intent_id=payment.intent_id, status=Payment.Status.SUCCEEDED)
    if answer.status == Payment.Status.SUCCEEDED:
        return payment_succeeded(intent_id=payment.intent_id, charge_id=answer.charge_id, card_last4=answer.card_last4)
    payment_declined(intent_id=payment.intent_id, error_code=answer.error_code, error_message=answer.error_message)
    code = answer.error_code if answer.error_code in DECLINE_CODES else "card_declined"
    raise PaymentFailed(answer.error_message or "The card was declined.", code=code)


def _hold(actor: User, payment_id: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        payment = Payment.objects.select_for_update(of=("self",)).select_related("order__placed_by").get(pk=payment_id)
        if payment.status == Payment.Status.PROCESSING:
            raise Conflict("This payment is being processed. Look at the order in a moment.")
        if payment.status != Payment.Status.REQUIRES_PAYMENT_METHOD:
            raise IllegalTransition(f"This payment is {payment.get_status_display().lower()}.")
        order = payment.order
        _budget_check(order.placed_by or actor, order.total, exclude_order_id=order.pk)
        if order.wallet_applied:
            # One payment at a time spends an organization's wallet.
            Organization.objects.select_for_update().filter(pk=order.buyer_id).first()
            if wallet_available(organization_id=order.buyer_id) < order.wallet_applied:
                raise Conflict(
                    "Your wallet no longer holds the credit this order counted on. Start the checkout again.",
                    details={"wallet_applied": [str(order.wallet_applied)]},
                )
        until = now + timedelta(minutes=settings.CHECKOUT_RESERVATION_MINUTES)
        for item in order.items.select_related("listing").order_by("listing_id"):
            _reserve(item, until)
        payment.status = Payment.Status.PROCESSING
        payment.attempts += 1
        payment.processing_since = now
        payment.last_error_code = payment.last_error_message = ""
        payment.save(update_fields=["status", "attempts", "processing_since", "last_error_code", "last_error_message"])


def _reserve(item: OrderItem, until: datetime) -> None:
    """Hold one unit of the item's listing, or raise naming it."""
    named = {"listing_id": [str(item.listing_id)]}
    if Purchase.objects.filter(listing_id=item.listing_id, buyer_id=item.buyer_id).exists():
        raise AlreadyPurchased(f"Your organization already bought “{item.title}”.", details=named)
    held = Listing.objects.filter(
        pk=item.listing_id,
        approval_status=Listing.ApprovalStatus.APPROVED,
        status=Listing.Status.AVAILABLE,
        sold_count__lt=F("max_sales") - F("reserved_count"),
    ).update(reserved_count=F("reserved_count") + 1)
    if not held:
        raise ListingUnavailable(f"“{item.title}” is no longer available. Nothing was charged.", details=named)
    item.state, item.reserved_until = OrderItem.State.RESERVED, until
    try:
        with transaction.atomic():
            item.save(update_fields=["state", "reserved_until"])
    except IntegrityError:
        raise AlreadyPurchased(
            f"Another checkout of your organization is paying for “{item.title}”.", details=named
        ) from None


def _release(order: Order, *, to: str = OrderItem.State.PENDING) -> None:
    """Give back the units the order's items hold."""
    for item in order.items.filter(state=OrderItem.State.RESERVED).order_by("listing_id"):
        Listing.objects.filter(pk=item.listing_id, reserved_count__gt=0).update(reserved_count=F("reserved_count") - 1)
        item.state, item.reserved_until = to, None
        item.save(update_fields=["state", "reserved_until"])


def payment_declined(
    *, intent_id: str, error_code: str = "", error_message: str = "", reported_at: datetime | None = None
) -> bool:
    """The card was refused: give the held units back and let the buyer try another card.
    A report older than the current attempt (`reported_at`, from a webhook) is about an
    earlier attempt and changes nothing. True when it released a hold."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",)).select_related("order").filter(intent_id=intent_id).first()
        )
        if payment is None or payment.status != Payment.Status.PROCESSING:
            return False
        if reported_at is not None and reported_at < payment.processing_since.replace(microsecond=0):
            return False
        _release(payment.order)
        payment.status = Payment.Status.REQUIRES_PAYMENT_METHOD
        payment.last_error_code = error_code[:40]
        payment.last_error_message = error_message[:300]
        payment.save(update_fields=["status", "last_error_code", "last_error_message"])
    return True


def payment_succeeded(*, intent_id: str, charge_id: str = "", card_last4: str = "") -> Order:
    """The money was taken: sell the held units, record the purchases, post the ledger,
    deliver the leads into the buyer's pipeline, in one transaction and once. A charge whose
    units could no longer be had (its hold expired and the listing sold meanwhile) is
    refunded in full instead."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("order__placed_by", "order__buyer")
            .filter(intent_id=intent_id)
            .first()
        )
        if payment is None:
            raise NotFound("Payment not found.")
        order = payment.order
        if payment.status == Payment.Status.SUCCEEDED:
            return order
        items = list(order.items.select_related("listing__lead", "listing__created_by").order_by("listing_id"))
        sold = [_sell(item) for item in items]
        payment.status = Payment.Status.SUCCEEDED
        payment.charge_id = charge_id or payment.charge_id
        payment.card_last4 = card_last4 or payment.card_last4
        payment.succeeded_at = timezone.now()
        payment.save(update_fields=["status", "charge_id", "card_last4", "succeeded_at"])
        if all(sold):
            _deliver(order, items, payment)
        else:
            _undeliverable(order, items, payment)
        catalog_changed()
    return order


def _sell(item: OrderItem) -> bool:
    """Turn the item's held unit into a sale (taking a free unit if the hold expired)."""
    sold_out = Case(When(sold_count__gte=F("max_sales") - 1, then=Value(Listing.Status.SOLD_OUT)), default=F("status"))
    listings = Listing.objects.filter(pk=item.listing_id)
    if item.state == OrderItem.State.RESERVED:
        done = listings.filter(reserved_count__gt=0).update(
            reserved_count=F("reserved_count") - 1, sold_count=F("sold_count") + 1, status=sold_out
        )
    elif Purchase.objects.filter(listing_id=item.listing_id, buyer_id=item.buyer_id).exists():
        done = 0
    else:
        done = listings.filter(
            approval_status=Listing.ApprovalStatus.APPROVED,
            status=Listing.Status.AVAILABLE,
            sold_count__lt=F("max_sales") - F("reserved_count"),
        ).update(sold_count=F("sold_count") + 1, status=sold_out)
    if not done:
        return False
    item.state, item.reserved_until = OrderItem.State.SOLD, None
    item.save(update_fields=["state", "reserved_until"])
    return True


def _deliver(order: Order, items: list[OrderItem], payment: Payment) -> list[Purchase]:
    now = timezone.now()
    buyer_user = order.placed_by
    leads = leads_receive(
        organization_id=order.buyer_id,
        originals=[item.listing.lead for item in items],
        created_by=buyer_user,
        note=f"Bought on the marketplace (order {order.pk}).",
    )
    purchases, postings = [], []
    for item, lead in zip(items, leads, strict=True):
        earning, fee = commission_split(item.price)
        purchases.append(
            Purchase.objects.create(
                listing=item.listing,
                buyer_id=order.buyer_id,
                purchased_by=buyer_user,
                order_item=item,
                price=item.price,
                currency=order.currency,
                vendor_earning=earning,
                platform_fee=fee,
                delivered_lead=lead,
                dispute_deadline=now + timedelta(days=settings.DISPUTE_WINDOW_DAYS),
            )
        )
        postings += [
            Posting(Account.VENDOR_PENDING, earning, item.vendor_id),
            Posting(Account.FEES, fee),
        ]
    postings += [
        Posting(Account.WALLET, -order.wallet_applied, order.buyer_id),
        Posting(Account.PROVIDER_CLEARING, -payment.amount),
    ]
    ledger_post(
        kind=LedgerTransaction.Kind.PURCHASE,
        ref_type="order",
        ref_id=order.pk,
        postings=postings,
        memo=f"Order {order.pk}",
        actor=buyer_user,
    )
    order.status, order.paid_at = Order.Status.PAID, now
    order.save(update_fields=["status", "paid_at"])
    if buyer_user is not None:
        cart_clear(user=buyer_user, listing_ids=[item.listing_id for item in items])
    publish(
        "marketplace.order.paid",
        actor=buyer_user,
        org=order.buyer_id,
        subject=order,
        data={"total": str(order.total), "wallet_applied": str(order.wallet_applied), "card": str(payment.amount)},
    )
    for purchase in purchases:
        publish(
            "marketplace.purchase.completed",
            actor=buyer_user,
            org=order.buyer_id,
            subject=purchase,
            data={
                "listing": purchase.listing_id,
                "vendor": purchase.listing.vendor_id,
                "price": str(purchase.price),
                "delivered_lead": purchase.delivered_lead_id,
            },
        )
    _tell_of_sale(order, purchases)
    return purchases


def _tell_of_sale(order: Order, purchases: list[Purchase]) -> None:
    count = len(purchases)
    if order.placed_by is not None and order.placed_by.is_active:
        notification_send(
            user=order.placed_by,
            type=NotificationType.PURCHASE_SALE,
            title=f"Purchase complete: {count} lead{'s' if count != 1 else ''} in your pipeline",
            message=", ".join(purchase.listing.title for purchase in purchases)[:500],
            link=reverse("marketplace:order", args=[order.pk]),
        )
    for purchase in purchases:
        seller = purchase.listing.created_by
        if seller is not None and seller.is_active:
            notification_send(
                user=seller,
                type=NotificationType.PURCHASE_SALE,
                title=f"Sold: {purchase.listing.title}"[:200],
                message=f"{purchase.price} {purchase.currency}, {purchase.vendor_earning} to you once the "
                f"{settings.DISPUTE_WINDOW_DAYS}-day dispute window closes.",
                link=reverse("marketplace:sales"),
            )


def _undeliverable(order: Order, items: list[OrderItem], payment: Payment) -> None:
    for item in items:
        if item.state == OrderItem.State.SOLD:
            Listing.objects.filter(pk=item.listing_id, sold_count__gt=0).update(
                sold_count=F("sold_count") - 1, status=Listing.Status.AVAILABLE
            )
    _release(order, to=OrderItem.State.RELEASED)
    order.items.filter(state=OrderItem.State.SOLD).update(state=OrderItem.State.RELEASED)
    order.status, order.canceled_at = Order.Status.CANCELED, timezone.now()
    order.save(update_fields=["status", "canceled_at"])
    if payment.amount:
        outbox.enqueue("marketplace.tasks.payment_refund", payment_id=payment.pk, amount=str(payment.amount))
    publish(
        "marketplace.order.canceled",
        org=order.buyer_id,
        subject=order,
        data={"reason": "A listing sold out while the payment was processed; the payment is refunded."},
    )
    if order.placed_by is not None:
        notification_send(
            user=order.placed_by,
            type=NotificationType.PURCHASE_SALE,
            title=f"Order {order.pk} could not be completed",
            message="A listing sold out while your payment was processed. The payment is refunded in full.",
            link=reverse("marketplace:order", args=[order.pk]),
        )
    logger.warning("Order %s charged but not deliverable: refunded", order.pk)


def payment_refund(*, payment_id: int, amount: Decimal, refund_key: str) -> str:
    """Send money back to the card through the provider (once per `refund_key`) and record it."""
    payment = Payment.objects.get(pk=payment_id)
    refund_id = payment_provider().refund(
        intent_id=payment.intent_id, amount_minor=to_minor(amount), refund_key=refund_key
    )
    Payment.objects.filter(pk=payment_id, refunded_amount__lte=F("amount") - amount).update(
        refunded_amount=F("refunded_amount") + amount
    )
    return refund_id


# --- Holds left behind -----------------------------------------------------------------------


def reservations_expire(*, now: datetime | None = None) -> int:
    """Give back the units of holds past their time whose payment never got an answer (Celery
    beat). The payment can be confirmed again. Returns how many payments it released."""
    now = now or timezone.now()
    intent_ids = set(
        OrderItem.objects.filter(
            state=OrderItem.State.RESERVED, reserved_until__lt=now, order__payment__status=Payment.Status.PROCESSING
        ).values_list("order__payment__intent_id", flat=True)
    )
    return sum(
        payment_declined(intent_id=intent_id, error_code="expired", error_message="The payment took too long.")
        for intent_id in intent_ids
    )


# --- The provider's webhook --------------------------------------------------------------------


def payment_webhook_receive(*, body: bytes, signature: str) -> str:
    """Handle one webhook event from the payment provider: verify its signature (a forged,
    altered or stale event is a ValidationFailed), keep it once by its id (a repeat changes
    nothing), and drive the same state machine as the confirmation. Returns what it did.
    The event is kept in the transaction that handles it: when handling fails (the database
    cut off, the worker killed), nothing is kept and the provider's next delivery of the
    event handles it, instead of being taken for a repeat of one already handled."""
    event = payment_provider().verify_webhook(payload=body, signature_header=signature)
    with transaction.atomic():
        try:
            with transaction.atomic():
                stored = ProviderEvent.objects.create(
                    provider=settings.PAYMENTS_PROVIDER,
                    provider_event_id=event["id"][:100],
                    type=event["type"][:60],
                    payload=event,
                )
        except IntegrityError:
            return "duplicate"
        outcome = _event_handle(event)
        ProviderEvent.objects.filter(pk=stored.pk).update(outcome=outcome[:200])
    return outcome


def _event_handle(event: dict) -> str:
    intent = (event.get("data") or {}).get("object") or {}
    intent_id = str(intent.get("id") or "")
    known = Payment.objects.filter(intent_id=intent_id).exists()
    if not known:
        outcome = "unknown payment intent"
    elif event["type"] == "payment_intent.succeeded":
        order = payment_succeeded(
            intent_id=intent_id,
            charge_id=str(intent.get("latest_charge") or ""),
            card_last4=str(intent.get("card_last4") or "")[:4],
        )
        outcome = f"order {order.pk} {order.status}"
    elif event["type"] == "payment_intent.payment_failed":
        error = intent.get("last_payment_error") or {}
        created = datetime.fromtimestamp(int(event.get("created") or 0), tz=UTC)
        released = payment_declined(
            intent_id=intent_id,
            error_code=str(error.get("code") or ""),
            error_message=str(error.get("message") or ""),
            reported_at=created,
        )
        outcome = "hold released" if released else "nothing held for that attempt"
    elif event["type"] == "charge.refunded":
        outcome = f"refunded {intent.get('amount_refunded')} (minor units) in all"
    else:
        outcome = "ignored"
    return outcome
