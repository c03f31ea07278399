"""The CRM through the API (DESIGN §5): contacts, opportunities (with `move`, `reopen`, the
`board` and the `forecast`), activities (`?mine=true&due=overdue|today|upcoming`), and the
conversion of a lead (`POST /api/leads/{id}/convert`). Reads go through `crm.selectors`,
writes through `crm.services`; another organization's record is 404."""

from datetime import datetime, time, timedelta

import django_filters
from django.urls import path
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from crm.filters import ContactFilter
from crm.models import Activity, Contact, Opportunity
from crm.pipeline import OPEN_STAGE_CHOICES
from crm.selectors import (
    activity_get,
    activity_list,
    contact_get,
    contact_list,
    opportunity_get,
    opportunity_list,
    pipeline_board,
    pipeline_forecast,
    tasks_due,
)
from crm.services import activities as activity_services
from crm.services import contacts as contact_services
from crm.services import opportunities as opportunity_services
from crm.services.conversion import lead_convert
from leadnexus.core.api import RecordViewSet, validated
from leadnexus.core.filters import TextFilter
from leadnexus.core.ids import IdField, IdFilter, id_of
from leads.api.records import LeadOutputSerializer, MemberField


def _member_id(data: dict):
    """The `assigned_to` of validated input as a service expects it: absent (...), None or an id."""
    if "assigned_to" not in data:
        return ...
    member = data.pop("assigned_to")
    return member.pk if member is not None else None


# --- Contacts ----------------------------------------------------------------------------------


class ContactInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.CharField(max_length=200, required=False, allow_blank=True)
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    assigned_to = MemberField(allow_null=True, required=False)


class ContactOutputSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True, help_text="Normalised; blank when the contact has none.")

    class Meta:
        model = Contact
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "company",
            "position",
            "notes",
            "assigned_to",
            "created_by",
            "lead",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactWriteOutputSerializer(ContactOutputSerializer):
    duplicate_of = serializers.SerializerMethodField(help_text="Another contact with the same person, if any.")

    class Meta(ContactOutputSerializer.Meta):
        fields = [*ContactOutputSerializer.Meta.fields, "duplicate_of"]
        read_only_fields = fields

    def get_duplicate_of(self, contact) -> int | None:
        duplicate = self.context.get("duplicate")
        return duplicate.pk if duplicate is not None else None


def _contact_answer(result, *, status_code=200) -> Response:
    return Response(
        ContactWriteOutputSerializer(result.contact, context={"duplicate": result.duplicate}).data, status=status_code
    )


