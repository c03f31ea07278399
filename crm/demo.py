"""Demo CRM for `manage.py seed_demo`: the buyer's converted leads as contacts with
opportunities across the pipeline (some won, some lost, closes spread over the coming
months for the forecast), calls and notes on leads, tasks overdue, due today and upcoming,
a webhook endpoint with its delivery log, and a campaign sent last week whose A/B test
picked a winner. Made through the services, so events and timelines are real. Safe to run
again."""

import random
import secrets
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from crm.api.webhook_payloads import event_payload
from crm.models import (
    Campaign,
    CampaignMessage,
    CampaignRecipient,
    Opportunity,
    WebhookDelivery,
    WebhookEndpoint,
)
from crm.services.activities import activity_create
from crm.services.campaign_sending import campaign_advance
from crm.services.campaign_tracking import suppression_add
from crm.services.campaigns import campaign_create, campaign_start
from crm.services.conversion import lead_convert
from crm.services.opportunities import opportunity_move
from leadnexus.core.models import Event
from leads.models import Lead

S = Opportunity.Stage
# Where each converted lead's opportunity ends up, in order.
STAGES = [
    S.PROSPECTING, S.PROSPECTING, S.QUALIFICATION, S.QUALIFICATION, S.QUALIFICATION, S.PROPOSAL,
    S.PROPOSAL, S.NEGOTIATION, S.NEGOTIATION, S.CLOSED_WON, S.CLOSED_WON, S.CLOSED_LOST,
]  # fmt: skip
LOST_REASONS = ["Went with a competitor", "No budget this year", "Chose to build it in-house"]
TASKS = [  # subject, hours from now (negative: overdue)
    ("Send the proposal", -30),
    ("Call back about pricing", -4),
    ("Prepare the demo", 3),
    ("Follow up on the contract", 26),
    ("Quarterly check-in", 24 * 6),
]


def seed(state: dict) -> None:
    buyer, rep = state["buyer"], state["rep"]
    if Opportunity.objects.filter(organization=buyer.organization).exists():
        return
    rng = random.Random(7)  # noqa: S311 - repeatable demo data, not a secret
    leads = list(
        Lead.objects.filter(
            organization=buyer.organization, status=Lead.Status.QUALIFIED, validation_status=Lead.ValidationStatus.VALID
        ).order_by("pk")[: len(STAGES)]
    )
    today = timezone.localdate()
    opportunities = []
    for lead, stage in zip(leads, STAGES, strict=False):
        owner = lead.assigned_to or buyer
        amount = Decimal(rng.choice([2500, 4800, 7500, 12000, 18000, 32000]))
        conversion = lead_convert(
            actor=owner,
            lead_id=lead.pk,
            opportunity={
                "title": f"{lead.company}: {rng.choice(['Annual plan', 'Pilot', 'Team licences', 'Expansion'])}",
                "amount": amount,
                "expected_close_date": today + timedelta(days=rng.randint(5, 120)),
            },
        )
        deal = conversion.opportunity
        if stage != S.PROSPECTING:
            lost_reason = rng.choice(LOST_REASONS) if stage == S.CLOSED_LOST else ""
            deal = opportunity_move(
                actor=buyer, opportunity_id=deal.pk, stage=stage, amount=amount, lost_reason=lost_reason
            )
        activity_create(
            actor=owner,
            data={"kind": "call", "subject": f"Discovery call with {lead.first_name}", "opportunity_id": deal.pk},
        )
        opportunities.append((owner, deal))
    _tasks(opportunities)
    _lead_activities(buyer, rep)
    _webhook(buyer)
    _campaign(buyer)


def _tasks(opportunities) -> None:
    now = timezone.now()
    open_deals = [(owner, deal) for owner, deal in opportunities if deal.stage not in (S.CLOSED_WON, S.CLOSED_LOST)]
    for (owner, deal), (subject, hours) in zip(open_deals, TASKS, strict=False):
        activity_create(
            actor=owner,
            data={
                "kind": "task",
                "subject": subject,
                "opportunity_id": deal.pk,
                "due_at": now + timedelta(hours=hours),
            },
        )


def _lead_activities(buyer, rep) -> None:
    """A first call logged on some contacted leads, and a note on a new one."""
    contacted = Lead.objects.filter(organization=buyer.organization, status=Lead.Status.CONTACTED, assigned_to=rep)
    for lead in contacted.order_by("pk")[:5]:
        activity_create(actor=rep, data={"kind": "call", "subject": "Intro call, left a voicemail", "lead_id": lead.pk})
    fresh = Lead.objects.filter(organization=buyer.organization, status=Lead.Status.NEW).order_by("-created_at").first()
    if fresh is not None:
        activity_create(
            actor=buyer,
            data={"kind": "note", "subject": "Asked for a callback next week", "lead_id": fresh.pk},
        )


