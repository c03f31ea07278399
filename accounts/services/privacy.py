"""Data protection requests about one person (a lead, contact, campaign recipient or form
submitter), found by email and/or phone: export everything held on them as one bundle, or
erase it (`leadnexus.core.privacy` and the holders each app registers).

An organization's request reaches only what it holds: its leads (inventory and bought ones
too), contacts, campaigns, forms and events. A lead sold to other organizations is theirs
once delivered: a vendor's erasure leaves the buyers' copies, a buyer's leaves the vendor's.
Staff requests reach every organization, or one they name.

Both are audited by an event naming the person only by digests of their email and phone
(`accounts.person.exported`, `accounts.person.erased`), with the counts per table."""

from django.db import transaction

from accounts import policy
from accounts.models import Organization, User
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leadnexus.core.privacy import Bundle, Erasure, Person, personal_data_bundle, personal_data_erase


def _scope(actor: User, organization_id: int | None) -> int | None:
    """The organization the request reaches; None: every organization (staff only)."""
    if not actor.is_staff:
        if organization_id is not None and organization_id != actor.organization_id:
            raise NotFound("Organization not found.")
        return actor.organization_id
    if organization_id is not None and not (
        is_db_id(organization_id) and Organization.objects.filter(pk=organization_id).exists()
    ):
        raise NotFound("Organization not found.")
    return organization_id


def _audit(person: Person, scope: int | None) -> dict:
    return {"email_hash": person.email_hash, "phone_hash": person.phone_hash, "organization_id": scope}


def person_export(*, actor: User, email: str = "", phone: str = "", organization_id: int | None = None) -> Bundle:
    if not policy.can_export_personal_data(actor):
        raise PermissionDenied("Only management users allowed to export may export a person's data.")
    person = Person.of(email=email, phone=phone)
    scope = _scope(actor, organization_id)
    bundle = personal_data_bundle(person=person, organization_id=scope)
    publish(
        "accounts.person.exported",
        actor=actor,
        org=scope or actor.organization_id,
        data={**_audit(person, scope), "records": bundle.counts, "attachments": len(bundle.attachments)},
    )
    return bundle


def person_erase(*, actor: User, email: str = "", phone: str = "", organization_id: int | None = None) -> Erasure:
    """Erase in one transaction; erasing again finds nothing left (and says so)."""
    if not policy.can_erase_personal_data(actor):
        raise PermissionDenied("Only management users allowed to edit leads may erase a person's data.")
    person = Person.of(email=email, phone=phone)
    scope = _scope(actor, organization_id)
    with transaction.atomic():
        erasure = personal_data_erase(person=person, organization_id=scope)
        publish(
            "accounts.person.erased",
            actor=actor,
            org=scope or actor.organization_id,
            data={
                **_audit(person, scope),
                "deleted": dict(erasure.deleted),
                "anonymised": dict(erasure.anonymised),
                "organization_ids": sorted(erasure.organization_ids),
            },
        )
    return erasure
