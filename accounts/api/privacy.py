"""Data protection requests through the API: export one person's data as a file, erase it
(management users of the organization; staff for any or every organization)."""

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.services import privacy as services
from leadnexus.core.api import validated


class PersonInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text="With its country code, e.g. +14155550123."
    )
    organization_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="Staff: only this organization's data; omitted: every one."
    )

    def validate(self, attrs):
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError({"email": ["Give an email or a phone number."]})
        return attrs


class PersonOutputSerializer(serializers.Serializer):
    email = serializers.CharField()
    phone = serializers.CharField()


class BundleOutputSerializer(serializers.Serializer):
    person = PersonOutputSerializer()
    organization_id = serializers.IntegerField(allow_null=True, help_text="null: every organization (staff).")
    exported_at = serializers.DateTimeField()
    records = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text='The rows holding the person\'s data, by table ("app.model"), as stored.',
    )
    attachments = serializers.ListField(
        child=serializers.CharField(), help_text="Files beside the document in the ZIP, under attachments/."
    )


class ErasureOutputSerializer(serializers.Serializer):
    deleted = serializers.DictField(child=serializers.IntegerField(), help_text="Rows deleted, by table.")
    anonymised = serializers.DictField(
        child=serializers.IntegerField(), help_text="Rows kept with the person's fields replaced, by table."
    )
    nothing_left = serializers.BooleanField(help_text="True when nothing of the person was found (already erased).")


class PersonExportView(APIView):
    @extend_schema(
        summary="Export one person's data (management; staff: any organization)",
        description=(
            "Every record the organization holds on the person (leads, contacts, campaign recipients "
            "and messages, form submissions, email log, events), by table, as one JSON document; as a "
            "ZIP of that document and the submissions' attachments when there are any. Audited."
        ),
        request=PersonInputSerializer,
        responses={
            (200, "application/json"): OpenApiResponse(BundleOutputSerializer, description="The JSON document"),
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="JSON plus attachments"),
        },
    )
    def post(self, request):
        return services.person_export(actor=request.user, **validated(PersonInputSerializer, request)).download()


class PersonEraseView(APIView):
    @extend_schema(
        summary="Erase one person's data (management; staff: any organization)",
        description=(
            "Deletes the person's records; records an order, purchase, dispute or the ledger must keep "
            "stay with the person's fields replaced by a placeholder, amounts unchanged. One transaction; "
            "erasing again finds nothing left. Audited without the email or phone themselves."
        ),
        request=PersonInputSerializer,
        responses={200: ErasureOutputSerializer},
    )
    def post(self, request):
        erasure = services.person_erase(actor=request.user, **validated(PersonInputSerializer, request))
        return Response({"deleted": erasure.deleted, "anonymised": erasure.anonymised, "nothing_left": erasure.nothing})


api_urlpatterns = [
    path("privacy/export/", PersonExportView.as_view(), name="privacy-export"),
    path("privacy/erase/", PersonEraseView.as_view(), name="privacy-erase"),
]
