"""Capture forms through the API: `CRUD /api/lead-forms/` (management users change them, members
who may view leads read them), their submissions, the permission-checked attachment download,
and the public, unauthenticated `POST /api/public/forms/<slug>/submit/`."""

from django.http import FileResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import user_list
from leadnexus.core.api import PublicAPIView, RecordViewSet, validated
from leadnexus.core.exceptions import NotFound
from leadnexus.core.fields import ScopedPrimaryKeyRelatedField
from leadnexus.core.ratelimit import client_ip
from leads import selectors
from leads.cleaning import LEAD_FIELDS, TEXT_FIELDS
from leads.models import CaptureForm, Lead, Submission
from leads.services import forms as services

# --- Input ---------------------------------------------------------------------------------


class FormFieldSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=LEAD_FIELDS, help_text="A lead field.")
    label = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text="Shown on the form.")
    required = serializers.BooleanField(required=False, default=False)


class CaptureFormInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    fields = FormFieldSerializer(
        many=True,
        allow_empty=False,
        max_length=len(LEAD_FIELDS),
        help_text="The lead fields asked, in order; email or phone must be among them.",
    )
    notify_users = ScopedPrimaryKeyRelatedField(
        selector=user_list, model=User, many=True, required=False, help_text="Members told of each submission."
    )
    thank_you_text = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    allow_attachment = serializers.BooleanField(required=False, default=False)
    is_active = serializers.BooleanField(required=False, default=True)


