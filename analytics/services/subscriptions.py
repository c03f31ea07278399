"""Scheduled reports: a user's subscription to a report kind, weekly or monthly, emailed by
the beat job `report_subscriptions_send` for the period just ended (the organization's local
weeks, Monday to Sunday, and calendar months). The report runs as a background job
(`analytics.services.exports`) and its email links to the file.

A subscription remembers the first day of the last period it handled (`last_period_start`);
the beat job moves it forward with one conditional update before queuing the report, so a
period is sent once however often, or however concurrently, the job runs. A new subscription
counts the period that just ended as handled: its first email follows the end of the current
week or month."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import User
from analytics.dates import local_today
from analytics.models import ReportSubscription
from analytics.reports import KINDS, may_run
from analytics.selectors.reports import report_kind_get, report_subscription_get
from analytics.services.exports import report_format, report_queue
from leadnexus.core.exceptions import Conflict, ValidationFailed


def report_period(frequency: str, today: date) -> tuple[date, date]:
    """The last full period before `today`: the previous Monday-to-Sunday week, or the previous
    calendar month."""
    if frequency == ReportSubscription.Frequency.WEEKLY:
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7), this_monday - timedelta(days=1)
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    return last_month_end.replace(day=1), last_month_end


def _frequency(value: str) -> str:
    if value not in ReportSubscription.Frequency.values:
        raise ValidationFailed("Unknown frequency.", details={"frequency": ["Choose weekly or monthly."]})
    return value


def report_subscription_create(*, actor: User, kind: str, frequency: str, format: str | None = None):
    spec = report_kind_get(user=actor, kind=kind)
    frequency = _frequency(frequency)
    format = report_format(user=actor, requested=format)
    # The period that just ended counts as handled: the first email covers the current one.
    handled = report_period(frequency, local_today(actor.organization))[0]
    try:
        with transaction.atomic():
            return ReportSubscription.objects.create(
                user=actor, kind=spec.slug, frequency=frequency, format=format, last_period_start=handled
            )
    except IntegrityError:
        raise Conflict(f"You already receive the {spec.title.lower()} report {frequency}.") from None


def report_subscription_update(
    *, actor: User, subscription_id: int, frequency: str | None = None, format: str | None = None
) -> ReportSubscription:
    subscription = report_subscription_get(user=actor, subscription_id=subscription_id)
    if format is not None:
        subscription.format = report_format(user=actor, requested=format)
    if frequency is not None and frequency != subscription.frequency:
        subscription.frequency = _frequency(frequency)
        today = local_today(actor.organization)
        subscription.last_period_start = report_period(subscription.frequency, today)[0]
    try:
        with transaction.atomic():
            subscription.save(update_fields=["format", "frequency", "last_period_start"])
    except IntegrityError:
        raise Conflict(f"You already receive this report {subscription.frequency}.") from None
    return subscription


def report_subscription_delete(*, actor: User, subscription_id: int) -> None:
    report_subscription_get(user=actor, subscription_id=subscription_id).delete()


def report_subscriptions_send() -> int:
    """Beat: queue the report of every subscription whose period ended since it was last sent.
    A user who may no longer run the kind (or is inactive) is skipped for that period."""
    sent = 0
    subscriptions = ReportSubscription.objects.select_related("user__organization").filter(user__is_active=True)
    for subscription in subscriptions.iterator(chunk_size=500):
        user = subscription.user
        start, end = report_period(subscription.frequency, local_today(user.organization))
        with transaction.atomic():
            claimed = (
                ReportSubscription.objects.filter(pk=subscription.pk)
                .filter(Q(last_period_start__isnull=True) | Q(last_period_start__lt=start))
                .update(last_period_start=start)
            )
            spec = KINDS.get(subscription.kind)
            if not claimed or spec is None or not may_run(user, spec):
                continue
            report_queue(
                user=user,
                spec=spec,
                date_from=start,
                date_to=end,
                format=subscription.format,
                subscription=subscription,
            )
            sent += 1
    return sent
