"""Selling pages under /marketplace/: a vendor's listings, new listings (typed in, or copied
from one of their CRM leads), uploads, and the staff review queue.

- `marketplace:my-listings` every listing of the vendor, filtered by approval, status, sold or
  upload; edit an unsold one (`listing-edit`), withdraw it (`listing-withdraw`).
- `marketplace:listing-new` a listing typed in; `listing-pick-lead` → `listing-from-lead` one of
  the vendor's CRM leads, copied into a new inventory lead.
- `marketplace:uploads` → `upload-detail` (preview and columns, re-checked by `upload-mapping`)
  → `upload-confirm` → the progress bar (`upload-progress`, polled by htmx) and the rows not
  listed (`upload-rejected`); `upload-history` lists past uploads. These are the lead import
  pages of `leads.views.imports`, subclassed for the kind `listings`.
- `marketplace:review` (staff) the queue, oldest first, with each lead in full; approve or
  reject one (`review-approve`, `review-reject`) or many (`review-bulk`).

Reads go through `marketplace.selectors` (and `leads.selectors` for the CRM lead), writes
through `marketplace.services`; a domain error becomes a form error or an error page.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect
from django.urls import path
from django.views.generic import ListView

from leadnexus.core.exceptions import PermissionDenied
from leadnexus.core.views import PreferredPageSizeMixin, ServiceFormView
from leads.filters import LeadFilter
from leads.models import ImportJob
from leads.selectors import lead_get, lead_list
from leads.validation import REASONS
from leads.views.imports import (
    ImportConfirmView,
    ImportDetailView,
    ImportHistoryView,
    ImportMappingForm,
    ImportMappingView,
    ImportPageMixin,
    ImportProgressView,
    ImportRejectedView,
    ImportUploadForm,
    ImportUploadView,
)
from leads.views.records import LeadForm
from marketplace.models import Listing
from marketplace.policy import can_sell
from marketplace.selectors import (
    listing_for_vendor,
    review_queue,
    upload_get,
    upload_list,
    upload_preview,
    upload_rejected,
    vendor_listing_list,
)
from marketplace.selectors_catalog import vendor_quality_own
from marketplace.services import listings as services
from marketplace.services import uploads as upload_services
from marketplace.services.listings import MAX_PRICE, MAX_SALES
from marketplace.services.reveals import listings_disclose
from marketplace.services.review import APPROVE, BULK_MAX, REJECT, listings_review

POLICY_CHOICES = [
    (ImportJob.DuplicatePolicy.SKIP, "Skip the row; it is listed in the rows not listed."),
    (ImportJob.DuplicatePolicy.UPDATE, "Update that listing's price, terms and lead, if it has not sold."),
]
SOLD_CHOICES = [("", "Sold or not"), ("yes", "Sold at least once"), ("no", "Never sold")]


class SellerRequiredMixin(LoginRequiredMixin):
    """Pages of the selling side: members of a vendor organization allowed to sell."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_sell(request.user):
            raise PermissionDenied("Only members of a vendor organization allowed to sell may list leads.")
        return super().dispatch(request, *args, **kwargs)


# --- Forms (shape only) -----------------------------------------------------------------------


class ListingTermsForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="What a buyer reads first: role, company type, place.")
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    industry = forms.CharField(max_length=100, required=False)
    price = forms.DecimalField(
        min_value=0.01, max_value=MAX_PRICE, max_digits=10, decimal_places=2, label=f"Price ({settings.CURRENCY})"
    )
    exclusive = forms.BooleanField(required=False, initial=True, label="Exclusive: sold to one buyer only")
    max_sales = forms.IntegerField(
        min_value=1, max_value=MAX_SALES, initial=1, label="Max sales", help_text="How many buyers, when not exclusive."
    )

    def terms(self) -> dict:
        return {name: self.cleaned_data[name] for name in services.LISTING_FIELDS}


class ListingCreateForm(ListingTermsForm, LeadForm):
    """The listing's terms, then the person it offers."""

    field_order = [*ListingTermsForm.base_fields, *LeadForm.base_fields]


class ListingEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    industry = forms.CharField(max_length=100, required=False)
    price = forms.DecimalField(
        min_value=0.01, max_value=MAX_PRICE, max_digits=10, decimal_places=2, label=f"Price ({settings.CURRENCY})"
    )


class ConfirmForm(forms.Form):
    pass


