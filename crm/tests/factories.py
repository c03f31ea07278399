import factory

from accounts.tests.factories import UserFactory
from crm.models import Activity, Contact, Opportunity, WebhookDelivery, WebhookEndpoint
from leadnexus.core.models import Event


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


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint at a public address (nothing is sent there unless a test resolves it)."""

    class Meta:
        model = WebhookEndpoint

    organization = factory.LazyAttribute(lambda o: o.created_by.organization)
    created_by = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/leadnexus")
    secret = factory.Sequence(lambda n: f"whsec_test_secret_{n:08d}")
    events = factory.LazyFunction(lambda: ["lead.created"])


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A ping delivered to an endpoint."""

    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event = factory.LazyAttribute(
        lambda o: Event.objects.create(name="crm.webhook.tested", org_id=o.endpoint.organization_id)
    )
    event_type = "ping"
    payload = factory.LazyAttribute(lambda o: {"id": o.event.pk, "type": "ping", "data": {}})
    status = WebhookDelivery.Status.SUCCEEDED
    attempts = 1
    response_code = 200
