"""The CRM's timelines: a contact's or opportunity's activities and recorded changes, in
words; and the activities logged on a lead, added to the lead's own timeline
(`leadnexus.core.timeline`)."""

from decimal import Decimal, InvalidOperation

from django.utils import formats, timezone

from crm.models import Activity, Opportunity
from crm.selectors import activity_list
from leadnexus.core.models import Event
from leadnexus.core.timeline import TimelineEntry, timeline_merge, timeline_source

TIMELINE_LIMIT = 50


def _stage(value) -> str:
    return Opportunity.Stage(value).label if value in Opportunity.Stage.values else str(value)


def _money(value) -> str:
    try:
        return f"{Decimal(value):,.2f}"
    except (InvalidOperation, TypeError, ValueError):
        return "—"


def _fields(data: dict) -> str:
    return ", ".join(name.replace("_", " ") for name in data) or "details"


def _event_title(event: Event) -> str:
    data = event.data if isinstance(event.data, dict) else {}
    action = event.name.rsplit(".", 1)[-1]
    titles = {
        "created": f"Opened at {_stage(data.get('stage'))}" if "opportunity" in event.name else "Added",
        "updated": f"Changed {_fields(data)}",
        "stage_changed": f"Moved from {_stage(data.get('from'))} to {_stage(data.get('to'))}",
        "won": f"Won for {_money(data.get('amount'))}",
        "lost": f"Lost: {data.get('reason') or 'no reason given'}",
        "reopened": f"Reopened at {_stage(data.get('to'))}",
        "deleted": "Deleted",
        "restored": "Restored",
    }
    return titles.get(action, action.replace("_", " ").capitalize())


def activity_entry(activity: Activity) -> TimelineEntry:
    if activity.done_at:
        badge = "done"
    elif activity.due_at:
        badge = "due " + formats.date_format(timezone.localtime(activity.due_at), "M j H:i")
    else:
        badge = ""
    return TimelineEntry(
        at=activity.created_at,
        kind="activity",
        title=f"{activity.get_kind_display()}: {activity.subject}",
        detail=activity.body,
        actor=activity.created_by.get_full_name() if activity.created_by else "",
        badge=badge,
    )


def record_timeline(record, *, viewer, activities, subject_type: str) -> list[TimelineEntry]:
    """A contact's or opportunity's timeline: its activities and changes, newest first."""
    entries = [activity_entry(activity) for activity in activities.order_by("-created_at")[:TIMELINE_LIMIT]]
    events = Event.objects.filter(subject_type=subject_type, subject_id=str(record.pk)).select_related("actor")
    # A close is told once, by its won or lost entry.
    events = events.exclude(name="crm.opportunity.stage_changed", data__to__in=["closed_won", "closed_lost"])
    entries += [
        TimelineEntry(
            at=event.created_at,
            kind="event",
            title=_event_title(event),
            actor=event.actor.get_full_name() if event.actor else "System",
        )
        for event in events[:TIMELINE_LIMIT]
    ]
    return timeline_merge(subject_type, record, viewer=viewer, entries=entries, limit=TIMELINE_LIMIT)


@timeline_source("leads.lead")
def lead_activities(lead, *, viewer) -> list[TimelineEntry]:
    activities = activity_list(user=viewer).filter(lead=lead).order_by("-created_at")[:TIMELINE_LIMIT]
    return [activity_entry(activity) for activity in activities]