class MyListingsFilterForm(forms.Form):
    approval_status = forms.ChoiceField(
        choices=[("", "Any review"), *Listing.ApprovalStatus.choices], required=False, label="Review"
    )
    status = forms.ChoiceField(choices=[("", "Any status"), *Listing.Status.choices], required=False, label="Status")
    sold = forms.ChoiceField(choices=SOLD_CHOICES, required=False, label="Sales")
    upload = forms.IntegerField(min_value=1, max_value=2**63 - 1, required=False, widget=forms.HiddenInput)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        sold = {"yes": True, "no": False}.get(data["sold"])
        return {
            "approval_status": data["approval_status"] or None,
            "status": data["status"] or None,
            "sold": sold,
            "upload_id": data["upload"],
        }


class UploadForm(ImportUploadForm):
    """The spreadsheet, and the terms of rows whose cells leave them empty."""

    default_price = forms.DecimalField(
        min_value=0.01,
        max_value=MAX_PRICE,
        max_digits=10,
        decimal_places=2,
        required=False,
        label=f"Price of rows without one ({settings.CURRENCY})",
    )
    default_exclusive = forms.ChoiceField(
        choices=[("", "Exclusive unless a row says otherwise"), ("no", "Not exclusive unless a row says so")],
        required=False,
        label="Exclusive",
    )
    default_max_sales = forms.IntegerField(
        min_value=1, max_value=MAX_SALES, required=False, label="Max sales of non-exclusive rows without one"
    )


class UploadMappingForm(ImportMappingForm):
    """The leads import's column form, with the duplicate policies listings allow."""

    mapped_as = "Read as"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate_policy"].choices = [
            (value, f"{ImportJob.DuplicatePolicy(value).label}: {text}") for value, text in POLICY_CHOICES
        ]
        self.fields["duplicate_policy"].label = "When a row names someone already in one of your live listings"


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Why (the vendor reads it)"
    )


class IdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            ids = [int(item) for item in (value or [])]
        except (TypeError, ValueError):
            raise forms.ValidationError("Not a listing.") from None
        if not ids or len(ids) > BULK_MAX or any(not 0 < pk < 2**63 for pk in ids):
            raise forms.ValidationError(f"Choose between 1 and {BULK_MAX} listings.")
        return ids


class ReviewBulkForm(forms.Form):
    ids = IdsField()
    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (REJECT, "Reject")])
    reason = forms.CharField(max_length=2000, required=False)


# --- My listings ------------------------------------------------------------------------------


class MyListingsView(SellerRequiredMixin, PreferredPageSizeMixin, ListView):
    template_name = "marketplace/selling/my_listings.html"
    context_object_name = "listings"

    def get_queryset(self):
        self.filter_form = MyListingsFilterForm(self.request.GET or None)
        return vendor_listing_list(user=self.request.user, **self.filter_form.filters())

    def get_context_data(self, **kwargs):
        filtered = self.filter_form.is_bound and any(self.filter_form.filters().values())
        return super().get_context_data(
            filter_form=self.filter_form,
            filtered=filtered,
            quality=vendor_quality_own(user=self.request.user),
            **kwargs,
        )


class ListingCreateView(SellerRequiredMixin, ServiceFormView):
    template_name = "marketplace/selling/listing_form.html"
    form_class = ListingCreateForm

    def perform(self, form):
        listing = services.listing_create(actor=self.request.user, data={**form.lead_data(), **form.terms()})
        return _listed(self.request, listing)


def _listed(request, listing: Listing):
    if listing.approval_status == Listing.ApprovalStatus.APPROVED:
        messages.success(request, f"“{listing.title}” is listed and in the catalog.")
    else:
        messages.success(request, f"“{listing.title}” is listed; staff review it before it enters the catalog.")
    return redirect("marketplace:my-listings")


class PickLeadView(SellerRequiredMixin, PreferredPageSizeMixin, ListView):
    """Which CRM lead to list: the vendor's own leads, searchable."""

    template_name = "marketplace/selling/pick_lead.html"
    context_object_name = "leads"

    def get_queryset(self):
        search = self.request.GET.get("search", "")[:100]
        return LeadFilter(data={"search": search}, queryset=lead_list(user=self.request.user)).qs


class ListingFromLeadView(SellerRequiredMixin, ServiceFormView):
    template_name = "marketplace/selling/listing_form.html"
    form_class = ListingTermsForm

    def get_lead(self):
        if not hasattr(self, "_lead"):
            self._lead = lead_get(user=self.request.user, lead_id=self.kwargs["lead_id"])
        return self._lead

    def get_initial(self):
        lead = self.get_lead()
        title = " · ".join(part for part in (lead.job_title, lead.industry, lead.location) if part)
        return {"title": title[:200], "industry": lead.industry, "exclusive": True, "max_sales": 1}

    def get_context_data(self, **kwargs):
        return super().get_context_data(lead=self.get_lead(), **kwargs)

    def perform(self, form):
        listing = services.listing_create_from_lead(
            actor=self.request.user, lead_id=self.kwargs["lead_id"], data=form.terms()
        )
        return _listed(self.request, listing)


