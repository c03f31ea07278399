"""Staff admin for the marketplace: listings (approve and reject through the same services as
the review queue), and the reveal log (read-only).

Listings are changed by their vendors (price, description, withdrawal) and by the review
decisions, never edited field by field here, so the record itself is read-only. Uploads are
import jobs of kind `listings`: the leads admin's import jobs list shows them (filter by kind),
and each listing links to the upload it came from.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from marketplace.models import Listing, RevealLog
from marketplace.services.review import APPROVE, REJECT, listings_review


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
class ListingAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # shown read-only; the actions decide reviews

    def has_delete_permission(self, request, obj=None):
        return False  # vendors withdraw; purchases keep their listing

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
class RevealLogAdmin(admin.ModelAdmin):
    list_display = ["listing", "user", "organization", "context", "revealed_at"]
    list_filter = ["context", "revealed_at"]
    search_fields = ["listing__title", "user__email", "organization__name"]
    list_select_related = ["listing", "user", "organization"]
    date_hierarchy = "revealed_at"
    readonly_fields = [f.name for f in RevealLog._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the audit trail stays
