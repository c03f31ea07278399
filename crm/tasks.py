"""Celery tasks of the CRM."""

from celery import shared_task

from crm.services.activities import activities_remind
from crm.services.webhooks import webhook_deliver, webhook_deliveries_retry


@shared_task(name="crm.tasks.activities_remind")
def activities_remind_task() -> int:
    """Celery beat, every five minutes: reminders of activities due soon."""
    return activities_remind()


@shared_task(name="crm.tasks.webhook_deliver")
def webhook_deliver_task(*, delivery_id: int, attempt: int) -> bool:
    """One attempt of a webhook delivery. Its retries are the beat job's: their time is in the
    database, so a worker restart loses none, and nothing waits in a worker meanwhile."""
    return webhook_deliver(delivery_id=delivery_id, attempt=attempt) is not None


@shared_task(name="crm.tasks.webhook_deliveries_retry")
def webhook_deliveries_retry_task() -> int:
    """Celery beat, every 30 seconds: the webhook deliveries due another attempt."""
    return webhook_deliveries_retry()
