"""Scheduled reports once per period, and the daily summary once per day for opted-in users."""

from datetime import UTC, date, datetime

import pytest

from accounts.tests.factories import OrganizationFactory, UserFactory
from analytics.models import ReportExport, ReportSubscription
from analytics.services.subscriptions import report_period, report_subscription_create, report_subscriptions_send
from analytics.services.summaries import daily_summaries_send
from crm.tests.factories import ActivityFactory
from leads.tests.factories import LeadFactory
from notifications.models import EmailMessage, NotificationType
from notifications.services import notification_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def travel(monkeypatch):
    """Set the clock every service reads (`django.utils.timezone.now`)."""

    def to(moment: datetime) -> None:
        monkeypatch.setattr("django.utils.timezone.now", lambda: moment)

    return to


def test_periods_are_the_last_full_week_and_month():
    assert report_period("weekly", date(2026, 3, 11)) == (date(2026, 3, 2), date(2026, 3, 8))
    assert report_period("monthly", date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_subscription_is_emailed_once_per_period(settings, travel):
    settings.SITE_URL = "https://app.example.com"
    user = UserFactory(organization=OrganizationFactory(time_zone="Europe/Berlin"))
    travel(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # a Wednesday
    subscription = report_subscription_create(actor=user, kind="leads", frequency="weekly")
    # The week that ended before subscribing is not sent
    assert report_subscriptions_send() == 0
    LeadFactory(organization=user.organization)

    # The next Monday (local) the week just ended goes out, once however often the job runs
    travel(datetime(2026, 3, 9, 0, 30, tzinfo=UTC))  # 01:30 Monday in Berlin
    assert report_subscriptions_send() == 1
    assert report_subscriptions_send() == 0

    export = ReportExport.objects.get(subscription=subscription)
    assert (export.date_from, export.date_to, export.status) == (date(2026, 3, 2), date(2026, 3, 8), "done")
    email = EmailMessage.objects.get(to=user.email, template="report_scheduled")
    assert f"https://app.example.com/dashboard/reports/exports/{export.pk}/download/" in email.text
    subscription.refresh_from_db()
    assert subscription.last_period_start == date(2026, 3, 2)


def test_a_subscription_to_a_kind_no_longer_allowed_is_skipped():
    user = UserFactory()
    ReportSubscription.objects.create(user=user, kind="sales", frequency="monthly")

    assert report_subscriptions_send() == 0
    assert not ReportExport.objects.exists()


def _opt_in(user):
    notification_settings_update(actor=user, channels={NotificationType.DAILY_SUMMARY: {"in_app": True, "email": True}})


def test_the_daily_summary_goes_once_a_day_to_opted_in_users_with_their_figures(settings, travel):
    settings.DAILY_SUMMARY_HOUR = 17
    org = OrganizationFactory(time_zone="America/New_York")
    opted_in = UserFactory(organization=org)
    _opt_in(opted_in)
    UserFactory(organization=org)  # never turned it on
    opted_out = UserFactory(organization=org)
    notification_settings_update(
        actor=opted_out, channels={NotificationType.DAILY_SUMMARY: {"in_app": True, "email": False}}
    )

    travel(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 16:00 in New York: too early
    assert daily_summaries_send() == 0
    travel(datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    LeadFactory(organization=org)
    ActivityFactory(created_by=opted_in, due_at=datetime(2026, 3, 10, 21, 0, tzinfo=UTC))
    travel(datetime(2026, 3, 10, 22, 0, tzinfo=UTC))  # 18:00 in New York
    assert daily_summaries_send() == 1
    assert daily_summaries_send() == 0

    (email,) = EmailMessage.objects.filter(template="daily_summary")
    assert email.to == opted_in.email
    assert "New leads today: 1" in email.text
    assert "Your open tasks due today: 1" in email.text
    travel(datetime(2026, 3, 11, 22, 0, tzinfo=UTC))  # the next day
    assert daily_summaries_send() == 1
