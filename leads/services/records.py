"""Lead records: create, edit, move through the workflow, assign, delete and restore.

Every lead an actor names is loaded through `leads.selectors.lead_get` for that actor, so
scoping rules hold for pages, API, bulk actions and imports alike. Each change is
published as an event (the lead's timeline reads them).
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import assignee_get
from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads import workflow
from leads.cleaning import LEAD_FIELDS, apply_clean, lead_clean
from leads.dedupe import DuplicateMatch, duplicate_find
from leads.exceptions import LeadIllegalTransition
from leads.models import Lead
from leads.selectors import lead_get, lead_scope, leads_purgeable
from leads.services.assignment import assignee_pick, assignees_pick
from notifications.models import NotificationType
from notifications.services import notification_send

# Changes to these are recorded field by field on the timeline.
KEY_FIELDS = ("first_name", "last_name", "email", "phone", "company", "job_title")


@dataclass(frozen=True)
class LeadWriteResult:
    lead: Lead
    duplicate: DuplicateMatch | None


def _require(actor: User, flag: str, message: str) -> None:
    if not permissions_of(actor)[flag]:
        raise PermissionDenied(message)


def _assignee(actor: User, assignee_id: int | None) -> User | None:
    return None if assignee_id is None else assignee_get(user=actor, assignee_id=assignee_id)


def lead_score_later(lead_ids: list[int]) -> None:
    """Score after the transaction commits, in a worker."""
    outbox.enqueue("leads.tasks.leads_score", lead_ids=lead_ids)


def notify_assignee(lead: Lead) -> None:
    if lead.assigned_to_id:
        notification_send(
            user=lead.assigned_to,
            type=NotificationType.ASSIGNMENT,
            title=f"New lead assigned to you: {lead}",
            message=" · ".join(part for part in (lead.company, lead.job_title) if part),
            link=f"/leads/{lead.pk}/",
        )


def lead_create(
    *,
    actor: User,
    data: dict,
    source: str = Lead.Source.MANUAL,
    assigned_to_id: int | None = None,
) -> LeadWriteResult:
    """A new lead of the actor's organization. A lead nobody could reach (no valid email and
    no valid phone) is refused; a duplicate is created but reported."""
    _require(actor, "can_add_leads", "You do not have permission to add leads.")
    clean = lead_clean(data)
    if not clean.check.reachable:
        raise ValidationFailed(
            "A lead needs a valid email address or phone number.",
            details={**clean.problems, "email": clean.problems.get("email", ["Give a valid email or phone."])},
        )
    with transaction.atomic():
        assignee = _assignee(actor, assigned_to_id) or assignee_pick(
            organization_id=actor.organization_id, source=source
        )
        duplicate = duplicate_find(organization_id=actor.organization_id, keys=clean.keys)
        lead = Lead(organization_id=actor.organization_id, created_by=actor, assigned_to=assignee, source=source)
        apply_clean(lead, clean)
        lead.save()
        publish(
            "leads.lead.created",
            actor=actor,
            org=actor.organization_id,
            subject=lead,
            data={"source": source, "assigned_to": assignee.pk if assignee else None},
        )
        if assignee is not None and assignee != actor:
            notify_assignee(lead)
        lead_score_later([lead.pk])
    return LeadWriteResult(lead=lead, duplicate=duplicate)


# What a copy of another organization's lead takes with it: the person, the company and
# the validation and score they earned; never that organization's notes or owner.
COPIED_FIELDS = (
    *(name for name in LEAD_FIELDS if name != "notes"),
    "extra",
    "score",
    "score_breakdown",
    "validation_status",
    "validation_reasons",
    "email_key",
    "phone_key",
    "name_company_key",
)


def leads_receive(*, organization_id: int, originals: list[Lead], created_by: User | None, note: str) -> list[Lead]:
    """Copies of another organization's leads as new leads of this one (bought listings'
    leads delivered into the buyer's pipeline), in order: source marketplace, assigned by the
    organization's rules, each published and its assignee notified. Runs as the system, on
    behalf of `created_by`, inside the caller's transaction."""
    assignees = assignees_pick(organization_id=organization_id, source=Lead.Source.MARKETPLACE, count=len(originals))
    received = []
    for original, assignee in zip(originals, assignees, strict=True):
        lead = Lead(
            organization_id=organization_id,
            created_by=created_by,
            assigned_to=assignee,
            source=Lead.Source.MARKETPLACE,
            notes=note,
            **{name: getattr(original, name) for name in COPIED_FIELDS},
        )
        lead.save()
        publish(
            "leads.lead.created",
            actor=created_by,
            org=organization_id,
            subject=lead,
            data={"source": lead.source, "assigned_to": assignee.pk if assignee else None},
        )
        if assignee is not None and assignee != created_by:
            notify_assignee(lead)
        received.append(lead)
    return received


