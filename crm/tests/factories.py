import factory

from accounts.tests.factories import UserFactory
from crm.models import Activity, Contact, Opportunity


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.LazyAttribute(lambda o: o.created_by.organization)
    created_by = factory.SubFactory(UserFactory)
    assigned_to = factory.SelfAttribute("created_by")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    email_key = factory.SelfAttribute("email")
    company = factory.Faker("company")


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    organization = factory.LazyAttribute(lambda o: o.created_by.organization)
    created_by = factory.SubFactory(UserFactory)
    assigned_to = factory.SelfAttribute("created_by")
    title = factory.Sequence(lambda n: f"Deal {n}")
    stage = Opportunity.Stage.PROSPECTING
    probability = 10


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    organization = factory.LazyAttribute(lambda o: o.created_by.organization)
    created_by = factory.SubFactory(UserFactory)
    assigned_to = factory.SelfAttribute("created_by")
    kind = Activity.Kind.TASK
    subject = factory.Sequence(lambda n: f"Follow up {n}")
    opportunity = factory.SubFactory(OpportunityFactory, created_by=factory.SelfAttribute("..created_by"))
