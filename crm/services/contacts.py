"""Contacts: create, edit, assign, delete (softly) and restore. Their person is cleaned and
deduplicated by the leads' rules (`leads.cleaning`, `leads.dedupe`): a duplicate is created
but reported, as for leads."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import assignee_get
from crm.models import Contact
from crm.policy import require
from crm.selectors import contact_get
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotFound, ValidationFailed
from leadnexus.core.ids import is_db_id
from leads.cleaning import lead_clean
from leads.dedupe import DedupeKeys, DuplicateMatch, duplicates_best

# A contact's fields, and the lead field each is cleaned as.
FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "company": "company",
    "position": "job_title",
}


@dataclass(frozen=True)
class ContactWriteResult:
    contact: Contact
    duplicate: Contact | None


def contact_duplicate(*, organization_id: int, keys: DedupeKeys, exclude_id: int | None = None) -> Contact | None:
    """The organization's live contact with the same person: same email or phone, else the
    same name and company."""
    contacts = Contact.objects.filter(organization_id=organization_id, deleted_at__isnull=True).exclude(pk=exclude_id)
    for field, value in (("email_key", keys.email), ("phone_key", keys.phone), ("name_company_key", keys.name_company)):
        if value:
            match = contacts.filter(**{field: value}).order_by("pk").first()
            if match is not None:
                return match
    return None


def contact_duplicates_find(*, organization_id: int, keys: list[DedupeKeys]) -> list[DuplicateMatch | None]:
    """For each set of keys, the organization's live contact of the same person by the rules of
    `leads.dedupe` (a certain duplicate before a possible one, the oldest first); one query."""
    contacts = Contact.objects.filter(organization_id=organization_id, deleted_at__isnull=True).order_by("pk")
    return [best[0] if best else None for best in duplicates_best(candidates=contacts, keys=keys)]


def contact_clean(data: dict, *, current: Contact | None = None):
    """The contact fields of `data`, cleaned: (values, dedupe keys, problems)."""
    raw = {FIELDS[name]: data[name] for name in FIELDS if name in data}
    clean = lead_clean(raw, current=current)
    values = {name: clean.values[lead_name] for name, lead_name in FIELDS.items() if lead_name in clean.values}
    if "notes" in data:
        values["notes"] = str(data["notes"] or "").replace("\x00", "")[:10000]
    problems = {name: clean.problems[lead_name] for name, lead_name in FIELDS.items() if lead_name in clean.problems}
    return values, clean.keys, problems


def _assignee(actor: User, assignee_id: int | None) -> User | None:
    return None if assignee_id is None else assignee_get(user=actor, assignee_id=assignee_id)


def contact_keys_set(contact: Contact, keys: DedupeKeys) -> None:
    """Store the dedupe keys of the contact's person (`contact_clean` gives them)."""
    contact.email_key, contact.phone_key, contact.name_company_key = keys.email, keys.phone, keys.name_company


def contact_create(
    *, actor: User, data: dict, assigned_to_id: int | None = None, lead_id: int | None = None
) -> ContactWriteResult:
    """A contact of the actor's organization (owned by the actor unless assigned)."""
    require(actor, "can_add_leads", "You do not have permission to add contacts.")
    values, keys, problems = contact_clean(data)
    if not (values.get("first_name") or values.get("last_name") or values.get("email") or values.get("company")):
        problems.setdefault("first_name", []).append("Give at least a name, an email or a company.")
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    with transaction.atomic():
        assignee = _assignee(actor, assigned_to_id) or actor
        duplicate = contact_duplicate(organization_id=actor.organization_id, keys=keys)
        contact = Contact(organization_id=actor.organization_id, created_by=actor, assigned_to=assignee, **values)
        contact.lead_id = lead_id
        contact_keys_set(contact, keys)
        contact.save()
        publish(
            "crm.contact.created",
            actor=actor,
            org=actor.organization_id,
            subject=contact,
            data={"assigned_to": assignee.pk, "lead": lead_id},
        )
    return ContactWriteResult(contact=contact, duplicate=duplicate)


def contact_update(*, actor: User, contact_id: int, data: dict, assigned_to_id=...) -> ContactWriteResult:
    """Change some of a contact's fields (only those given) and, when given, its owner."""
    require(actor, "can_edit_leads", "You do not have permission to edit contacts.")
    with transaction.atomic():
        contact = contact_get(user=actor, contact_id=contact_id)
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        values, keys, problems = contact_clean(data, current=contact)
        if problems:
            raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
        changes = {
            name: [getattr(contact, name), value] for name, value in values.items() if getattr(contact, name) != value
        }
        for name, value in values.items():
            setattr(contact, name, value)
        contact_keys_set(contact, keys)
        if assigned_to_id is not ...:
            assignee = _assignee(actor, assigned_to_id)
            if contact.assigned_to_id != (assignee.pk if assignee else None):
                changes["assigned_to"] = [contact.assigned_to_id, assignee.pk if assignee else None]
                contact.assigned_to = assignee
        contact.save()
        if changes:
            publish("crm.contact.updated", actor=actor, org=contact.organization_id, subject=contact, data=changes)
        duplicate = contact_duplicate(organization_id=contact.organization_id, keys=keys, exclude_id=contact.pk)
    return ContactWriteResult(contact=contact, duplicate=duplicate)


def contact_delete(*, actor: User, contact_id: int) -> Contact:
    """Delete a contact softly (its opportunities and activities stay)."""
    require(actor, "can_edit_leads", "You do not have permission to delete contacts.")
    with transaction.atomic():
        contact = contact_get(user=actor, contact_id=contact_id)
        contact.deleted_at = timezone.now()
        contact.save(update_fields=["deleted_at", "updated_at"])
        publish("crm.contact.deleted", actor=actor, org=contact.organization_id, subject=contact)
    return contact


def contact_restore(*, actor: User, contact_id: int) -> Contact:
    require(actor, "can_edit_leads", "You do not have permission to restore contacts.")
    with transaction.atomic():
        deleted = Contact.objects.filter(organization_id=actor.organization_id, deleted_at__isnull=False)
        contact = deleted.select_for_update().filter(pk=contact_id).first() if is_db_id(contact_id) else None
        if contact is None:
            raise NotFound("Deleted contact not found.")
        contact.deleted_at = None
        contact.save(update_fields=["deleted_at", "updated_at"])
        contact_get(user=actor, contact_id=contact.pk)  # a rep restores only what they may see
        publish("crm.contact.restored", actor=actor, org=contact.organization_id, subject=contact)
    return contact
