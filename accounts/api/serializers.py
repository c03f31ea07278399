from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization, User
from accounts.policy import permissions_of


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

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "role", "email_verified", "is_active", "organization", "permissions"]

    @extend_schema_field(PermissionsSerializer)
    def get_permissions(self, user) -> dict:
        return PermissionsSerializer(permissions_of(user)).data


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutputSerializer(TokenPairOutputSerializer):
    user = UserOutputSerializer()
