"""Reports through the API.

`GET analytics/reports/` lists the kinds the caller may run; `GET analytics/reports/{kind}/
?from=&to=&format=csv|xlsx` answers the file (200) when the report is small, or 202 with the
export to follow when it has more than `REPORT_SYNC_MAX_ROWS` rows (its file is emailed as a
link when done). `GET analytics/reports/exports/[{id}/]` is the caller's history and
`…/{id}/download/` the file while it is kept (410 `export_expired` after). CRUD
`analytics/subscriptions/`: scheduled reports, weekly or monthly.
"""

from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from analytics.files import report_file_response
from analytics.models import ReportExport, ReportSubscription
from analytics.reports import KIND_CHOICES, KINDS
from analytics.selectors.reports import (
    report_export_expired,
    report_export_file,
    report_export_get,
    report_export_list,
    report_kind_list,
    report_subscription_get,
    report_subscription_list,
)
from analytics.services.exports import report_run
from analytics.services.subscriptions import (
    report_subscription_create,
    report_subscription_delete,
    report_subscription_update,
)
from leadnexus.core.api import RecordViewSet
from leads.api.imports import DownloadNegotiation
from leads.imports.export import XLSX_TYPE

# --- Output --------------------------------------------------------------------------------------


class ReportKindOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, source="slug")
    title = serializers.CharField()
    description = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField())


class ReportExportOutputSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, read_only=True)
    date_from = serializers.DateField(read_only=True, help_text="The organization's local date, inclusive.")
    date_to = serializers.DateField(read_only=True, help_text="The organization's local date, inclusive.")
    expired = serializers.SerializerMethodField(help_text="The file was kept its time and has been removed.")
    download_url = serializers.SerializerMethodField(help_text="The file, while it is kept; null otherwise.")
    scheduled = serializers.SerializerMethodField(help_text="Run for a report subscription.")

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "kind",
            "date_from",
            "date_to",
            "format",
            "status",
            "progress",
            "row_count",
            "total_rows",
            "error",
            "scheduled",
            "created_at",
            "finished_at",
            "expires_at",
            "expired",
            "download_url",
        ]

    def get_expired(self, export) -> bool:
        return report_export_expired(export)

    def get_scheduled(self, export) -> bool:
        return export.subscription_id is not None

    def get_download_url(self, export) -> str | None:
        if export.status != ReportExport.Status.DONE or report_export_expired(export):
            return None
        url = reverse("api:report-export-download", args=[export.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ReportSubscriptionOutputSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES, read_only=True)
    last_period_start = serializers.DateField(
        read_only=True, allow_null=True, help_text="The first day of the last period sent (or skipped)."
    )

    class Meta:
        model = ReportSubscription
        fields = ["id", "kind", "frequency", "format", "last_period_start", "created_at"]


# --- Input ---------------------------------------------------------------------------------------


class ReportQuerySerializer(serializers.Serializer):
    # Shape only: the dates' rules (order, span) are the selector's.
    format = serializers.ChoiceField(choices=ReportExport.Format.choices, required=False)


class ReportSubscriptionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    frequency = serializers.ChoiceField(choices=ReportSubscription.Frequency.choices)
    format = serializers.ChoiceField(
        choices=ReportExport.Format.choices, required=False, help_text="Default: your export preference."
    )


class ReportSubscriptionUpdateInputSerializer(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=ReportSubscription.Frequency.choices, required=False)
    format = serializers.ChoiceField(choices=ReportExport.Format.choices, required=False)


# --- Views ---------------------------------------------------------------------------------------

_FILE_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV file"),
    (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="XLSX workbook"),
}


class ReportKindListView(GenericAPIView):
    serializer_class = ReportKindOutputSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(summary="The kinds of report you may run", responses={200: ReportKindOutputSerializer(many=True)})
    def get(self, request):
        return Response(self.get_serializer(report_kind_list(user=request.user), many=True).data)


