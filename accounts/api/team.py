"""The team through the API: a management user's sub-users (`/api/profile/sub-users/`)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from accounts.api.serializers import PermissionsSerializer
from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import monthly_budget_of, sub_user_get, sub_user_list
from accounts.services import team as services
from leadnexus.core.api import RecordViewSet

# --- Input ---------------------------------------------------------------------------


class SubUserPermissionsInputSerializer(serializers.Serializer):
    """Only the flags sent change; each narrows what the sub-user may do when false."""

    can_view_leads = serializers.BooleanField(required=False)
    can_edit_leads = serializers.BooleanField(required=False)
    can_add_leads = serializers.BooleanField(required=False)
    can_view_all_org_leads = serializers.BooleanField(required=False)
    can_buy = serializers.BooleanField(required=False)
    can_sell = serializers.BooleanField(required=False)
    can_export = serializers.BooleanField(required=False)


class SubUserBudgetInputSerializer(serializers.Serializer):
    monthly_budget = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        allow_null=True,
        help_text="What the sub-user may spend on the marketplace per calendar month; null: no limit.",
    )


class SubUserCreateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=User.Role.choices, default=User.Role.SALES_REP)
    permissions = SubUserPermissionsInputSerializer(
        required=False, help_text="Flags to set; the others take their defaults."
    )


class SubUserUpdateInputSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    is_active = serializers.BooleanField(required=False, help_text="false deactivates, true reactivates.")


# --- Output --------------------------------------------------------------------------


class SubUserOutputSerializer(serializers.ModelSerializer):
    created = serializers.DateTimeField(source="date_joined", read_only=True)
    permissions = serializers.SerializerMethodField()
    monthly_budget = serializers.SerializerMethodField()
    parent = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    invitation_pending = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "is_active",
            "email_verified",
            "last_login",
            "created",
            "permissions",
            "monthly_budget",
            "parent",
            "invitation_pending",
        ]

    @extend_schema_field(PermissionsSerializer)
    def get_permissions(self, member) -> dict:
        return PermissionsSerializer(permissions_of(member)).data

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True))
    def get_monthly_budget(self, member) -> str | None:
        """Marketplace spending allowed per calendar month; null: no limit."""
        budget = monthly_budget_of(user=member)
        return None if budget is None else f"{budget:.2f}"

    def get_invitation_pending(self, member) -> bool:
        """Invited and not signed up yet: no password set."""
        return not member.has_usable_password()


# --- Views ---------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List the members of my organization (management only)"),
    retrieve=extend_schema(summary="One member of my organization (management only)"),
    create=extend_schema(
        summary="Add a sub-user and email them an invitation",
        request=SubUserCreateInputSerializer,
        responses={201: SubUserOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a member's name or role, deactivate or reactivate them",
        request=SubUserUpdateInputSerializer,
        responses={200: SubUserOutputSerializer},
    ),
    destroy=extend_schema(summary="Remove a member for good", responses={204: OpenApiResponse(description="Removed")}),
)
class SubUserViewSet(RecordViewSet):
    """The team, for its management users; everyone else is refused (403)."""

    serializer_class = SubUserOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = User.objects.none()
    search_fields = ["email", "full_name"]
    ordering_fields = ["email", "full_name", "date_joined", "last_login"]
    filterset_fields = ["role", "is_active"]

    def get_queryset(self):
        return sub_user_list(user=self.request.user)

    def get_object(self):
        return sub_user_get(user=self.request.user, member_id=self.object_id)

    def create(self, request, *args, **kwargs):
        member = services.sub_user_create(actor=request.user, **self.validated(SubUserCreateInputSerializer))
        return self.respond(member, status=201)

    def partial_update(self, request, *args, **kwargs):
        changes = self.validated(SubUserUpdateInputSerializer)
        return self.respond(services.sub_user_update(actor=request.user, member_id=self.object_id, changes=changes))

    def destroy(self, request, *args, **kwargs):
        services.sub_user_delete(actor=request.user, member_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set a sub-user's permission flags",
        request=SubUserPermissionsInputSerializer,
        responses={200: SubUserOutputSerializer},
    )
    @action(detail=True, methods=["patch"])
    def permissions(self, request, pk=None):
        flags = self.validated(SubUserPermissionsInputSerializer)
        return self.respond(
            services.sub_user_permissions_update(actor=request.user, member_id=self.object_id, flags=flags)
        )

    @extend_schema(
        summary="Set what a sub-user may spend on the marketplace per month (null: no limit)",
        request=SubUserBudgetInputSerializer,
        responses={200: SubUserOutputSerializer},
    )
    @action(detail=True, methods=["patch"])
    def budget(self, request, pk=None):
        budget = self.validated(SubUserBudgetInputSerializer)["monthly_budget"]
        return self.respond(
            services.sub_user_budget_set(actor=request.user, member_id=self.object_id, monthly_budget=budget)
        )

    @extend_schema(
        summary="Email a fresh invitation to a member who has not set a password yet",
        request=None,
        responses={200: SubUserOutputSerializer},
    )
    @action(detail=True, methods=["post"], url_path="resend-invitation")
    def resend_invitation(self, request, pk=None):
        return self.respond(services.sub_user_invitation_resend(actor=request.user, member_id=self.object_id))


router = SimpleRouter()
router.register("profile/sub-users", SubUserViewSet, basename="sub-user")

api_urlpatterns = router.urls
