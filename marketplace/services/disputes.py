"""After the sale: disputes, refunds and the release of vendors' earnings.

A buyer disputes a purchase within its window (`DISPUTE_WINDOW_DAYS`, the purchase's
`dispute_deadline`), at most `DISPUTES_PER_MONTH` a month; the vendor may respond; staff
resolve it: `refund` credits the buyer's wallet, `refund_to_card` sends the money back
through the payment provider, and either reverses the vendor's earning and the platform's
fee in the ledger; `reject` closes it. Every step is an event and tells both sides. A
buyer whose refunded share of purchases reaches `DISPUTE_FLAG_PERCENT` is flagged to staff,
once.

`earnings_release` (Celery beat) moves each earning from pending to available once its
purchase's window has closed with no dispute open on it.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.ids import is_db_id
from leadnexus.core.models import Event
from marketplace.exceptions import DisputeLimitReached, DisputeWindowClosed
from marketplace.models import Dispute, LedgerTransaction, Payment, Purchase
from marketplace.policy import can_buy, can_sell
from marketplace.selectors_buying import purchase_get
from marketplace.services.ledger import Account, Posting, ledger_post
from notifications.models import NotificationType
from notifications.services import notification_send

OPEN_STATES = (Dispute.Status.OPEN, Dispute.Status.RESPONDED)
MAX_TEXT = 5000


def _tell(users, *, title: str, message: str, dispute: Dispute) -> None:
    for user in {user for user in users if user is not None and user.is_active}:
        notification_send(
            user=user,
            type=NotificationType.DISPUTE,
            title=title[:200],
            message=message[:1000],
            link=reverse("marketplace:dispute", args=[dispute.pk]),
        )


def _sides(dispute: Dispute) -> list[User | None]:
    """Who hears of each step: the buyer who disputed and the vendor's member who listed it."""
    return [dispute.raised_by, dispute.purchase.listing.created_by]


# --- The buyer ------------------------------------------------------------------------------------


def dispute_open(*, actor: User, purchase_id: int, reason: str, details: str = "") -> Dispute:
    """Dispute a purchase of the actor's organization, within its window."""
    if not can_buy(actor):
        raise PermissionDenied("Disputes are for members allowed to buy.")
    if reason not in Dispute.Reason.values:
        raise ValidationFailed("Choose a reason.", details={"reason": [f"One of {', '.join(Dispute.Reason.values)}."]})
    details = (details or "").replace("\x00", "").strip()
    if len(details) > MAX_TEXT:
        raise ValidationFailed("The details are too long.", details={"details": [f"At most {MAX_TEXT} characters."]})
    with transaction.atomic():
        purchase = purchase_get(user=actor, purchase_id=purchase_id)
        purchase = (
            Purchase.objects.select_for_update(of=("self",)).select_related("listing__created_by").get(pk=purchase.pk)
        )
        if Dispute.objects.filter(purchase=purchase).exists():
            raise Conflict("This purchase was already disputed.")
        if purchase.status == Purchase.Status.REFUNDED:
            raise Conflict("This purchase was refunded.")
        if purchase.dispute_deadline is None or timezone.now() > purchase.dispute_deadline:
            raise DisputeWindowClosed(
                f"The time to dispute this purchase ended on {purchase.dispute_deadline:%b %d, %Y}."
                if purchase.dispute_deadline
                else None
            )
        this_month = Dispute.objects.filter(
            buyer_id=actor.organization_id, created_at__gte=actor.organization.month_start()
        ).count()
        if this_month >= settings.DISPUTES_PER_MONTH:
            raise DisputeLimitReached(
                f"Your organization has opened {this_month} disputes this month, the most it may "
                f"({settings.DISPUTES_PER_MONTH})."
            )
        dispute = Dispute.objects.create(
            purchase=purchase,
            buyer_id=purchase.buyer_id,
            vendor_id=purchase.listing.vendor_id,
            raised_by=actor,
            reason=reason,
            details=details,
        )
        publish(
            "marketplace.dispute.opened",
            actor=actor,
            org=purchase.buyer_id,
            subject=dispute,
            data={"purchase": purchase.pk, "listing": purchase.listing_id, "reason": reason},
        )
        _tell(
            _sides(dispute),
            title=f"Dispute opened: {purchase.listing.title}",
            message=f"{dispute.get_reason_display()}. {details}".strip(),
            dispute=dispute,
        )
    return dispute


# --- The vendor -----------------------------------------------------------------------------------


