"""Running reports into files (`ReportExport`).

`report_run` checks the kind and range, then counts the report's rows: up to
`REPORT_SYNC_MAX_ROWS` it writes the file while the caller waits (the view then streams it
back); above that it queues `analytics.tasks.report_export_process` and the caller follows the
export's progress. Either way the file lands in default storage, kept `REPORT_RETENTION_DAYS`
for the history's downloads; `report_exports_purge` (beat) removes it afterwards.

A job claims its export (queued → running) and beats `heartbeat_at` with each chunk of rows.
A worker killed mid-job leaves a running export whose heartbeat goes stale: the beat sweep
(`report_exports_resume_stale`) queues it again from the start (writing is idempotent: the file
is saved only at the end), up to `REPORT_MAX_ATTEMPTS` runs; after that the export is marked
failed with a message saying so, and the user runs it again.
"""

import logging
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import export_format_of
from analytics.dates import local_bounds
from analytics.models import ReportExport
from analytics.reports import ReportKind, report_rows
from analytics.selectors.reports import report_kind_get, report_range
from leadnexus.core import outbox
from leadnexus.core.exceptions import ApplicationError, ValidationFailed
from leadnexus.core.quotas import quota_consume
from leads.imports.export import FORMATS, csv_write, xlsx_write
from notifications.models import NotificationType
from notifications.services import email_queue, notification_send

logger = logging.getLogger(__name__)

PROCESS_TASK = "analytics.tasks.report_export_process"


def report_format(*, user: User, requested: str | None) -> str:
    if requested and requested not in FORMATS:
        raise ValidationFailed("Unknown report format.", details={"format": ["Choose csv or xlsx."]})
    return export_format_of(user=user, requested=requested)


def report_run(
    *,
    actor: User,
    kind: str,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
    format: str | None = None,
) -> ReportExport:
    """Run a report for the actor: written at once when small (status done), queued as a job
    otherwise (status queued). Counts against the actor's `reports` quota."""
    spec = report_kind_get(user=actor, kind=kind)
    start, end = report_range(user=actor, date_from=date_from, date_to=date_to)
    format = report_format(user=actor, requested=format)
    quota_consume(user=actor, group="reports")
    total = spec.records(actor, *local_bounds(actor.organization, start, end)).count()
    with transaction.atomic():
        export = ReportExport.objects.create(
            user=actor,
            organization_id=actor.organization_id,
            kind=spec.slug,
            date_from=start,
            date_to=end,
            format=format,
            total_rows=total,
            heartbeat_at=timezone.now(),  # a queued job's sign of life, for the stale sweep
        )
        if total > settings.REPORT_SYNC_MAX_ROWS:
            outbox.enqueue(PROCESS_TASK, export_id=export.pk)
            return export
    return _write(export, actor, spec)


def report_queue(*, user: User, spec: ReportKind, date_from: date, date_to: date, format: str, **fields):
    """Queue a report job without checks (the caller made them): the scheduled reports."""
    export = ReportExport.objects.create(
        user=user,
        organization_id=user.organization_id,
        kind=spec.slug,
        date_from=date_from,
        date_to=date_to,
        format=format,
        heartbeat_at=timezone.now(),
        **fields,
    )
    outbox.enqueue(PROCESS_TASK, export_id=export.pk)
    return export


