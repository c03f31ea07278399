"""The catalog's models: listings, the reveal log, goal searches and saved searches."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, IntegerField, Q, Value
from django.db.models.functions import Cast, Coalesce, Round

# The catalog: what buyers may see and sort on.
CATALOG = Q(approval_status="approved", status="available")

# The listing score the catalog ranks by (its default ordering): the lead's score (0-100)
# blended with its vendor's quality (0-5), 80/20, on a 0-100 scale:
#     0.8 x lead_score + 4 x vendor_quality
# A vendor not rated yet counts as the middle of the quality scale (2.5): neutral, below a
# good vendor and above a poor one. Stored in hundredths (an integer: exact keyset seeks).
NEUTRAL_VENDOR_QUALITY = Decimal("2.50")
CATALOG_SCORE = F("lead_score") * 80 + Cast(
    Round(Coalesce(F("vendor_quality"), Value(NEUTRAL_VENDOR_QUALITY)) * 400), IntegerField()
)


class Listing(models.Model):
    """One lead offered for sale: an inventory lead of the vendor, priced, sold once
    (exclusive) or up to `max_sales` times. The catalog reads only this table: what it
    filters and sorts on is copied here and kept current by the services that change it."""

    class ApprovalStatus(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    class Status(models.TextChoices):
        AVAILABLE = "available"
        SOLD_OUT = "sold_out", "Sold out"
        WITHDRAWN = "withdrawn"

    vendor = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="listings")
    lead = models.OneToOneField("leads.Lead", on_delete=models.PROTECT, related_name="listing")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    upload = models.ForeignKey(
        "leads.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="listings"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    industry = models.CharField(max_length=100, blank=True)
    location = models.CharField(max_length=200, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default=settings.CURRENCY)
    exclusive = models.BooleanField(default=True)
    max_sales = models.PositiveSmallIntegerField(default=1)
    sold_count = models.PositiveSmallIntegerField(default=0)
    reserved_count = models.PositiveSmallIntegerField(default=0)
    approval_status = models.CharField(max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.AVAILABLE)
    rejection_reason = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lead_score = models.PositiveSmallIntegerField(default=0)
    validation_status = models.CharField(max_length=8, default="pending")
    # The vendor's quality score (0-5, `marketplace.VendorQuality`); null: "not rated" (too
    # few sales to judge).
    vendor_quality = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    # The listing score (CATALOG_SCORE above), in hundredths: computed by the database, so it
    # follows the lead score and the vendor's quality whoever writes them.
    catalog_score = models.GeneratedField(expression=CATALOG_SCORE, output_field=IntegerField(), db_persist=True)
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_sales__gte=F("sold_count") + F("reserved_count")), name="listing_no_oversell"
            ),
            models.CheckConstraint(condition=~Q(exclusive=True) | Q(max_sales=1), name="listing_exclusive_sells_once"),
            models.CheckConstraint(condition=Q(max_sales__gte=1), name="listing_sells_at_least_once"),
            models.CheckConstraint(condition=Q(price__gt=0), name="listing_price_positive"),
        ]
        indexes = [
            # Keyset pages of the catalog: one index per whitelisted ordering, on (value, id);
            # each serves both directions.
            models.Index(fields=["catalog_score", "id"], name="catalog_score_idx", condition=CATALOG),
            models.Index(fields=["price", "id"], name="catalog_price_idx", condition=CATALOG),
            models.Index(fields=["created_at", "id"], name="catalog_created_idx", condition=CATALOG),
            models.Index(fields=["vendor", "-created_at"], name="listing_vendor_idx"),
            models.Index(fields=["approval_status", "created_at"], name="listing_review_queue_idx"),
        ]

    def __str__(self):
        return self.title

    @property
    def remaining(self) -> int:
        return max(self.max_sales - self.sold_count - self.reserved_count, 0)

    @property
    def score(self) -> Decimal:
        """The listing score on its 0-100 scale."""
        return Decimal(self.catalog_score) / 100


class RevealLog(models.Model):
    """Each time full contact data of a listing was shown to someone (audit)."""

    class Context(models.TextChoices):
        API = "api"
        PAGE = "page"
        EXPORT = "export"
        EMAIL = "email"

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="reveals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    context = models.CharField(max_length=6, choices=Context.choices)
    revealed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-revealed_at", "-id"]
        indexes = [models.Index(fields=["listing", "-revealed_at"], name="reveal_listing_idx")]

    def __str__(self):
        return f"Listing {self.listing_id} revealed to {self.user_id}"


class SearchGoal(models.Model):
    """A business goal typed in plain words and the search strategy read from it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_goals")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    goal = models.CharField(max_length=500)
    strategy = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.goal


class SavedSearch(models.Model):
    """Catalog filters a buyer keeps; newly approved listings that match are announced."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    filters = models.JSONField(default=dict)
    notify = models.BooleanField(default=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class SavedSearchMatch(models.Model):
    """A listing that matched a saved search when it was approved: announced once."""

    saved_search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="matches")
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(auto_now_add=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-matched_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["saved_search", "listing"], name="saved_search_match_once")]

    def __str__(self):
        return f"Listing {self.listing_id} matched {self.saved_search_id}"
