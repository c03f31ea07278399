"""Celery tasks of the marketplace."""

from celery import shared_task

from marketplace.services.saved_searches import saved_searches_notify


@shared_task(name="marketplace.tasks.saved_searches_notify")
def saved_searches_notify_task() -> int:
    """Celery beat, every five minutes: one notification per user for their saved searches'
    new matches."""
    return saved_searches_notify()
