"""Lead records through the API: `/api/leads/` (list, create, retrieve, PATCH, soft delete),
`leads/{id}/restore/`, `leads/{id}/timeline/` and `leads/bulk/`.

Every read goes through `leads.selectors` (so visibility is decided there) and every write
through `leads.services.records`; this module only parses and renders.
"""

from django.conf import settings
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.api import RecordViewSet, validated
from leadnexus.core.fields import ScopedPrimaryKeyRelatedField
from leadnexus.core.ids import IdField, id_of, is_db_id
from leadnexus.core.models import Event
from leads.cleaning import TEXT_FIELDS
from leads.filters import LeadFilter
from leads.imports.export import XLSX_TYPE, leads_export_response
from leads.models import Lead
from leads.selectors import lead_get, lead_list, lead_timeline
from leads.services import records as services
from leads.services.records import BulkAction

BULK_MAX_IDS = 1000


def lead_id_of(raw) -> int:
    return id_of(raw, what="Lead")


# --- Input ----------------------------------------------------------------------------------


class MemberField(ScopedPrimaryKeyRelatedField):
    """A member of the caller's organization, by id (another org's member is not found)."""

    def __init__(self, **kwargs):
        super().__init__(selector=user_list, model=User, **kwargs)


class LeadFieldsInputSerializer(serializers.Serializer):
    """The lead's own fields. Shape only: `leads.cleaning` normalises them and decides what
    is valid (an unreachable lead, with no usable email and no usable phone, is refused)."""

    first_name = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["first_name"])
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["last_name"])
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    company = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["company"])
    job_title = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["job_title"])
    industry = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["industry"])
    location = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_FIELDS["location"])
    website = serializers.CharField(required=False, allow_blank=True, max_length=290)
    employee_count = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10_000_000)
    annual_revenue = serializers.DecimalField(
        required=False, allow_null=True, max_digits=16, decimal_places=2, min_value=0
    )
    customer_category = serializers.ChoiceField(required=False, allow_blank=True, choices=Lead.CustomerCategory.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000, trim_whitespace=False)


class LeadCreateInputSerializer(LeadFieldsInputSerializer):
    assigned_to = MemberField(
        required=False, allow_null=True, help_text="A member of your organization; omitted: the assignment rules."
    )


class LeadUpdateInputSerializer(LeadFieldsInputSerializer):
    status = serializers.ChoiceField(
        required=False,
        choices=Lead.Status.choices,
        help_text="Moves the workflow; an illegal move (or `converted`) is 409 illegal_transition.",
    )
    assigned_to = MemberField(
        required=False, allow_null=True, help_text="A member of your organization; null unassigns."
    )


class LeadBulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), min_length=1, max_length=BULK_MAX_IDS)
    action = serializers.ChoiceField(choices=BulkAction.CHOICES)
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="assign: a member id or null (unassign); set_status: a status; export: csv or xlsx (optional).",
    )

    def validate(self, attrs):
        action_name, value = attrs["action"], attrs.get("value")
        if action_name == BulkAction.ASSIGN:
            field = MemberField(allow_null=True)
            field.bind("value", self)
            try:
                if isinstance(value, bool):
                    field.fail("incorrect_type", data_type="boolean")
                member = field.run_validation(value)
            except serializers.ValidationError as exc:
                raise serializers.ValidationError({"value": exc.detail}) from None
            attrs["value"] = member.pk if member is not None else None
        elif action_name == BulkAction.SET_STATUS:
            if value not in Lead.Status.values:
                raise serializers.ValidationError({"value": [f"Choose one of {', '.join(Lead.Status.values)}."]})
        elif action_name == BulkAction.EXPORT and value not in (None, "csv", "xlsx"):
            raise serializers.ValidationError({"value": ["Choose csv or xlsx."]})
        return attrs


# --- Output ---------------------------------------------------------------------------------


class LeadOutputSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    # Plain strings: empty when unknown, and kept as given when they did not validate.
    email = serializers.CharField(read_only=True, help_text="Normalised when valid; see validation_reasons.")
    phone = serializers.CharField(read_only=True, help_text="E.164 when it could be parsed.")
    website = serializers.CharField(read_only=True)
    customer_category = serializers.ChoiceField(
        choices=Lead.CustomerCategory.choices, allow_blank=True, read_only=True, help_text="Empty when unknown."
    )
    annual_revenue = serializers.DecimalField(max_digits=16, decimal_places=2, allow_null=True, read_only=True)
    score_breakdown = serializers.JSONField(
        read_only=True, help_text="How the score was reached: [{factor, points, max, why}]; empty until scored."
    )
    validation_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    awaiting_first_contact = serializers.BooleanField(
        read_only=True, help_text="New, not contacted yet, and past the organization's response target."
    )

    class Meta:
        model = Lead
        fields = [
            "id",
            "first_name",
            "last_name",
            "full_name",
            "email",
            "phone",
            "company",
            "job_title",
            "industry",
            "location",
            "website",
            "employee_count",
            "annual_revenue",
            "customer_category",
            "notes",
            "source",
            "status",
            "score",
            "score_breakdown",
            "validation_status",
            "validation_reasons",
            "assigned_to",
            "created_by",
            "first_contacted_at",
            "awaiting_first_contact",
            "merged_into",
            "deleted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DuplicateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="lead_id")
    certain = serializers.BooleanField(help_text="false: a possible duplicate (same person and company only).")
    on = serializers.ChoiceField(choices=["email", "phone", "name_company"])
    deleted = serializers.BooleanField(help_text="The other lead is deleted: restore it instead of keeping both.")


class LeadWriteOutputSerializer(LeadOutputSerializer):
    duplicate_of = DuplicateOutputSerializer(allow_null=True, read_only=True, help_text="null: no duplicate found.")

    class Meta(LeadOutputSerializer.Meta):
        fields = [*LeadOutputSerializer.Meta.fields, "duplicate_of"]
        read_only_fields = fields


def _write_answer(result: services.LeadWriteResult) -> dict:
    result.lead.duplicate_of = result.duplicate
    return LeadWriteOutputSerializer(result.lead).data


class BulkResultOutputSerializer(serializers.Serializer):
    done = serializers.ListField(child=serializers.IntegerField(), help_text="The leads changed.")
    skipped = serializers.DictField(
        child=serializers.CharField(), help_text="Lead id → why it was left alone (not found, illegal move...)."
    )


class ActorOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()


class TimelineEntryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The event, e.g. leads.lead.status_changed.")
    lead_id = serializers.IntegerField(help_text="The lead it happened to (a lead merged into this one, maybe).")
    actor = ActorOutputSerializer(allow_null=True)
    at = serializers.DateTimeField()
    data = serializers.JSONField()
    summary = serializers.CharField(help_text='Readable, e.g. "Status: New → Contacted".')


# --- Timeline summaries (shared with the detail page) ---------------------------------------

_NOBODY = "nobody"
# The events whose data names members by id (in "from", "to" or "assigned_to").
_NAMING_MEMBERS = {"leads.lead.created", "leads.lead.assigned"}


def source_label(source: str) -> str:
    return "API" if source == Lead.Source.API else Lead.Source(source).label


def _label(name: str) -> str:
    try:
        return str(Lead._meta.get_field(name).verbose_name).capitalize()
    except Exception:  # a field name from an older event
        return name.replace("_", " ").capitalize()


def _status_label(value) -> str:
    return Lead.Status(value).label if value in Lead.Status.values else str(value)


def _value(value) -> str:
    return str(value) if value not in (None, "") else "—"


def _summary(event: Event, names: dict[int, str]) -> str:
    data = event.data if isinstance(event.data, dict) else {}

    def member(pk) -> str:
        return names.get(pk, f"member #{pk}") if pk else _NOBODY

    kind = event.name.rsplit(".", 1)[-1]
    if event.name == "leads.lead.created":
        text = "Created"
        if data.get("source") in Lead.Source.values:
            text += f" (source: {source_label(data['source'])})"
        if data.get("assigned_to"):
            text += f", assigned to {member(data['assigned_to'])}"
        return text
    if event.name == "leads.lead.updated":
        changes = data.get("changes") or {}
        parts = [
            f"{_label(name)}: {_value(pair[0])} → {_value(pair[1])}"
            for name, pair in changes.items()
            if isinstance(pair, list) and len(pair) == 2
        ]
        others = [_label(name).lower() for name in data.get("fields") or [] if name not in changes]
        if others:
            parts.append("Edited " + ", ".join(others))
        return "; ".join(parts) or "Edited"
    if event.name == "leads.lead.status_changed":
        return f"Status: {_status_label(data.get('from'))} → {_status_label(data.get('to'))}"
    if event.name == "leads.lead.assigned":
        return f"Owner: {member(data.get('from'))} → {member(data.get('to'))}"
    if event.name == "leads.lead.scored":
        return f"Score: {_value(data.get('from'))} → {_value(data.get('to'))}"
    if event.name == "leads.lead.merged":
        fields = [_label(name).lower() for name in (data.get("changes") or {})]
        text = f"Merged lead #{_value(data.get('other_id'))} into this one"
        return text + (f" (kept its {', '.join(fields)})" if fields else "")
    if event.name == "leads.lead.merged_into":
        return f"Merged into lead #{_value(data.get('into'))}"
    return kind.replace("_", " ").capitalize()


def timeline_entries(events, *, viewer: User) -> list[dict]:
    """The events as timeline entries; the members they name are looked up once for the page."""
    events = list(events)
    mentioned: set[int] = set()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if event.name not in _NAMING_MEMBERS:
            continue
        for key in ("from", "to", "assigned_to"):
            if is_db_id(data.get(key)):
                mentioned.add(data[key])
    names = {}
    if mentioned:
        names = {
            pk: full_name or email
            for pk, full_name, email in user_list(user=viewer)
            .filter(pk__in=mentioned)
            .values_list("pk", "full_name", "email")
        }
    return [
        {
            "id": event.pk,
            "name": event.name,
            "lead_id": int(event.subject_id),
            "actor": (
                {"id": event.actor.pk, "full_name": event.actor.full_name or event.actor.email}
                if event.actor_id
                else None
            ),
            "at": event.created_at,
            "data": event.data,
            "summary": _summary(event, names),
        }
        for event in events
    ]


# --- Views ----------------------------------------------------------------------------------

_DELETED = OpenApiParameter(
    "deleted",
    OpenApiTypes.BOOL,
    description="true: the recently deleted leads (restorable for "
    f"{settings.LEAD_RESTORE_WINDOW.days} days) instead of the live ones.",
)


@extend_schema_view(
    list=extend_schema(summary="List the leads I may see", parameters=[_DELETED]),
    retrieve=extend_schema(summary="One lead"),
    create=extend_schema(
        summary="Add a lead (source: api); a duplicate is created but reported in duplicate_of",
        request=LeadCreateInputSerializer,
        responses={201: LeadWriteOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a lead's fields, move its status, change its owner",
        request=LeadUpdateInputSerializer,
        responses={200: LeadWriteOutputSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a lead (restorable for a while)", responses={204: OpenApiResponse(description="Deleted")}
    ),
)
class LeadViewSet(RecordViewSet):
    """An organization's lead records. Reps see the leads assigned to or created by them,
    managers and management every lead of the organization; another organization's lead is 404."""

    serializer_class = LeadOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = Lead.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadFilter
    quota_groups = {
        "create": "lead_writes",
        "partial_update": "lead_writes",
        "destroy": "lead_writes",
        "restore": "lead_writes",
        "bulk": "lead_writes",
    }

    def get_queryset(self) -> QuerySet[Lead]:
        try:
            deleted = serializers.BooleanField().run_validation(self.request.query_params.get("deleted", False))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"deleted": exc.detail}) from None
        return lead_list(user=self.request.user, deleted=deleted)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # A stable order whatever the sort field, so pages neither repeat nor skip a lead.
        if queryset.query.order_by:
            queryset = queryset.order_by(*queryset.query.order_by, "-pk")
        return queryset

    def get_object(self) -> Lead:
        return lead_get(user=self.request.user, lead_id=lead_id_of(self.kwargs["pk"]))

    def create(self, request, *args, **kwargs):
        data = dict(validated(LeadCreateInputSerializer, request))
        assignee = data.pop("assigned_to", None)
        result = services.lead_create(
            actor=request.user,
            data=data,
            source=Lead.Source.API,
            assigned_to_id=assignee.pk if assignee is not None else None,
        )
        return Response(_write_answer(result), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        lead_id = lead_id_of(kwargs["pk"])
        data = dict(validated(LeadUpdateInputSerializer, request))
        moves = {}
        if "status" in data:
            moves["status"] = data.pop("status")
        if "assigned_to" in data:
            assignee = data.pop("assigned_to")
            moves["assignee_id"] = assignee.pk if assignee is not None else None
        result = services.lead_edit(actor=request.user, lead_id=lead_id, data=data, **moves)
        return Response(_write_answer(result))

    def destroy(self, request, *args, **kwargs):
        services.lead_delete(actor=request.user, lead_id=lead_id_of(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Restore a recently deleted lead", request=None, responses={200: LeadOutputSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        lead = services.lead_restore(actor=request.user, lead_id=lead_id_of(pk))
        return Response(LeadOutputSerializer(lead).data)

    @extend_schema(
        summary="The lead's history, newest first (with the history of leads merged into it)",
        responses={200: TimelineEntryOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        events = lead_timeline(user=request.user, lead_id=lead_id_of(pk))
        page = self.paginate_queryset(events)
        return self.get_paginated_response(
            TimelineEntryOutputSerializer(timeline_entries(page, viewer=request.user), many=True).data
        )

    @extend_schema(
        summary="One action on many leads: assign, set_status, delete or export",
        description="assign, set_status and delete answer which leads changed and why the others did not "
        "(a lead you may not see is reported as not found); export answers the file of the selected "
        "leads you may see.",
        request=LeadBulkInputSerializer,
        responses={
            (200, "application/json"): BulkResultOutputSerializer,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="export: CSV file"),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="export: XLSX workbook"),
        },
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def bulk(self, request):
        data = validated(LeadBulkInputSerializer, request)
        if data["action"] == BulkAction.EXPORT:
            # Only the selected leads the caller may see; `can_export` is checked by the export.
            selection = lead_list(user=request.user).filter(pk__in=data["ids"])
            return leads_export_response(user=request.user, queryset=selection, format=data.get("value"))
        result = services.leads_bulk(
            actor=request.user, ids=data["ids"], action=data["action"], value=data.get("value")
        )
        return Response({"done": result.done, "skipped": {str(pk): why for pk, why in result.skipped.items()}})


router = SimpleRouter()
router.register("leads", LeadViewSet, basename="lead")

api_urlpatterns = router.urls
