"""Reads of analytics: which report kinds a user may run, the dates a report covers, and the
user's own report exports and subscriptions. A user sees only their own exports and
subscriptions; anyone else's (another organization's included) is not found."""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from analytics.dates import local_today
from analytics.exceptions import ReportExpired, ReportNotReady
from analytics.models import ReportExport, ReportSubscription
from analytics.reports import KINDS, ReportKind, may_run
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.ids import is_db_id

# Without `from`, a report covers this many days up to `to`.
DEFAULT_SPAN_DAYS = 30
EARLIEST, LATEST = date(1970, 1, 1), date(9999, 12, 30)


def report_kind_list(*, user: User) -> list[ReportKind]:
    """The kinds of report the user may run, in the registry's order."""
    return [kind for kind in KINDS.values() if may_run(user, kind)]


def report_kind_get(*, user: User, kind: str) -> ReportKind:
    """An unknown kind is not found; a kind the user may not run is refused (403), whichever
    rule stops them: the export permission or the kind's own."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound("There is no report of that kind.")
    if not may_run(user, spec):
        raise PermissionDenied(f"You may not run the {spec.title.lower()} report.")
    return spec


def _parse(name: str, raw) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        value = date.fromisoformat(str(raw))
    except ValueError:
        raise ValidationFailed("The dates are not valid.", details={name: ["Give a date as YYYY-MM-DD."]}) from None
    if not EARLIEST <= value <= LATEST:
        raise ValidationFailed("The dates are not valid.", details={name: ["Give a date from 1970 on."]})
    return value


def report_range(*, user: User, date_from=None, date_to=None) -> tuple[date, date]:
    """The organization's local dates a report covers, both inclusive: `to` defaults to today,
    `from` to 30 days before `to`. `from` after `to`, or a span over `REPORT_MAX_SPAN_DAYS`, is
    a validation error naming the field."""
    end = _parse("to", date_to) or local_today(user.organization)
    start = _parse("from", date_from) or end - timedelta(days=DEFAULT_SPAN_DAYS - 1)
    if start > end:
        raise ValidationFailed("The range is not valid.", details={"from": ["Must be on or before `to`."]})
    if (end - start).days + 1 > settings.REPORT_MAX_SPAN_DAYS:
        raise ValidationFailed(
            "The range is too long.",
            details={"to": [f"A report covers at most {settings.REPORT_MAX_SPAN_DAYS} days."]},
        )
    return start, end


def report_export_list(*, user: User) -> QuerySet[ReportExport]:
    """The user's report exports, newest first."""
    return ReportExport.objects.filter(user_id=user.pk)


def report_export_get(*, user: User, export_id) -> ReportExport:
    export = report_export_list(user=user).filter(pk=export_id).first() if is_db_id(export_id) else None
    if export is None:
        raise NotFound("Report export not found.")
    return export


def report_export_expired(export: ReportExport) -> bool:
    return export.status == ReportExport.Status.DONE and (
        not export.file or (export.expires_at is not None and export.expires_at <= timezone.now())
    )


def report_export_file(*, user: User, export_id) -> ReportExport:
    """An export whose file can be downloaded: done and not expired (410 otherwise)."""
    export = report_export_get(user=user, export_id=export_id)
    if export.status == ReportExport.Status.FAILED:
        raise ReportNotReady(f"This report failed: {export.error or 'an unexpected error'}. Run it again.")
    if export.status != ReportExport.Status.DONE:
        raise ReportNotReady("This report is still being written. Try again when it is done.")
    if report_export_expired(export):
        raise ReportExpired(
            f"This report's file was kept until {export.expires_at:%Y-%m-%d %H:%M} UTC and has been removed. "
            "Run the report again."
        )
    return export


def report_subscription_list(*, user: User) -> QuerySet[ReportSubscription]:
    return ReportSubscription.objects.filter(user_id=user.pk)


def report_subscription_get(*, user: User, subscription_id) -> ReportSubscription:
    subscriptions = report_subscription_list(user=user)
    subscription = subscriptions.filter(pk=subscription_id).first() if is_db_id(subscription_id) else None
    if subscription is None:
        raise NotFound("Report subscription not found.")
    return subscription