class ReportRunView(GenericAPIView):
    content_negotiation_class = DownloadNegotiation
    serializer_class = ReportExportOutputSerializer
    pagination_class = None
    filter_backends = []
    queryset = ReportExport.objects.none()  # for the schema; every request is scoped by the selectors

    @extend_schema(
        summary="Run a report for a range of your organization's local dates (quota: reports)",
        description="A report of up to REPORT_SYNC_MAX_ROWS rows answers its file at once; a larger one "
        "answers 202 with the export to follow (GET analytics/reports/exports/{id}/), and its link is "
        "emailed when done. `from` after `to`, or a range over REPORT_MAX_SPAN_DAYS, is 400 validation_error. "
        "An unknown kind is 404; a kind you may not run is 403. Every run is kept in the history.",
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(KINDS)),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Inclusive. Default: 29 days before `to`."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Inclusive. Default: today."),
            OpenApiParameter("format", str, enum=["csv", "xlsx"], description="Default: your preference."),
        ],
        responses={**_FILE_RESPONSES, 202: ReportExportOutputSerializer},
    )
    def get(self, request, kind: str):
        params = request.query_params
        query = ReportQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        export = report_run(
            actor=request.user,
            kind=kind,
            date_from=params.get("from"),
            date_to=params.get("to"),
            format=query.validated_data.get("format"),
        )
        if export.status == ReportExport.Status.DONE:
            return report_file_response(export)
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)


class ReportExportListView(GenericAPIView):
    serializer_class = ReportExportOutputSerializer
    queryset = ReportExport.objects.none()
    filter_backends = []

    @extend_schema(
        summary="Your report history, newest first", responses={200: ReportExportOutputSerializer(many=True)}
    )
    def get(self, request):
        page = self.paginate_queryset(report_export_list(user=request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class ReportExportDetailView(GenericAPIView):
    serializer_class = ReportExportOutputSerializer
    queryset = ReportExport.objects.none()
    filter_backends = []

    @extend_schema(summary="One report export: status, progress and its download while kept")
    def get(self, request, export_id: int):
        return Response(self.get_serializer(report_export_get(user=request.user, export_id=export_id)).data)


class ReportExportDownloadView(GenericAPIView):
    content_negotiation_class = DownloadNegotiation
    queryset = ReportExport.objects.none()
    filter_backends = []

    @extend_schema(
        summary="Download a report export's file",
        description="Not done yet (or failed) is 409 conflict; past its retention the file is gone: 410 "
        "export_expired.",
        responses=_FILE_RESPONSES,
    )
    def get(self, request, export_id: int):
        return report_file_response(report_export_file(user=request.user, export_id=export_id))


@extend_schema_view(
    list=extend_schema(summary="Your scheduled reports"),
    retrieve=extend_schema(summary="One of your scheduled reports"),
    create=extend_schema(
        summary="Subscribe to a report, weekly or monthly",
        description="Emailed after each period ends (your organization's weeks, Monday to Sunday, and months), "
        "starting with the current one. The same kind and frequency twice is 409 conflict.",
        request=ReportSubscriptionInputSerializer,
        responses={201: ReportSubscriptionOutputSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a scheduled report's frequency or format",
        request=ReportSubscriptionUpdateInputSerializer,
        responses={200: ReportSubscriptionOutputSerializer},
    ),
    destroy=extend_schema(summary="Stop a scheduled report", responses={204: OpenApiResponse(description="Stopped")}),
)
class ReportSubscriptionViewSet(RecordViewSet):
    serializer_class = ReportSubscriptionOutputSerializer
    queryset = ReportSubscription.objects.none()  # for the schema; get_queryset() scopes every request
    filter_backends = []

    def get_queryset(self):
        return report_subscription_list(user=self.request.user)

    def get_object(self):
        return report_subscription_get(user=self.request.user, subscription_id=self.object_id)

    def create(self, request, *args, **kwargs):
        data = self.validated(ReportSubscriptionInputSerializer)
        return self.respond(report_subscription_create(actor=request.user, **data), status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        changes = self.validated(ReportSubscriptionUpdateInputSerializer)
        return self.respond(report_subscription_update(actor=request.user, subscription_id=self.object_id, **changes))

    def destroy(self, request, *args, **kwargs):
        report_subscription_delete(actor=request.user, subscription_id=self.object_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.register("analytics/subscriptions", ReportSubscriptionViewSet, basename="report-subscription")

api_urlpatterns = [
    path("analytics/reports/", ReportKindListView.as_view(), name="report-kinds"),
    path("analytics/reports/exports/", ReportExportListView.as_view(), name="report-exports"),
    path("analytics/reports/exports/<id:export_id>/", ReportExportDetailView.as_view(), name="report-export"),
    path(
        "analytics/reports/exports/<id:export_id>/download/",
        ReportExportDownloadView.as_view(),
        name="report-export-download",
    ),
    path("analytics/reports/<slug:kind>/", ReportRunView.as_view(), name="report-run"),
    *router.urls,
]
