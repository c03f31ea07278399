"""The contact import spec for the leads import engine: one contact per spreadsheet row
(registered here, so leads never imports the CRM).

- A row's cells are cleaned by the contacts' own rules (`crm.services.contacts.contact_clean`,
  hence `leads.cleaning`): the phone in E.164, the email normalised. A row with neither a name,
  an email nor a phone, or whose email or phone is not valid, is rejected (`invalid`), the
  reason said; other problems (a shared mailbox, a cell cut to fit) are imported and shown.
- Duplicates are the leads' (`leads.imports.person_spec`): the same email or phone as a live
  contact of the organization or an earlier row of the file. The policy skips the row (the
  default), writes its filled cells into that contact (one the importer may edit), or creates
  it anyway; the same name and company only is a possible duplicate, created and flagged.
- New contacts belong to the importer and are written in bulk; the events of created and
  changed contacts are stored in one insert per batch; the importer gets one notification per file.
"""

from dataclasses import dataclass, replace

from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from crm.models import Contact
from crm.selectors import contact_list
from crm.services.contacts import contact_clean, contact_duplicates_find, contact_keys_set
from leadnexus.core.events import publish_many
from leads.dedupe import DedupeKeys, DuplicateMatch
from leads.imports.engine import records_insert
from leads.imports.lead_spec import LEAD_IMPORT_FIELDS
from leads.imports.person_spec import KEY_FIELDS, PersonImportSpec, person_cells
from leads.imports.specs import StagedRow, job_counts_text, spec_register
from leads.models import ImportJob
from notifications.models import NotificationType
from notifications.services import notification_send

_LEAD_FIELDS = {f.name: f for f in LEAD_IMPORT_FIELDS}
CONTACT_IMPORT_FIELDS = (
    *(_LEAD_FIELDS[name] for name in ("first_name", "last_name", "full_name", "email", "phone", "company")),
    # A contact's role is its `position`: the lead's job title column under that name.
    replace(
        _LEAD_FIELDS["job_title"],
        name="position",
        label="Position",
        aliases=(*_LEAD_FIELDS["job_title"].aliases, "job title"),
    ),
    _LEAD_FIELDS["notes"],
)
_WRITTEN_FIELDS = [*(f.name for f in CONTACT_IMPORT_FIELDS if f.name != "full_name"), *KEY_FIELDS, "updated_at"]


@dataclass
class _Row:
    staged: StagedRow
    raw: dict[str, str]  # the cells by contact field, the full name split
    values: dict
    keys: DedupeKeys
    problems: dict[str, list[str]]
    rejection: str  # why the row cannot be imported ("" when it can)


def _rejection(values: dict, keys: DedupeKeys) -> str:
    # A given email or phone is valid exactly when it yields a dedupe key.
    wrong = [
        f"The {label} is not valid."
        for name, key, label in (("email", keys.email, "email address"), ("phone", keys.phone, "phone number"))
        if values.get(name) and not key
    ]
    if wrong:
        return " ".join([*wrong, "Correct the cell, or leave it empty."])
    if not (values.get("first_name") or values.get("last_name") or values.get("email") or values.get("phone")):
        return "A contact needs a name, an email address or a phone number."
    return ""


class ContactImportSpec(PersonImportSpec):
    kind = ImportJob.Kind.CONTACTS
    label = "contacts"
    event_prefix = "crm.contact_import"
    noun = "contact"
    fields = CONTACT_IMPORT_FIELDS
    required_any = ("email", "phone", "first_name", "last_name", "full_name")
    # The permissions are the leads' (`ImportSpec`'s defaults), as for contacts added by hand.

    def prepare(self, *, job: ImportJob, rows: list[StagedRow]) -> list[_Row]:
        prepared = []
        for staged in rows:
            raw = person_cells(staged.values)
            values, keys, problems = contact_clean(raw)
            prepared.append(_Row(staged, raw, values, keys, problems, _rejection(values, keys)))
        return prepared

    def duplicates_find(self, *, job: ImportJob, keys: list[DedupeKeys]) -> list[DuplicateMatch | None]:
        return contact_duplicates_find(organization_id=job.organization_id, keys=keys)

    def visible(self, actor: User):
        return contact_list(user=actor)

    def record_new(self, *, job: ImportJob, actor: User | None, row: _Row) -> Contact:
        # The importer's own, as a contact added by hand.
        owner_id = actor.pk if actor is not None else None
        contact = Contact(
            organization_id=job.organization_id, created_by_id=owner_id, assigned_to_id=owner_id, **row.values
        )
        contact_keys_set(contact, row.keys)
        return contact

    def record_update(self, contact: Contact, row: _Row) -> dict:
        """The row's filled cells over the contact; empty cells keep what it has."""
        given = {name: value for name, value in row.raw.items() if str(value).strip()}
        values, keys, _ = contact_clean(given, current=contact)
        changes = {}
        for name, value in values.items():
            if getattr(contact, name) != value:
                changes[name] = [getattr(contact, name), value]
                setattr(contact, name, value)
        contact_keys_set(contact, keys)
        contact.updated_at = timezone.now()  # bulk_update leaves auto_now fields alone
        return changes

    def records_save(
        self, *, job: ImportJob, actor: User | None, created: list[Contact], updated: list[tuple[Contact, dict]]
    ) -> None:
        records_insert(created)
        if updated:
            Contact.objects.bulk_update([contact for contact, _ in updated], _WRITTEN_FIELDS, batch_size=500)
        org = job.organization_id
        publish_many(
            "crm.contact.created",
            [
                {"actor": actor, "org": org, "subject": c, "data": {"assigned_to": c.assigned_to_id, "import": job.pk}}
                for c in created
            ],
        )
        publish_many(
            "crm.contact.updated",
            [{"actor": actor, "org": org, "subject": c, "data": changes} for c, changes in updated if changes],
        )

    def job_finished(self, *, job: ImportJob, actor: User | None) -> None:
        """One notification to the importer for the whole file."""
        if actor is None or not actor.is_active:
            return
        notification_send(
            user=actor,
            type=NotificationType.ASSIGNMENT,
            title=f"Import of {job.file_name} finished"[:200],
            message=job_counts_text(job, created="new contact", duplicates="already there"),
            link=reverse("crm:contact-import-detail", args=[job.pk]),
        )


spec_register(ContactImportSpec())
