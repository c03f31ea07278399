"""Keeping the rollups current: events mark the days they changed as stale
(`rollup_day_mark`), and `rollups_refresh` (a task sent on the first mark, and a beat job
every minute for what a busy day left) recomputes each stale day from the source tables."""

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from analytics.models import StaleDay
from analytics.rollups import FAMILIES, rollups_recompute
from leadnexus.core import outbox

REFRESH_TASK = "analytics.tasks.rollups_refresh"
REFRESH_BATCH = 500


def rollup_day_mark(*, organization_id: int, family: str, when: datetime | date) -> None:
    """The family's rollups of the organization's day holding `when` (an instant, or already
    a local date) need recomputing. The first mark of a day sends the refresh task; later
    ones only move `marked_at`."""
    assert family in FAMILIES, family
    if isinstance(when, datetime):
        organization = Organization.objects.only("time_zone").get(pk=organization_id)
        when = when.astimezone(organization.zone).date()
    now = timezone.now()
    with transaction.atomic():
        waiting = StaleDay.objects.filter(organization_id=organization_id, date=when, family=family)
        if waiting.update(marked_at=now):
            return
        StaleDay.objects.bulk_create(
            [StaleDay(organization_id=organization_id, date=when, family=family, marked_at=now)],
            ignore_conflicts=True,
        )
        outbox.enqueue(REFRESH_TASK)


def rollups_refresh() -> int:
    """Recompute the stale days, oldest mark first; a day marked again while it was being
    recomputed stays stale for the next run. A day another worker holds is skipped. How many
    days were recomputed."""
    done = 0
    for stale_id in StaleDay.objects.order_by("marked_at", "pk").values_list("pk", flat=True)[:REFRESH_BATCH]:
        started = timezone.now()
        with transaction.atomic():
            stale = (
                StaleDay.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("organization")
                .filter(pk=stale_id)
                .first()
            )
            if stale is None:
                continue
            rollups_recompute(organization=stale.organization, family=stale.family, first=stale.date, last=stale.date)
            StaleDay.objects.filter(pk=stale.pk, marked_at__lte=started).delete()
        done += 1
    return done
