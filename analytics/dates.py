"""An organization's days: its time zone, its today, and the instants a run of its local
dates covers (daylight saving changes included). Dashboards, rollups and reports all count
in them."""

from datetime import date, datetime, time, timedelta

from accounts.models import Organization


def local_today(organization: Organization) -> date:
    return organization.local_now().date()


def local_bounds(organization: Organization, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    """The instants from the start of `date_from` to the end of `date_to`, in the
    organization's time zone."""
    zone = organization.zone
    return (
        datetime.combine(date_from, time.min, tzinfo=zone),
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone),
    )
