"""The buying side through the API (DESIGN §5): the cart, payments (create an intent, confirm
it, the provider's webhook), orders, purchases and their export, a vendor's sales, the wallet
and the earnings.

- `GET marketplace/cart` · `POST marketplace/cart/items {listing_id}` · `DELETE
  marketplace/cart/items/{id}`: refused with 409 own_listing | listing_unavailable |
  already_purchased; each item says whether it went stale and whether its person is already
  one of your leads.
- `POST payments/create-intent` and `POST payments/confirm` take an `Idempotency-Key`: the
  same key and body replay the first answer; a declined card is 402 card_declined or
  insufficient_funds and the intent can be confirmed again with another card; a listing
  sold meanwhile is 409 listing_unavailable with nothing charged.
- `POST payments/webhook` is the provider's (signed `LeadNexus-Signature`, no other
  credentials).

Every write calls `marketplace.services.cart` or `marketplace.services.checkout`, the same
functions the pages call; reads go through `marketplace.selectors_buying`.
"""

from django.conf import settings
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from leadnexus.core.api import PublicAPIView, ServiceViewSet
from leadnexus.core.crypto import SIGNATURE_HEADER
from leadnexus.core.idempotency import HEADER, idempotent
from leadnexus.core.ids import IdField
from leads.api.imports import DownloadNegotiation
from leads.api.records import LeadOutputSerializer
from leads.imports.export import XLSX_TYPE
from marketplace.api.catalog import ListingOutputSerializer, listing_payload
from marketplace.api.disputes import DisputeOpenInputSerializer, DisputeOutputSerializer
from marketplace.models import LedgerEntry, Order, OrderItem, Payment, Purchase
from marketplace.selectors_buying import (
    dispute_get,
    earnings_statement,
    order_get,
    order_list,
    purchase_get,
    purchase_list,
    sale_list,
    wallet_statement,
)
from marketplace.services import cart as cart_services
from marketplace.services import checkout as checkout_services
from marketplace.services import disputes as dispute_services
from marketplace.services.reveals import listings_disclose, purchases_export

_IDEMPOTENCY = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="A key of yours for this payment step: the same key and body replay the first answer.",
)
_FORMAT = OpenApiParameter(
    "format", str, enum=["csv", "xlsx"], required=False, description="Default: your export preference."
)


# --- Cart --------------------------------------------------------------------------------------

_DATETIME = serializers.DateTimeField()


class CartAddInputSerializer(serializers.Serializer):
    listing_id = IdField()


class DuplicateWarningSerializer(serializers.Serializer):
    lead_id = serializers.IntegerField(help_text="Your lead with the same person.")
    certain = serializers.BooleanField(help_text="false: only the name and company match.")
    on = serializers.ChoiceField(choices=["email", "phone", "name_company"])


class CartItemOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing = ListingOutputSerializer()
    added_at = serializers.DateTimeField()
    stale = serializers.BooleanField(help_text="It can no longer be bought (see stale_reason).")
    stale_reason = serializers.CharField(allow_blank=True)
    in_your_leads = DuplicateWarningSerializer(
        allow_null=True, help_text="This listing's person is already one of your organization's leads."
    )


