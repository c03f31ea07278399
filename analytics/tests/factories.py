import factory

from accounts.tests.factories import UserFactory
from analytics.models import ReportExport, ReportSubscription


class ReportExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportExport

    user = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("user.organization")
    kind = "leads"
    date_from = factory.Faker("date_object")
    date_to = factory.SelfAttribute("date_from")


class ReportSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportSubscription

    user = factory.SubFactory(UserFactory)
    kind = "leads"
    frequency = ReportSubscription.Frequency.WEEKLY
