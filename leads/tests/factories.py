import factory

from accounts.tests.factories import OrganizationFactory
from leads.cleaning import apply_clean, lead_clean
from leads.models import Lead


class LeadFactory(factory.django.DjangoModelFactory):
    """A lead whose validation status and dedupe keys are computed like the app does."""

    class Meta:
        model = Lead

    organization = factory.SubFactory(OrganizationFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    phone = ""
    company = factory.Faker("company")
    job_title = factory.Faker("job")
    source = Lead.Source.MANUAL

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        lead = model_class(*args, **kwargs)
        fields = {name: getattr(lead, name) for name in ("first_name", "last_name", "email", "phone", "company")}
        fields["website"] = lead.website
        apply_clean(lead, lead_clean(fields))
        lead.save()
        return lead


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    """A round-robin rule for every source; pass `members=[...]` (or mode="fixed", fixed_user=...)."""

    class Meta:
        model = "leads.AssignmentRule"
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: (n + 1) * 10 % 32767)
    sources = factory.LazyFunction(list)

    @factory.post_generation
    def members(self, create, members, **kwargs):
        if create and members:
            self.members.set(members)


class CaptureFormFactory(factory.django.DjangoModelFactory):
    """A form asking name, company and a required email."""

    class Meta:
        model = "leads.CaptureForm"
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Contact us {n}")
    slug = factory.Sequence(lambda n: f"contact-us-{n}")
    fields = factory.LazyFunction(
        lambda: [
            {"name": "first_name", "label": "First name", "required": False},
            {"name": "last_name", "label": "Last name", "required": False},
            {"name": "company", "label": "Company", "required": False},
            {"name": "email", "label": "Email", "required": True},
            {"name": "notes", "label": "Message", "required": False},
        ]
    )

    @factory.post_generation
    def notify_users(self, create, users, **kwargs):
        if create and users:
            self.notify_users.set(users)


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "leads.Submission"

    form = factory.SubFactory(CaptureFormFactory)
    lead = factory.SubFactory(LeadFactory, organization=factory.SelfAttribute("..form.organization"), source="form")
    data = factory.LazyAttribute(lambda s: {"email": s.lead.email if s.lead else "", "first_name": "Sam"})
    ip = "203.0.113.9"


def spreadsheet_upload(name: str, content: str | bytes | list[list], *, encoding: str = "utf-8"):
    """An uploaded file for imports: text (encoded as given), raw bytes, or rows written as an
    XLSX workbook when `name` ends in .xlsx."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    if isinstance(content, list):
        from openpyxl import Workbook

        workbook = Workbook()
        for row in content:
            workbook.active.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    elif isinstance(content, str):
        content = content.encode(encoding)
    return SimpleUploadedFile(name, content)
