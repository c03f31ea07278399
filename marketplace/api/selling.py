"""Selling through the API: vendor uploads and the staff review of listings.

- `GET|POST marketplace/uploads/` lists the vendor's uploads, or uploads a CSV/XLSX file
  (multipart `file`, optional upload-wide defaults) → 201 with the staged job, its guessed
  mapping and a preview; `GET marketplace/uploads/{id}/` follows one;
  `POST marketplace/uploads/{id}/confirm/` {mapping?, duplicate_policy?: skip|update} → 202;
  `GET marketplace/uploads/{id}/rejected/` downloads the rows not listed, with why.
- `GET workflows/leads/pending-approval/` (staff) is the review queue, oldest first, with each
  lead's full data; `POST marketplace/listings/{id}/approve/` and `…/reject/` {reason} (staff)
  decide one listing. Nobody reviews their own organization's listings.

Uploads run the leads import engine with the listing spec (`marketplace.imports`) through
`marketplace.services.uploads`; reads go through `marketplace.selectors`.
"""

from decimal import Decimal

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from leadnexus.core.api import ServiceViewSet, validated
from leads.api.imports import (
    DownloadNegotiation,
    ImportConfirmOutputSerializer,
    ImportJobOutputSerializer,
    ImportUploadOutputSerializer,
    MappingField,
)
from leads.api.records import LeadOutputSerializer
from leads.imports.export import rejected_response
from leads.models import ImportJob
from marketplace.api.catalog import ListingOutputSerializer, ListingVendorOutputSerializer
from marketplace.models import Listing
from marketplace.selectors import review_queue, upload_get, upload_list, upload_rejected
from marketplace.services import listings as listing_services
from marketplace.services import uploads as services
from marketplace.services.listings import MAX_PRICE, MAX_SALES
from marketplace.services.reveals import listings_disclose

REJECTED_ROUTE = "api:marketplace-upload-rejected"

# --- Input ----------------------------------------------------------------------------------


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A CSV (comma, semicolon or tab; UTF-8, UTF-16 or Latin-1) or XLSX file: one listing per row, "
        "with title, price and the lead's columns (a valid email or phone)."
    )
    default_price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_PRICE,
        required=False,
        allow_null=True,
        help_text="The price of rows whose price cell is empty.",
    )
    default_exclusive = serializers.BooleanField(
        required=False, allow_null=True, help_text="Whether rows without an exclusive cell sell once (default: yes)."
    )
    default_max_sales = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SALES,
        required=False,
        allow_null=True,
        help_text="How many buyers non-exclusive rows without a max_sales cell may have.",
    )


class UploadConfirmInputSerializer(serializers.Serializer):
    mapping = MappingField(required=False)
    duplicate_policy = serializers.ChoiceField(
        choices=ImportJob.DuplicatePolicy.choices,
        required=False,
        help_text="A row naming someone already in one of your live listings: skip it (default), or update that "
        "listing's terms and lead while it is unsold. Listing the same person twice is not offered: create is 400.",
    )


class ListingRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why: the vendor reads it.")


# --- Output ---------------------------------------------------------------------------------


class ListingReviewOutputSerializer(ListingOutputSerializer):
    """A listing waiting for review: the Listing payload (contacts in full, for staff) with its
    lead's full data and who listed it from where."""

    # The status choice set is documented once, on ListingOutput (see ListingDetailOutput).
    status = serializers.CharField(help_text="available, sold_out or withdrawn (see ListingOutput).")
    lead = LeadOutputSerializer(help_text="The inventory lead behind the listing, in full.")
    created_by = serializers.IntegerField(allow_null=True, help_text="The vendor member who listed it.")
    upload = serializers.IntegerField(allow_null=True, help_text="The upload it came from; null: listed singly.")

    def to_representation(self, listing: Listing) -> dict:
        return {
            **super().to_representation(listing),
            "lead": LeadOutputSerializer(listing.lead).data,
            "created_by": listing.created_by_id,
            "upload": listing.upload_id,
        }