class CartOutputSerializer(serializers.Serializer):
    items = CartItemOutputSerializer(many=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Of the items that can be bought.")
    currency = serializers.CharField()


def _duplicate(match) -> dict | None:
    return None if match is None else {"lead_id": match.lead_id, "certain": match.certain, "on": match.on}


def _cart_payload(request) -> dict:
    """The cart as CartOutputSerializer documents it, rendered by hand: its listings are
    catalog payloads (`listing_payload`), already in their final form."""
    cart = cart_services.cart_view(user=request.user)
    listings = listings_disclose(actor=request.user, listings=[line.listing for line in cart.lines], context="api")
    return {
        "items": [
            {
                "id": line.item.pk,
                "listing": listing_payload(listing),
                "added_at": _DATETIME.to_representation(line.item.added_at),
                "stale": bool(line.stale),
                "stale_reason": line.stale,
                "in_your_leads": _duplicate(line.in_your_leads),
            }
            for line, listing in zip(cart.lines, listings, strict=True)
        ],
        "total": f"{cart.total:.2f}",
        "currency": cart.currency,
    }


class CartView(APIView):
    @extend_schema(summary="Your cart", responses={200: CartOutputSerializer})
    def get(self, request):
        return Response(_cart_payload(request))


@extend_schema_view(
    create=extend_schema(
        summary="Put a listing in your cart",
        request=CartAddInputSerializer,
        responses={201: CartItemOutputSerializer},
    ),
    destroy=extend_schema(summary="Take an item out of your cart", responses={204: None}),
)
class CartItemViewSet(ServiceViewSet):
    queryset = Purchase.objects.none()  # names a model for the schema; the services scope everything
    serializer_class = CartItemOutputSerializer

    def create(self, request, *args, **kwargs):
        item = cart_services.cart_add(actor=request.user, **self.validated(CartAddInputSerializer))
        payload = next(line for line in _cart_payload(request)["items"] if line["id"] == item.pk)
        return Response(payload, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        cart_services.cart_remove(actor=request.user, item_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Payments ----------------------------------------------------------------------------------


class CreateIntentInputSerializer(serializers.Serializer):
    use_wallet_credit = serializers.BooleanField(
        required=False, default=False, help_text="Pay with your wallet credit first, the rest by card."
    )


class IntentOutputSerializer(serializers.Serializer):
    payment_intent_id = serializers.CharField(source="payment.intent_id")
    order_id = serializers.IntegerField(source="pk")
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    wallet_applied = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="What the card pays.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Payment.Status.choices, source="payment.status")


class ConfirmInputSerializer(serializers.Serializer):
    payment_intent_id = serializers.CharField(max_length=100)
    card_number = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text="Omitted when the wallet pays it all."
    )


class DeliveredOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    listing_id = serializers.IntegerField()
    delivered_lead_id = serializers.IntegerField(allow_null=True)


class ConfirmOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Payment.Status.choices, source="payment.status")
    order_id = serializers.IntegerField(source="pk")
    order_status = serializers.ChoiceField(choices=Order.Status.choices, source="status")
    purchases = serializers.SerializerMethodField()

    @extend_schema_field(DeliveredOutputSerializer(many=True))
    def get_purchases(self, order) -> list:
        bought = Purchase.objects.filter(order_item__order=order).order_by("id")
        return DeliveredOutputSerializer(bought, many=True).data


class PaymentsViewSet(ServiceViewSet):
    queryset = Payment.objects.none()
    serializer_class = IntentOutputSerializer  # what OPTIONS describes; each action names its own
    quota_groups = {"create_intent": "payments", "confirm": "payments"}

    @extend_schema(
        summary="Check out: freeze your cart into an order and create its payment intent",
        parameters=[_IDEMPOTENCY],
        request=CreateIntentInputSerializer,
        responses={201: IntentOutputSerializer},
    )
    @action(detail=False, methods=["post"], url_path="create-intent")
    @idempotent
    def create_intent(self, request):
        order = checkout_services.checkout_create_intent(
            actor=request.user, **self.validated(CreateIntentInputSerializer)
        )
        return Response(IntentOutputSerializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Pay: hold the listings, charge the card, deliver the leads",
        description="402 card_declined or insufficient_funds: nothing was charged or kept, confirm again with "
        "another card. 409 listing_unavailable or already_purchased names the item; nothing was charged.",
        parameters=[_IDEMPOTENCY],
        request=ConfirmInputSerializer,
        responses={200: ConfirmOutputSerializer},
    )
    @action(detail=False, methods=["post"])
    @idempotent
    def confirm(self, request):
        data = self.validated(ConfirmInputSerializer)
        order = checkout_services.checkout_confirm(
            actor=request.user, intent_id=data["payment_intent_id"], card_number=data.get("card_number")
        )
        return Response(ConfirmOutputSerializer(order).data)


class WebhookOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.CharField()


class PaymentWebhookView(PublicAPIView):
    """Reads the raw body (never `request.data`): the signature covers the exact bytes."""

    @extend_schema(
        summary="The payment provider's events (signed; no other credentials)",
        parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True)],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: WebhookOutputSerializer},
    )
    def post(self, request):
        outcome = checkout_services.payment_webhook_receive(
            body=request.body, signature=request.headers.get(SIGNATURE_HEADER, "")
        )
        return Response({"received": True, "outcome": outcome})


