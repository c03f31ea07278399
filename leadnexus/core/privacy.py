"""One person's data (a lead, a contact, a campaign recipient, someone who filled in a capture
form), found by email or phone across every table that holds it: exported as one bundle,
erased on request. Each app that holds personal data registers a `Holder` here (from its
`privacy.py`, imported by its `AppConfig.ready()`), which knows its own tables; this module
runs them in order, inside one transaction for an erasure. Who may ask, and the audit of
each request, are `accounts.services.privacy`'s.

Scope: `organization_id` limits every holder to what that organization holds (its own leads,
contacts, campaigns, forms, events); None is every organization's (staff)."""

import io
import json
import re
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import phonenumbers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from leadnexus.core.crypto import keyed_digest
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.models import Event

ERASED = "Erased person"


def email_digest(email: str) -> str:
    """How an address is named where it may not be kept (the audit trail, the suppression
    list): a keyed digest of it lower-cased, which matches the same address again."""
    return keyed_digest(email.strip().lower())


@dataclass(frozen=True)
class Person:
    """Whom a request is about: an email (lower-cased) and/or a phone (E.164 when parsable)."""

    email: str
    phone: str

    @classmethod
    def of(cls, *, email: str = "", phone: str = "") -> "Person":
        email, phone = (email or "").strip().lower(), (phone or "").strip()
        if not email and not phone:
            raise ValidationFailed("Give an email or a phone number.", details={"email": ["Give an email or a phone."]})
        if phone:
            try:
                number = phonenumbers.parse(phone, None)
            except phonenumbers.NumberParseException:
                raise ValidationFailed(
                    "The phone number could not be read.", details={"phone": ["With its country code, e.g. +1…"]}
                ) from None
            phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return cls(email=email, phone=phone)

    @property
    def email_hash(self) -> str:
        return email_digest(self.email) if self.email else ""

    @property
    def phone_hash(self) -> str:
        return keyed_digest(self.phone) if self.phone else ""

    @property
    def needles(self) -> tuple[str, ...]:
        """What is looked for, and blanked, in free text and copied JSON."""
        return tuple(value for value in (self.email, self.phone) if value)

    def matches(self, *, email: str = "email", phone: str = "phone") -> Q:
        """Rows whose `email` field is this email or `phone` field this phone."""
        found = Q(pk__in=[])
        if self.email:
            found |= Q(**{f"{email}__iexact": self.email})
        if self.phone:
            found |= Q(**{phone: self.phone})
        return found

    def mentioned_in(self, *names: str) -> Q:
        """Rows where any of the fields `names` (text or JSON) mentions the person."""
        found = Q(pk__in=[])
        for name in names:
            for needle in self.needles:
                found |= Q(**{f"{name}__icontains": needle})
        return found


def placeholder(pk) -> str:
    """What stands in for a name that had to stay (a sold lead, a campaign's recipient)."""
    return f"{ERASED} #{pk}"


def redact(value, person: Person):
    """`value` (text, or JSON: lists and dicts of them) with every mention of the person's
    email and phone replaced."""
    if isinstance(value, str):
        for needle in person.needles:
            value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [redact(item, person) for item in value]
    if isinstance(value, dict):
        return {key: redact(item, person) for key, item in value.items()}
    return value


# The keys under which JSON copied from a person's record (an event's changes, a webhook's
# payload) holds who they are.
PERSONAL_KEYS = frozenset({"first_name", "last_name", "full_name", "email", "phone", "job_title", "notes",
                           "website", "contact_name", "contact_email", "contact_phone"})  # fmt: skip


