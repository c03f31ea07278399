"""Activities: calls, emails, meetings, notes and tasks on one lead, contact or opportunity,
assigned to a member; done or snoozed; and the reminders sent before they are due."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.selectors import assignee_get
from crm.models import Activity
from crm.policy import require
from crm.selectors import activity_get, contact_get, opportunity_get
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from leads.models import Lead
from leads.selectors import lead_get
from leads.services.response import lead_contacted
from notifications.models import NotificationType
from notifications.services import notification_send

TARGETS = ("lead_id", "contact_id", "opportunity_id")
# The kinds that reach a person, and so count as a lead's first contact.
REACHING = (Activity.Kind.CALL, Activity.Kind.EMAIL, Activity.Kind.MEETING)


def _text(data: dict, name: str, limit: int) -> str:
    return str(data.get(name) or "").replace("\x00", "").strip()[:limit]


def _assignee(actor: User, assignee_id: int | None) -> User:
    return actor if assignee_id is None else assignee_get(user=actor, assignee_id=assignee_id)


def activity_create(*, actor: User, data: dict, assigned_to_id: int | None = None) -> Activity:
    """An activity on exactly one of the actor's visible leads, contacts or opportunities
    (`lead_id`, `contact_id` or `opportunity_id` in `data`), assigned to the actor unless
    said otherwise."""
    require(actor, "can_edit_leads", "You do not have permission to log activities.")
    named = [name for name in TARGETS if data.get(name) is not None]
    if len(named) != 1:
        raise ValidationFailed(
            "Name one lead, contact or opportunity.",
            details={"lead_id": ["Exactly one of lead, contact, opportunity."]},
        )
    if data.get("kind") not in Activity.Kind.values:
        raise ValidationFailed("Choose a kind.", details={"kind": [f"One of {', '.join(Activity.Kind.values)}."]})
    subject = _text(data, "subject", 200)
    if not subject:
        raise ValidationFailed("Give it a subject.", details={"subject": ["This field is required."]})
    with transaction.atomic():
        target = {
            "lead_id": lambda pk: {"lead": lead_get(user=actor, lead_id=pk)},
            "contact_id": lambda pk: {"contact": contact_get(user=actor, contact_id=pk)},
            "opportunity_id": lambda pk: {"opportunity": opportunity_get(user=actor, opportunity_id=pk)},
        }[named[0]](data[named[0]])
        activity = Activity.objects.create(
            organization_id=actor.organization_id,
            created_by=actor,
            assigned_to=_assignee(actor, assigned_to_id),
            kind=data["kind"],
            subject=subject,
            body=_text(data, "body", 20000),
            due_at=data.get("due_at"),
            done_at=timezone.now() if data.get("done") else None,
            **target,
        )
        _record_contact(activity)
        publish(
            "crm.activity.created",
            actor=actor,
            org=actor.organization_id,
            subject=activity,
            data={"kind": activity.kind, "subject": subject, named[0].removesuffix("_id"): data[named[0]]},
        )
    return activity


def _lead_reached(activity: Activity) -> Lead | None:
    """The lead whose person this activity reached: a call, email or meeting that happened
    (no due time, or done), on the lead or on its contact or opportunity."""
    if activity.kind not in REACHING or (activity.due_at is not None and activity.done_at is None):
        return None
    record = activity.lead or activity.contact or activity.opportunity
    return record if isinstance(record, Lead) else record.lead


def _record_contact(activity: Activity) -> None:
    lead = _lead_reached(activity)
    if lead is not None:
        lead_contacted(lead=lead, at=activity.done_at or activity.created_at)


def activity_update(*, actor: User, activity_id: int, data: dict, assigned_to_id=...) -> Activity:
    """Change an activity's subject, body or due time (snoozing is a later due time), mark it
    done or open again, or give it to another member."""
    require(actor, "can_edit_leads", "You do not have permission to edit activities.")
    with transaction.atomic():
        activity = activity_get(user=actor, activity_id=activity_id)
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        changed = []
        if "subject" in data:
            subject = _text(data, "subject", 200)
            if not subject:
                raise ValidationFailed("Give it a subject.", details={"subject": ["This field is required."]})
            activity.subject = subject
            changed.append("subject")
        if "body" in data:
            activity.body = _text(data, "body", 20000)
            changed.append("body")
        if "due_at" in data:
            activity.due_at, activity.reminded_at = data["due_at"], None
            changed.append("due_at")
        if "done" in data:
            activity.done_at = (activity.done_at or timezone.now()) if data["done"] else None
            changed.append("done")
        if assigned_to_id is not ...:
            activity.assigned_to = _assignee(actor, assigned_to_id)
            changed.append("assigned_to")
        if changed:
            activity.save()
            _record_contact(activity)
            name = "crm.activity.completed" if data.get("done") else "crm.activity.updated"
            publish(name, actor=actor, org=activity.organization_id, subject=activity, data={"fields": changed})
    return activity


def activity_delete(*, actor: User, activity_id: int) -> None:
    require(actor, "can_edit_leads", "You do not have permission to delete activities.")
    with transaction.atomic():
        activity = activity_get(user=actor, activity_id=activity_id)
        data = {"subject": activity.subject, "created_at": activity.created_at.isoformat()}
        publish("crm.activity.deleted", actor=actor, org=activity.organization_id, data=data)
        activity.delete()


def activities_remind(*, now: datetime | None = None) -> int:
    """Tell each open activity's assignee it is due soon, once (Celery beat). Returns how many."""
    now = now or timezone.now()
    soon = now + timedelta(minutes=settings.ACTIVITY_REMINDER_MINUTES)
    due = Activity.objects.filter(
        done_at__isnull=True, reminded_at__isnull=True, due_at__gt=now, due_at__lte=soon, assigned_to__is_active=True
    ).select_related("assigned_to")
    sent = 0
    for activity in due[:1000]:
        if not Activity.objects.filter(pk=activity.pk, reminded_at__isnull=True).update(reminded_at=now):
            continue  # another run took it
        notification_send(
            user=activity.assigned_to,
            type=NotificationType.FOLLOW_UP_DUE,
            title=f"Due {timezone.localtime(activity.due_at):%H:%M}: {activity.subject}"[:200],
            message=activity.get_kind_display(),
            link=reverse("crm:tasks"),
        )
        sent += 1
    return sent
