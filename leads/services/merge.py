"""Merging two leads that are one person: the survivor keeps the values chosen field by
field, the other lead is soft-deleted and points at it.

Both leads are loaded through `leads.selectors.lead_get` for the actor, so a lead the
actor cannot see is "not found" whichever side it is on. The survivor's values go through
`leads.cleaning` again (validation and dedupe keys), its status and source stay, notes
are combined, and its timeline shows the other lead's history (the timeline follows
`merged_into`). `leads.lead.merged` tells other apps to move what they attach to the
other lead (see `leads.events`).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import user_get
from leadnexus.core.events import publish
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leads.cleaning import LEAD_FIELDS, apply_clean, lead_clean
from leads.dedupe import DuplicateMatch, duplicate_candidates, keys_of
from leads.events import LEAD_MERGED, LEAD_MERGED_INTO
from leads.exceptions import LeadMergeRefused
from leads.models import Lead, Submission
from leads.selectors import lead_get, lead_list
from leads.services.records import lead_score_later, notify_assignee

THIS, OTHER = "this", "other"
# Every field the user picks a side for; notes are not picked but combined.
MERGE_FIELDS = (*(name for name in LEAD_FIELDS if name != "notes"), "assigned_to")
FIELD_LABELS = {
    name: Lead._meta.get_field(name).verbose_name.capitalize() for name in MERGE_FIELDS if name != "assigned_to"
} | {"assigned_to": "Owner"}
# What the merge event reports as changed, from → to.
_TRACKED = (*MERGE_FIELDS, "notes")


def _require_edit(actor: User) -> None:
    if not permissions_of(actor)["can_edit_leads"]:
        raise PermissionDenied("You do not have permission to merge leads.")


def merge_check(lead: Lead, other: Lead) -> None:
    """Whether these two may be merged (the survivor first)."""
    if lead.pk == other.pk:
        raise LeadMergeRefused("A lead cannot be merged with itself.")
    for side in (lead, other):
        if side.status == Lead.Status.CONVERTED:
            raise LeadMergeRefused(f"{side} is converted to a contact; converted leads are not merged.")
        if side.deleted_at is not None:
            raise LeadMergeRefused(f"{side} was deleted (or merged) meanwhile.")


def _value(lead: Lead, name: str):
    return lead.assigned_to_id if name == "assigned_to" else getattr(lead, name)


def _empty(value) -> bool:
    return value in (None, "")


def default_choices(lead: Lead, other: Lead) -> dict[str, str]:
    """The survivor's value, unless it has none and the other lead has one."""
    return {
        name: OTHER if _empty(_value(lead, name)) and not _empty(_value(other, name)) else THIS for name in MERGE_FIELDS
    }


def _choices(fields: dict | None) -> dict[str, str]:
    fields = fields or {}
    unknown = sorted(str(name) for name in fields if name not in MERGE_FIELDS)
    wrong = sorted(str(name) for name, side in fields.items() if name in MERGE_FIELDS and side not in (THIS, OTHER))
    if unknown or wrong:
        messages = [f"Not a field that can be merged: {', '.join(unknown)}."] if unknown else []
        messages += [f"Choose “this” or “other” for {', '.join(wrong)}."] if wrong else []
        raise ValidationFailed("The field choices are not valid.", details={"fields": messages})
    return {name: fields.get(name, THIS) for name in MERGE_FIELDS}


def _json(value):
    return str(value) if isinstance(value, Decimal) else value


def _combined_notes(lead: Lead, other: Lead) -> str | None:
    """Both leads' notes, the survivor's first; None when there is nothing to add."""
    theirs = (other.notes or "").strip()
    if not theirs or theirs in (lead.notes or ""):
        return None
    ours = (lead.notes or "").strip()
    return f"{ours}\n\n{theirs} (merged from lead #{other.pk})" if ours else theirs


