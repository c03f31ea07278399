"""Lead imports and exports through the API.

`POST leads/import/` (multipart `file`) → 201 with the staged job, its guessed mapping and a
preview; `POST leads/import/{id}/confirm/` → 202 queued; `GET leads/import/` and
`leads/import/{id}/` follow jobs; `GET leads/import/{id}/rejected/` downloads the rows not
imported with a `reason` column; `GET leads/export/?format=csv|xlsx` (+ the list's filters)
downloads the leads the caller's list shows.

The views serve any kind of import and any list's export: the CRM's contacts subclass them
with their own `kind`, route names, filters and export (`crm.api.imports`).
"""

from django.urls import path, reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from leadnexus.core.api import validated
from leads.filters import LeadFilter
from leads.imports import services
from leads.imports.export import XLSX_TYPE, leads_export, rejected_response
from leads.imports.selectors import import_job_get, import_job_list, import_rejected
from leads.models import ImportJob, Lead


class DownloadNegotiation(BaseContentNegotiation):
    """Downloads answer a file whatever the Accept header; errors still render as JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


# --- Input ---------------------------------------------------------------------------


class ImportUploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A CSV (comma, semicolon or tab; UTF-8, UTF-16 or Latin-1) or XLSX file.")


class MappingField(serializers.DictField):
    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.CharField(allow_null=True, allow_blank=True, max_length=100),
            help_text='{"<column>": "<field>" or null}: the columns named take these fields; null leaves a '
            "column out; columns not named keep the current mapping.",
            **kwargs,
        )


class ImportConfirmInputSerializer(serializers.Serializer):
    mapping = MappingField(required=False)
    duplicate_policy = serializers.ChoiceField(
        choices=ImportJob.DuplicatePolicy.choices,
        required=False,
        help_text="What a row that duplicates an existing record does: skip it (default), update that record, "
        "or create anyway.",
    )


# --- Output --------------------------------------------------------------------------


class ImportJobOutputSerializer(serializers.ModelSerializer):
    mapping = serializers.DictField(child=serializers.CharField(allow_null=True), read_only=True)
    columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    progress = serializers.SerializerMethodField(help_text="Processed rows, in percent of the total.")
    rejected_url = serializers.SerializerMethodField(
        help_text="The CSV of the rows not imported, with a reason column; null while there are none."
    )
    created_by = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "status",
            "file_name",
            "total",
            "processed",
            "progress",
            "created",
            "updated",
            "duplicates",
            "invalid",
            "rejected_url",
            "duplicate_policy",
            "columns",
            "mapping",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_progress(self, job) -> int:
        return 100 if not job.total else min(100, job.processed * 100 // job.total)

    def get_rejected_url(self, job) -> str | None:
        if not (job.invalid or job.duplicates):
            return None
        # Other kinds' endpoints (contacts, listings) pass their own route name.
        url = reverse(self.context.get("rejected_route", "api:lead-import-rejected"), args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class PreviewRowOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the file, counted from the first under the header.")
    values = serializers.DictField(child=serializers.CharField(), help_text="The row's cells by column.")
    problems = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="{field: [messages]} under the current mapping; `duplicate` names a record or row it repeats.",
    )
    rejected = serializers.BooleanField(help_text="The row would not be imported (its problems say why).")


class ImportUploadOutputSerializer(ImportJobOutputSerializer):
    preview = PreviewRowOutputSerializer(many=True, read_only=True)

    class Meta(ImportJobOutputSerializer.Meta):
        fields = [*ImportJobOutputSerializer.Meta.fields, "preview"]


class ImportConfirmOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ImportJob.Status.choices, help_text="queued: follow it with GET …/{id}.")


# --- Views ---------------------------------------------------------------------------


class _ImportView(GenericAPIView):
    kind = ImportJob.Kind.LEADS
    rejected_route = "api:lead-import-rejected"
    queryset = ImportJob.objects.none()  # for the schema; every request is scoped by the selectors
    filter_backends = []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "rejected_route": self.rejected_route}


class LeadImportListView(_ImportView):
    """Upload a file to import leads, or list past imports."""

    serializer_class = ImportJobOutputSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Past lead imports, newest first", responses={200: ImportJobOutputSerializer(many=True)})
    def get(self, request):
        jobs = import_job_list(user=request.user, kind=self.kind)
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Upload a CSV or XLSX file of leads: staged, with a guessed mapping and a preview",
        description="Nothing is imported until the job is confirmed. Too large (file or rows) is 413 "
        "payload_too_large; not a CSV or XLSX by content is 415 unsupported_media_type; a malformed file "
        "is 400 validation_error naming the line or row.",
        request={"multipart/form-data": ImportUploadInputSerializer},
        responses={201: ImportUploadOutputSerializer},
    )
    def post(self, request):
        file = validated(ImportUploadInputSerializer, request)["file"]
        upload = services.import_upload(actor=request.user, kind=self.kind, file=file)
        upload.job.preview = upload.preview
        data = ImportUploadOutputSerializer(upload.job, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)


class LeadImportDetailView(_ImportView):
    serializer_class = ImportJobOutputSerializer

    @extend_schema(summary="One lead import: status, progress and counts")
    def get(self, request, job_id: int):
        job = import_job_get(user=request.user, kind=self.kind, job_id=job_id)
        return Response(self.get_serializer(job).data)


class LeadImportConfirmView(_ImportView):
    serializer_class = ImportConfirmOutputSerializer

    @extend_schema(
        summary="Confirm an uploaded import (optionally correcting the mapping); it runs in the background",
        description="An import already confirmed is 409 illegal_transition. The update policy needs the right "
        "to edit leads.",
        request=ImportConfirmInputSerializer,
        responses={202: ImportConfirmOutputSerializer},
    )
    def post(self, request, job_id: int):
        options = validated(ImportConfirmInputSerializer, request)
        job = services.import_confirm(actor=request.user, kind=self.kind, job_id=job_id, **options)
        return Response({"id": job.pk, "status": job.status}, status=status.HTTP_202_ACCEPTED)


class LeadImportRejectedView(_ImportView):
    content_negotiation_class = DownloadNegotiation

    @extend_schema(
        summary="The rows of an import that were not imported, as CSV, with a reason column",
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file")},
    )
    def get(self, request, job_id: int):
        rejected = import_rejected(user=request.user, kind=self.kind, job_id=job_id)
        return rejected_response(rejected)


class LeadExportView(GenericAPIView):
    queryset = Lead.objects.none()  # for the schema: the filters are LeadFilter's
    filterset_class = LeadFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = None
    content_negotiation_class = DownloadNegotiation
    export = staticmethod(leads_export)

    @extend_schema(
        summary="Download the leads your list shows (same filters), as CSV or XLSX",
        description="Needs the export permission. The format defaults to your preference; notes are "
        "included if your preferences say so. Cells that a spreadsheet would run as a formula are "
        "prefixed with a single quote.",
        parameters=[
            OpenApiParameter(
                "format", str, enum=["csv", "xlsx"], required=False, description="Default: your preference."
            )
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
        },
    )
    def get(self, request):
        return self.export(user=request.user, params=request.query_params, format=request.query_params.get("format"))


api_urlpatterns = [
    path("leads/import/", LeadImportListView.as_view(), name="lead-imports"),
    path("leads/import/<id:job_id>/", LeadImportDetailView.as_view(), name="lead-import"),
    path("leads/import/<id:job_id>/confirm/", LeadImportConfirmView.as_view(), name="lead-import-confirm"),
    path("leads/import/<id:job_id>/rejected/", LeadImportRejectedView.as_view(), name="lead-import-rejected"),
    path("leads/export/", LeadExportView.as_view(), name="lead-export"),
]
