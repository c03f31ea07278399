"""The daily summary email: sent by a beat job, from `DAILY_SUMMARY_HOUR` of each user's
organization's local day, to the users who turned on emails of the daily summary in their
notification settings (it is off by default). Its figures are the day's, read through the
lists' own selectors (a sales rep's are their own): leads created today, their open tasks
due today and overdue. One `DailySummarySent` row per user and day makes it once a day."""

from datetime import datetime, time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from analytics.dates import local_bounds
from analytics.models import DailySummarySent
from crm.selectors import activity_list, tasks_due
from leads.selectors import lead_list
from notifications.models import NotificationType
from notifications.selectors import email_opted_in_user_ids
from notifications.services import email_queue


def daily_figures(*, user: User, now: datetime) -> dict[str, int]:
    """The user's figures for their organization's local day around `now`."""
    today = now.astimezone(user.organization.zone).date()
    start, end = local_bounds(user.organization, today, today)
    if not permissions_of(user)["can_view_leads"]:
        return {}
    mine = activity_list(user=user).filter(assigned_to=user)
    return {
        "new_leads": lead_list(user=user).filter(created_at__gte=start, created_at__lt=end).count(),
        "tasks_due_today": tasks_due(mine, due="today", now=start, today_end=end).count(),
        "tasks_overdue": tasks_due(mine, due="overdue", now=start, today_end=end).count(),
    }


def daily_summaries_send(*, now: datetime | None = None) -> int:
    """Beat: email today's summary to each opted-in user whose local day has reached
    `DAILY_SUMMARY_HOUR` and who has not had it yet today."""
    now = now or timezone.now()
    sent = 0
    users = User.objects.filter(
        pk__in=email_opted_in_user_ids(type=NotificationType.DAILY_SUMMARY), is_active=True
    ).select_related("organization")
    for user in users.iterator(chunk_size=500):
        local = now.astimezone(user.organization.zone)
        if local.time() < time(hour=settings.DAILY_SUMMARY_HOUR):
            continue
        try:
            with transaction.atomic():
                DailySummarySent.objects.create(user=user, date=local.date())
                email_queue(
                    to=user.email,
                    template="daily_summary",
                    context={"user": user, "date": local.date(), "figures": daily_figures(user=user, now=now)},
                )
        except IntegrityError:
            continue  # already sent today
        sent += 1
    return sent