def _webhook(buyer) -> None:
    """An endpoint told of won deals, with the log of the demo's wins delivered (one after a
    retry). Made directly: its made-up host resolves nowhere, which registering would refuse."""
    endpoint = WebhookEndpoint.objects.create(
        organization=buyer.organization,
        created_by=buyer,
        url="https://hooks.globex.example/leadnexus",
        description="Globex billing: open an account when a deal is won",
        secret=f"whsec_{secrets.token_urlsafe(32)}",
        events=["opportunity.won"],
    )
    won = Event.objects.filter(org_id=buyer.organization_id, name="crm.opportunity.won").order_by("pk")
    now = timezone.now()
    for attempts, event in enumerate(won, start=1):
        WebhookDelivery.objects.create(
            endpoint=endpoint,
            event=event,
            event_type="opportunity.won",
            payload=event_payload(event),
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=attempts,
            response_code=200,
            response_excerpt='{"received": true}',
            last_attempt_at=now,
            delivered_at=now,
        )


def _campaign(buyer) -> None:
    """A campaign to the contacted leads, started five days ago: an A/B test of two subjects
    on 40% of them (B opened more and went to the rest after four hours), then a follow-up
    three days later to those who did not open. The beat job's own steps, run at those
    times; the mail service's part (delivery, opens, clicks, a bounce, an unsubscribe) is
    written in, so seeding sends no email."""
    audience = Lead.objects.filter(organization=buyer.organization, status=Lead.Status.CONTACTED).order_by("pk")
    for lead, reason in zip(audience.exclude(email=""), ["unsubscribed", "unsubscribed", "bounced"], strict=False):
        suppression_add(organization_id=buyer.organization_id, email=lead.email, reason=reason)
    campaign = campaign_create(
        actor=buyer,
        data={
            "name": "Winter pricing for contacted leads",
            "audience_kind": Campaign.AudienceKind.LEADS,
            "audience_filter": {"status": Lead.Status.CONTACTED},
            "ab_test": True,
            "ab_metric": Campaign.AbMetric.OPEN,
            "ab_sample_percent": 40,
            "ab_wait_hours": 4,
            "steps": [
                {
                    "subject": "{{ first_name }}, our winter pricing",
                    "subject_b": "{{ company }}: 20% off until January",
                    "body": "Hi {{ first_name }},\n\nOur winter plans are out: https://globex.example/winter",
                },
                {
                    "subject": "Last week for winter pricing",
                    "body": "Hi {{ first_name }},\n\nThe offer ends on Friday: https://globex.example/winter",
                    "delay_days": 3,
                    "condition": "not_opened",
                },
            ],
        },
    )
    started = timezone.now() - timedelta(days=5)
    locked = Campaign.objects.select_for_update().select_related("organization").get(pk=campaign.pk)
    locked.sent_by = buyer
    campaign_start(locked, now=started)
    # Of every 20 emails of each variant: how many are opened (a third of those clicked).
    opens = {Campaign.Variant.A: 5, Campaign.Variant.B: 9}
    _delivered(campaign, at=started, opens=opens)
    for hours in (5, 6, 24 * 3 + 6, 24 * 3 + 7):  # A/B decided; step 1 done; step 2 made; done
        campaign_advance(campaign_id=campaign.pk, now=started + timedelta(hours=hours))
        _delivered(campaign, at=started + timedelta(hours=hours), opens=opens)


def _delivered(campaign: Campaign, *, at, opens: dict) -> None:
    """The campaign's pending messages as the mail service would have left them by `at`:
    sent, some opened (`opens` in 20 of each variant) and clicked, one in 30 bounced, one in
    40 unsubscribed."""
    R = CampaignRecipient.Status
    pending = CampaignMessage.objects.filter(step__campaign=campaign, status=CampaignMessage.Status.PENDING)
    seen = dict.fromkeys(Campaign.Variant.values, 0)
    for message in pending.select_related("recipient").order_by("pk"):
        count = seen[message.variant] = seen[message.variant] + 1
        sent_at = at + timedelta(minutes=count // 10)
        message.status, message.sent_at = CampaignMessage.Status.SENT, sent_at
        recipient = message.recipient
        recipient.status, recipient.sent_at = R.SENT, recipient.sent_at or sent_at
        if count % 30 == 0:
            recipient.status, recipient.bounced_at = R.BOUNCED, sent_at
        elif count % 20 < opens[message.variant]:
            message.opened_at = recipient.opened_at = sent_at + timedelta(minutes=5 + count % 170)
            recipient.status = R.OPENED
            if count % 20 < opens[message.variant] // 3:
                message.clicked_at = recipient.clicked_at = message.opened_at + timedelta(minutes=1)
                recipient.status = R.CLICKED
            elif count % 40 == opens[message.variant] - 1:
                recipient.status, recipient.unsubscribed_at = R.UNSUBSCRIBED, message.opened_at
        message.save(update_fields=["status", "sent_at", "opened_at", "clicked_at"])
        recipient.save()
        if recipient.status in (R.BOUNCED, R.UNSUBSCRIBED):
            suppression_add(
                organization_id=campaign.organization_id, email=recipient.email, reason=recipient.status,
                campaign=campaign,
            )  # fmt: skip
