"""`POST /api/leads/{id}/merge/`: merge another lead into this one (see
`leads.services.merge.lead_merge`); the answer is the survivor."""

from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from leadnexus.core.api import validated
from leadnexus.core.ids import IdField
from leads.api.records import LeadOutputSerializer, lead_id_of
from leads.services.merge import FIELD_LABELS, MERGE_FIELDS, OTHER, THIS, lead_merge


# Documented as a pattern, not an enum: one enum under a dozen field names would make a
# dozen identical enum components in the schema.
@extend_schema_field({"type": "string", "pattern": f"^({THIS}|{OTHER})$", "example": OTHER})
class MergeSideField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(choices=[THIS, OTHER], **kwargs)


class MergeFieldsInputSerializer(serializers.Serializer):
    """Which lead's value each field keeps; a field left out keeps this lead's value."""

    def get_fields(self):
        return {
            name: MergeSideField(required=False, help_text=f"{FIELD_LABELS[name]}: this or other.")
            for name in MERGE_FIELDS
        }

    def to_internal_value(self, data):
        # A misspelt field must not pass silently as "keep this lead's value".
        if isinstance(data, dict):
            unknown = sorted(str(name) for name in data if name not in MERGE_FIELDS)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Not a field that can be merged (notes are always combined)."] for name in unknown}
                )
        return super().to_internal_value(data)


class LeadMergeInputSerializer(serializers.Serializer):
    other_id = IdField(help_text="The lead merged into this one; it is soft-deleted.")
    fields = MergeFieldsInputSerializer(required=False)


class LeadMergeView(APIView):
    quota_group = "lead_writes"

    @extend_schema(
        operation_id="leads_merge",
        summary="Merge another lead into this one",
        description=(
            "This lead survives with the value chosen per field (this lead's unless `fields` says "
            "`other`); notes are combined, the status stays. The other lead is soft-deleted with "
            "`merged_into` pointing here, and its history shows on this lead's timeline. Needs "
            "`can_edit_leads`; a lead you cannot see is 404; merging a lead with itself or with a "
            "converted lead is 409."
        ),
        request=LeadMergeInputSerializer,
        responses={200: LeadOutputSerializer},
        examples=[
            OpenApiExample(
                "Keep the other lead's phone and owner",
                value={"other_id": 42, "fields": {"phone": "other", "assigned_to": "other"}},
            )
        ],
    )
    def post(self, request, lead_id: int):
        lead_id = lead_id_of(lead_id)
        data = validated(LeadMergeInputSerializer, request)
        lead = lead_merge(
            actor=request.user, lead_id=lead_id, other_id=data["other_id"], fields=data.get("fields") or {}
        )
        return Response(LeadOutputSerializer(lead).data)


api_urlpatterns = [
    path("leads/<id:lead_id>/merge/", LeadMergeView.as_view(), name="lead-merge"),
]
