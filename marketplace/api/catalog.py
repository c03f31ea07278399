"""The catalog and a vendor's listings through the API: `/api/marketplace/listings/`.

- `GET` lists the catalog (approved, available listings), keyset-paged by `?cursor=`, with
  the filters and orderings of DESIGN §5; `?mine=true` lists the caller's vendor
  organization's own listings in any status. Anyone may browse the catalog, signed in or
  not: contacts are masked unless the viewer is the vendor, staff or an organization that
  bought the listing; buying needs an account.
- `GET …/{id}/` one listing (a catalog listing, one of the caller's own, or any for staff).
- `GET …/export/?format=csv|xlsx` the same list as a file (signed in, `can_export`).
- `POST` lists a lead (its fields, or `lead_id` of one of the vendor's CRM leads), `PATCH`
  edits an unsold listing's title, description, industry and price, `DELETE` withdraws it.

Reads go through `marketplace.selectors_catalog`, reveals are logged by
`marketplace.services.reveals`, writes go through `marketplace.services.listings`.
"""

from datetime import UTC

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.utils.urls import replace_query_param

from leadnexus.core.api import ServiceViewSet
from leadnexus.core.ids import IdField
from leadnexus.core.pagination import KeysetPagination
from leads.api.imports import DownloadNegotiation
from leads.api.records import LeadFieldsInputSerializer
from leads.imports.export import XLSX_TYPE
from leads.models import Lead
from marketplace.models import Listing
from marketplace.selectors_catalog import (
    Catalog,
    CatalogFilter,
    catalog_page,
    catalog_search,
    listing_get,
    listing_values,
    score_breakdown,
)
from marketplace.services import listings as services
from marketplace.services.listings import MAX_SALES
from marketplace.services.reveals import catalog_export, listings_disclose

# API times are UTC (DESIGN §5); naming the zone also spares a look-up of the current one per row.
_DATETIME = serializers.DateTimeField(default_timezone=UTC)

# --- Input ----------------------------------------------------------------------------------


class ListingTermsInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    industry = serializers.CharField(required=False, allow_blank=True, max_length=100)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="In the site's currency.")
    exclusive = serializers.BooleanField(required=False, default=True, help_text="Sold once only (default).")
    max_sales = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=MAX_SALES, help_text="How many buyers; 1 when exclusive."
    )


class ListingCreateInputSerializer(ListingTermsInputSerializer, LeadFieldsInputSerializer):
    """The listing's terms and its lead: the lead's own fields, or `lead_id` to copy one of
    the vendor's CRM leads (then the lead fields given here are ignored)."""

    lead_id = IdField(required=False, help_text="One of your organization's leads, copied into the listing.")


class ListingUpdateInputSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    industry = serializers.CharField(required=False, allow_blank=True, max_length=100)
    price = serializers.DecimalField(required=False, max_digits=12, decimal_places=2)


# --- Output ---------------------------------------------------------------------------------


class ListingVendorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    quality = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="null: not rated yet."
    )


class VendorQualityOutputSerializer(serializers.Serializer):
    """A vendor's quality figures over the leads it sold (see `analytics.quality`)."""

    score = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="0 to 5; null: not rated yet."
    )
    rated = serializers.BooleanField(help_text="false until the vendor has sold min_sample leads.")
    sold = serializers.IntegerField(help_text="Sold leads the figures rest on.")
    min_sample = serializers.IntegerField(help_text="Sold leads needed before a score exists.")
    contact_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text="Share (0 to 1) of sold leads their buyer reached."
    )
    win_rate = serializers.DecimalField(
        max_digits=5, decimal_places=4, allow_null=True, help_text="Share (0 to 1) of sold leads with a won deal."
    )
    dispute_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        allow_null=True,
        help_text="Share (0 to 1) of sold leads disputed (rejected disputes do not count).",
    )


class CatalogVendorOutputSerializer(ListingVendorOutputSerializer):
    quality_figures = VendorQualityOutputSerializer()