# --- Orders, purchases, sales ------------------------------------------------------------------


class OrderPaymentOutputSerializer(serializers.ModelSerializer):
    payment_intent_id = serializers.CharField(source="intent_id")

    class Meta:
        model = Payment
        fields = [
            "payment_intent_id",
            "provider",
            "status",
            "amount",
            "currency",
            "card_last4",
            "last_error_code",
            "refunded_amount",
        ]


class OrderItemOutputSerializer(serializers.ModelSerializer):
    purchase_id = serializers.SerializerMethodField()

    class Meta:
        model = OrderItem
        fields = ["id", "listing_id", "title", "price", "state", "purchase_id"]

    def get_purchase_id(self, item) -> int | None:
        purchase = getattr(item, "purchase", None)
        return purchase.pk if purchase is not None else None


class OrderOutputSerializer(serializers.ModelSerializer):
    amount_due = serializers.DecimalField(max_digits=12, decimal_places=2)
    payment = OrderPaymentOutputSerializer()
    items = OrderItemOutputSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "status",
            "total",
            "wallet_applied",
            "amount_due",
            "currency",
            "placed_by",
            "created_at",
            "paid_at",
            "canceled_at",
            "payment",
            "items",
        ]


class PurchaseOutputSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField(source="order_item.order_id", allow_null=True, default=None)
    listing_title = serializers.CharField(source="listing.title")
    vendor = serializers.CharField(source="listing.vendor.name")
    lead = LeadOutputSerializer(source="delivered_lead", allow_null=True, help_text="Your lead, contacts in full.")
    dispute_id = serializers.SerializerMethodField()

    class Meta:
        model = Purchase
        fields = [
            "id",
            "listing_id",
            "listing_title",
            "vendor",
            "order_id",
            "price",
            "currency",
            "status",
            "purchased_at",
            "dispute_deadline",
            "delivered_lead_id",
            "lead",
            "dispute_id",
        ]

    def get_dispute_id(self, purchase) -> int | None:
        dispute = getattr(purchase, "dispute", None)
        return dispute.pk if dispute is not None else None


class SaleOutputSerializer(serializers.ModelSerializer):
    listing_title = serializers.CharField(source="listing.title")
    buyer = serializers.CharField(source="buyer.name")
    earning = serializers.SerializerMethodField(help_text="pending (in the dispute window), available or refunded.")

    class Meta:
        model = Purchase
        fields = [
            "id",
            "listing_id",
            "listing_title",
            "buyer",
            "price",
            "vendor_earning",
            "platform_fee",
            "currency",
            "status",
            "purchased_at",
            "dispute_deadline",
            "earning",
        ]

    def get_earning(self, sale) -> str:
        if sale.status == Purchase.Status.REFUNDED:
            return "refunded"
        return "available" if sale.earning_released_at else "pending"


