"""`manage.py seed_demo` for the CRM: converted leads as contacts, opportunities at every
stage, overdue tasks; running it again adds nothing."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.models import Activity, Campaign, CampaignMessage, CampaignStep, Contact, Opportunity, WebhookEndpoint
from crm.selectors_campaigns import campaign_stats
from leads.models import Lead
from marketplace import demo as marketplace_demo
from notifications.models import EmailMessage

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


def test_the_demo_campaign_was_sent_with_an_ab_winner_and_a_follow_up():
    call_command("seed_demo")
    call_command("seed_demo")

    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.SENT and campaign.ab_winner == Campaign.Variant.B
    assert campaign.excluded["unsubscribed"] == 2 and campaign.excluded["bounced"] == 1
    first, follow_up = campaign.steps.order_by("position")
    assert first.status == follow_up.status == CampaignStep.Status.SENT
    # the follow-up went only to those of the first step who did not open it
    assert follow_up.messages.exists()
    assert not follow_up.messages.filter(recipient__opened_at__lt=follow_up.started_at).exists()
    stats = campaign_stats(user=campaign.created_by, campaign_id=campaign.pk)
    assert stats["ab"]["winner"] == "b" and stats["open_rate"] > 0
    # nobody was sent a step twice, and seeding emailed no one
    assert not EmailMessage.objects.filter(template="campaign").exists()
    assert CampaignMessage.objects.filter(status="sent").count() == CampaignMessage.objects.count()
