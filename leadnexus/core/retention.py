"""How long LeadNexus keeps what it only needs for a while: the event trail (timelines and
audit, webhook delivery logs with it), the bodies of emails sent, and soft-deleted contacts
and opportunities (`crm.services.retention`). `RETENTION_DAYS` (0: keep everything);
soft-deleted leads go sooner, when their restore window closes."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

PURGE_BATCH = 5000


def retention_cutoff(now: datetime | None = None) -> datetime | None:
    """What was made before this instant is past retention; None when everything is kept."""
    if settings.RETENTION_DAYS <= 0:
        return None
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def purge_in_batches(records) -> int:
    """Delete `records` a batch at a time, so no transaction holds a year of rows; how many."""
    deleted = 0
    while True:
        batch = list(records.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            return deleted
        records.model.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