class ListingOutputSerializer(serializers.Serializer):
    """The Listing payload of DESIGN §5. Hand the listings to
    `marketplace.services.reveals.listings_disclose` first (one query per page); a listing
    that was not disclosed renders masked and not purchased.

    Rendered by hand (the catalog's hot path); the declared fields document the schema and
    a test keeps the two in step."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    industry = serializers.CharField()
    location = serializers.CharField()
    employee_count = serializers.IntegerField(allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.CharField()
    exclusive = serializers.BooleanField()
    max_sales = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="How many more buyers may buy it.")
    lead_score = serializers.IntegerField(help_text="0 to 100.")
    score = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="The listing score the catalog ranks by (0 to 100): 0.8 x lead_score + 4 x vendor quality, "
        "a vendor not rated yet counting as 2.5.",
    )
    validation_status = serializers.ChoiceField(choices=Lead.ValidationStatus.choices)
    approval_status = serializers.ChoiceField(choices=Listing.ApprovalStatus.choices)
    status = serializers.ChoiceField(choices=Listing.Status.choices)
    vendor = CatalogVendorOutputSerializer()
    company_name = serializers.CharField(help_text="Masked (A*** Inc.) unless is_masked is false.")
    website = serializers.CharField(help_text="Masked (a***.com) unless is_masked is false.")
    contact_name = serializers.CharField(help_text="Masked (J*** S***) unless is_masked is false.")
    contact_email = serializers.CharField(help_text="Masked (j***@a***.com) unless is_masked is false.")
    contact_phone = serializers.CharField(help_text="Masked (+1 ***-***-4567) unless is_masked is false.")
    is_masked = serializers.BooleanField(
        help_text="false for the vendor, staff and an organization that bought the listing."
    )
    is_purchased = serializers.BooleanField(help_text="Your organization bought this listing.")
    created_at = serializers.DateTimeField()

    def to_representation(self, listing: Listing) -> dict:
        return listing_payload(listing)


def listing_payload(listing) -> dict:
    """The Listing payload of one disclosed listing (a model or a catalog row), as
    `ListingOutputSerializer` documents it; lists call it per row, without building a list
    serializer."""
    values = listing_values(listing)
    quality = values.pop("vendor_quality")
    vendor = {
        "id": values.pop("vendor_id"),
        "name": values["vendor"],
        "quality": f"{quality:.2f}" if quality is not None else None,
        "quality_figures": values.pop("vendor_quality_figures").payload(),
    }
    values.update(
        price=f"{listing.price:.2f}",
        score=f"{values['score']:.2f}",
        vendor=vendor,
        created_at=_DATETIME.to_representation(listing.created_at),
    )
    return values


class ScoreFactorOutputSerializer(serializers.Serializer):
    factor = serializers.CharField()
    label = serializers.CharField()
    points = serializers.IntegerField(allow_null=True)
    max = serializers.IntegerField(allow_null=True)
    why = serializers.CharField()


class ListingDetailOutputSerializer(ListingOutputSerializer):
    # The status choice set is documented once, on ListingOutput (a second component with the
    # same field name and other choices than the lead's status would need a schema-wide enum name).
    status = serializers.CharField(help_text="available, sold_out or withdrawn (see ListingOutput).")
    score_breakdown = ScoreFactorOutputSerializer(many=True, help_text="How the lead earned its score.")
    rejection_reason = serializers.CharField(help_text="Why staff rejected it (shown to its vendor and staff).")
    vendor_sales = serializers.IntegerField(help_text="Listings the vendor has sold.")
    vendor_dispute_rate = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, help_text="Disputes per hundred sales; null: no sales yet."
    )

    def to_representation(self, listing: Listing) -> dict:
        standing = getattr(listing.vendor, "standing", None)
        rate = standing.dispute_rate if standing is not None else None
        return {
            **super().to_representation(listing),
            "score_breakdown": score_breakdown(listing),
            "rejection_reason": listing.rejection_reason if getattr(listing, "contacts_revealed", False) else "",
            "vendor_sales": standing.sales if standing is not None else 0,
            "vendor_dispute_rate": None if rate is None else str(rate),
        }


# --- Pages of the catalog --------------------------------------------------------------------


class CatalogPagination(KeysetPagination):
    """Keyset pages of a `Catalog` (`marketplace.selectors_catalog.catalog_page`)."""

    def paginate_catalog(self, catalog: Catalog, request) -> list[Listing]:
        self.request = request
        page = catalog_page(
            catalog, cursor=request.query_params.get(self.cursor_query_param), size=self._page_size(request)
        )
        self.cursors = {True: page.next_cursor, False: page.previous_cursor}
        return page.listings

    def get_paginated_response(self, data):
        return Response({"next": self._catalog_link(True), "previous": self._catalog_link(False), "results": data})

    def _catalog_link(self, forward: bool):
        cursor = self.cursors[forward]
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)


def _mine(request) -> bool:
    try:
        return serializers.BooleanField().run_validation(request.query_params.get("mine", False))
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({"mine": exc.detail}) from None


_MINE = OpenApiParameter(
    "mine",
    OpenApiTypes.BOOL,
    description="true: your vendor organization's own listings, in any status (signed in); default ordering -created.",
)
_FORMAT = OpenApiParameter(
    "format", str, enum=["csv", "xlsx"], required=False, description="Default: your export preference."
)


@extend_schema_view(
    list=extend_schema(
        summary="Browse the catalog (anyone), or your own listings with mine=true",
        description="Keyset pages: follow `next`/`previous`; there is no count. Contacts are masked unless you "
        "are the vendor, staff or bought the listing (is_masked says which).",
        parameters=[_MINE],
    ),
    retrieve=extend_schema(
        summary="One listing: in the catalog, one of yours in any status, or any for staff",
        responses={200: ListingDetailOutputSerializer},
    ),
    create=extend_schema(
        summary="List a lead for sale (it waits for approval)",
        request=ListingCreateInputSerializer,
        responses={201: ListingOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Edit an unsold listing's title, description, industry or price",
        request=ListingUpdateInputSerializer,
        responses={200: ListingOutputSerializer},
    ),
    destroy=extend_schema(
        summary="Withdraw a listing from sale", responses={204: OpenApiResponse(description="Withdrawn")}
    ),
)
class ListingViewSet(ServiceViewSet):
    serializer_class = ListingOutputSerializer
    # Names the model for schema introspection only: the selectors scope every request.
    queryset = Listing.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = CatalogFilter
    pagination_class = CatalogPagination
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "destroy": "lead_writes"}

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return [IsAuthenticated()]

    def list(self, request, *args, **kwargs):
        catalog = catalog_search(user=request.user, params=request.query_params, mine=_mine(request))
        listings = self.paginator.paginate_catalog(catalog, request)
        listings = listings_disclose(actor=request.user, listings=listings, context="api")
        return self.get_paginated_response([listing_payload(listing) for listing in listings])

    def retrieve(self, request, *args, **kwargs):
        listing = listing_get(user=request.user, listing_id=self.object_id)
        listings_disclose(actor=request.user, listings=[listing], context="api")
        return Response(ListingDetailOutputSerializer(listing).data)

    def create(self, request, *args, **kwargs):
        data = dict(self.validated(ListingCreateInputSerializer))
        lead_id = data.pop("lead_id", None)
        if lead_id is not None:
            terms = {name: data[name] for name in services.LISTING_FIELDS if name in data}
            listing = services.listing_create_from_lead(actor=request.user, lead_id=lead_id, data=terms)
        else:
            listing = services.listing_create(actor=request.user, data=data)
        listings_disclose(actor=request.user, listings=[listing], context="api")
        return Response(ListingOutputSerializer(listing).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        changes = self.validated(ListingUpdateInputSerializer)
        listing = services.listing_update(actor=request.user, listing_id=self.object_id, changes=dict(changes))
        listings_disclose(actor=request.user, listings=[listing], context="api")
        return Response(ListingOutputSerializer(listing).data)

    def destroy(self, request, *args, **kwargs):
        services.listing_withdraw(actor=request.user, listing_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download the list you see (same filters and ordering), as CSV or XLSX",
        description="Needs the export permission. Contacts are masked exactly as in the list; cells a "
        "spreadsheet would run as a formula are prefixed with a single quote.",
        parameters=[_MINE, _FORMAT],
        filters=True,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None, content_negotiation_class=DownloadNegotiation)
    def export(self, request):
        return catalog_export(
            actor=request.user,
            params=request.query_params,
            format=request.query_params.get("format"),
            mine=_mine(request),
        )


router = SimpleRouter()
router.register("marketplace/listings", ListingViewSet, basename="listing")

api_urlpatterns = router.urls