def _dispute_locked(dispute_id: int, **scope) -> Dispute:
    disputes = Dispute.objects.select_for_update(of=("self",)).select_related(
        "purchase__listing__created_by", "raised_by"
    )
    dispute = disputes.filter(pk=dispute_id, **scope).first() if is_db_id(dispute_id) else None
    if dispute is None:
        raise NotFound("Dispute not found.")
    return dispute


def dispute_respond(*, actor: User, dispute_id: int, response: str) -> Dispute:
    """The vendor's answer to a dispute of one of their sales, while it is open."""
    if not can_sell(actor):
        raise PermissionDenied("Only the vendor responds to a dispute.")
    response = (response or "").replace("\x00", "").strip()
    if not response or len(response) > MAX_TEXT:
        raise ValidationFailed("Write your response.", details={"response": [f"Between 1 and {MAX_TEXT} characters."]})
    with transaction.atomic():
        dispute = _dispute_locked(dispute_id, vendor_id=actor.organization_id)
        if dispute.status != Dispute.Status.OPEN:
            raise IllegalTransition(f"This dispute is {dispute.get_status_display().lower()}.")
        dispute.status = Dispute.Status.RESPONDED
        dispute.vendor_response, dispute.responded_by, dispute.responded_at = response, actor, timezone.now()
        dispute.save(update_fields=["status", "vendor_response", "responded_by", "responded_at"])
        publish("marketplace.dispute.responded", actor=actor, org=dispute.vendor_id, subject=dispute)
        _tell(
            [*_sides(dispute), actor],
            title=f"The vendor responded to the dispute of {dispute.purchase.listing.title}",
            message=response,
            dispute=dispute,
        )
    return dispute


# --- Staff ----------------------------------------------------------------------------------------


def dispute_resolve(*, actor: User, dispute_id: int, decision: str, note: str = "") -> Dispute:
    """Staff decide an open dispute: refund to the wallet, refund to the card, or reject."""
    if not (actor.is_authenticated and actor.is_staff):
        raise PermissionDenied("Only staff resolve disputes.")
    if decision not in Dispute.Decision.values:
        raise ValidationFailed(
            "Choose a decision.", details={"decision": [f"One of {', '.join(Dispute.Decision.values)}."]}
        )
    note = (note or "").replace("\x00", "").strip()[:MAX_TEXT]
    refund_to_card = None
    with transaction.atomic():
        dispute = _dispute_locked(dispute_id)
        if dispute.status not in OPEN_STATES:
            raise IllegalTransition(f"This dispute was already {dispute.get_status_display().lower()}.")
        purchase = Purchase.objects.select_for_update(of=("self",)).get(pk=dispute.purchase_id)
        if decision == Dispute.Decision.REJECT:
            dispute.status = Dispute.Status.REJECTED
        else:
            refund_to_card = _refund(actor, dispute, purchase, to_card=decision == Dispute.Decision.REFUND_TO_CARD)
            dispute.status = Dispute.Status.REFUNDED
        dispute.decision, dispute.resolution_note = decision, note
        dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
        dispute.save(update_fields=["status", "decision", "resolution_note", "resolved_by", "resolved_at"])
        publish(
            "marketplace.dispute.resolved",
            actor=actor,
            org=dispute.buyer_id,
            subject=dispute,
            data={"decision": decision, "purchase": purchase.pk, "amount": str(purchase.price)},
        )
        outcome = {
            Dispute.Decision.REFUND: f"Refunded: {purchase.price} {purchase.currency} credited to the buyer's wallet.",
            Dispute.Decision.REFUND_TO_CARD: f"Refunded: {purchase.price} {purchase.currency} back to the card.",
            Dispute.Decision.REJECT: "Rejected: the purchase stands.",
        }[decision]
        _tell(
            _sides(dispute),
            title=f"Dispute resolved: {dispute.purchase.listing.title}",
            message=f"{outcome} {note}".strip(),
            dispute=dispute,
        )
        if refund_to_card is not None:
            outbox.enqueue(
                "marketplace.tasks.payment_refund",
                payment_id=refund_to_card.pk,
                amount=str(purchase.price),
                refund_key=f"dispute-{dispute.pk}",
            )
        if decision != Dispute.Decision.REJECT:
            _flag_buyer(dispute.buyer_id)
    return dispute


