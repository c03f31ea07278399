"""Disputes through the API (DESIGN §5): `POST marketplace/purchases/{id}/dispute` (on the
purchases viewset), `GET marketplace/disputes[/{id}]` (yours as buyer or vendor; staff: all,
open ones first), `POST …/{id}/respond {response}` (the vendor), `POST …/{id}/resolve
{decision: refund|refund_to_card|reject, note}` (staff). Writes call
`marketplace.services.disputes`."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from leadnexus.core.api import ServiceViewSet
from marketplace.models import Dispute
from marketplace.selectors_buying import dispute_get, dispute_list
from marketplace.services import disputes as services


class DisputeOpenInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=Dispute.Reason.choices)
    details = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TEXT, default="")


class DisputeRespondInputSerializer(serializers.Serializer):
    response = serializers.CharField(max_length=services.MAX_TEXT)


class DisputeResolveInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Dispute.Decision.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_TEXT, default="")


class DisputeOutputSerializer(serializers.ModelSerializer):
    purchase_id = serializers.IntegerField()
    listing_id = serializers.IntegerField(source="purchase.listing_id")
    listing_title = serializers.CharField(source="purchase.listing.title")
    price = serializers.DecimalField(source="purchase.price", max_digits=10, decimal_places=2)
    buyer = serializers.CharField(source="buyer.name")
    vendor = serializers.CharField(source="vendor.name")

    class Meta:
        model = Dispute
        fields = [
            "id",
            "purchase_id",
            "listing_id",
            "listing_title",
            "price",
            "buyer",
            "vendor",
            "status",
            "reason",
            "details",
            "vendor_response",
            "decision",
            "resolution_note",
            "created_at",
            "responded_at",
            "resolved_at",
        ]


@extend_schema_view(
    list=extend_schema(summary="Disputes of your purchases and of your sales (staff: all), open ones first"),
    retrieve=extend_schema(summary="One dispute"),
)
class DisputeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = DisputeOutputSerializer
    queryset = Dispute.objects.none()  # names the model for the schema; the selector scopes each request

    def get_queryset(self):
        return dispute_list(user=self.request.user)

    def get_object(self):
        return dispute_get(user=self.request.user, dispute_id=self.object_id)

    @extend_schema(
        summary="Answer a dispute of one of your sales (vendors)",
        request=DisputeRespondInputSerializer,
        responses={200: DisputeOutputSerializer},
    )
    @action(detail=True, methods=["post"], url_path="respond")
    def vendor_response(self, request, pk=None):
        response = self.validated(DisputeRespondInputSerializer)["response"]
        dispute = services.dispute_respond(actor=request.user, dispute_id=self.object_id, response=response)
        return self.respond(dispute_get(user=request.user, dispute_id=dispute.pk))

    @extend_schema(
        summary="Decide a dispute (staff): refund to the wallet or the card, or reject",
        request=DisputeResolveInputSerializer,
        responses={200: DisputeOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        dispute = services.dispute_resolve(
            actor=request.user, dispute_id=self.object_id, **self.validated(DisputeResolveInputSerializer)
        )
        return self.respond(dispute_get(user=request.user, dispute_id=dispute.pk))


router = SimpleRouter()
router.register("marketplace/disputes", DisputeViewSet, basename="dispute")

api_urlpatterns = router.urls
