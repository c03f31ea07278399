"""Converting a lead: one service, one transaction. It links the lead to a contact (the one
named, else the organization's existing contact with the same person, else a new one made
from the lead), optionally opens an opportunity on both, and moves the lead to `converted`
(`leads.services.records.lead_convert_record`). Any failure leaves nothing half-done."""

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from crm.models import Contact, Opportunity
from crm.selectors import contact_get
from crm.services.contacts import contact_create, contact_duplicate
from crm.services.opportunities import opportunity_create
from leads.dedupe import keys_of
from leads.models import Lead
from leads.selectors import lead_get
from leads.services.records import lead_convert_record


@dataclass(frozen=True)
class Conversion:
    lead: Lead
    contact: Contact
    contact_created: bool
    opportunity: Opportunity | None


def contact_for_lead(*, user: User, lead_id: int) -> Contact | None:
    """The existing contact a conversion of this lead would link (the page offers it)."""
    lead = lead_get(user=user, lead_id=lead_id)
    return contact_duplicate(organization_id=lead.organization_id, keys=keys_of(lead))


def lead_convert(
    *,
    actor: User,
    lead_id: int,
    contact_id: int | None = None,
    link_existing: bool = True,
    opportunity: dict | None = None,
) -> Conversion:
    """Convert a lead (see the module's docstring); `link_existing=False` makes a new contact
    even when one with the same person exists."""
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id)
        if contact_id is not None:
            contact, created = contact_get(user=actor, contact_id=contact_id), False
        else:
            contact = (
                contact_duplicate(organization_id=lead.organization_id, keys=keys_of(lead)) if link_existing else None
            )
            created = contact is None
            if created:
                contact = contact_create(
                    actor=actor,
                    data={
                        "first_name": lead.first_name,
                        "last_name": lead.last_name,
                        "email": lead.email,
                        "phone": lead.phone,
                        "company": lead.company,
                        "position": lead.job_title,
                    },
                    assigned_to_id=lead.assigned_to_id or actor.pk,
                    lead_id=lead.pk,
                ).contact
        deal = None
        if opportunity is not None:
            deal = opportunity_create(
                actor=actor,
                data=opportunity,
                lead_id=lead.pk,
                contact_id=contact.pk,
                assigned_to_id=lead.assigned_to_id or actor.pk,
            )
        lead = lead_convert_record(
            actor=actor,
            lead_id=lead.pk,
            data={"contact": contact.pk, "contact_created": created, "opportunity": deal.pk if deal else None},
        )
    return Conversion(lead=lead, contact=contact, contact_created=created, opportunity=deal)
