"""Reads of the buying side: orders and purchases of a buyer organization, sales of a
vendor, and the ledger's statements (wallet, earnings) with running balances.

Orders and purchases are the organization's: every member allowed to buy sees them (a
sub-user with `can_buy` off does not); sales and earnings are seen by members allowed to
sell. Another organization's record is not found.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, Prefetch, Q, QuerySet, Sum, Value, When, Window
from django.db.models.functions import Coalesce

from accounts.models import User
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from marketplace.models import Dispute, LedgerEntry, Order, OrderItem, Purchase
from marketplace.policy import can_buy, can_sell
from marketplace.services.ledger import Account, balances


def _require_buyer(user: User) -> None:
    if not can_buy(user):
        raise PermissionDenied("Orders and purchases are for members allowed to buy.")


def _require_seller(user: User) -> None:
    if not can_sell(user):
        raise PermissionDenied("Sales and earnings are for members of a vendor organization allowed to sell.")


def order_list(*, user: User) -> QuerySet[Order]:
    _require_buyer(user)
    return (
        Order.objects.filter(buyer_id=user.organization_id)
        .select_related("payment", "placed_by")
        .prefetch_related(Prefetch("items", queryset=OrderItem.objects.select_related("purchase")))
    )


def order_get(*, user: User, order_id: int) -> Order:
    order = order_list(user=user).filter(pk=order_id).first() if is_db_id(order_id) else None
    if order is None:
        raise NotFound("Order not found.")
    return order


def purchase_list(*, user: User) -> QuerySet[Purchase]:
    _require_buyer(user)
    return Purchase.objects.filter(buyer_id=user.organization_id).select_related(
        "listing", "listing__vendor", "delivered_lead__organization", "order_item", "dispute"
    )


def purchase_get(*, user: User, purchase_id: int) -> Purchase:
    purchase = purchase_list(user=user).filter(pk=purchase_id).first() if is_db_id(purchase_id) else None
    if purchase is None:
        raise NotFound("Purchase not found.")
    return purchase


def sale_list(*, user: User) -> QuerySet[Purchase]:
    """The vendor organization's listings sold, newest first."""
    _require_seller(user)
    return Purchase.objects.filter(listing__vendor_id=user.organization_id).select_related(
        "listing", "buyer", "dispute"
    )


def dispute_list(*, user: User) -> QuerySet[Dispute]:
    """Disputes the user may see: their organization's, as buyer (members allowed to buy) and
    as vendor (members allowed to sell); every dispute for staff. Open ones first."""
    disputes = Dispute.objects.select_related("purchase__listing", "buyer", "vendor", "raised_by")
    if not (user.is_authenticated and user.is_staff):
        mine = Q(pk__in=[])
        if can_buy(user):
            mine |= Q(buyer_id=user.organization_id)
        if can_sell(user):
            mine |= Q(vendor_id=user.organization_id)
        if not (can_buy(user) or can_sell(user)):
            raise PermissionDenied("Disputes are for members allowed to buy or to sell.")
        disputes = disputes.filter(mine)
    open_first = Case(When(status__in=["open", "responded"], then=Value(0)), default=Value(1))
    return disputes.order_by(open_first, "-created_at", "-id")


def dispute_get(*, user: User, dispute_id: int) -> Dispute:
    dispute = dispute_list(user=user).filter(pk=dispute_id).first() if is_db_id(dispute_id) else None
    if dispute is None:
        raise NotFound("Dispute not found.")
    return dispute


# --- Statements ------------------------------------------------------------------------------


# Movements a statement shows (the latest); the ledger keeps them all.
STATEMENT_ROWS = 100


@dataclass(frozen=True)
class Statement:
    balances: dict[str, Decimal]
    entries: QuerySet[LedgerEntry]  # the latest STATEMENT_ROWS, newest first, each with `balance_after`


def _entries(*, organization_id: int, accounts: list[str]) -> QuerySet[LedgerEntry]:
    running = Window(
        Sum("amount"), partition_by="account", order_by=["transaction__created_at", "transaction_id", "id"]
    )
    return (
        LedgerEntry.objects.filter(organization_id=organization_id, account__in=accounts)
        .select_related("transaction")
        .annotate(balance_after=Coalesce(running, Decimal("0.00")))
        .order_by("-transaction__created_at", "-transaction_id", "-id")
    )


def wallet_statement(*, user: User) -> Statement:
    """The organization's wallet: its balance and every movement with the balance after it."""
    _require_buyer(user)
    return Statement(
        balances=balances(organization_id=user.organization_id),
        entries=_entries(organization_id=user.organization_id, accounts=[Account.WALLET])[:STATEMENT_ROWS],
    )


def earnings_statement(*, user: User) -> Statement:
    """The vendor's earnings: pending (inside their dispute window) and available."""
    _require_seller(user)
    return Statement(
        balances=balances(organization_id=user.organization_id),
        entries=_entries(
            organization_id=user.organization_id, accounts=[Account.VENDOR_PENDING, Account.VENDOR_AVAILABLE]
        )[:STATEMENT_ROWS],
    )
