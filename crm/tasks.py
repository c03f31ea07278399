"""Celery tasks of the CRM."""

from celery import shared_task

from crm.services.activities import activities_remind


@shared_task(name="crm.tasks.activities_remind")
def activities_remind_task() -> int:
    """Celery beat, every five minutes: reminders of activities due soon."""
    return activities_remind()
