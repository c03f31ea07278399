"""Email campaigns through the API (DESIGN §5): `CRUD /api/campaigns/` with their steps (a
list, replaced whole on change; only before sending starts), and per campaign
`POST …/test` (step 1 to yourself), `GET …/preview?recipient=`, `POST …/schedule
{send_at|null}`, `…/pause`, `…/resume`, `…/cancel`, `GET …/stats` and `GET …/recipients`
(`?status=`). `POST /api/campaigns/bounces` takes the mail service's signed bounce reports.

Every member who may view leads reads them; managers and management write and send them
(`crm.policy.can_manage_campaigns`); another organization's campaign is 404. Reads go
through `crm.selectors_campaigns`, writes through the campaign services."""

import django_filters
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from crm.campaign_content import MERGE_HELP
from crm.models import Campaign, CampaignRecipient, CampaignStep
from crm.selectors_campaigns import (
    EXCLUSIONS,
    campaign_get,
    campaign_list,
    campaign_preview,
    campaign_recipient_list,
    campaign_stats,
)
from crm.services import campaigns as services
from crm.services.campaign_tracking import campaign_bounce_receive
from leadnexus.core.api import PublicAPIView, RecordViewSet
from leadnexus.core.crypto import SIGNATURE_HEADER
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.filters import TextFilter
from leadnexus.core.ids import IdField

# --- Input ----------------------------------------------------------------------------------------


class CampaignStepInputSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255, help_text=MERGE_HELP)
    body = serializers.CharField(max_length=services.MAX_BODY, help_text="Plain text. " + MERGE_HELP)
    subject_b = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Step 1 of an A/B test: the B subject."
    )
    body_b = serializers.CharField(
        max_length=services.MAX_BODY, required=False, allow_blank=True, help_text="Step 1 of an A/B test: the B body."
    )
    delay_days = serializers.IntegerField(
        min_value=0, max_value=365, required=False, help_text="Later steps: days after the previous step finished."
    )
    condition = serializers.ChoiceField(
        choices=CampaignStep.Condition.choices, required=False, help_text="Later steps: who is sent it."
    )


class CampaignInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    audience_kind = serializers.ChoiceField(choices=Campaign.AudienceKind.choices, required=False)
    audience_filter = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="The leads' or contacts' list filters as query parameters, e.g. "
        '{"status": ["qualified"], "industry": "software"}.',
    )
    ab_test = serializers.BooleanField(required=False)
    ab_metric = serializers.ChoiceField(choices=Campaign.AbMetric.choices, required=False)
    ab_sample_percent = serializers.IntegerField(min_value=10, max_value=100, required=False)
    ab_wait_hours = serializers.IntegerField(min_value=1, max_value=168, required=False)
    steps = serializers.ListField(
        child=CampaignStepInputSerializer(), min_length=1, max_length=services.MAX_STEPS, help_text="In order."
    )