def _tracked(export: ReportExport, rows: Iterable[list]) -> Iterator[list]:
    """The rows, recording every `REPORT_PROGRESS_EVERY` rows how far the job got (and that it
    is alive)."""
    every = settings.REPORT_PROGRESS_EVERY
    written = 0
    for row in rows:
        yield row
        written += 1
        data_rows = written - 1  # the header is not a row of the report
        if data_rows and data_rows % every == 0:
            total = max(export.total_rows, data_rows)
            ReportExport.objects.filter(pk=export.pk).update(
                row_count=data_rows, progress=min(99, data_rows * 100 // total), heartbeat_at=timezone.now()
            )
    export.row_count = max(written - 1, 0)


def _write(export: ReportExport, user: User, spec: ReportKind) -> ReportExport:
    """Write the report's file and mark the export done (kept for the retention period)."""
    start, end = local_bounds(user.organization, export.date_from, export.date_to)
    rows = _tracked(export, report_rows(spec, spec.records(user, start, end), user.organization.zone))
    with tempfile.TemporaryFile() as spool:
        if export.format == ReportExport.Format.XLSX:
            xlsx_write(rows, spool, title=spec.title)
        else:
            csv_write(rows, spool)
        spool.seek(0)
        name = f"{secrets.token_hex(8)}-{report_filename(export)}"
        export.file.save(name, File(spool), save=False)
    now = timezone.now()
    export.status = ReportExport.Status.DONE
    export.progress = 100
    export.total_rows = export.row_count
    export.finished_at = now
    export.heartbeat_at = now
    export.expires_at = now + settings.REPORT_RETENTION
    export.error = ""
    export.save(
        update_fields=[
            "file", "status", "progress", "row_count", "total_rows", "finished_at", "heartbeat_at", "expires_at",
            "error",
        ]
    )  # fmt: skip
    return export


def report_filename(export: ReportExport) -> str:
    return f"{export.kind}-{export.date_from}-{export.date_to}.{export.format}"


def report_export_process(*, export_id: int) -> ReportExport | None:
    """Run a queued report job: claim it, write the file chunk by chunk, tell the user. An
    export already claimed, done or failed is left alone, so a duplicate task does nothing."""
    now = timezone.now()
    claimed = ReportExport.objects.filter(pk=export_id, status=ReportExport.Status.QUEUED).update(
        status=ReportExport.Status.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    export = ReportExport.objects.select_related("user__organization", "subscription").get(pk=export_id)
    user = export.user
    try:
        if not user.is_active:
            raise ApplicationError("The account that asked for this report is no longer active.")
        # The rules as they stand now: a user who lost the right meanwhile gets no file.
        spec = report_kind_get(user=user, kind=export.kind)
        _write(export, user, spec)
    except Exception as exc:
        message = exc.message if isinstance(exc, ApplicationError) else "An unexpected error stopped it."
        if not isinstance(exc, ApplicationError):
            logger.exception("Report export %s failed", export_id)
        ReportExport.objects.filter(pk=export_id).update(
            status=ReportExport.Status.FAILED, error=message, finished_at=timezone.now()
        )
        return None
    _tell_ready(export, spec)
    return export


def _tell_ready(export: ReportExport, spec: ReportKind) -> None:
    link = reverse("analytics:report-download", args=[export.pk])
    period = f"{export.date_from:%Y-%m-%d} to {export.date_to:%Y-%m-%d}"
    if export.subscription_id:
        # Scheduled: the subscription is the user's request for this email.
        email_queue(
            to=export.user.email,
            template="report_scheduled",
            context={
                "user": export.user,
                "title": spec.title,
                "frequency": export.subscription.frequency,
                "period": period,
                "rows": export.row_count,
                "link": link,
                "expires_at": export.expires_at,
            },
        )
        return
    notification_send(
        user=export.user,
        type=NotificationType.REPORT,
        title=f"Your {spec.title.lower()} report is ready",
        message=f"{export.row_count} rows, {period}. The file is kept until {export.expires_at:%Y-%m-%d %H:%M} UTC.",
        link=link,
    )


def report_exports_resume_stale() -> int:
    """Beat: exports whose job went quiet for `REPORT_STALE_AFTER` (a killed worker, a lost
    task) are queued again, or marked failed once they used `REPORT_MAX_ATTEMPTS` runs."""
    cutoff = timezone.now() - settings.REPORT_STALE_AFTER
    stale = ReportExport.objects.filter(
        status__in=[ReportExport.Status.QUEUED, ReportExport.Status.RUNNING], heartbeat_at__lt=cutoff
    )
    failed = stale.filter(attempts__gte=settings.REPORT_MAX_ATTEMPTS).update(
        status=ReportExport.Status.FAILED,
        finished_at=timezone.now(),
        error=f"The report job stopped {settings.REPORT_MAX_ATTEMPTS} times before finishing. Run it again.",
    )
    resumed = 0
    for export_id in stale.filter(attempts__lt=settings.REPORT_MAX_ATTEMPTS).values_list("pk", flat=True):
        with transaction.atomic():
            requeued = (
                ReportExport.objects.filter(pk=export_id, heartbeat_at__lt=cutoff)
                .filter(Q(status=ReportExport.Status.QUEUED) | Q(status=ReportExport.Status.RUNNING))
                .update(status=ReportExport.Status.QUEUED, heartbeat_at=timezone.now())
            )
            if requeued:
                outbox.enqueue(PROCESS_TASK, export_id=export_id)
                resumed += 1
    return resumed + failed


def report_exports_purge() -> int:
    """Beat: remove the files of exports past `expires_at`; their history rows stay."""
    removed = 0
    expired = ReportExport.objects.filter(expires_at__lte=timezone.now()).exclude(file="")
    for export in expired.only("pk", "file"):
        export.file.delete(save=False)
        ReportExport.objects.filter(pk=export.pk).update(file="")
        removed += 1
    return removed
