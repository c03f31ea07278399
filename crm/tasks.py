"""Celery tasks of the CRM."""

from celery import shared_task

from crm.services.activities import activities_remind
from crm.services.campaign_sending import campaign_send, campaigns_advance
from crm.services.retention import crm_deleted_purge
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


@shared_task(name="crm.tasks.campaign_send")
def campaign_send_task(*, campaign_id: int) -> int:
    """Send a campaign's pending messages, batch by batch; safe to run twice at once."""
    return campaign_send(campaign_id=campaign_id)


@shared_task(name="crm.tasks.campaigns_advance")
def campaigns_advance_task() -> int:
    """Celery beat, every minute: scheduled campaigns due, sending left unfinished, A/B
    decisions and follow-up steps."""
    return campaigns_advance()


@shared_task(name="crm.tasks.deleted_purge")
def crm_deleted_purge_task() -> int:
    """Celery beat, daily: contacts and opportunities deleted longer than RETENTION_DAYS ago."""
    return crm_deleted_purge()