def lead_merge(*, actor: User, lead_id: int, other_id: int, fields: dict[str, str] | None = None) -> Lead:
    """Merge `other_id` into `lead_id`. `fields` maps a field name to "this" (the survivor's
    value, the default for fields it does not name) or "other"."""
    _require_edit(actor)
    choices = _choices(fields)
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        other = lead_get(user=actor, lead_id=other_id)
        merge_check(lead, other)
        # Lock both, in id order so two opposite merges cannot deadlock, and look again:
        # a concurrent merge may have taken one of them.
        locked = Lead.objects.select_for_update().filter(pk__in=[lead.pk, other.pk]).order_by("pk")
        by_id = {row.pk: row for row in locked}
        lead, other = by_id[lead.pk], by_id[other.pk]
        merge_check(lead, other)

        before = {name: _value(lead, name) for name in _TRACKED}
        raw = {name: getattr(other, name) for name in LEAD_FIELDS if choices.get(name) == OTHER}
        notes = _combined_notes(lead, other)
        if notes is not None:
            raw["notes"] = notes
        clean = lead_clean(raw, current=lead)
        if not clean.check.reachable:
            raise ValidationFailed(
                "The merged lead would have no valid email address or phone number.",
                details={"fields": ["Keep a valid email address or phone number from one of the two leads."]},
            )
        apply_clean(lead, clean)
        new_owner = None
        if choices["assigned_to"] == OTHER and other.assigned_to_id != lead.assigned_to_id:
            new_owner = user_get(user=actor, user_id=other.assigned_to_id) if other.assigned_to_id else None
            if new_owner is not None and not new_owner.is_active:
                raise ValidationFailed(
                    "Leads can only be assigned to active members.",
                    details={"fields": ["The other lead's owner is deactivated: keep this lead's owner."]},
                )
            lead.assigned_to = new_owner
        lead.extra = {**(other.extra or {}), **(lead.extra or {})}
        lead.save()

        other.deleted_at = timezone.now()
        other.merged_into = lead
        other.save(update_fields=["deleted_at", "merged_into", "updated_at"])
        # The capture-form submissions are this app's own history of the lead.
        Submission.objects.filter(lead=other).update(lead=lead)

        changes = {
            name: [_json(before[name]), _json(_value(lead, name))]
            for name in _TRACKED
            if before[name] != _value(lead, name)
        }
        publish(
            LEAD_MERGED,
            actor=actor,
            org=lead.organization_id,
            subject=lead,
            data={"other_id": other.pk, "fields": choices, "changes": changes, "notes_combined": notes is not None},
        )
        publish(LEAD_MERGED_INTO, actor=actor, org=other.organization_id, subject=other, data={"into": lead.pk})
        if new_owner is not None and new_owner != actor:
            notify_assignee(lead)
        lead_score_later([lead.pk])
    return lead


# --- Reads for the merge page ------------------------------------------------------------------


@dataclass(frozen=True)
class MergeRow:
    name: str
    label: str
    this: object
    other: object
    differs: bool
    choice: str  # the suggested side


@dataclass
class MergePreview:
    lead: Lead
    other: Lead | None
    candidates: list[tuple[Lead, DuplicateMatch]]
    rows: list[MergeRow] = field(default_factory=list)
    refused: str = ""  # why these two cannot be merged, when they cannot


def _shown(lead: Lead, name: str):
    if name == "assigned_to":
        return lead.assigned_to.get_full_name() if lead.assigned_to else ""
    if name == "customer_category":
        return lead.get_customer_category_display()
    value = getattr(lead, name)
    return "" if value is None else value


def merge_preview(*, user: User, lead_id: int, other_id: int | None = None) -> MergePreview:
    """The lead, its likely duplicates the user may see (to pick the other from) and, with
    `other_id`, both leads side by side with the suggested choice per field."""
    _require_edit(user)
    lead = lead_get(user=user, lead_id=lead_id)
    candidates = duplicate_candidates(leads=lead_list(user=user), keys=keys_of(lead), exclude_id=lead.pk)
    preview = MergePreview(lead=lead, other=None, candidates=candidates)
    if other_id is None:
        return preview
    preview.other = other = lead_get(user=user, lead_id=other_id)
    try:
        merge_check(lead, other)
    except LeadMergeRefused as exc:
        preview.refused = exc.message
        return preview
    suggested = default_choices(lead, other)
    for name in MERGE_FIELDS:
        this_value, other_value = _shown(lead, name), _shown(other, name)
        preview.rows.append(
            MergeRow(name, FIELD_LABELS[name], this_value, other_value, this_value != other_value, suggested[name])
        )
    return preview
