from celery import shared_task

from leadnexus.core import backup, events, idempotency, outbox


@shared_task(name="leadnexus.core.tasks.event_deliver", autoretry_for=(Exception,), retry_backoff=True, max_retries=6)
def event_deliver(*, event_id: int, subscriber: str) -> bool:
    return events.event_deliver(event_id=event_id, subscriber=subscriber)


@shared_task(name="leadnexus.core.tasks.outbox_resend")
def outbox_resend() -> int:
    return outbox.outbox_resend()


@shared_task(name="leadnexus.core.tasks.idempotency_purge")
def idempotency_purge() -> int:
    return idempotency.idempotency_purge()


@shared_task(name="leadnexus.core.tasks.backup_nightly")
def backup_nightly_task() -> str:
    """Celery beat, nightly at 03:00 UTC: a backup and the old ones pruned (BACKUP_NIGHTLY)."""
    path = backup.backup_nightly()
    return str(path) if path else ""


@shared_task(name="leadnexus.core.tasks.events_purge")
def events_purge_task() -> int:
    """Celery beat, daily: events past RETENTION_DAYS."""
    return events.events_purge()
