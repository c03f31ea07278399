"""The personal data leads holds (`leadnexus.core.privacy`): leads (CRM and vendor inventory,
deleted ones too), capture-form submissions and their files, staged import rows. Erased
leads are deleted, their activities with them; a lead a sale must keep (a listing's, a
delivered one) is anonymised by marketplace before this runs, and no longer matches."""

from django.db.models import Q, QuerySet

from leadnexus.core.privacy import Attachment, Erasure, Holder, Person, holder_register, placeholder, records
from leads.dedupe import email_key
from leads.models import ImportRow, Lead, Submission

# What anonymising a lead blanks: who the person is and how to reach them. The company's
# facts (company, industry, size, revenue, location) stay with the sale.
PERSONAL_FIELDS = ("last_name", "email", "phone", "job_title", "website", "notes", "email_key", "phone_key",
                   "name_company_key")  # fmt: skip


def person_match(person: Person) -> Q:
    """A lead or contact of the person: by email, phone or their dedupe keys."""
    found = person.matches()
    if person.email and email_key(person.email):
        found |= Q(email_key=email_key(person.email))
    if person.phone:
        found |= Q(phone_key=person.phone)
    return found


def person_leads(person: Person, organization_id: int | None) -> QuerySet[Lead]:
    """The person's leads within the scope."""
    leads = Lead.objects.filter(person_match(person))
    return leads if organization_id is None else leads.filter(organization_id=organization_id)


def lead_anonymise(lead: Lead) -> None:
    """Keep the lead (a sale points at it) with the person's fields replaced."""
    lead.first_name = placeholder(lead.pk)
    for name in PERSONAL_FIELDS:
        setattr(lead, name, "")
    lead.extra, lead.score_breakdown, lead.validation_reasons = {}, {}, []
    lead.save(update_fields=["first_name", *PERSONAL_FIELDS, "extra", "score_breakdown", "validation_reasons",
                             "updated_at"])  # fmt: skip


def _submissions(person: Person, organization_id: int | None) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(Q(lead__in=person_leads(person, None)) | person.mentioned_in("data"))
    return submissions if organization_id is None else submissions.filter(form__organization_id=organization_id)


def _import_rows(person: Person, organization_id: int | None) -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(person.mentioned_in("data"))
    return rows if organization_id is None else rows.filter(job__organization_id=organization_id)


def _export(person: Person, organization_id: int | None) -> dict[str, list[dict]]:
    return {
        "leads.lead": records(person_leads(person, organization_id).order_by("pk")),
        "leads.submission": records(_submissions(person, organization_id).order_by("pk")),
        "leads.importrow": records(_import_rows(person, organization_id).order_by("pk")),
    }


def _attachments(person: Person, organization_id: int | None) -> list[Attachment]:
    return [
        Attachment(
            name=f"submission-{submission.pk}-{submission.attachment_name or 'file'}", file=submission.attachment
        )
        for submission in _submissions(person, organization_id).exclude(attachment="").order_by("pk")
    ]


def _erase(person: Person, organization_id: int | None, erasure: Erasure) -> None:
    submissions = _submissions(person, organization_id)
    erasure.files += [submission.attachment for submission in submissions.exclude(attachment="")]
    erasure.organization_ids.update(submissions.values_list("form__organization_id", flat=True))
    erasure.count("leads.submission", deleted=submissions.delete()[1].get("leads.Submission", 0))
    erasure.count("leads.importrow", deleted=_import_rows(person, organization_id).delete()[0])
    leads = person_leads(person, organization_id)
    for pk, organization in leads.values_list("pk", "organization_id"):
        erasure.subjects["leads.lead"].add(pk)
        erasure.organization_ids.add(organization)
    erasure.count("leads.lead", deleted=leads.delete()[1].get("leads.Lead", 0))


holder_register(Holder(name="leads", order=30, export=_export, erase=_erase, attachments=_attachments))