@extend_schema_view(
    list=extend_schema(summary="Contacts you may see, newest first"),
    retrieve=extend_schema(summary="One contact"),
    create=extend_schema(
        summary="Add a contact (a duplicate is added but named in duplicate_of)",
        request=ContactInputSerializer,
        responses={201: ContactWriteOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a contact's fields or owner",
        request=ContactInputSerializer,
        responses={200: ContactWriteOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete a contact (restorable)", responses={204: None}),
)
class ContactViewSet(RecordViewSet):
    serializer_class = ContactOutputSerializer
    queryset = Contact.objects.none()  # names the model for the schema; the selector scopes each request
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContactFilter
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "destroy": "lead_writes"}

    def get_queryset(self):
        return contact_list(user=self.request.user)

    def get_object(self):
        return contact_get(user=self.request.user, contact_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = dict(self.validated(ContactInputSerializer))
        assignee = _member_id(data)
        result = contact_services.contact_create(
            actor=request.user, data=data, assigned_to_id=None if assignee is ... else assignee
        )
        return _contact_answer(result, status_code=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = dict(self.validated(ContactInputSerializer))
        assignee = _member_id(data)
        result = contact_services.contact_update(
            actor=request.user, contact_id=self.object_id, data=data, assigned_to_id=assignee
        )
        return _contact_answer(result)

    def destroy(self, request, *args, **kwargs):
        contact_services.contact_delete(actor=request.user, contact_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Restore a deleted contact", request=None, responses={200: ContactOutputSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        return self.respond(contact_services.contact_restore(actor=request.user, contact_id=self.object_id))


# --- Opportunities -----------------------------------------------------------------------------


class OpportunityInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    stage = serializers.ChoiceField(choices=OPEN_STAGE_CHOICES, required=False)
    lead_id = IdField(required=False, allow_null=True)
    contact_id = IdField(required=False, allow_null=True)
    assigned_to = MemberField(allow_null=True, required=False)


class OpportunityMoveInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Opportunity.Stage.choices)
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True, help_text="The amount won."
    )
    lost_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)


class OpportunityReopenInputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=OPEN_STAGE_CHOICES, required=False, default=Opportunity.Stage.NEGOTIATION)


class OpportunityOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Opportunity
        fields = [
            "id",
            "title",
            "amount",
            "currency",
            "stage",
            "probability",
            "expected_close_date",
            "lead",
            "contact",
            "assigned_to",
            "lost_reason",
            "closed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class BoardColumnOutputSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=Opportunity.Stage.choices)
    label = serializers.CharField()
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=16, decimal_places=2, help_text="Sum of amount x probability.")
    default_probability = serializers.IntegerField()
    opportunities = OpportunityOutputSerializer(many=True)


class ForecastRowOutputSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, or later, overdue, undated.")
    count = serializers.IntegerField()
    total = serializers.DecimalField(max_digits=16, decimal_places=2)
    weighted = serializers.DecimalField(max_digits=16, decimal_places=2)


class OpportunityFilter(django_filters.FilterSet):
    stage = django_filters.MultipleChoiceFilter(choices=Opportunity.Stage.choices)
    assigned_to = IdFilter(field_name="assigned_to_id")
    contact = IdFilter(field_name="contact_id")
    lead = IdFilter(field_name="lead_id")
    close_after = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    close_before = django_filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")
    search = TextFilter(field_name="title", lookup_expr="icontains")
    ordering = django_filters.OrderingFilter(fields=("created_at", "expected_close_date", "amount", "updated_at"))

    class Meta:
        model = Opportunity
        fields = []


@extend_schema_view(
    list=extend_schema(summary="Opportunities you may see"),
    retrieve=extend_schema(summary="One opportunity"),
    create=extend_schema(
        summary="Open an opportunity", request=OpportunityInputSerializer, responses={201: OpportunityOutputSerializer}
    ),
    partial_update=extend_schema(
        summary="Change an opportunity's title, amount, probability, expected close or owner",
        request=OpportunityInputSerializer,
        responses={200: OpportunityOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete an opportunity", responses={204: None}),
)
class OpportunityViewSet(RecordViewSet):
    serializer_class = OpportunityOutputSerializer
    queryset = Opportunity.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = OpportunityFilter
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "move": "lead_writes"}

    def get_queryset(self):
        return opportunity_list(user=self.request.user)

    def get_object(self):
        return opportunity_get(user=self.request.user, opportunity_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = dict(self.validated(OpportunityInputSerializer))
        assignee = _member_id(data)
        opportunity = opportunity_services.opportunity_create(
            actor=request.user,
            data=data,
            lead_id=data.pop("lead_id", None),
            contact_id=data.pop("contact_id", None),
            assigned_to_id=None if assignee is ... else assignee,
        )
        return self.respond(opportunity, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = dict(self.validated(OpportunityInputSerializer))
        assignee = _member_id(data)
        opportunity = opportunity_services.opportunity_update(
            actor=request.user, opportunity_id=self.object_id, data=data, assigned_to_id=assignee
        )
        return self.respond(opportunity)

    def destroy(self, request, *args, **kwargs):
        opportunity_services.opportunity_delete(actor=request.user, opportunity_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move to a stage (closing as won takes the amount, as lost the reason)",
        request=OpportunityMoveInputSerializer,
        responses={200: OpportunityOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        data = self.validated(OpportunityMoveInputSerializer)
        opportunity = opportunity_services.opportunity_move(actor=request.user, opportunity_id=self.object_id, **data)
        return self.respond(opportunity)

    @extend_schema(
        summary="Reopen a won or lost opportunity (managers)",
        request=OpportunityReopenInputSerializer,
        responses={200: OpportunityOutputSerializer},
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        stage = self.validated(OpportunityReopenInputSerializer)["stage"]
        return self.respond(
            opportunity_services.opportunity_reopen(actor=request.user, opportunity_id=self.object_id, stage=stage)
        )

    @extend_schema(
        summary="The pipeline board: a column per stage with its count, total and weighted value",
        responses={200: BoardColumnOutputSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def board(self, request):
        return Response(BoardColumnOutputSerializer(pipeline_board(user=request.user), many=True).data)

    @extend_schema(
        summary="Open opportunities by month of expected close, weighted",
        parameters=[OpenApiParameter("months", int, description="How many months from this one (1 to 24, default 6).")],
        responses={200: ForecastRowOutputSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def forecast(self, request):
        try:
            months = max(1, min(int(request.query_params.get("months", 6)), 24))
        except ValueError:
            raise serializers.ValidationError({"months": ["A whole number from 1 to 24."]}) from None
        rows = pipeline_forecast(user=request.user, months=months, today=timezone.localdate())
        return Response(ForecastRowOutputSerializer(rows, many=True).data)


# --- Activities --------------------------------------------------------------------------------


class ActivityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity.Kind.choices, required=False)
    subject = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Snooze by moving it later.")
    done = serializers.BooleanField(required=False)
    lead_id = IdField(required=False)
    contact_id = IdField(required=False)
    opportunity_id = IdField(required=False)
    assigned_to = MemberField(allow_null=True, required=False)


class ActivityOutputSerializer(serializers.ModelSerializer):
    done = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "subject",
            "body",
            "due_at",
            "done_at",
            "done",
            "lead",
            "contact",
            "opportunity",
            "assigned_to",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_done(self, activity) -> bool:
        return activity.done_at is not None


class ActivityFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=Activity.Kind.choices)
    lead = IdFilter(field_name="lead_id")
    contact = IdFilter(field_name="contact_id")
    opportunity = IdFilter(field_name="opportunity_id")
    done = django_filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    mine = django_filters.BooleanFilter(method="filter_mine", help_text="Only the activities assigned to you.")
    due = django_filters.ChoiceFilter(
        choices=[("overdue", "overdue"), ("today", "today"), ("upcoming", "upcoming")],
        method="filter_due",
        help_text="Open activities overdue, due today (your time zone) or later.",
    )

    class Meta:
        model = Activity
        fields = []

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assigned_to=self.request.user) if value else queryset

    def filter_due(self, queryset, name, value):
        now = timezone.localtime()
        today_end = timezone.make_aware(datetime.combine(now.date() + timedelta(days=1), time.min))
        return tasks_due(queryset, due=value, now=now, today_end=today_end)


@extend_schema_view(
    list=extend_schema(summary="Activities you may see (mine=true&due=overdue|today|upcoming: your tasks)"),
    retrieve=extend_schema(summary="One activity"),
    create=extend_schema(
        summary="Log an activity on a lead, contact or opportunity",
        request=ActivityInputSerializer,
        responses={201: ActivityOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an activity, mark it done, or snooze it (a later due_at)",
        request=ActivityInputSerializer,
        responses={200: ActivityOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete an activity", responses={204: None}),
)
class ActivityViewSet(RecordViewSet):
    serializer_class = ActivityOutputSerializer
    queryset = Activity.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActivityFilter
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes"}

    def get_queryset(self):
        return activity_list(user=self.request.user)

    def get_object(self):
        return activity_get(user=self.request.user, activity_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = dict(self.validated(ActivityInputSerializer))
        assignee = _member_id(data)
        activity = activity_services.activity_create(
            actor=request.user, data=data, assigned_to_id=None if assignee is ... else assignee
        )
        return self.respond(activity, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = dict(self.validated(ActivityInputSerializer))
        assignee = _member_id(data)
        activity = activity_services.activity_update(
            actor=request.user, activity_id=self.object_id, data=data, assigned_to_id=assignee
        )
        return self.respond(activity)

    def destroy(self, request, *args, **kwargs):
        activity_services.activity_delete(actor=request.user, activity_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Converting a lead -------------------------------------------------------------------------


class ConvertOpportunityInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False, allow_null=True)
    expected_close_date = serializers.DateField(required=False, allow_null=True)


class ConvertInputSerializer(serializers.Serializer):
    contact_id = IdField(required=False, help_text="Link this contact; default: the existing one, else a new one.")
    opportunity = ConvertOpportunityInputSerializer(required=False, allow_null=True)


class ConvertOutputSerializer(serializers.Serializer):
    lead = LeadOutputSerializer()
    contact = ContactOutputSerializer()
    contact_created = serializers.BooleanField()
    opportunity = OpportunityOutputSerializer(allow_null=True)


class LeadConvertView(APIView):
    @extend_schema(
        summary="Convert a lead: a contact (linked or new), optionally an opportunity, the lead converted",
        request=ConvertInputSerializer,
        responses={200: ConvertOutputSerializer},
    )
    def post(self, request, lead_id):
        data = validated(ConvertInputSerializer, request)
        conversion = lead_convert(
            actor=request.user,
            lead_id=id_of(lead_id, what="Lead"),
            contact_id=data.get("contact_id"),
            opportunity=dict(data["opportunity"]) if data.get("opportunity") else None,
        )
        return Response(ConvertOutputSerializer(conversion).data)


router = SimpleRouter()
router.register("contacts", ContactViewSet, basename="contact")
router.register("opportunities", OpportunityViewSet, basename="opportunity")
router.register("activities", ActivityViewSet, basename="activity")

api_urlpatterns = [
    path("leads/<id:lead_id>/convert/", LeadConvertView.as_view(), name="lead-convert"),
    *router.urls,
]
