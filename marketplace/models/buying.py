"""Buying: the cart, orders with their frozen prices and reservations, payments through a
provider, purchases delivered into the buyer's leads, and disputes."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from marketplace.models.catalog import Listing

MONEY = {"max_digits": 12, "decimal_places": 2}


class Cart(models.Model):
    """A user's cart: the listings they mean to buy, priced only when an order freezes them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Cart of {self.user_id}"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["cart", "listing"], name="cart_item_once")]

    def __str__(self):
        return f"Listing {self.listing_id} in cart {self.cart_id}"


class Order(models.Model):
    """A cart frozen at checkout: its items and prices no longer change. Paid in full by the
    wallet, by a card, or by both (`wallet_applied` + `amount_due` = `total`)."""

    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", "Awaiting payment"
        PAID = "paid"
        CANCELED = "canceled"

    buyer = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    currency = models.CharField(max_length=3, default=settings.CURRENCY)
    total = models.DecimalField(**MONEY)
    wallet_applied = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["buyer", "-created_at"], name="order_buyer_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(wallet_applied__gte=0, wallet_applied__lte=F("total")), name="order_wallet_within_total"
            )
        ]

    def __str__(self):
        return f"Order {self.pk}"

    @property
    def amount_due(self):
        return self.total - self.wallet_applied


class OrderItem(models.Model):
    """One listing of an order at its frozen price. While the order is being paid it holds one
    unit of the listing's capacity (`reserved`); paid, the unit is `sold`; a declined or
    abandoned payment gives it back (`released`, then `pending` for another attempt)."""

    class State(models.TextChoices):
        PENDING = "pending"
        RESERVED = "reserved"
        SOLD = "sold"
        RELEASED = "released"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="order_items")
    # Copied from the order so the database can refuse a second hold by the same buyer.
    buyer = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    vendor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    price = models.DecimalField(**MONEY)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    reserved_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "listing"], name="order_item_once"),
            # One organization holds or owns a listing at most once, whatever its orders.
            models.UniqueConstraint(
                fields=["listing", "buyer"],
                condition=Q(state__in=["reserved", "sold"]),
                name="order_item_one_hold_per_buyer",
            ),
        ]
        indexes = [
            models.Index(fields=["reserved_until"], name="order_item_reservation_idx", condition=Q(state="reserved"))
        ]

    def __str__(self):
        return self.title


class Payment(models.Model):
    """The payment of an order: a provider's payment intent for the part a card pays (the
    `wallet` provider when the wallet pays it all). Its states are the provider's:
    requires_payment_method → processing → succeeded | canceled; a declined confirmation
    returns it to requires_payment_method, for another card."""

    class Status(models.TextChoices):
        REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Requires a payment method"
        PROCESSING = "processing"
        SUCCEEDED = "succeeded"
        CANCELED = "canceled"

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="payment")
    provider = models.CharField(max_length=20)
    intent_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.REQUIRES_PAYMENT_METHOD)
    amount = models.DecimalField(**MONEY, help_text="What the card pays (the order's amount due).")
    currency = models.CharField(max_length=3, default=settings.CURRENCY)
    charge_id = models.CharField(max_length=100, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the current attempt took its hold: a provider's report older than that is about
    # an earlier attempt.
    processing_since = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")), name="payment_refund_within"
            )
        ]

    def __str__(self):
        return self.intent_id


class ProviderEvent(models.Model):
    """A webhook event from the payment provider, kept once by its id: a processor may send
    the same event twice, and late."""

    provider = models.CharField(max_length=20)
    provider_event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.provider_event_id}"


class MockProcessorIntent(models.Model):
    """The mock card processor's own books (`marketplace.payments.mock`): what a real
    processor keeps on its side, kept here so that it survives processes and tests can count
    the charges it made."""

    intent_id = models.CharField(max_length=100, unique=True)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=24)
    charges = models.PositiveSmallIntegerField(default=0)
    refunded_minor = models.PositiveBigIntegerField(default=0)
    metadata = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.intent_id


class Purchase(models.Model):
    """A buyer organization's purchase of a listing; its lead is delivered into the buyer's
    own leads. An organization buys a listing at most once. The vendor's earning and the
    platform's fee are fixed at the sale."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        REFUNDED = "refunded"

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="purchases")
    buyer = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="purchases")
    purchased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order_item = models.OneToOneField(
        OrderItem, null=True, blank=True, on_delete=models.PROTECT, related_name="purchase"
    )
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default=settings.CURRENCY)
    vendor_earning = models.DecimalField(**MONEY, default=0)
    platform_fee = models.DecimalField(**MONEY, default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE)
    delivered_lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    dispute_deadline = models.DateTimeField(null=True, blank=True)
    earning_released_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    purchased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-purchased_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "buyer"], name="purchase_once_per_buyer"),
            models.CheckConstraint(
                condition=Q(vendor_earning=F("price") - F("platform_fee")), name="purchase_earning_plus_fee"
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "-purchased_at"], name="purchase_buyer_idx"),
            models.Index(
                fields=["dispute_deadline"],
                name="purchase_unreleased_idx",
                condition=Q(earning_released_at__isnull=True, status="active"),
            ),
        ]

    def __str__(self):
        return f"{self.listing} bought by {self.buyer_id}"


class Dispute(models.Model):
    """A buyer's complaint about a purchase, within its dispute window: the vendor may
    respond; staff refund it (to the wallet or the card) or reject it."""

    class Status(models.TextChoices):
        OPEN = "open"
        RESPONDED = "responded"
        REFUNDED = "refunded"
        REJECTED = "rejected"

    class Reason(models.TextChoices):
        INVALID_EMAIL = "invalid_email", "Invalid email"
        WRONG_PHONE = "wrong_phone", "Wrong phone"
        DUPLICATE = "duplicate", "Duplicate"
        NOT_AS_DESCRIBED = "not_as_described", "Not as described"

    class Decision(models.TextChoices):
        REFUND = "refund", "Refund to the wallet"
        REFUND_TO_CARD = "refund_to_card", "Refund to the card"
        REJECT = "reject"

    purchase = models.OneToOneField(Purchase, on_delete=models.PROTECT, related_name="dispute")
    buyer = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="disputes_raised")
    vendor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="disputes_received")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    details = models.TextField(blank=True)
    vendor_response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="dispute_buyer_idx"),
            models.Index(fields=["vendor", "-created_at"], name="dispute_vendor_idx"),
            models.Index(fields=["status", "created_at"], name="dispute_status_idx"),
        ]

    def __str__(self):
        return f"Dispute of purchase {self.purchase_id}"


class VendorStanding(models.Model):
    """What buyers' disputes say of a vendor, shown to buyers beside each of its listings and
    kept current by the services that sell and resolve disputes."""

    vendor = models.OneToOneField("accounts.Organization", on_delete=models.CASCADE, related_name="standing")
    sales = models.PositiveIntegerField(default=0)
    disputes = models.PositiveIntegerField(default=0)
    refunded = models.PositiveIntegerField(default=0)
    # Disputes per hundred sales; null until the vendor has sold.
    dispute_rate = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Standing of {self.vendor_id}"