class ListingDecisionOutputSerializer(serializers.Serializer):
    """What a review decided (no contact data)."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    vendor = ListingVendorOutputSerializer()
    approval_status = serializers.ChoiceField(choices=Listing.ApprovalStatus.choices)
    status = serializers.CharField(help_text="available, sold_out or withdrawn (see ListingOutput).")
    rejection_reason = serializers.CharField(help_text="Empty when approved.")
    reviewed_at = serializers.DateTimeField(allow_null=True)
    reviewed_by = serializers.IntegerField(allow_null=True, help_text="The staff member; null: approved automatically.")

    def to_representation(self, listing: Listing) -> dict:
        return {
            "id": listing.pk,
            "title": listing.title,
            "vendor": {"id": listing.vendor_id, "name": listing.vendor.name, "quality": listing.vendor_quality},
            "approval_status": listing.approval_status,
            "status": listing.status,
            "rejection_reason": listing.rejection_reason,
            "reviewed_at": serializers.DateTimeField().to_representation(listing.reviewed_at)
            if listing.reviewed_at
            else None,
            "reviewed_by": listing.reviewed_by_id,
        }


# --- Uploads --------------------------------------------------------------------------------


class _UploadView(GenericAPIView):
    serializer_class = ImportJobOutputSerializer
    queryset = ImportJob.objects.none()  # for the schema; every request is scoped by the selectors
    filter_backends = []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "rejected_route": REJECTED_ROUTE}


class UploadListView(_UploadView):
    """Upload a file of listings, or list past uploads."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Your uploads of listings, newest first", responses={200: ImportJobOutputSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(upload_list(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Upload a CSV or XLSX file of listings: staged, with a guessed mapping and a preview",
        description="Vendors allowed to sell only. Nothing is listed until the upload is confirmed. Too large "
        "(file or rows) is 413 payload_too_large; not a CSV or XLSX by content is 415 unsupported_media_type; "
        "a malformed file is 400 validation_error naming the line or row.",
        request={"multipart/form-data": UploadInputSerializer},
        responses={201: ImportUploadOutputSerializer},
    )
    def post(self, request):
        data = validated(UploadInputSerializer, request)
        upload = services.upload_create(
            actor=request.user,
            file=data["file"],
            default_price=data.get("default_price"),
            default_exclusive=data.get("default_exclusive"),
            default_max_sales=data.get("default_max_sales"),
        )
        upload.job.preview = upload.preview
        data = ImportUploadOutputSerializer(upload.job, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


class UploadDetailView(_UploadView):
    @extend_schema(summary="One upload of listings: status, progress and counts")
    def get(self, request, upload_id: int):
        return Response(self.get_serializer(upload_get(user=request.user, upload_id=upload_id)).data)


class UploadConfirmView(_UploadView):
    serializer_class = ImportConfirmOutputSerializer

    @extend_schema(
        summary="Confirm an upload (optionally correcting the mapping); the listings are written in the background",
        description="An upload already confirmed is 409 illegal_transition; duplicate_policy create is 400.",
        request=UploadConfirmInputSerializer,
        responses={202: ImportConfirmOutputSerializer},
    )
    def post(self, request, upload_id: int):
        options = validated(UploadConfirmInputSerializer, request)
        job = services.upload_confirm(actor=request.user, upload_id=upload_id, **options)
        return Response({"id": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)


class UploadRejectedView(_UploadView):
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        summary="The rows of an upload that were not listed, as CSV, with a reason column",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file")},
    )
    def get(self, request, upload_id: int):
        return rejected_response(upload_rejected(user=request.user, upload_id=upload_id))


# --- Review (staff) -------------------------------------------------------------------------


class PendingApprovalView(GenericAPIView):
    serializer_class = ListingReviewOutputSerializer
    queryset = Listing.objects.none()
    filter_backends = []

    @extend_schema(
        summary="Listings waiting for review, oldest first, with their leads in full (staff)",
        description="Each listing shown is written to the reveal log.",
        responses={200: ListingReviewOutputSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(review_queue(user=request.user))
        listings = listings_disclose(actor=request.user, listings=page, context="api")
        return self.get_paginated_response(self.get_serializer(listings, many=True).data)


class ListingReviewViewSet(ServiceViewSet):
    serializer_class = ListingDecisionOutputSerializer
    queryset = Listing.objects.none()
    lookup_url_kwarg = "listing_id"

    @extend_schema(
        summary="Approve a listing: it enters the catalog and its vendor is told (staff)",
        description="A listing already reviewed is 409 illegal_transition; your own organization's is 403.",
        request=None,
        responses={200: ListingDecisionOutputSerializer},
    )
    def approve(self, request, listing_id: int):
        return self.respond(listing_services.listing_approve(actor=request.user, listing_id=self.object_id))

    @extend_schema(
        summary="Reject a listing with a reason its vendor is told (staff)",
        description="A listing already reviewed is 409 illegal_transition; your own organization's is 403.",
        request=ListingRejectInputSerializer,
        responses={200: ListingDecisionOutputSerializer},
    )
    def reject(self, request, listing_id: int):
        reason = self.validated(ListingRejectInputSerializer)["reason"]
        return self.respond(
            listing_services.listing_reject(actor=request.user, listing_id=self.object_id, reason=reason)
        )


api_urlpatterns = [
    path("marketplace/uploads/", UploadListView.as_view(), name="marketplace-uploads"),
    path("marketplace/uploads/<id:upload_id>/", UploadDetailView.as_view(), name="marketplace-upload"),
    path("marketplace/uploads/<id:upload_id>/confirm/", UploadConfirmView.as_view(), name="marketplace-upload-confirm"),
    path(
        "marketplace/uploads/<id:upload_id>/rejected/",
        UploadRejectedView.as_view(),
        name="marketplace-upload-rejected",
    ),
    path(
        "marketplace/listings/<id:listing_id>/approve/",
        ListingReviewViewSet.as_view({"post": "approve"}),
        name="marketplace-listing-approve",
    ),
    path(
        "marketplace/listings/<id:listing_id>/reject/",
        ListingReviewViewSet.as_view({"post": "reject"}),
        name="marketplace-listing-reject",
    ),
    path("workflows/leads/pending-approval/", PendingApprovalView.as_view(), name="pending-approval"),
]
