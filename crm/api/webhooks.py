"""Outbound webhooks through the API: `CRUD /api/webhooks/` (managers and management of the
organization), `GET /api/webhooks/{id}/deliveries/` (the delivery log, newest first) and
`POST /api/webhooks/{id}/test/` (a ping). The secret is shown in full only when the
endpoint is created; another organization's endpoint is 404."""

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.models import WebhookDelivery, WebhookEndpoint
from crm.selectors import webhook_delivery_list, webhook_endpoint_get, webhook_endpoint_list
from crm.services import webhooks as services
from crm.webhook_events import EVENT_CHOICES
from leadnexus.core.api import RecordViewSet


@extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES)))
class EventKeysField(serializers.ListField):
    """Event keys; the service names any unknown one, and the keys to choose from, under the
    field (not per list position)."""

    child = serializers.CharField(max_length=50)

    def __init__(self, **kwargs):
        super().__init__(allow_empty=False, min_length=1, max_length=len(EVENT_CHOICES), **kwargs)


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=1000, help_text="http:// or https://, at a public address.")
    events = EventKeysField()
    secret = serializers.CharField(
        min_length=16, max_length=200, required=False, help_text="Signs every delivery; made for you when not given."
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookEndpointUpdateInputSerializer(WebhookEndpointInputSerializer):
    """Only the fields sent change."""

    is_active = serializers.BooleanField(required=False, help_text="Turning it back on forgets its failures.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class WebhookEndpointOutputSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    secret = serializers.CharField(source="secret_hint", read_only=True, help_text="Masked: its last four characters.")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "secret",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointCreatedOutputSerializer(WebhookEndpointOutputSerializer):
    secret = serializers.CharField(read_only=True, help_text="In full, this once: store it to check signatures.")


class WebhookDeliveryOutputSerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event_type", help_text="The event key, or ping.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "response_code",
            "response_excerpt",
            "error",
            "next_attempt_at",
            "last_attempt_at",
            "delivered_at",
            "created_at",
            "payload",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="The organization's webhook endpoints (managers)"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    create=extend_schema(
        summary="Register a webhook endpoint (its secret is shown in full only in this answer)",
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointCreatedOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a webhook endpoint, or turn it off or back on",
        request=WebhookEndpointUpdateInputSerializer,
        responses={200: WebhookEndpointOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete a webhook endpoint and its delivery log", responses={204: None}),
)
class WebhookEndpointViewSet(RecordViewSet):
    serializer_class = WebhookEndpointOutputSerializer
    queryset = WebhookEndpoint.objects.none()  # names the model for the schema; the selector scopes each request
    filter_backends = []

    def get_queryset(self):
        return webhook_endpoint_list(user=self.request.user)

    def get_object(self):
        return webhook_endpoint_get(user=self.request.user, endpoint_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = self.validated(WebhookEndpointInputSerializer)
        endpoint = services.webhook_endpoint_create(
            actor=request.user,
            url=data["url"],
            events=data["events"],
            secret=data.get("secret", ""),
            description=data.get("description", ""),
        )
        return Response(WebhookEndpointCreatedOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = self.validated(WebhookEndpointUpdateInputSerializer)
        return self.respond(services.webhook_endpoint_update(actor=request.user, endpoint_id=self.object_id, data=data))

    def destroy(self, request, *args, **kwargs):
        services.webhook_endpoint_delete(actor=request.user, endpoint_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The endpoint's deliveries, newest first, with the answer of each one's latest attempt",
        responses={200: WebhookDeliveryOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        page = self.paginate_queryset(webhook_delivery_list(user=request.user, endpoint_id=self.object_id))
        return self.get_paginated_response(WebhookDeliveryOutputSerializer(page, many=True).data)

    @extend_schema(
        summary="Send the endpoint a ping (sent at once unless a worker sends it)",
        request=None,
        responses={202: WebhookDeliveryOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.webhook_endpoint_test(actor=request.user, endpoint_id=self.object_id)
        return Response(WebhookDeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
api_urlpatterns = router.urls
