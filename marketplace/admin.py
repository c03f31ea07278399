"""Staff admin for the marketplace: listings (approve and reject through the same services as
the review queue), the reveal log, and the buying side: orders, payments, provider events,
purchases, disputes (resolved through the same service as the dispute page and the API) and
the ledger with the balance of each account. Money is never edited here: every record is
read-only, and corrections are new ledger transactions made by the services.

Listings are changed by their vendors (price, description, withdrawal) and by the review
decisions, never edited field by field here, so the record itself is read-only. Uploads are
import jobs of kind `listings`: the leads admin's import jobs list shows them (filter by kind),
and each listing links to the upload it came from.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from leadnexus.core.admin import ReadOnlyAdmin
from leadnexus.core.exceptions import ApplicationError
from marketplace.models import (
    Dispute,
    LedgerEntry,
    LedgerTransaction,
    Listing,
    Order,
    OrderItem,
    Payment,
    ProviderEvent,
    Purchase,
    RevealLog,
    VendorQuality,
)
from marketplace.services.disputes import dispute_resolve
from marketplace.services.review import APPROVE, REJECT, listings_review


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RejectActionForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="The vendor reads it."
    )


def _report(modeladmin, request, result, verb: str) -> None:
    if result.done:
        modeladmin.message_user(request, f"{len(result.done)} listing(s) {verb}.", messages.SUCCESS)
    for listing_id, why in result.skipped.items():
        modeladmin.message_user(request, f"Listing {listing_id}: {why}", messages.WARNING)


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    """Shown read-only: the actions decide reviews; vendors withdraw, and purchases keep their
    listing (never deleted)."""

    list_display = [
        "title",
        "vendor",
        "approval_status",
        "status",
        "price",
        "sales",
        "lead_score",
        "validation_status",
        "upload_link",
        "created_at",
    ]
    list_filter = ["approval_status", "status", "exclusive", "validation_status", "vendor__verified", "created_at"]
    search_fields = ["title", "industry", "location", "vendor__name", "lead__email", "lead__company"]
    list_select_related = ["vendor", "upload"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Listing._meta.fields if f.name != "search_vector"]
    exclude = ["search_vector"]
    actions = ["approve", "reject"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="Sales")
    def sales(self, listing: Listing) -> str:
        return f"{listing.sold_count} of {listing.max_sales}"

    @admin.display(description="Upload")
    def upload_link(self, listing: Listing):
        if listing.upload_id is None:
            return "—"
        url = reverse("admin:leads_importjob_change", args=[listing.upload_id])
        return format_html('<a href="{}">{}</a>', url, listing.upload.file_name)

    @admin.action(description="Approve the selected listings (they enter the catalog)")
    def approve(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        _report(self, request, listings_review(actor=request.user, listing_ids=ids, decision=APPROVE), "approved")

    @admin.action(description="Reject the selected listings, with a reason…")
    def reject(self, request, queryset):
        form = RejectActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            result = listings_review(
                actor=request.user, listing_ids=ids, decision=REJECT, reason=form.cleaned_data["reason"]
            )
            _report(self, request, result, "rejected")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject listings",
            "listings": queryset.select_related("vendor"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "marketplace/review/admin_reject.html", context)


@admin.register(RevealLog)
class RevealLogAdmin(ReadOnlyAdmin):
    list_display = ["listing", "user", "organization", "context", "revealed_at"]
    list_filter = ["context", "revealed_at"]
    search_fields = ["listing__title", "user__email", "organization__name"]
    list_select_related = ["listing", "user", "organization"]
    date_hierarchy = "revealed_at"
    readonly_fields = [f.name for f in RevealLog._meta.fields]


# --- Buying -----------------------------------------------------------------------------------


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["listing", "title", "price", "state", "reserved_until"]
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "buyer", "placed_by", "status", "total", "wallet_applied", "created_at", "paid_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "buyer__name", "placed_by__email", "payment__intent_id"]
    list_select_related = ["buyer", "placed_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Order._meta.fields]
    inlines = [OrderItemInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["intent_id", "order", "provider", "status", "amount", "refunded_amount", "attempts", "created_at"]
    list_filter = ["status", "provider", "created_at"]
    search_fields = ["intent_id", "charge_id", "order__buyer__name"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Payment._meta.fields]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ["provider_event_id", "type", "outcome", "received_at"]
    list_filter = ["type", "provider", "received_at"]
    search_fields = ["provider_event_id", "outcome"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in ProviderEvent._meta.fields]


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = [
        "listing",
        "buyer",
        "price",
        "vendor_earning",
        "platform_fee",
        "status",
        "purchased_at",
        "dispute_deadline",
        "earning_released_at",
    ]
    list_filter = ["status", "purchased_at"]
    search_fields = ["listing__title", "buyer__name", "listing__vendor__name"]
    list_select_related = ["listing", "buyer"]
    date_hierarchy = "purchased_at"
    readonly_fields = [f.name for f in Purchase._meta.fields]


class ResolveActionForm(forms.Form):
    note = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Both sides read it."
    )


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["purchase", "buyer", "vendor", "reason", "status", "created_at", "resolved_at"]
    list_filter = ["status", "reason", "decision", "created_at"]
    search_fields = ["purchase__listing__title", "buyer__name", "vendor__name", "details"]
    list_select_related = ["purchase__listing", "buyer", "vendor"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Dispute._meta.fields]
    actions = ["refund", "refund_to_card", "reject"]

    @admin.action(description="Refund the selected disputes to the buyer's wallet…")
    def refund(self, request, queryset):
        return self._resolve(request, queryset, Dispute.Decision.REFUND)

    @admin.action(description="Refund the selected disputes to the card…")
    def refund_to_card(self, request, queryset):
        return self._resolve(request, queryset, Dispute.Decision.REFUND_TO_CARD)

    @admin.action(description="Reject the selected disputes…")
    def reject(self, request, queryset):
        return self._resolve(request, queryset, Dispute.Decision.REJECT)

    def _resolve(self, request, queryset, decision: str):
        form = ResolveActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for dispute in queryset:
                try:
                    dispute_resolve(
                        actor=request.user, dispute_id=dispute.pk, decision=decision, note=form.cleaned_data["note"]
                    )
                    self.message_user(request, f"Dispute {dispute.pk}: {decision}.", messages.SUCCESS)
                except ApplicationError as exc:
                    self.message_user(request, f"Dispute {dispute.pk}: {exc.message}", messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{Dispute.Decision(decision).label}: {queryset.count()} dispute(s)",
            "disputes": queryset.select_related("purchase__listing", "buyer"),
            "action": decision,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "marketplace/disputes/admin_resolve.html", context)


# --- Vendor quality ---------------------------------------------------------------------------


@admin.register(VendorQuality)
class VendorQualityAdmin(ReadOnlyAdmin):
    """Each vendor's quality figures over its sold leads, computed by `analytics.quality` as
    outcomes arrive (never edited here)."""

    list_display = ["vendor", "score", "sold", "contact_rate", "win_rate", "dispute_rate", "computed_at"]
    list_filter = [("score", admin.EmptyFieldListFilter)]
    search_fields = ["vendor__name"]
    list_select_related = ["vendor"]
    ordering = ["-score", "vendor__name"]
    readonly_fields = [f.name for f in VendorQuality._meta.fields]


# --- Ledger -----------------------------------------------------------------------------------


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ["account", "organization", "amount", "currency"]
    readonly_fields = fields


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["kind", "ref_type", "ref_id", "memo", "created_by", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = ["ref_id", "memo"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LedgerTransaction._meta.fields]
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Every entry; above the list, the balance of each account the filters select."""

    list_display = ["transaction", "account", "organization", "amount", "currency"]
    list_filter = ["account", "transaction__kind"]
    search_fields = ["organization__name", "transaction__ref_id"]
    list_select_related = ["transaction", "organization"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]
    change_list_template = "marketplace/ledger/admin_change_list.html"

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["balances"] = (
                changelist.queryset.order_by()
                .values("account", "organization__name")
                .annotate(balance=Sum("amount"))
                .order_by("organization__name", "account")
            )
        return response
