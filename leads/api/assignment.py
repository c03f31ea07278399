"""Assignment rules through the API (`/api/assignment-rules/`): every member who may view
leads reads them; management and sales managers change them (others get 403)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.api import RecordViewSet
from leadnexus.core.fields import ScopedPrimaryKeyRelatedField
from leads import selectors
from leads.models import AssignmentRule
from leads.services import assignment as services

# --- Input ---------------------------------------------------------------------------------


class AssignmentRuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    is_active = serializers.BooleanField(required=False, default=True)
    priority = serializers.IntegerField(
        min_value=0, max_value=32767, required=False, help_text="Lower applies first; by default the rule goes last."
    )
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=services.RULE_SOURCES),
        required=False,
        default=list,
        max_length=len(services.RULE_SOURCES),
        help_text="The lead sources the rule applies to; empty: every source.",
    )
    mode = serializers.ChoiceField(choices=AssignmentRule.Mode.choices, default=AssignmentRule.Mode.ROUND_ROBIN)
    members = ScopedPrimaryKeyRelatedField(
        selector=user_list,
        model=User,
        many=True,
        required=False,
        help_text="Round-robin: the members who take turns (deactivated ones are skipped).",
    )
    fixed_user = ScopedPrimaryKeyRelatedField(
        selector=user_list,
        model=User,
        required=False,
        allow_null=True,
        help_text="Fixed: the member who gets every lead (passed over while deactivated).",
    )


class AssignmentRuleUpdateInputSerializer(AssignmentRuleInputSerializer):
    """Only the fields sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


def _arguments(data: dict) -> dict:
    """Validated input as the service's keyword arguments."""
    arguments = {key: value for key, value in data.items() if key not in ("members", "fixed_user")}
    if "members" in data:
        arguments["member_ids"] = [member.pk for member in data["members"]]
    if "fixed_user" in data:
        arguments["fixed_user_id"] = data["fixed_user"].pk if data["fixed_user"] else None
    return arguments


# --- Output --------------------------------------------------------------------------------


class AssignmentRuleOutputSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()
    fixed_user = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    sources = serializers.ListField(child=serializers.ChoiceField(choices=services.RULE_SOURCES))
    last_assigned_user = serializers.IntegerField(
        source="last_assigned_user_id", read_only=True, allow_null=True, help_text="Who got the last lead."
    )

    class Meta:
        model = AssignmentRule
        fields = [
            "id",
            "name",
            "is_active",
            "priority",
            "sources",
            "mode",
            "members",
            "fixed_user",
            "last_assigned_user",
            "created_at",
        ]

    def get_members(self, rule) -> list[int]:
        return [member.pk for member in rule.members.all()]


# --- Views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The organization's assignment rules, in the order they apply"),
    retrieve=extend_schema(summary="One assignment rule"),
    create=extend_schema(
        summary="Add an assignment rule (management and sales managers)",
        request=AssignmentRuleInputSerializer,
        responses={201: AssignmentRuleOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an assignment rule: reorder (priority), activate, deactivate, members...",
        request=AssignmentRuleUpdateInputSerializer,
        responses={200: AssignmentRuleOutputSerializer},
    ),
    destroy=extend_schema(summary="Delete an assignment rule", responses={204: OpenApiResponse(description="Deleted")}),
)
class AssignmentRuleViewSet(RecordViewSet):
    serializer_class = AssignmentRuleOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = AssignmentRule.objects.none()
    filterset_fields = ["is_active", "mode"]
    search_fields = ["name"]
    ordering_fields = ["priority", "name", "created_at"]
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "destroy": "lead_writes"}

    def get_queryset(self):
        return selectors.assignment_rule_list(user=self.request.user)

    def get_object(self):
        return selectors.assignment_rule_get(user=self.request.user, rule_id=self.object_id)

    def create(self, request, *args, **kwargs):
        arguments = _arguments(self.validated(AssignmentRuleInputSerializer))
        return self.respond(services.assignment_rule_create(actor=request.user, **arguments), status=201)

    def partial_update(self, request, *args, **kwargs):
        changes = _arguments(self.validated(AssignmentRuleUpdateInputSerializer))
        return self.respond(
            services.assignment_rule_update(actor=request.user, rule_id=self.object_id, changes=changes)
        )

    def destroy(self, request, *args, **kwargs):
        services.assignment_rule_delete(actor=request.user, rule_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("assignment-rules", AssignmentRuleViewSet, basename="assignment-rule")

api_urlpatterns = router.urls
