"""My organization through the API: every member reads it, management users edit it."""

from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Organization
from accounts.selectors import organization_get, organization_seats
from accounts.services import organization as services
from leadnexus.core.api import validated


class OrganizationInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    company_size = serializers.ChoiceField(choices=services.COMPANY_SIZES, required=False, allow_blank=True)
    industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="With its country code; stored as E.164."
    )
    time_zone = serializers.CharField(max_length=64, required=False, help_text="An IANA name, e.g. Europe/Berlin.")
    response_target_minutes = serializers.IntegerField(
        min_value=services.RESPONSE_TARGET_RANGE[0],
        max_value=services.RESPONSE_TARGET_RANGE[1],
        required=False,
        allow_null=True,
        help_text="Speed-to-lead: minutes a new lead may wait for a first contact; null turns it off.",
    )


class SeatsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited.")
    used = serializers.IntegerField(help_text="Active members, management included.")


class OrganizationOutputSerializer(serializers.ModelSerializer):
    seats = serializers.SerializerMethodField()
    # Plain strings: what the service stored, whatever the URL's alphabet.
    website = serializers.CharField()
    require_mfa = serializers.BooleanField(read_only=True, help_text="Changed in the two-factor settings.")

    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "is_buyer",
            "is_vendor",
            "verified",
            "plan",
            "plan_status",
            "seats",
            "require_mfa",
            "time_zone",
            "company_size",
            "industry",
            "website",
            "phone",
            "response_target_minutes",
        ]
        read_only_fields = fields

    @extend_schema_field(SeatsSerializer)
    def get_seats(self, organization) -> dict:
        seats = organization_seats(organization=organization)
        return {"limit": seats.limit, "used": seats.used}


class OrganizationView(APIView):
    @extend_schema(summary="My organization", responses={200: OrganizationOutputSerializer})
    def get(self, request):
        organization = organization_get(user=request.user, organization_id=request.user.organization_id)
        return Response(OrganizationOutputSerializer(organization).data)

    @extend_schema(
        summary="Edit my organization (management only)",
        request=OrganizationInputSerializer,
        responses={200: OrganizationOutputSerializer},
    )
    def patch(self, request):
        changes = validated(OrganizationInputSerializer, request)
        organization = services.organization_update(actor=request.user, changes=changes)
        return Response(OrganizationOutputSerializer(organization).data)


api_urlpatterns = [
    path("organization/", OrganizationView.as_view(), name="organization"),
]
