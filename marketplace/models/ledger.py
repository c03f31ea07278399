"""The double-entry ledger: every movement of money is a transaction whose entries sum to
zero, posted once per (kind, reference). Balances are sums of entries; nothing is ever
edited, a correction is another transaction.

Accounts: per organization `wallet` (credit a buyer may spend), `vendor_pending` (earnings
inside their dispute window) and `vendor_available` (earnings released); for the platform,
`fees` (its commission) and `provider_clearing` (the outside world: money in through the
payment provider makes it negative, a refund to a card brings it back). Each account's
balance reads the way its owner expects: a wallet of 20.00 holds 20.00.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

PER_ORGANIZATION = ("wallet", "vendor_pending", "vendor_available")


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = "purchase"
        REFUND_TO_WALLET = "refund_to_wallet", "Refund to the wallet"
        REFUND_TO_CARD = "refund_to_card", "Refund to the card"
        EARNING_RELEASE = "earning_release", "Earning released"
        ORDER_REFUND = "order_refund", "Order refunded (not deliverable)"
        WALLET_CREDIT = "wallet_credit", "Wallet credit"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    ref_type = models.CharField(max_length=30)
    ref_id = models.CharField(max_length=64)
    memo = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # Money moves once per reason: posting the same transaction again is refused.
        constraints = [models.UniqueConstraint(fields=["kind", "ref_type", "ref_id"], name="ledger_once_per_ref")]

    def __str__(self):
        return f"{self.kind} {self.ref_type} {self.ref_id}"


class LedgerEntry(models.Model):
    class Account(models.TextChoices):
        WALLET = "wallet"
        VENDOR_PENDING = "vendor_pending", "Vendor earnings, pending"
        VENDOR_AVAILABLE = "vendor_available", "Vendor earnings, available"
        FEES = "fees", "Platform fees"
        PROVIDER_CLEARING = "provider_clearing", "Payment provider clearing"

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.CharField(max_length=20, choices=Account.choices)
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="Signed: adds to the account's balance.")
    currency = models.CharField(max_length=3, default=settings.CURRENCY)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Organizations' accounts name their organization; the platform's name none.
            models.CheckConstraint(
                condition=Q(account__in=PER_ORGANIZATION, organization__isnull=False)
                | (~Q(account__in=PER_ORGANIZATION) & Q(organization__isnull=True)),
                name="ledger_entry_account_owner",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["organization", "account"], name="ledger_account_idx")]

    def __str__(self):
        return f"{self.account} {self.amount}"
