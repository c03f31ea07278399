"""An organization's days: its time zone, its today, and the instants a run of its local
dates covers (daylight saving changes included). Dashboards, rollups and reports all count
in them."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accounts.models import Organization


def zone_of(organization: Organization) -> ZoneInfo:
    return ZoneInfo(organization.time_zone or settings.TIME_ZONE)


def local_today(organization: Organization) -> date:
    return timezone.now().astimezone(zone_of(organization)).date()


def local_bounds(organization: Organization, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The instants from the start of `date_from` to the end of `date_to`, in the
    organization's time zone."""
    zone = zone_of(organization)
    return (
        datetime.combine(date_from, time.min, tzinfo=zone),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone),
    )
