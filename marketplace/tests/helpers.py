"""Assertions shared by the buying side's tests: the ledger balances, and what it holds."""

from decimal import Decimal

from django.db.models import Sum

from marketplace.models import LedgerEntry, LedgerTransaction
from marketplace.services.ledger import Account, balance

CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000002"
CARD_NO_FUNDS = "4000000000009995"


def assert_ledger_balanced() -> None:
    """Every transaction's entries sum to zero (so the whole ledger does)."""
    for posted in LedgerTransaction.objects.prefetch_related("entries"):
        total = sum((entry.amount for entry in posted.entries.all()), Decimal(0))
        assert total == 0, (posted, list(posted.entries.values_list("account", "amount")))
    assert (LedgerEntry.objects.aggregate(total=Sum("amount"))["total"] or 0) == 0


def balances_of(org_id: int | None = None) -> dict[str, Decimal]:
    """Every account's balance: the organization's three, or the platform's two."""
    accounts = (
        (Account.WALLET, Account.VENDOR_PENDING, Account.VENDOR_AVAILABLE)
        if org_id is not None
        else (Account.FEES, Account.PROVIDER_CLEARING)
    )
    return {account: balance(account=account, organization_id=org_id) for account in accounts}
