"""Speed-to-lead. Each organization sets a response target (`Organization.
response_target_minutes`, two hours by default): a new lead nobody has reached within it is
flagged on lists and boards (`Lead.awaiting_first_contact`), and its owner and their
manager are told once, by the `leads_response_alert` beat job.

A lead is reached when it moves on from `new` (`records._status_save`) or when the CRM logs
a call, email or meeting with its person (`lead_contacted`)."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, User
from leads.models import Lead
from leads.selectors import leads_awaiting_first_contact
from notifications.models import NotificationType
from notifications.services import notification_send

ALERT_BATCH = 1000


def lead_contacted(*, lead: Lead, at: datetime) -> None:
    """Record that `lead`'s person was reached at `at` (the first time only). The caller has
    loaded the lead through the leads selectors for its actor."""
    Lead.objects.filter(pk=lead.pk, first_contacted_at__isnull=True).update(first_contacted_at=at)


def _waiting_title(count: int, whose: str) -> str:
    leads = "lead is" if count == 1 else "leads are"
    return f"{count} {whose}new {leads} waiting for a first contact"


def _alert(recipient: User, leads: list[Lead], *, whose: str = "") -> None:
    target = leads[0].organization.response_target_minutes
    names = ", ".join(str(lead) for lead in leads[:5]) + (" and more" if len(leads) > 5 else "")
    notification_send(
        user=recipient,
        type=NotificationType.RESPONSE_OVERDUE,
        title=_waiting_title(len(leads), whose),
        message=f"Past the {target}-minute response target: {names}.",
        link=f"/leads/{leads[0].pk}/" if len(leads) == 1 else "/leads/?awaiting_first_contact=true",
    )


def _managers_of(owner: User | None, organization_id: int) -> list[User]:
    """Who hears about an owner's waiting leads besides them: the member who manages them;
    for leads nobody owns, the organization's management users."""
    if owner is None:
        return list(User.objects.filter(organization_id=organization_id, role=User.Role.MANAGEMENT, is_active=True))
    manager = owner.parent
    return [manager] if manager is not None and manager.is_active and manager != owner else []


def leads_response_alert(*, now: datetime | None = None) -> int:
    """Tell owners (and their managers) about new leads waiting past their organization's
    target, once per lead: one notification per person per run, naming the leads. Returns
    the number of leads alerted."""
    now = now or timezone.now()
    targets = (
        Organization.objects.filter(response_target_minutes__isnull=False)
        .values_list("response_target_minutes", flat=True)
        .distinct()
    )
    alerted = 0
    for target in targets:
        waiting = leads_awaiting_first_contact(
            Lead.objects.filter(
                organization__response_target_minutes=target,
                response_alerted_at__isnull=True,
                deleted_at__isnull=True,
                is_inventory=False,
            ),
            target_minutes=target,
            now=now,
        )
        with transaction.atomic():
            # Claimed under lock so two beat runs never alert the same lead twice.
            leads = list(
                waiting.select_for_update(skip_locked=True, of=("self",))
                .select_related("organization", "assigned_to__parent")
                .order_by("created_at")[:ALERT_BATCH]
            )
            Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(response_alerted_at=now)
            by_owner: dict[tuple[int, int | None], list[Lead]] = defaultdict(list)
            for lead in leads:
                by_owner[(lead.organization_id, lead.assigned_to_id)].append(lead)
            for (organization_id, _), owned in by_owner.items():
                owner = owned[0].assigned_to
                if owner is not None and owner.is_active:
                    _alert(owner, owned)
                whose = f"of {owner.get_full_name()}'s " if owner is not None else "unassigned "
                for manager in _managers_of(owner, organization_id):
                    _alert(manager, owned, whose=whose)
        alerted += len(leads)
    return alerted