def scrub(value, person: Person):
    """JSON copied from the person's records: every personal field and every mention replaced."""
    if isinstance(value, dict):
        return {
            key: ERASED if key in PERSONAL_KEYS and item not in ("", None, [], {}) else scrub(item, person)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [scrub(item, person) for item in value]
    return redact(value, person)


def redact_rows(rows: QuerySet, person: Person, *fields: str) -> int:
    """Redact `fields` of the rows mentioning the person, keeping the rows; how many."""
    done = 0
    for row in rows.filter(person.mentioned_in(*fields)).only("pk", *fields):
        for name in fields:
            setattr(row, name, redact(getattr(row, name), person))
        row.save(update_fields=list(fields))
        done += 1
    return done


def scrub_rows(rows: QuerySet, person: Person, field: str, *, about: Q) -> int:
    """Scrub the JSON `field` of the rows mentioning the person or `about` their records; how
    many changed."""
    done = 0
    for row in rows.filter(person.mentioned_in(field) | about).only("pk", field):
        scrubbed = scrub(getattr(row, field), person)
        if scrubbed != getattr(row, field):
            setattr(row, field, scrubbed)
            row.save(update_fields=[field])
            done += 1
    return done


def events_about(subjects: dict[str, Iterable], prefix: str = "") -> Q:
    """Events (or rows with an `event`, `prefix="event__"`) whose subject is one of `subjects`
    (label → ids)."""
    found = Q(pk__in=[])
    for label, ids in subjects.items():
        found |= Q(**{f"{prefix}subject_type": label, f"{prefix}subject_id__in": [str(pk) for pk in ids]})
    return found


def record(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict:
    """A row as it is stored (column names and values), for the bundle."""
    skipped = set(exclude)
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.name not in skipped and not isinstance(f, models.FileField)
    }


def records(rows: QuerySet, **kwargs) -> list[dict]:
    return [record(row, **kwargs) for row in rows]


@dataclass
class Erasure:
    """What an erasure did: rows deleted and rows anonymised (kept, their personal fields
    replaced), by table (`app.model`); the organizations whose data changed; the person's
    records it erased (label → ids), whose events are scrubbed last; storage files to delete
    once the transaction commits."""

    deleted: Counter = field(default_factory=Counter)
    anonymised: Counter = field(default_factory=Counter)
    organization_ids: set = field(default_factory=set)
    subjects: dict = field(default_factory=lambda: defaultdict(set))
    files: list = field(default_factory=list)

    def count(self, table: str, *, deleted: int = 0, anonymised: int = 0) -> None:
        if deleted:
            self.deleted[table] += deleted
        if anonymised:
            self.anonymised[table] += anonymised

    @property
    def nothing(self) -> bool:
        return not self.deleted and not self.anonymised

    @property
    def tables(self) -> list[tuple[str, int, int]]:
        """(table, rows deleted, rows anonymised) of each table it touched."""
        return [
            (table, self.deleted[table], self.anonymised[table]) for table in sorted({*self.deleted, *self.anonymised})
        ]


@dataclass(frozen=True)
class Attachment:
    """A stored file of the person's (a form submission's attachment), for the bundle."""

    name: str
    file: object  # a FieldFile


Export = Callable[[Person, int | None], dict[str, list[dict]]]
Erase = Callable[[Person, int | None, Erasure], None]
Attachments = Callable[[Person, int | None], list[Attachment]]


@dataclass(frozen=True)
class Holder:
    """An app's tables holding personal data. `order`: erasures run low to high (an app whose
    rows point at another app's runs first)."""

    name: str
    order: int
    export: Export
    erase: Erase
    attachments: Attachments | None = None


_holders: dict[str, Holder] = {}


def holder_register(holder: Holder) -> None:
    _holders[holder.name] = holder


def holders() -> list[Holder]:
    return sorted(_holders.values(), key=lambda holder: (holder.order, holder.name))


@dataclass(frozen=True)
class Bundle:
    document: dict
    attachments: list[Attachment]

    @property
    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.document["records"].items() if rows}

    def json_bytes(self) -> bytes:
        return json.dumps(self.document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()

    def file(self) -> tuple[str, str, bytes]:
        """(file name, content type, content): the JSON document, or a ZIP of it and the
        attachments when there are any."""
        stamp = self.document["exported_at"].strftime("%Y%m%d-%H%M%S")
        if not self.attachments:
            return f"personal-data-{stamp}.json", "application/json", self.json_bytes()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("personal-data.json", self.json_bytes())
            for attachment in self.attachments:
                with attachment.file.open("rb") as content:
                    archive.writestr(f"attachments/{attachment.name}", content.read())
        return f"personal-data-{stamp}.zip", "application/zip", buffer.getvalue()

    def download(self) -> HttpResponse:
        """The file as a download, never cached (the page, the API and the admin answer this)."""
        name, content_type, content = self.file()
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


def personal_data_bundle(*, person: Person, organization_id: int | None) -> Bundle:
    """Every record holding the person's data within the scope, by table."""
    found: dict[str, list[dict]] = {}
    attachments: list[Attachment] = []
    for holder in holders():
        for table, rows in holder.export(person, organization_id).items():
            known = {row["id"] for row in found.setdefault(table, [])}
            found[table] += [row for row in rows if row["id"] not in known]
        if holder.attachments is not None:
            attachments += holder.attachments(person, organization_id)
    document = {
        "person": {"email": person.email, "phone": person.phone},
        "organization_id": organization_id,
        "exported_at": timezone.now(),
        "records": found,
        "attachments": [attachment.name for attachment in attachments],
    }
    return Bundle(document=document, attachments=attachments)


def personal_data_erase(*, person: Person, organization_id: int | None) -> Erasure:
    """Erase the person's data within the scope, every holder in one transaction; stored
    files go once it commits. Erasing again finds nothing."""
    erasure = Erasure()
    with transaction.atomic():
        for holder in holders():
            holder.erase(person, organization_id, erasure)
        for file in erasure.files:
            transaction.on_commit(lambda file=file: file.storage.delete(file.name))
    return erasure


# --- The kernel's own holder: the event trail ------------------------------------------------------


def _events(person: Person, organization_id: int | None) -> QuerySet:
    events = Event.objects.filter(person.mentioned_in("data"))
    return events if organization_id is None else events.filter(org_id=organization_id)


def _events_export(person: Person, organization_id: int | None) -> dict[str, list[dict]]:
    return {"core.event": records(_events(person, organization_id).order_by("pk"))}


def _events_erase(person: Person, organization_id: int | None, erasure: Erasure) -> None:
    scope = Event.objects.all() if organization_id is None else Event.objects.filter(org_id=organization_id)
    erasure.count("core.event", anonymised=scrub_rows(scope, person, "data", about=events_about(erasure.subjects)))


holder_register(Holder(name="core", order=90, export=_events_export, erase=_events_erase))
