"""`manage.py seed_demo` for the CRM: converted leads as contacts, opportunities at every
stage, overdue tasks; running it again adds nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import Activity, Contact, Opportunity, WebhookEndpoint
from leads.models import Lead
from marketplace import demo as marketplace_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _smaller_demo(monkeypatch):
    monkeypatch.setattr(marketplace_demo, "PLAN", (("vendor", 10, 1, 41), ("vendor2", 5, 1, 42)))


def test_the_demo_pipeline_has_every_stage_and_tasks_due(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    assert set(Opportunity.objects.values_list("stage", flat=True)) == set(Opportunity.Stage.values)
    assert Contact.objects.count() == Opportunity.objects.count() == 12
    assert Lead.objects.filter(status=Lead.Status.CONVERTED).count() == 12
    open_tasks = Activity.objects.filter(kind="task", done_at__isnull=True)
    assert open_tasks.filter(due_at__lt=timezone.now()).count() == 2
    assert open_tasks.filter(due_at__gt=timezone.now()).count() == 3
    # a lead reached by a logged call is no longer waiting for a first contact
    called = Lead.objects.filter(activities__kind="call").distinct()
    assert called.exists() and not called.filter(first_contacted_at__isnull=True).exists()
    # a webhook endpoint with the log of the won deals delivered to it
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["opportunity.won"]
    assert endpoint.deliveries.filter(status="succeeded").count() == 2