def lead_update(*, actor: User, lead_id: int, data: dict) -> LeadWriteResult:
    """Edit fields of a lead (only the ones given). Status and owner have their own moves."""
    _require(actor, "can_edit_leads", "You do not have permission to edit leads.")
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        before = {name: getattr(lead, name) for name in KEY_FIELDS}
        clean = lead_clean(data, current=lead)
        if not clean.check.reachable:
            raise ValidationFailed(
                "A lead needs a valid email address or phone number.",
                details={**clean.problems, "email": clean.problems.get("email", ["Give a valid email or phone."])},
            )
        changed = apply_clean(lead, clean)
        if not changed:
            return LeadWriteResult(lead=lead, duplicate=None)
        lead.save()
        publish(
            "leads.lead.updated",
            actor=actor,
            org=lead.organization_id,
            subject=lead,
            data={
                "fields": sorted(changed),
                "changes": {name: [before[name], getattr(lead, name)] for name in changed if name in KEY_FIELDS},
            },
        )
        duplicate = duplicate_find(organization_id=lead.organization_id, keys=clean.keys, exclude_id=lead.pk)
        lead_score_later([lead.pk])
    return LeadWriteResult(lead=lead, duplicate=duplicate)


_KEEP = object()


def lead_edit(
    *, actor: User, lead_id: int, data: dict, status: str | None = None, assignee_id=_KEEP
) -> LeadWriteResult:
    """One edit that may change fields, the status and the owner together (an API PATCH):
    each part through its own service, all or nothing. `assignee_id` None unassigns."""
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        result = None
        if data or (status is None and assignee_id is _KEEP):
            result = lead_update(actor=actor, lead_id=lead_id, data=data)
        if status is not None:
            lead_status_change(actor=actor, lead_id=lead_id, status=status)
        if assignee_id is not _KEEP:
            lead_assign(actor=actor, lead_id=lead_id, assignee_id=assignee_id)
        # Read back unscoped: a rep who hands the lead to someone else no longer sees it.
        lead = Lead.objects.select_related("assigned_to").get(pk=lead.pk)
    return LeadWriteResult(lead=lead, duplicate=result.duplicate if result else None)


def lead_status_change(*, actor: User, lead_id: int, status: str) -> Lead:
    _require(actor, "can_edit_leads", "You do not have permission to edit leads.")
    if status not in Lead.Status.values:
        raise ValidationFailed(
            "Unknown status.", details={"status": [f"Choose one of {', '.join(Lead.Status.values)}."]}
        )
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        lead = Lead.objects.select_for_update().get(pk=lead.pk)  # one move at a time
        workflow.check_move(lead.status, status)
        if status == lead.status:
            return lead
        _status_save(actor, lead, status)
    return lead


def _status_save(actor: User, lead: Lead, status: str) -> None:
    previous, lead.status = lead.status, status
    fields = ["status", "updated_at"]
    if previous == Lead.Status.NEW and lead.first_contacted_at is None:
        # Moving on from new means someone reached the person (speed-to-lead).
        lead.first_contacted_at = timezone.now()
        fields.append("first_contacted_at")
    lead.save(update_fields=fields)
    publish(
        "leads.lead.status_changed",
        actor=actor,
        org=lead.organization_id,
        subject=lead,
        data={"from": previous, "to": status},
    )


def lead_convert_record(*, actor: User, lead_id: int, data: dict) -> Lead:
    """Mark a lead converted (the CRM's conversion, `crm.services.conversion`, inside its
    transaction): from an open status only; `data` (the contact and opportunity made) goes
    on the `leads.lead.converted` event the lead's timeline shows."""
    _require(actor, "can_edit_leads", "You do not have permission to edit leads.")
    lead = lead_get(user=actor, lead_id=lead_id)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    workflow.check_conversion(lead.status)
    _status_save(actor, lead, Lead.Status.CONVERTED)
    publish("leads.lead.converted", actor=actor, org=lead.organization_id, subject=lead, data=data)
    return lead