class CampaignUpdateInputSerializer(CampaignInputSerializer):
    """Only the fields sent change; `steps` replaces every step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class CampaignScheduleInputSerializer(serializers.Serializer):
    send_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Omitted, null or past: now.")


class CampaignTestInputSerializer(serializers.Serializer):
    recipient = IdField(
        required=False, allow_null=True, help_text="A lead or contact of the audience; default the first one."
    )


class CampaignPreviewQuerySerializer(serializers.Serializer):
    recipient = IdField(required=False, help_text="A lead or contact of the audience; default the first one.")
    step = serializers.IntegerField(min_value=1, max_value=services.MAX_STEPS, required=False, default=1)
    variant = serializers.ChoiceField(choices=Campaign.Variant.choices, required=False, default=Campaign.Variant.A)


# --- Output ---------------------------------------------------------------------------------------


class CampaignExcludedOutputSerializer(serializers.Serializer):
    unsubscribed = serializers.IntegerField()
    bounced = serializers.IntegerField()
    erased = serializers.IntegerField(help_text="An address whose person's data was erased on request.")
    invalid = serializers.IntegerField(help_text="No usable email address.")
    duplicate = serializers.IntegerField(help_text="An address already in the audience.")


class CampaignStepOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignStep
        fields = [
            "position",
            "subject",
            "body",
            "subject_b",
            "body_b",
            "delay_days",
            "condition",
            "status",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class CampaignOutputSerializer(serializers.ModelSerializer):
    steps = CampaignStepOutputSerializer(many=True, read_only=True)
    excluded = serializers.SerializerMethodField(help_text="People left out when sending began, by reason.")
    ab_winner = serializers.ChoiceField(
        choices=Campaign.Variant.choices, allow_blank=True, read_only=True, help_text="Blank until decided."
    )
    recipient_count = serializers.IntegerField(read_only=True)
    sent_count = serializers.IntegerField(read_only=True, help_text="Recipients sent at least one email.")

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "status",
            "audience_kind",
            "audience_filter",
            "scheduled_at",
            "started_at",
            "finished_at",
            "ab_test",
            "ab_metric",
            "ab_sample_percent",
            "ab_wait_hours",
            "ab_winner",
            "ab_decided_at",
            "excluded",
            "recipient_count",
            "sent_count",
            "steps",
            "created_by",
            "sent_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CampaignExcludedOutputSerializer)
    def get_excluded(self, campaign) -> dict:
        return {name: campaign.excluded.get(name, 0) for name in EXCLUSIONS}


class CampaignPreviewPersonOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk", allow_null=True, help_text="Null: an example person.")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.CharField()
    company = serializers.CharField()


class CampaignPreviewOutputSerializer(serializers.Serializer):
    recipient = CampaignPreviewPersonOutputSerializer()
    subject = serializers.CharField()
    text = serializers.CharField()
    html = serializers.CharField()


class CampaignTestOutputSerializer(serializers.Serializer):
    sent_to = serializers.EmailField()
    subjects = serializers.ListField(child=serializers.CharField())


class FiguresOutputSerializer(serializers.Serializer):
    recipients = serializers.IntegerField()
    sent = serializers.IntegerField()
    delivered = serializers.IntegerField(help_text="Sent, less bounced and failed.")
    failed = serializers.IntegerField()
    bounced = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()
    open_rate = serializers.FloatField(help_text="Opened over delivered, 0 to 1.")
    click_rate = serializers.FloatField(help_text="Clicked over delivered, 0 to 1.")


class AbVariantOutputSerializer(FiguresOutputSerializer):
    variant = serializers.ChoiceField(choices=Campaign.Variant.choices)
    subject = serializers.CharField()


class AbOutputSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=Campaign.AbMetric.choices)
    sample_percent = serializers.IntegerField()
    wait_hours = serializers.IntegerField()
    winner = serializers.ChoiceField(choices=Campaign.Variant.choices, allow_blank=True, help_text="Blank: undecided.")
    decided_at = serializers.DateTimeField(allow_null=True)
    variants = AbVariantOutputSerializer(many=True, help_text="The sample's figures per variant.")


class StepProgressOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField(source="step.position")
    status = serializers.ChoiceField(source="step.status", choices=CampaignStep.Status.choices)
    messages = serializers.IntegerField()
    pending = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField()
    opened = serializers.IntegerField()
    clicked = serializers.IntegerField()
    percent = serializers.IntegerField(help_text="Of its messages handled.")


class TimelineRowOutputSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The organization's day.")
    sent = serializers.IntegerField()
    opened = serializers.IntegerField(help_text="First opens.")
    clicked = serializers.IntegerField(help_text="First clicks.")
    bounced = serializers.IntegerField()
    unsubscribed = serializers.IntegerField()


class CampaignStatsOutputSerializer(FiguresOutputSerializer):
    id = serializers.IntegerField(source="campaign.pk")
    status = serializers.ChoiceField(source="campaign.status", choices=Campaign.Status.choices)
    excluded = CampaignExcludedOutputSerializer()
    ab = AbOutputSerializer(allow_null=True, help_text="Null without an A/B test.")
    steps = StepProgressOutputSerializer(many=True)
    timeline = TimelineRowOutputSerializer(many=True, help_text="Day by day.")


class CampaignRecipientOutputSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    variant = serializers.ChoiceField(
        choices=Campaign.Variant.choices, allow_blank=True, read_only=True, help_text="Blank until decided."
    )

    class Meta:
        model = CampaignRecipient
        fields = [
            "id",
            "email",
            "name",
            "lead",
            "contact",
            "variant",
            "in_sample",
            "status",
            "sent_at",
            "opened_at",
            "clicked_at",
            "bounced_at",
            "failed_at",
            "unsubscribed_at",
        ]
        read_only_fields = fields

    def get_name(self, recipient) -> str:
        return recipient.merge_fields.get("full_name", "")


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Campaign.Status.choices)
    search = TextFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Campaign
        fields = []


class CampaignRecipientFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignRecipient.Status.choices)

    class Meta:
        model = CampaignRecipient
        fields = []


# --- Views ----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The organization's campaigns, newest first"),
    retrieve=extend_schema(summary="One campaign with its steps"),
    create=extend_schema(
        summary="Write a campaign (a draft; managers)",
        request=CampaignInputSerializer,
        responses={201: CampaignOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a campaign before it starts sending (steps given replace them all)",
        request=CampaignUpdateInputSerializer,
        responses={200: CampaignOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete a campaign that is not sending", responses={204: None}),
)
class CampaignViewSet(RecordViewSet):
    serializer_class = CampaignOutputSerializer
    queryset = Campaign.objects.none()  # names the model for the schema; the selector scopes each request
    filter_backends = [DjangoFilterBackend]
    filterset_class = CampaignFilter
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "test": "lead_writes"}

    def get_queryset(self):
        return campaign_list(user=self.request.user)

    def get_object(self):
        return campaign_get(user=self.request.user, campaign_id=self.object_id)

    def create(self, request, *args, **kwargs):
        campaign = services.campaign_create(actor=request.user, data=self.validated(CampaignInputSerializer))
        return self.respond(campaign, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = self.validated(CampaignUpdateInputSerializer)
        return self.respond(services.campaign_update(actor=request.user, campaign_id=self.object_id, data=data))

    def destroy(self, request, *args, **kwargs):
        services.campaign_delete(actor=request.user, campaign_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send, now or at a time (managers); sending now in the embedded default finishes before the answer",
        request=CampaignScheduleInputSerializer,
        responses={200: CampaignOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        send_at = self.validated(CampaignScheduleInputSerializer).get("send_at")
        return self.respond(services.campaign_schedule(actor=request.user, campaign_id=self.object_id, send_at=send_at))

    @extend_schema(summary="Pause sending (managers)", request=None, responses={200: CampaignOutputSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self.respond(services.campaign_pause(actor=request.user, campaign_id=self.object_id))

    @extend_schema(summary="Resume sending (managers)", request=None, responses={200: CampaignOutputSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self.respond(services.campaign_resume(actor=request.user, campaign_id=self.object_id))

    @extend_schema(
        summary="Cancel for good; what is not sent yet never is (managers)",
        request=None,
        responses={200: CampaignOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self.respond(services.campaign_cancel(actor=request.user, campaign_id=self.object_id))

    @extend_schema(
        summary="Email yourself step 1 as a person of the audience gets it (both variants under an A/B test)",
        request=CampaignTestInputSerializer,
        responses={202: CampaignTestOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        recipient = self.validated(CampaignTestInputSerializer).get("recipient")
        emails = services.campaign_test_send(actor=request.user, campaign_id=self.object_id, recipient_id=recipient)
        body = {"sent_to": request.user.email, "subjects": [email.subject for email in emails]}
        return Response(CampaignTestOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="A step as one person of the audience gets it (without tracking links)",
        parameters=[CampaignPreviewQuerySerializer],
        responses={200: CampaignPreviewOutputSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def preview(self, request, pk=None):
        query = CampaignPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        person, rendered = campaign_preview(
            user=request.user,
            campaign_id=self.object_id,
            recipient_id=query.validated_data.get("recipient"),
            position=query.validated_data["step"],
            variant=query.validated_data["variant"],
        )
        body = {"recipient": person, "subject": rendered.subject, "text": rendered.text, "html": rendered.html}
        return Response(CampaignPreviewOutputSerializer(body).data)

    @extend_schema(
        summary="Figures: sent, delivered, open and click rates over delivered, bounces, unsubscribes, "
        "the people left out, the A/B variants and winner, each step, day by day",
        responses={200: CampaignStatsOutputSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def stats(self, request, pk=None):
        stats = campaign_stats(user=request.user, campaign_id=self.object_id)
        return Response(CampaignStatsOutputSerializer(stats).data)

    @extend_schema(
        summary="The campaign's recipients and how far each went (a rep sees the people they may see)",
        parameters=[
            OpenApiParameter(
                "status",
                {"type": "array", "items": {"type": "string", "enum": CampaignRecipient.Status.values}},
                explode=True,
            )
        ],
        responses={200: CampaignRecipientOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def recipients(self, request, pk=None):
        recipients = CampaignRecipientFilter(
            request.query_params, queryset=campaign_recipient_list(user=request.user, campaign_id=self.object_id)
        )
        if not recipients.is_valid():
            details = {name: list(errors) for name, errors in recipients.errors.items()}
            raise ValidationFailed("Some filters are not valid: " + ", ".join(details) + ".", details=details)
        page = self.paginate_queryset(recipients.qs)
        return self.get_paginated_response(CampaignRecipientOutputSerializer(page, many=True).data)


class BounceOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.ChoiceField(choices=["bounced", "already_bounced", "soft", "unknown"])


class CampaignBounceView(PublicAPIView):
    """The mail service's bounce reports. Reads the raw body (never `request.data`): the
    signature covers the exact bytes."""

    @extend_schema(
        summary="A bounce report from the mail service (signed; no other credentials)",
        parameters=[OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True)],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: BounceOutputSerializer},
    )
    def post(self, request):
        outcome = campaign_bounce_receive(body=request.body, signature=request.headers.get(SIGNATURE_HEADER, ""))
        return Response({"received": True, "outcome": outcome})


router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
api_urlpatterns = [
    path("campaigns/bounces/", CampaignBounceView.as_view(), name="campaign-bounces"),
    *router.urls,
]