@extend_schema_view(
    list=extend_schema(summary="Your organization's orders, newest first"),
    retrieve=extend_schema(summary="One order"),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = OrderOutputSerializer
    queryset = Order.objects.none()  # names the model for the schema; the selector scopes each request

    def get_queryset(self):
        return order_list(user=self.request.user)

    def get_object(self):
        return order_get(user=self.request.user, order_id=self.object_id)


@extend_schema_view(
    list=extend_schema(summary="Your organization's purchases, each with its lead in full"),
    retrieve=extend_schema(summary="One purchase"),
)
class PurchaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ServiceViewSet):
    serializer_class = PurchaseOutputSerializer
    queryset = Purchase.objects.none()

    def get_queryset(self):
        return purchase_list(user=self.request.user)

    def get_object(self):
        return purchase_get(user=self.request.user, purchase_id=self.object_id)

    @extend_schema(
        summary="Dispute a purchase, within its dispute window",
        description="409 dispute_window_closed after the purchase's dispute_deadline; 409 dispute_limit_reached "
        "past your organization's monthly number of disputes.",
        request=DisputeOpenInputSerializer,
        responses={201: DisputeOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        dispute = dispute_services.dispute_open(
            actor=request.user, purchase_id=self.object_id, **self.validated(DisputeOpenInputSerializer)
        )
        return Response(
            DisputeOutputSerializer(dispute_get(user=request.user, dispute_id=dispute.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Your purchases as CSV or XLSX, contacts in full",
        parameters=[_FORMAT],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
        },
    )
    @action(detail=False, methods=["get"], pagination_class=None, content_negotiation_class=DownloadNegotiation)
    def export(self, request):
        return purchases_export(actor=request.user, format=request.query_params.get("format"))


@extend_schema_view(list=extend_schema(summary="Your listings sold (vendors), newest first"))
class SaleViewSet(mixins.ListModelMixin, ServiceViewSet):
    serializer_class = SaleOutputSerializer
    queryset = Purchase.objects.none()

    def get_queryset(self):
        return sale_list(user=self.request.user)


# --- Wallet and earnings -----------------------------------------------------------------------


class StatementEntryOutputSerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="transaction.created_at")
    kind = serializers.CharField(source="transaction.kind")
    account = serializers.ChoiceField(choices=LedgerEntry.Account.choices)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    balance_after = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Of this entry's account.")
    ref = serializers.SerializerMethodField()

    def get_ref(self, entry) -> str:
        return f"{entry.transaction.ref_type}:{entry.transaction.ref_id}"


class WalletOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    balance = serializers.DecimalField(max_digits=14, decimal_places=2)
    available = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="The balance less what payments being processed will spend."
    )
    entries = StatementEntryOutputSerializer(many=True)


class EarningsOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    pending = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Inside their dispute window.")
    available = serializers.DecimalField(max_digits=14, decimal_places=2)
    entries = StatementEntryOutputSerializer(many=True)


class WalletView(APIView):
    @extend_schema(
        summary="Your organization's wallet and its latest movements", responses={200: WalletOutputSerializer}
    )
    def get(self, request):
        statement = wallet_statement(user=request.user)
        available = checkout_services.wallet_available(organization_id=request.user.organization_id)
        return Response(
            WalletOutputSerializer(
                _statement(statement, balance=statement.balances["wallet"], available=available)
            ).data
        )


class EarningsView(APIView):
    @extend_schema(summary="Your earnings (vendors): pending and available", responses={200: EarningsOutputSerializer})
    def get(self, request):
        statement = earnings_statement(user=request.user)
        balances = statement.balances
        return Response(
            EarningsOutputSerializer(
                _statement(statement, pending=balances["vendor_pending"], available=balances["vendor_available"])
            ).data
        )


def _statement(statement, **figures) -> dict:
    return {"currency": settings.CURRENCY, **figures, "entries": statement.entries}


router = SimpleRouter()
router.register("marketplace/cart/items", CartItemViewSet, basename="cart-item")
router.register("payments", PaymentsViewSet, basename="payments")
router.register("marketplace/orders", OrderViewSet, basename="order")
router.register("marketplace/purchases", PurchaseViewSet, basename="purchase")
router.register("marketplace/sales", SaleViewSet, basename="sale")

api_urlpatterns = [
    path("marketplace/cart/", CartView.as_view(), name="cart"),
    path("marketplace/wallet/", WalletView.as_view(), name="wallet"),
    path("marketplace/earnings/", EarningsView.as_view(), name="earnings"),
    path("payments/webhook/", PaymentWebhookView.as_view(), name="payments-webhook"),
    *router.urls,
]