class CaptureFormUpdateInputSerializer(CaptureFormInputSerializer):
    """Only the fields sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


def _arguments(data: dict) -> dict:
    arguments = {key: value for key, value in data.items() if key != "notify_users"}
    if "fields" in data:
        arguments["fields"] = [dict(field) for field in data["fields"]]
    if "notify_users" in data:
        arguments["notify_user_ids"] = [member.pk for member in data["notify_users"]]
    return arguments


# The public submission: every lead field a form may ask, the honeypot and the attachment;
# which ones count (and which are required) depends on the form.
_SUBMIT_LIMITS = {**TEXT_FIELDS, "email": 254, "phone": 40, "website": 300, "notes": 10000}
SubmissionInputSerializer = type(
    "SubmissionInputSerializer",
    (serializers.Serializer,),
    {
        **{
            name: serializers.CharField(max_length=_SUBMIT_LIMITS.get(name, 40), required=False, allow_blank=True)
            for name in LEAD_FIELDS
        },
        services.HONEYPOT_FIELD: serializers.CharField(
            max_length=500, required=False, allow_blank=True, help_text="Leave empty (a trap for bots)."
        ),
        "attachment": serializers.FileField(
            required=False,
            allow_empty_file=True,
            help_text="On forms that take one: a PDF, DOC, DOCX, PNG or JPEG (by content) up to 5 MB by default.",
        ),
        "__doc__": "The form's fields by lead field name; fields the form does not ask are ignored.",
    },
)


# --- Output --------------------------------------------------------------------------------


class CaptureFormOutputSerializer(serializers.ModelSerializer):
    fields = FormFieldSerializer(many=True)
    notify_users = serializers.SerializerMethodField()
    public_url = serializers.SerializerMethodField()
    embed_snippet = serializers.SerializerMethodField()
    submission_count = serializers.IntegerField(read_only=True)
    open_count = serializers.IntegerField(read_only=True, help_text="Submissions nobody has reached out to yet.")

    class Meta:
        model = CaptureForm
        fields = [
            "id",
            "name",
            "slug",
            "fields",
            "notify_users",
            "thank_you_text",
            "allow_attachment",
            "is_active",
            "public_url",
            "embed_snippet",
            "submission_count",
            "open_count",
            "created_at",
        ]

    def get_notify_users(self, form) -> list[int]:
        return [member.pk for member in form.notify_users.all()]

    def get_public_url(self, form) -> str:
        return services.form_public_url(form)

    def get_embed_snippet(self, form) -> str:
        return services.form_embed_snippet(form)


class SubmissionLeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ["id", "full_name", "email", "phone", "company", "status", "assigned_to"]


class AttachmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    content_type = serializers.CharField()
    url = serializers.CharField(help_text="The permission-checked download.")


class SubmissionOutputSerializer(serializers.ModelSerializer):
    lead = SubmissionLeadSerializer(allow_null=True)
    data = serializers.DictField(child=serializers.CharField(allow_blank=True))
    attachment = serializers.SerializerMethodField()
    reached_out_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Submission
        fields = [
            "id",
            "form",
            "lead",
            "data",
            "attachment",
            "ip",
            "user_agent",
            "created_at",
            "reached_out_at",
            "reached_out_by",
        ]

    @extend_schema_field(AttachmentSerializer(allow_null=True))
    def get_attachment(self, submission):
        if not submission.attachment:
            return None
        return {
            "name": submission.attachment_name,
            "content_type": submission.attachment_content_type,
            "url": f"/api/lead-forms/submissions/{submission.pk}/attachment/",
        }


class SubmissionReceivedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='Always "received".')
    message = serializers.CharField(help_text="The form's thank-you text.")


# --- Views ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The organization's lead capture forms"),
    retrieve=extend_schema(summary="One lead capture form, with its public link and embed snippet"),
    create=extend_schema(
        summary="Define a lead capture form (management)",
        request=CaptureFormInputSerializer,
        responses={201: CaptureFormOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a lead capture form (management); the slug stays",
        request=CaptureFormUpdateInputSerializer,
        responses={200: CaptureFormOutputSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a form and its submissions (their leads stay)",
        responses={204: OpenApiResponse(description="Deleted")},
    ),
)
class CaptureFormViewSet(RecordViewSet):
    serializer_class = CaptureFormOutputSerializer
    # Names the model for schema introspection only: get_queryset() scopes every request.
    queryset = CaptureForm.objects.none()
    filterset_fields = ["is_active", "allow_attachment"]
    search_fields = ["name", "slug"]
    ordering_fields = ["name", "created_at"]
    quota_groups = {"create": "lead_writes", "partial_update": "lead_writes", "destroy": "lead_writes"}

    def get_queryset(self):
        return selectors.capture_form_list(user=self.request.user)

    def get_object(self):
        return selectors.capture_form_get(user=self.request.user, form_id=self.object_id)

    def create(self, request, *args, **kwargs):
        arguments = _arguments(self.validated(CaptureFormInputSerializer))
        return self.respond(services.capture_form_create(actor=request.user, **arguments), status=201)

    def partial_update(self, request, *args, **kwargs):
        changes = _arguments(self.validated(CaptureFormUpdateInputSerializer))
        return self.respond(services.capture_form_update(actor=request.user, form_id=self.object_id, changes=changes))

    def destroy(self, request, *args, **kwargs):
        services.capture_form_delete(actor=request.user, form_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The form's submissions, newest first",
        filters=False,
        responses={200: SubmissionOutputSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def submissions(self, request, pk=None):
        submissions = selectors.submission_list(user=request.user, form_id=int(pk))
        page = self.paginate_queryset(submissions)
        return self.get_paginated_response(SubmissionOutputSerializer(page, many=True).data)


_ATTACHMENT_RESPONSES = {
    (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, description="The attachment, as a download")
    for content_type in dict.fromkeys(services.ATTACHMENT_TYPES.values())
}


class SubmissionAttachmentView(APIView):
    """The submission's attachment, for members of the organization who may view its lead."""

    @extend_schema(summary="Download a submission's attachment", responses=_ATTACHMENT_RESPONSES)
    def get(self, request, submission_id: int):
        submission = selectors.submission_get(user=request.user, submission_id=submission_id)
        if not submission.attachment:
            raise NotFound("This submission has no attachment.")
        response = FileResponse(
            submission.attachment.open("rb"),
            as_attachment=True,
            filename=submission.attachment_name or "attachment",
            content_type=submission.attachment_content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


class SubmissionReachedOutView(APIView):
    @extend_schema(
        summary="Mark a submission reached out (its lead moves from new to contacted)",
        request=None,
        responses={200: SubmissionOutputSerializer},
    )
    def post(self, request, submission_id: int):
        submission = services.submission_mark_reached_out(actor=request.user, submission_id=submission_id)
        return Response(SubmissionOutputSerializer(submission).data)


class PublicSubmitView(PublicAPIView):
    """Anyone may submit an active form; a per-address rate limit answers 429 past it."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Submit a lead capture form (no authentication; multipart)",
        request={"multipart/form-data": SubmissionInputSerializer},
        responses={201: SubmissionReceivedSerializer},
    )
    def post(self, request, slug: str):
        services.submission_size_check(content_length=request.META.get("CONTENT_LENGTH"))
        data = dict(validated(SubmissionInputSerializer, request))
        attachment = data.pop("attachment", None)
        receipt = services.submission_receive(
            slug=slug,
            data=data,
            attachment=attachment,
            ip=client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        # The same answer whether stored or caught by the honeypot: a bot learns nothing.
        return Response({"status": "received", "message": receipt.thank_you_text}, status=status.HTTP_201_CREATED)


router = SimpleRouter()
router.register("lead-forms", CaptureFormViewSet, basename="lead-form")

api_urlpatterns = [
    path(
        "lead-forms/submissions/<id:submission_id>/attachment/",
        SubmissionAttachmentView.as_view(),
        name="lead-form-submission-attachment",
    ),
    path(
        "lead-forms/submissions/<id:submission_id>/reached-out/",
        SubmissionReachedOutView.as_view(),
        name="lead-form-submission-reached-out",
    ),
    path("public/forms/<slug:slug>/submit/", PublicSubmitView.as_view(), name="public-form-submit"),
    *router.urls,
]