class ListingEditView(SellerRequiredMixin, ServiceFormView):
    template_name = "marketplace/selling/listing_form.html"
    form_class = ListingEditForm

    def get_listing(self) -> Listing:
        if not hasattr(self, "_listing"):
            self._listing = listing_for_vendor(user=self.request.user, listing_id=self.kwargs["listing_id"])
        return self._listing

    def get_initial(self):
        listing = self.get_listing()
        return {name: getattr(listing, name) for name in ("title", "description", "industry", "price")}

    def get_context_data(self, **kwargs):
        return super().get_context_data(listing=self.get_listing(), **kwargs)

    def perform(self, form):
        listing = services.listing_update(
            actor=self.request.user, listing_id=self.kwargs["listing_id"], changes=form.cleaned_data
        )
        if listing.approval_status == Listing.ApprovalStatus.PENDING:
            messages.success(self.request, f"“{listing.title}” was saved and waits for review.")
        else:
            messages.success(self.request, f"“{listing.title}” was saved.")
        return redirect("marketplace:my-listings")


class ListingWithdrawView(SellerRequiredMixin, ServiceFormView):
    """Asks first (GET), withdraws on POST."""

    template_name = "marketplace/selling/withdraw.html"
    form_class = ConfirmForm

    def get_context_data(self, **kwargs):
        listing = listing_for_vendor(user=self.request.user, listing_id=self.kwargs["listing_id"])
        return super().get_context_data(listing=listing, **kwargs)

    def perform(self, form):
        listing = services.listing_withdraw(actor=self.request.user, listing_id=self.kwargs["listing_id"])
        messages.success(self.request, f"“{listing.title}” was withdrawn from sale.")
        return redirect("marketplace:my-listings")


# --- Uploads: the lead import pages, for listings ---------------------------------------------


class _UploadPageMixin(SellerRequiredMixin, ImportPageMixin):
    """What the lead import pages need to serve uploads of listings; reads go through
    `marketplace.selectors`, which refuse members not allowed to sell."""

    kind = ImportJob.Kind.LISTINGS
    pk_url_kwarg = "upload_id"
    url_names = {
        "start": "marketplace:uploads",
        "history": "marketplace:upload-history",
        "detail": "marketplace:upload-detail",
        "mapping": "marketplace:upload-mapping",
        "confirm": "marketplace:upload-confirm",
        "progress": "marketplace:upload-progress",
        "rejected": "marketplace:upload-rejected",
    }
    preview_template = "marketplace/selling/upload_preview.html"
    progress_template = "marketplace/selling/upload_progress.html"
    mapping_form_class = UploadMappingForm

    def job_list(self):
        return upload_list(user=self.request.user)

    def job_get(self):
        return upload_get(user=self.request.user, upload_id=self.job_id)

    def job_preview(self):
        return upload_preview(user=self.request.user, upload_id=self.job_id)

    def job_rejected(self):
        return upload_rejected(user=self.request.user, upload_id=self.job_id)


class UploadView(_UploadPageMixin, ImportUploadView):
    template_name = "marketplace/selling/upload.html"
    form_class = UploadForm
    success_message = "{job.file_name}: {job.total:,} rows read. Check the columns, then list them."

    def upload(self, form):
        data = form.cleaned_data
        return upload_services.upload_create(
            actor=self.request.user,
            file=data["file"],
            default_price=data["default_price"],
            default_exclusive=data["default_exclusive"] or None,
            default_max_sales=data["default_max_sales"],
        )


class UploadDetailView(_UploadPageMixin, ImportDetailView):
    pass


class UploadMappingView(_UploadPageMixin, ImportMappingView):
    def update_mapping(self, form) -> None:
        upload_services.upload_mapping_update(actor=self.request.user, upload_id=self.job_id, mapping=form.mapping())


class UploadConfirmView(_UploadPageMixin, ImportConfirmView):
    success_message = "The listings of {job.file_name} are being written."

    def confirm(self, form) -> ImportJob:
        return upload_services.upload_confirm(
            actor=self.request.user,
            upload_id=self.job_id,
            mapping=form.mapping(),
            duplicate_policy=form.cleaned_data["duplicate_policy"],
        )


