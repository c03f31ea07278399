from celery import shared_task

from notifications import services
from notifications.exceptions import EmailDeliveryError


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 3600)


@shared_task(bind=True, name="notifications.tasks.email_send", max_retries=None)
def email_send(self, *, email_id: int) -> None:
    try:
        services.email_send(email_id=email_id)
    except EmailDeliveryError as exc:
        if exc.will_retry:
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(name="notifications.tasks.email_bodies_purge")
def email_bodies_purge_task() -> int:
    """Celery beat, daily: the bodies of emails past RETENTION_DAYS."""
    return services.email_bodies_purge()
