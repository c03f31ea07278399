from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization, User
from accounts.policy import permissions_of
from accounts.selectors import mfa_enabled


class OrganizationSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "slug", "is_buyer", "is_vendor"]


class PermissionsSerializer(serializers.Serializer):
    can_view_leads = serializers.BooleanField()
    can_edit_leads = serializers.BooleanField()
    can_add_leads = serializers.BooleanField()
    can_view_all_org_leads = serializers.BooleanField()
    can_buy = serializers.BooleanField()
    can_sell = serializers.BooleanField()
    can_export = serializers.BooleanField()


class UserOutputSerializer(serializers.ModelSerializer):
    organization = OrganizationSummarySerializer()
    permissions = serializers.SerializerMethodField()
    mfa_enabled = serializers.SerializerMethodField(help_text="Signing in asks for a second factor.")

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "email_verified",
            "is_active",
            "organization",
            "permissions",
            "mfa_enabled",
        ]

    @extend_schema_field(PermissionsSerializer)
    def get_permissions(self, user) -> dict:
        return PermissionsSerializer(permissions_of(user)).data

    def get_mfa_enabled(self, user) -> bool:
        # Lists come annotated by `user_list`; a single user costs one query.
        annotated = getattr(user, "has_mfa", None)
        return annotated if annotated is not None else mfa_enabled(user=user)


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutputSerializer(TokenPairOutputSerializer):
    user = UserOutputSerializer()
