"""The personal data the CRM holds (`leadnexus.core.privacy`): contacts, the activities on the
person's leads and contacts, campaign recipients and the emails sent to them, suppressed
addresses, webhook deliveries' payloads. Runs before leads and marketplace, while the
person's leads still match.

Erasing deletes contacts and the activities on the person's records; recipients stay (a
campaign's figures count them) with their address replaced; opportunities stay (the deal's
amount is the organization's figure) with mentions of the person blanked, and lose their
link to a deleted contact or lead.
Every organization that held the address keeps a suppression of its digest only, so a later
import of the same address is not emailed again."""

from django.db.models import Q, QuerySet

from crm.models import (
    Activity,
    CampaignMessage,
    CampaignRecipient,
    Contact,
    EmailSuppression,
    Opportunity,
    WebhookDelivery,
)
from leadnexus.core.privacy import (
    Erasure,
    Holder,
    Person,
    events_about,
    holder_register,
    records,
    redact_rows,
    scrub_rows,
)
from leads.privacy import person_leads, person_match
from notifications.models import EmailMessage


def _scoped(rows: QuerySet, organization_id: int | None, field: str = "organization_id") -> QuerySet:
    return rows if organization_id is None else rows.filter(**{field: organization_id})


def _contacts(person: Person, organization_id: int | None) -> QuerySet[Contact]:
    return _scoped(Contact.objects.filter(person_match(person)), organization_id)


def _activities(person: Person, organization_id: int | None) -> QuerySet[Activity]:
    keyed = Q(lead__in=person_leads(person, organization_id)) | Q(contact__in=_contacts(person, organization_id))
    return _scoped(Activity.objects.filter(keyed), organization_id)


def _opportunities(person: Person, organization_id: int | None) -> QuerySet[Opportunity]:
    keyed = Q(lead__in=person_leads(person, organization_id)) | Q(contact__in=_contacts(person, organization_id))
    return _scoped(Opportunity.objects.filter(keyed), organization_id)


def _recipients(person: Person, organization_id: int | None) -> QuerySet[CampaignRecipient]:
    found = Q(lead__in=person_leads(person, organization_id)) | Q(contact__in=_contacts(person, organization_id))
    if person.email:
        found |= Q(email__iexact=person.email)
    return _scoped(CampaignRecipient.objects.filter(found), organization_id, "campaign__organization_id")


def _suppressions(person: Person, organization_id: int | None) -> QuerySet[EmailSuppression]:
    if not person.email:
        return EmailSuppression.objects.none()
    return _scoped(EmailSuppression.objects.filter(email_hash=person.email_hash), organization_id)


def _deliveries(person: Person, organization_id: int | None) -> QuerySet[WebhookDelivery]:
    deliveries = WebhookDelivery.objects.filter(person.mentioned_in("payload"))
    return _scoped(deliveries, organization_id, "endpoint__organization_id")


def _export(person: Person, organization_id: int | None) -> dict[str, list[dict]]:
    recipients = _recipients(person, organization_id)
    messages = CampaignMessage.objects.filter(recipient__in=recipients)
    return {
        "crm.contact": records(_contacts(person, organization_id).order_by("pk")),
        "crm.activity": records(_activities(person, organization_id).order_by("pk")),
        "crm.opportunity": records(_opportunities(person, organization_id).order_by("pk")),
        "crm.campaignrecipient": records(recipients.order_by("pk")),
        "crm.campaignmessage": records(messages.order_by("pk")),
        "notifications.emailmessage": records(
            EmailMessage.objects.filter(pk__in=messages.values("email_id")).order_by("pk")
        ),
        "crm.emailsuppression": records(_suppressions(person, organization_id).order_by("pk")),
        "crm.webhookdelivery": records(_deliveries(person, organization_id).order_by("pk")),
    }


def _erase(person: Person, organization_id: int | None, erasure: Erasure) -> None:
    recipients = _recipients(person, organization_id)
    contacts = _contacts(person, organization_id)
    records_of_person = {
        "leads.lead": list(person_leads(person, organization_id).values_list("pk", flat=True)),
        "crm.contact": list(contacts.values_list("pk", flat=True)),
    }
    held_by = {
        *person_leads(person, organization_id).values_list("organization_id", flat=True),
        *contacts.values_list("organization_id", flat=True),
        *recipients.values_list("campaign__organization_id", flat=True),
    }
    erasure.organization_ids.update(held_by)
    erasure.subjects["crm.contact"].update(records_of_person["crm.contact"])

    emails = EmailMessage.objects.filter(
        pk__in=CampaignMessage.objects.filter(recipient__in=recipients).values("email_id")
    )
    erasure.count("notifications.emailmessage", deleted=emails.delete()[1].get("notifications.EmailMessage", 0))
    anonymised = 0
    for recipient in recipients.only("pk"):
        recipient.email, recipient.merge_fields = f"erased-{recipient.pk}@erased.invalid", {}
        recipient.lead, recipient.contact = None, None
        recipient.save(update_fields=["email", "merge_fields", "lead", "contact"])
        anonymised += 1
    erasure.count("crm.campaignrecipient", anonymised=anonymised)

    erasure.count("crm.activity", deleted=_activities(person, organization_id).delete()[0])
    for model, fields in ((Opportunity, ("title", "lost_reason")), (Activity, ("subject", "body"))):
        rows = _scoped(model.objects, organization_id)
        erasure.count(model._meta.label_lower, anonymised=redact_rows(rows, person, *fields))
    deliveries = _scoped(WebhookDelivery.objects, organization_id, "endpoint__organization_id")
    about = events_about(records_of_person, prefix="event__")
    erasure.count("crm.webhookdelivery", anonymised=scrub_rows(deliveries, person, "payload", about=about))
    erasure.count("crm.contact", deleted=contacts.delete()[1].get("crm.Contact", 0))

    if person.email:
        for held in held_by:
            EmailSuppression.objects.get_or_create(
                organization_id=held, email_hash=person.email_hash, defaults={"reason": EmailSuppression.Reason.ERASED}
            )
        kept = _suppressions(person, organization_id).exclude(email="")
        erasure.count("crm.emailsuppression", anonymised=kept.update(email=""))


holder_register(Holder(name="crm", order=10, export=_export, erase=_erase))
