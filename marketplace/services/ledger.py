"""The double-entry ledger (`marketplace.models.ledger`): posting transactions and reading
balances and statements. Every service that moves money posts here, inside its own
transaction; nothing else writes ledger rows."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from leadnexus.core.exceptions import Conflict
from marketplace.exceptions import LedgerUnbalanced
from marketplace.models import LedgerEntry, LedgerTransaction

CENT = Decimal("0.01")
Account = LedgerEntry.Account


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def commission_split(price: Decimal) -> tuple[Decimal, Decimal]:
    """(vendor earning, platform fee) of a sale at `price`: the fee is the commission
    setting's share, rounded half up to the cent; the earning is the rest."""
    fee = money(price * settings.MARKETPLACE_COMMISSION_PERCENT / 100)
    return price - fee, fee


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal
    organization_id: int | None = None


def ledger_post(
    *, kind: str, ref_type: str, ref_id, postings: Iterable[Posting], memo: str = "", actor=None
) -> LedgerTransaction:
    """Post one transaction. Its postings must sum to zero (`LedgerUnbalanced` otherwise);
    postings of zero are left out. A transaction is posted once per (kind, reference): a
    second attempt is a `Conflict` and changes nothing, so money never moves twice."""
    postings = [posting for posting in postings if money(posting.amount)]
    if sum((money(posting.amount) for posting in postings), Decimal(0)) != 0:
        raise LedgerUnbalanced(f"{kind} {ref_type} {ref_id}: {postings}")
    try:
        with transaction.atomic():
            posted = LedgerTransaction.objects.create(
                kind=kind, ref_type=ref_type, ref_id=str(ref_id), memo=memo[:300], created_by=actor
            )
            LedgerEntry.objects.bulk_create(
                LedgerEntry(
                    transaction=posted,
                    account=posting.account,
                    organization_id=posting.organization_id,
                    amount=money(posting.amount),
                    currency=settings.CURRENCY,
                )
                for posting in postings
            )
    except IntegrityError:
        if LedgerTransaction.objects.filter(kind=kind, ref_type=ref_type, ref_id=str(ref_id)).exists():
            raise Conflict(f"Money for {kind} of {ref_type} {ref_id} was already moved.") from None
        raise
    return posted


def balance(*, account: str, organization_id: int | None = None) -> Decimal:
    total = LedgerEntry.objects.filter(account=account, organization_id=organization_id).aggregate(total=Sum("amount"))[
        "total"
    ]
    return money(total or 0)


def balances(*, organization_id: int) -> dict[str, Decimal]:
    """The organization's three accounts: wallet, vendor_pending, vendor_available."""
    totals = dict(
        LedgerEntry.objects.filter(organization_id=organization_id)
        .values_list("account")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {
        account: money(totals.get(account) or 0)
        for account in (Account.WALLET, Account.VENDOR_PENDING, Account.VENDOR_AVAILABLE)
    }