class UploadProgressView(_UploadPageMixin, ImportProgressView):
    template_name = "marketplace/selling/partials/upload_progress.html"


class UploadRejectedView(_UploadPageMixin, ImportRejectedView):
    pass


class UploadHistoryView(_UploadPageMixin, ImportHistoryView):
    template_name = "marketplace/selling/upload_history.html"


# --- Review (staff) ---------------------------------------------------------------------------


class ReviewQueueView(LoginRequiredMixin, PreferredPageSizeMixin, ListView):
    """Listings waiting for review, oldest first, with each lead in full (each shown is logged)."""

    template_name = "marketplace/review/queue.html"
    context_object_name = "listings"

    def get_queryset(self):
        return review_queue(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        listings = listings_disclose(actor=self.request.user, listings=context["listings"], context="page")
        for listing in listings:
            listing.reasons = [REASONS.get(code, str(code)) for code in listing.lead.validation_reasons or []]
        return {**context, "listings": listings, "reject_form": RejectForm(), "bulk_max": BULK_MAX}


class _ReviewDecisionView(LoginRequiredMixin, ServiceFormView):
    """One listing approved or rejected from the queue; a refusal shows on its own page."""

    template_name = "marketplace/review/decide.html"
    http_method_names = ["post"]

    def get_context_data(self, **kwargs):
        return super().get_context_data(listing_id=self.kwargs["listing_id"], **kwargs)


class ReviewApproveView(_ReviewDecisionView):
    form_class = ConfirmForm

    def perform(self, form):
        listing = services.listing_approve(actor=self.request.user, listing_id=self.kwargs["listing_id"])
        messages.success(self.request, f"“{listing.title}” is approved and in the catalog.")
        return redirect("marketplace:review")


class ReviewRejectView(_ReviewDecisionView):
    form_class = RejectForm

    def perform(self, form):
        listing = services.listing_reject(
            actor=self.request.user, listing_id=self.kwargs["listing_id"], reason=form.cleaned_data["reason"]
        )
        messages.success(self.request, f"“{listing.title}” is rejected; its vendor is told why.")
        return redirect("marketplace:review")


class ReviewBulkView(LoginRequiredMixin, ServiceFormView):
    template_name = "marketplace/review/decide.html"
    form_class = ReviewBulkForm
    http_method_names = ["post"]

    def perform(self, form):
        data = form.cleaned_data
        result = listings_review(
            actor=self.request.user, listing_ids=data["ids"], decision=data["decision"], reason=data["reason"]
        )
        verb = "approved" if data["decision"] == APPROVE else "rejected"
        if result.done:
            messages.success(self.request, f"{len(result.done)} listing{'s' * (len(result.done) != 1)} {verb}.")
        for listing_id, why in result.skipped.items():
            messages.warning(self.request, f"Listing {listing_id} was left alone: {why}")
        return redirect("marketplace:review")


urlpatterns = [
    path("my-listings/", MyListingsView.as_view(), name="my-listings"),
    path("my-listings/new/", ListingCreateView.as_view(), name="listing-new"),
    path("my-listings/from-lead/", PickLeadView.as_view(), name="listing-pick-lead"),
    path("my-listings/from-lead/<id:lead_id>/", ListingFromLeadView.as_view(), name="listing-from-lead"),
    path("my-listings/<id:listing_id>/edit/", ListingEditView.as_view(), name="listing-edit"),
    path("my-listings/<id:listing_id>/withdraw/", ListingWithdrawView.as_view(), name="listing-withdraw"),
    path("uploads/", UploadView.as_view(), name="uploads"),
    path("uploads/history/", UploadHistoryView.as_view(), name="upload-history"),
    path("uploads/<id:upload_id>/", UploadDetailView.as_view(), name="upload-detail"),
    path("uploads/<id:upload_id>/mapping/", UploadMappingView.as_view(), name="upload-mapping"),
    path("uploads/<id:upload_id>/confirm/", UploadConfirmView.as_view(), name="upload-confirm"),
    path("uploads/<id:upload_id>/progress/", UploadProgressView.as_view(), name="upload-progress"),
    path("uploads/<id:upload_id>/rejected/", UploadRejectedView.as_view(), name="upload-rejected"),
    path("review/", ReviewQueueView.as_view(), name="review"),
    path("review/bulk/", ReviewBulkView.as_view(), name="review-bulk"),
    path("review/<id:listing_id>/approve/", ReviewApproveView.as_view(), name="review-approve"),
    path("review/<id:listing_id>/reject/", ReviewRejectView.as_view(), name="review-reject"),
]