def lead_assign(*, actor: User, lead_id: int, assignee_id: int | None) -> Lead:
    _require(actor, "can_edit_leads", "You do not have permission to edit leads.")
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        assignee = _assignee(actor, assignee_id)
        if lead.assigned_to_id == (assignee.pk if assignee else None):
            return lead
        previous, lead.assigned_to = lead.assigned_to_id, assignee
        lead.save(update_fields=["assigned_to", "updated_at"])
        publish(
            "leads.lead.assigned",
            actor=actor,
            org=lead.organization_id,
            subject=lead,
            data={"from": previous, "to": assignee.pk if assignee else None},
        )
        if assignee is not None and assignee != actor:
            notify_assignee(lead)
    return lead


def lead_delete(*, actor: User, lead_id: int) -> Lead:
    """Soft delete: hidden everywhere, restorable for LEAD_RESTORE_WINDOW."""
    _require(actor, "can_edit_leads", "You do not have permission to delete leads.")
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        lead.deleted_at = timezone.now()
        lead.save(update_fields=["deleted_at", "updated_at"])
        publish("leads.lead.deleted", actor=actor, org=lead.organization_id, subject=lead)
    return lead


def lead_restore(*, actor: User, lead_id: int) -> Lead:
    _require(actor, "can_edit_leads", "You do not have permission to restore leads.")
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id, deleted=True)
        lead.deleted_at = None
        lead.merged_into = None
        lead.save(update_fields=["deleted_at", "merged_into", "updated_at"])
        publish("leads.lead.restored", actor=actor, org=lead.organization_id, subject=lead)
    return lead


def leads_purge(*, now=None) -> int:
    """Delete for good the leads whose restore window has closed (a beat job)."""
    purged = 0
    for lead in leads_purgeable(now=now).only("pk", "organization_id", "created_at", "deleted_at").iterator():
        with transaction.atomic():
            # The lead's lifetime bounds what went with it (its activities) for the apps
            # that count them.
            lifetime = {"created_at": lead.created_at.isoformat(), "deleted_at": lead.deleted_at.isoformat()}
            publish("leads.lead.purged", org=lead.organization_id, subject=lead, data=lifetime)
            lead.delete()
        purged += 1
    return purged


class BulkAction:
    ASSIGN = "assign"
    SET_STATUS = "set_status"
    DELETE = "delete"
    EXPORT = "export"
    CHOICES = (ASSIGN, SET_STATUS, DELETE, EXPORT)


@dataclass(frozen=True)
class BulkResult:
    done: list[int]
    skipped: dict[int, str]  # lead id → why (not visible, illegal move...)


def leads_bulk(*, actor: User, ids: list[int], action: str, value=None) -> BulkResult:
    """Apply one action to the selected leads the actor may see, each through the same
    service as a single change; what cannot be done is reported per lead, not failed whole.
    (`export` is the view's: it streams the same selection.)"""
    if action not in (BulkAction.ASSIGN, BulkAction.SET_STATUS, BulkAction.DELETE):
        raise ValidationFailed("Unknown bulk action.", details={"action": ["Choose assign, set_status or delete."]})
    visible = set(lead_scope(user=actor).filter(pk__in=ids).values_list("pk", flat=True))
    done: list[int] = []
    skipped: dict[int, str] = {pk: "Not found." for pk in ids if pk not in visible}
    for pk in (pk for pk in dict.fromkeys(ids) if pk in visible):
        try:
            if action == BulkAction.ASSIGN:
                lead_assign(actor=actor, lead_id=pk, assignee_id=value)
            elif action == BulkAction.SET_STATUS:
                lead_status_change(actor=actor, lead_id=pk, status=value)
            else:
                lead_delete(actor=actor, lead_id=pk)
        except (ValidationFailed, LeadIllegalTransition) as exc:
            if isinstance(exc, ValidationFailed) and action == BulkAction.ASSIGN:
                raise  # a bad assignee is wrong for every lead alike
            skipped[pk] = exc.message
            continue
        done.append(pk)
    return BulkResult(done=done, skipped=skipped)
