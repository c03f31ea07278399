"""The Reports page, under /dashboard/reports/: the kinds with a run form, the export
history with progress bars polled by htmx, scheduled reports. Domain errors of a run or a
subscription become flash messages."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import path
from django.views import View
from django.views.generic import TemplateView

from analytics.dates import local_today
from analytics.exceptions import ReportExpired, ReportNotReady
from analytics.files import report_file_response
from analytics.models import ReportExport, ReportSubscription
from analytics.reports import KINDS
from analytics.selectors.reports import (
    DEFAULT_SPAN_DAYS,
    report_export_expired,
    report_export_file,
    report_export_get,
    report_export_list,
    report_kind_list,
    report_subscription_list,
)
from analytics.services.exports import report_run
from analytics.services.subscriptions import report_subscription_create, report_subscription_delete
from leadnexus.core.exceptions import ApplicationError

# The Reports page shows this many of the latest exports.
HISTORY_ROWS = 20


class ReportsView(LoginRequiredMixin, TemplateView):
    template_name = "analytics/reports/index.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        today = local_today(user.organization)
        return super().get_context_data(
            kinds=report_kind_list(user=user),
            exports=_titled(report_export_list(user=user)[:HISTORY_ROWS]),
            subscriptions=_titled(report_subscription_list(user=user)),
            frequencies=ReportSubscription.Frequency.choices,
            formats=ReportExport.Format.choices,
            default_from=today - timedelta(days=DEFAULT_SPAN_DAYS - 1),
            default_to=today,
            **kwargs,
        )


class ReportRunView(LoginRequiredMixin, View):
    """Run a report from its form: a small one downloads at once; a large one is queued and
    shows in the history with its progress."""

    def get(self, request, kind: str):
        try:
            export = report_run(
                actor=request.user,
                kind=kind,
                date_from=request.GET.get("from"),
                date_to=request.GET.get("to"),
                format=request.GET.get("format") or None,
            )
        except ApplicationError as error:
            messages.error(request, _message(error))
            return redirect("analytics:reports")
        if export.status == ReportExport.Status.DONE:
            return report_file_response(export)
        messages.success(
            request,
            f"The report has {export.total_rows} rows, so it is being written in the background. "
            "We will email you the link when it is ready; you can follow it below.",
        )
        return redirect("analytics:reports")


def _titled(records) -> list:
    """Exports or subscriptions, each with its kind's title for the page."""
    records = list(records)
    for record in records:
        record.title = KINDS[record.kind].title if record.kind in KINDS else record.kind
        if isinstance(record, ReportExport):
            record.expired = report_export_expired(record)
    return records


def _message(error: ApplicationError) -> str:
    problems = [message for messages_ in error.details.values() for message in messages_]
    return " ".join([error.message, *problems])


class ReportExportProgressView(LoginRequiredMixin, View):
    """One export's row of the history: polled while its job runs, then it stops asking."""

    def get(self, request, export_id: int):
        export = report_export_get(user=request.user, export_id=export_id)
        return render(request, "analytics/reports/partials/export.html", {"export": _titled([export])[0]})


class ReportDownloadView(LoginRequiredMixin, View):
    def get(self, request, export_id: int):
        try:
            export = report_export_file(user=request.user, export_id=export_id)
        except ReportExpired as error:
            return render(request, "analytics/reports/expired.html", {"message": error.message}, status=410)
        except ReportNotReady as error:
            messages.info(request, error.message)
            return redirect("analytics:reports")
        return report_file_response(export)


class ReportSubscriptionCreateView(LoginRequiredMixin, View):
    def post(self, request):
        try:
            subscription = report_subscription_create(
                actor=request.user,
                kind=request.POST.get("kind", ""),
                frequency=request.POST.get("frequency", ""),
                format=request.POST.get("format") or None,
            )
        except ApplicationError as error:
            messages.error(request, _message(error))
        else:
            title = KINDS[subscription.kind].title.lower()
            messages.success(request, f"You will receive the {title} report {subscription.frequency} by email.")
        return redirect("analytics:reports")


class ReportSubscriptionDeleteView(LoginRequiredMixin, View):
    def post(self, request, subscription_id: int):
        report_subscription_delete(actor=request.user, subscription_id=subscription_id)
        messages.success(request, "The scheduled report is stopped.")
        return redirect("analytics:reports")


urlpatterns = [
    path("reports/", ReportsView.as_view(), name="reports"),
    path("reports/run/<slug:kind>/", ReportRunView.as_view(), name="report-run"),
    path("reports/exports/<id:export_id>/progress/", ReportExportProgressView.as_view(), name="report-progress"),
    path("reports/exports/<id:export_id>/download/", ReportDownloadView.as_view(), name="report-download"),
    path("reports/subscriptions/", ReportSubscriptionCreateView.as_view(), name="report-subscribe"),
    path(
        "reports/subscriptions/<id:subscription_id>/delete/",
        ReportSubscriptionDeleteView.as_view(),
        name="report-unsubscribe",
    ),
]
