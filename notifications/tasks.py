from celery import shared_task

from notifications import services
from notifications.exceptions import EmailDeliveryError


@shared_task(bind=True, name="notifications.tasks.email_send", max_retries=None)
def email_send(self, *, email_id: int) -> None:
    try:
        services.email_send(email_id=email_id)
    except EmailDeliveryError as exc:
        if exc.will_retry:
            raise self.retry(exc=exc, countdown=services.email_retry_delay(self.request.retries + 1)) from exc


@shared_task(name="notifications.tasks.emails_resume_stale")
def emails_resume_stale_task() -> int:
    """Celery beat, every five minutes: emails whose task was lost."""
    return services.emails_resume_stale()


@shared_task(name="notifications.tasks.email_bodies_purge")
def email_bodies_purge_task() -> int:
    """Celery beat, daily: the bodies of emails past RETENTION_DAYS."""
    return services.email_bodies_purge()
