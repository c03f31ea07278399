"""`POST /api/leads/validate/`: check contact data without saving anything, one set of
`{email, phone, website}` or up to 1,000 as `{items: [...]}`, through the same
`leads.validation` every create, edit and import row goes through."""

import phonenumbers
from django.urls import path
from drf_spectacular.utils import OpenApiExample, PolymorphicProxySerializer, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from leadnexus.core.api import validated
from leads.models import Lead
from leads.validation import REASONS, contacts_check

MAX_ITEMS = 1000
CONTACT_INPUTS = ("email", "phone", "website")


class ValidateItemInputSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True, max_length=1000, trim_whitespace=False)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=100, trim_whitespace=False)
    website = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=False)
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2,
        help_text="Where a phone number without a +country prefix is from (ISO 3166 alpha-2, e.g. GB); "
        "default: the site's region.",
    )

    def validate_region(self, value: str) -> str:
        value = value.upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise serializers.ValidationError("Not a known region code (ISO 3166 alpha-2, e.g. US, GB, DE).")
        return value

    def validate(self, attrs):
        if not any(attrs.get(name) for name in CONTACT_INPUTS):
            raise serializers.ValidationError("Give an email, a phone or a website to check.")
        return attrs


class ValidateInputSerializer(ValidateItemInputSerializer):
    items = ValidateItemInputSerializer(
        many=True, required=False, max_length=MAX_ITEMS, min_length=1, help_text=f"Up to {MAX_ITEMS} at once."
    )

    def validate(self, attrs):
        if "items" in attrs:
            if any(attrs.get(name) for name in (*CONTACT_INPUTS, "region")):
                raise serializers.ValidationError("Send either one email/phone/website or `items`, not both.")
            return attrs
        return super().validate(attrs)


class ValidateResultOutputSerializer(serializers.Serializer):
    email = serializers.CharField(help_text="Normalised when valid, else as given.")
    phone = serializers.CharField(help_text="E.164 when it could be parsed, else as given.")
    website = serializers.CharField(help_text="Normalised when valid, else as given.")
    validation_status = serializers.ChoiceField(choices=Lead.ValidationStatus.choices)
    validation_reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(REASONS)), help_text="Machine-readable reasons."
    )
    problems = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The reasons as readable messages by field: {email|phone|website: [messages]}.",
    )
    reachable = serializers.BooleanField(help_text="A usable email or phone: such a lead can be imported.")

    def to_representation(self, check):
        return {
            "email": check.email,
            "phone": check.phone,
            "website": check.website,
            "validation_status": str(check.status),
            "validation_reasons": check.reasons,
            "problems": check.problems,
            "reachable": check.reachable,
        }


class ValidateBatchOutputSerializer(serializers.Serializer):
    items = ValidateResultOutputSerializer(many=True, help_text="In the order sent.")


class LeadValidateView(APIView):
    """The quota ("validate", per user) counts the addresses checked, not the calls; see
    `leads.validation.contacts_check`. Nothing is stored."""

    @extend_schema(
        operation_id="leads_validate",
        summary="Check emails, phones and websites (one, or up to 1,000 as items)",
        description=(
            "Email syntax and normalisation, disposable domains, shared mailboxes (info@, sales@...), "
            "the mail server when the site checks it; phone numbers to E.164 (valid, merely possible "
            "or invalid); websites normalised. `validation_status` is valid, risky or invalid. Each "
            "item counts against your daily validate quota (429 when used up)."
        ),
        request=ValidateInputSerializer,
        responses={
            200: PolymorphicProxySerializer(
                component_name="LeadValidateResult",
                serializers=[ValidateResultOutputSerializer, ValidateBatchOutputSerializer],
                resource_type_field_name=None,
            )
        },
        examples=[
            OpenApiExample("One", value={"email": "Jane.Doe@Example.com", "phone": "(415) 555-0123"}),
            OpenApiExample("Several", value={"items": [{"email": "info@acme.com"}, {"phone": "+44 20 7946 0958"}]}),
        ],
    )
    def post(self, request):
        data = validated(ValidateInputSerializer, request)
        if "items" in data:
            checks = contacts_check(actor=request.user, items=data["items"])
            return Response({"items": ValidateResultOutputSerializer(checks, many=True).data})
        (check,) = contacts_check(actor=request.user, items=[data])
        return Response(ValidateResultOutputSerializer(check).data)


api_urlpatterns = [
    path("leads/validate/", LeadValidateView.as_view(), name="leads-validate"),
]
