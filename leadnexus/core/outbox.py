"""Transactional outbox for Celery tasks.

`enqueue()` writes an `OutboxMessage` in the caller's transaction and sends the task
when it commits. If the broker is unreachable at that moment the row stays unsent
and `outbox_resend` (a beat job) sends it later. Tasks must therefore tolerate
running twice; the services they call are written to be idempotent.
"""

import logging

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leadnexus.core.models import OutboxMessage

logger = logging.getLogger(__name__)


def enqueue(task: str, **kwargs) -> OutboxMessage:
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: outbox_dispatch(message_id=message.pk), robust=True)
    return message


def outbox_dispatch(*, message_id: int) -> bool:
    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None:
        return False
    task = current_app.tasks.get(message.task)
    if task is None:
        _record_failure(message, f"No task named {message.task}")
        return False
    if current_app.conf.task_always_eager:
        # The task runs right here, its retries included: mark first so its own failure is
        # not mistaken for an unsent message, and raise that failure for the on-commit
        # runner to log.
        _mark_sent(message)
        result = task.apply_async(kwargs=message.kwargs)
        if result.failed():
            raise result.result
        return True
    try:
        # One attempt: the resend job is the retry, so a broker outage does not hold up the
        # request that committed (publish retries would, for each task it enqueues).
        task.apply_async(kwargs=message.kwargs, retry=False)
    except Exception as exc:  # broker unreachable: keep the row for the resend job
        _record_failure(message, str(exc))
        return False
    _mark_sent(message)
    return True


def _mark_sent(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now(), send_attempts=F("send_attempts") + 1)


def _record_failure(message: OutboxMessage, error: str) -> None:
    logger.warning("Could not send outbox message %s (%s): %s", message.pk, message.task, error)
    OutboxMessage.objects.filter(pk=message.pk).update(send_attempts=F("send_attempts") + 1, last_error=error[:2000])


def outbox_resend(*, limit: int = 500) -> int:
    """Send the rows still unsent after `OUTBOX_RESEND_AFTER`; the delay leaves room for the
    on-commit send of a transaction that just committed."""
    cutoff = timezone.now() - settings.OUTBOX_RESEND_AFTER
    ids = (
        OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(outbox_dispatch(message_id=message_id) for message_id in ids)