def _refund(actor: User, dispute: Dispute, purchase: Purchase, *, to_card: bool) -> Payment | None:
    """Reverse the sale in the ledger: the price back to the buyer (wallet or card), the
    earning out of the vendor's pending or available account, the fee out of the platform's."""
    payment = None
    if to_card:
        payment = Payment.objects.select_for_update(of=("self",)).filter(order__items__purchase=purchase).first()
        refundable = payment.amount - payment.refunded_amount if payment is not None else 0
        if payment is None or refundable < purchase.price:
            raise ValidationFailed(
                "The card paid less than this purchase's price (wallet credit paid the rest): refund to the "
                "wallet instead.",
                details={"decision": ["Refund to the wallet."]},
            )
    earning_account = Account.VENDOR_AVAILABLE if purchase.earning_released_at else Account.VENDOR_PENDING
    ledger_post(
        kind=LedgerTransaction.Kind.REFUND_TO_CARD if to_card else LedgerTransaction.Kind.REFUND_TO_WALLET,
        ref_type="purchase",
        ref_id=purchase.pk,
        postings=[
            Posting(Account.PROVIDER_CLEARING, purchase.price)
            if to_card
            else Posting(Account.WALLET, purchase.price, purchase.buyer_id),
            Posting(earning_account, -purchase.vendor_earning, purchase.listing.vendor_id),
            Posting(Account.FEES, -purchase.platform_fee),
        ],
        memo=f"Dispute {dispute.pk}",
        actor=actor,
    )
    purchase.status, purchase.refunded_at = Purchase.Status.REFUNDED, timezone.now()
    purchase.save(update_fields=["status", "refunded_at"])
    return payment


def _flag_buyer(buyer_id: int) -> None:
    """Tell staff, once, of a buyer whose refunded disputes reached the flag's share."""
    counts = Purchase.objects.filter(buyer_id=buyer_id).aggregate(
        bought=Count("pk"), refunded=Count("pk", filter=Q(status=Purchase.Status.REFUNDED))
    )
    if counts["bought"] < settings.DISPUTE_FLAG_MIN_PURCHASES:
        return
    share = counts["refunded"] * 100 / counts["bought"]
    if share < settings.DISPUTE_FLAG_PERCENT:
        return
    if Event.objects.filter(name="marketplace.buyer.flagged", org_id=buyer_id).exists():
        return
    publish("marketplace.buyer.flagged", org=buyer_id, data={**counts, "share": round(share, 1)})
    for staff in User.objects.filter(is_staff=True, is_active=True):
        notification_send(
            user=staff,
            type=NotificationType.DISPUTE,
            title=f"Buyer flagged: {counts['refunded']} of {counts['bought']} purchases refunded",
            message=f"Organization {buyer_id} reached {share:.0f}% refunded disputes "
            f"(the flag is at {settings.DISPUTE_FLAG_PERCENT}%).",
            link=f"{reverse('marketplace:disputes')}?buyer={buyer_id}",
        )


# --- Earnings -------------------------------------------------------------------------------------


def earnings_release(*, now: datetime | None = None) -> int:
    """Move each earning whose dispute window closed with no dispute open on it from the
    vendor's pending account to their available one (Celery beat). Each purchase once."""
    now = now or timezone.now()
    due = (
        Purchase.objects.filter(
            status=Purchase.Status.ACTIVE, earning_released_at__isnull=True, dispute_deadline__lte=now
        )
        .exclude(dispute__status__in=OPEN_STATES)
        .values_list("pk", flat=True)
    )
    released = 0
    for purchase_id in list(due[:5000]):
        with transaction.atomic():
            purchase = (
                Purchase.objects.select_for_update(of=("self",))
                .select_related("listing")
                .filter(pk=purchase_id, status=Purchase.Status.ACTIVE, earning_released_at__isnull=True)
                .exclude(dispute__status__in=OPEN_STATES)
                .first()
            )
            if purchase is None:
                continue
            ledger_post(
                kind=LedgerTransaction.Kind.EARNING_RELEASE,
                ref_type="purchase",
                ref_id=purchase.pk,
                postings=[
                    Posting(Account.VENDOR_PENDING, -purchase.vendor_earning, purchase.listing.vendor_id),
                    Posting(Account.VENDOR_AVAILABLE, purchase.vendor_earning, purchase.listing.vendor_id),
                ],
                memo=f"Dispute window of purchase {purchase.pk} closed",
            )
            purchase.earning_released_at = now
            purchase.save(update_fields=["earning_released_at"])
            publish(
                "marketplace.earning.released",
                org=purchase.listing.vendor_id,
                subject=purchase,
                data={"amount": str(purchase.vendor_earning)},
            )
            released += 1
    return released
