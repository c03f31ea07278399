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
