"""Sending campaigns: batches of messages into the email outbox, the A/B decision, the
follow-up steps, and the beat job that moves every campaign along.

A batch is one transaction: it claims up to CAMPAIGN_BATCH_SIZE pending messages (fewer
when the organization's CAMPAIGN_DAILY_CAP for its day is nearer), renders each, queues its
`EmailMessage` and marks the message and recipient sent, then commits. A worker dying
mid-batch rolls all of it back (no email queued, nothing marked), and the next run sends
those messages once; a committed batch is never redone, and the outbox sends each email at
most once. Batches of one organization run one at a time (its row is locked), so the
daily cap holds across its campaigns and workers.

`campaigns_advance` (beat, every minute) starts scheduled campaigns whose time came,
resumes sending left unfinished (a lost worker, yesterday's cap), decides A/B tests whose
wait is over (the better open or click rate over delivered wins, a tie goes to A; the rest
are sent the winner) and starts follow-up steps `delay_days` after the previous step
finished, for the recipients their condition picks."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import Organization
from crm.campaign_content import Tracking, headers_of, render
from crm.models import Campaign, CampaignMessage, CampaignRecipient, CampaignStep, EmailSuppression
from crm.selectors_campaigns import ab_sample_figures, campaign_sent_since, suppressions_of
from crm.services.campaigns import SEND_TASK, campaign_start, messages_add, sender_of, status_move
from leadnexus.core import outbox
from leadnexus.core.events import publish
from notifications.services import email_queue_rendered

M = CampaignMessage.Status
R = CampaignRecipient.Status
# A send task stops after this long and hands over to a fresh one, well inside Celery's time limit.
SEND_BUDGET_SECONDS = 60


@dataclass(frozen=True)
class Batch:
    done: int  # messages sent or skipped
    capped: bool  # the organization's daily cap stopped it
    more: bool  # pending messages remain


def campaign_send(*, campaign_id: int) -> int:
    """Send a campaign's pending messages batch by batch until none remain (then see what
    comes next), the daily cap or a pause stops it, or the time budget is spent (a fresh
    task carries on). How many messages were handled."""
    deadline = time.monotonic() + SEND_BUDGET_SECONDS
    done = 0
    while True:
        batch = campaign_batch_send(campaign_id=campaign_id)
        done += batch.done
        if not batch.more:
            campaign_advance(campaign_id=campaign_id)
            return done
        if batch.capped or not batch.done:
            return done
        if time.monotonic() > deadline:
            with transaction.atomic():
                outbox.enqueue(SEND_TASK, campaign_id=campaign_id)
            return done


def _day_start(organization: Organization, now: datetime) -> datetime:
    local = now.astimezone(organization.zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def campaign_batch_send(*, campaign_id: int) -> Batch:
    """One batch of a sending campaign, in one transaction (see the module's docstring)."""
    now = timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.filter(pk=campaign_id).only("organization_id").first()
        if campaign is None:
            return Batch(done=0, capped=False, more=False)
        # One batch at a time per organization: the daily cap holds however many workers run.
        organization = Organization.objects.select_for_update(no_key=True).get(pk=campaign.organization_id)
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("organization", "sent_by", "created_by")
            .get(pk=campaign_id)
        )
        pending = CampaignMessage.objects.filter(step__campaign=campaign, status=M.PENDING)
        if campaign.status != Campaign.Status.SENDING:
            return Batch(done=0, capped=False, more=False)
        room = settings.CAMPAIGN_DAILY_CAP - campaign_sent_since(
            organization_id=organization.pk, since=_day_start(organization, now)
        )
        size = max(0, min(room, settings.CAMPAIGN_BATCH_SIZE))
        messages = list(pending.select_related("step", "recipient").order_by("pk")[:size])
        suppressed = suppressions_of(
            organization_id=organization.pk, emails=[message.recipient.email for message in messages]
        )
        sent = []
        for message in messages:
            recipient = message.recipient
            if recipient.status in (R.UNSUBSCRIBED, R.BOUNCED) or suppressed.reason_of(recipient.email):
                message.status = M.SKIPPED
                continue
            message.email = _email_queue(campaign, message)
            message.status, message.sent_at = M.SENT, now
            sent.append(recipient.pk)
        CampaignMessage.objects.bulk_update(messages, ["status", "email", "sent_at"])
        CampaignRecipient.objects.filter(pk__in=sent, status=R.QUEUED).update(status=R.SENT)
        CampaignRecipient.objects.filter(pk__in=sent, sent_at__isnull=True).update(sent_at=now)
        more = pending.exists()
    return Batch(done=len(messages), capped=more and room <= len(sent), more=more)


def _email_queue(campaign: Campaign, message: CampaignMessage):
    tracking = Tracking(message_id=message.pk, recipient_id=message.recipient_id)
    subject, body = message.step.content(message.variant)
    rendered = render(
        subject=subject,
        body=body,
        fields=message.recipient.merge_fields,
        sender=campaign.organization.name,
        tracking=tracking,
    )
    headers = headers_of(tracking)
    replies_to = campaign.sent_by or campaign.created_by
    if replies_to is not None:
        headers["Reply-To"] = replies_to.email
    return email_queue_rendered(
        to=message.recipient.email,
        template="campaign",
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        from_email=sender_of(campaign),
        headers=headers,
    )


# --- What comes next ------------------------------------------------------------------------------


def campaigns_advance(*, now: datetime | None = None) -> int:
    """Beat: every campaign due some work (see the module's docstring) is handed it. How
    many were looked at."""
    now = now or timezone.now()
    due = list(
        Campaign.objects.filter(
            Q(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now) | Q(status=Campaign.Status.SENDING)
        ).values_list("pk", flat=True)
    )
    for campaign_id in due:
        if CampaignMessage.objects.filter(step__campaign_id=campaign_id, status=M.PENDING).exists():
            with transaction.atomic():
                outbox.enqueue(SEND_TASK, campaign_id=campaign_id)
        else:
            campaign_advance(campaign_id=campaign_id, now=now)
    return len(due)


def campaign_advance(*, campaign_id: int, now: datetime | None = None) -> None:
    """Move a campaign with no message pending on: start it when scheduled and due, close
    the step whose messages are all out, decide its A/B test, start the follow-up step that
    fell due, and mark it sent after its last step. Messages it makes are sent by a task."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(of=("self",)).select_related("organization").get(pk=campaign_id)
        if campaign.status == Campaign.Status.SCHEDULED and campaign.scheduled_at <= now:
            campaign_start(campaign, now=now, actor=campaign.sent_by)
            return
        if campaign.status != Campaign.Status.SENDING:
            return
        if CampaignMessage.objects.filter(step__campaign=campaign, status=M.PENDING).exists():
            return
        previous = None
        for step in campaign.steps.order_by("position"):
            if step.status == CampaignStep.Status.PENDING:
                if previous.finished_at + timedelta(days=step.delay_days) > now:
                    return
                if _follow_up_start(campaign, step, previous, now=now):
                    return
            elif (
                step.status == CampaignStep.Status.SENDING
                and campaign.ab_test
                and not campaign.ab_winner
                and _ab_decide(campaign, step, now=now)
            ):
                return
            if step.status != CampaignStep.Status.SENT:
                step.status, step.finished_at = CampaignStep.Status.SENT, now
                step.save(update_fields=["status", "finished_at"])
            previous = step
        status_move(campaign, Campaign.Status.SENT)
        campaign.finished_at = now
        campaign.save(update_fields=["status", "finished_at", "updated_at"])
        publish("crm.campaign.sent", org=campaign.organization_id, subject=campaign)


def _ab_decide(campaign: Campaign, step: CampaignStep, *, now: datetime) -> bool:
    """Once the sample's wait is over: the variant with the better rate over delivered wins
    (a tie goes to A) and the rest of the audience is sent it. Whether the first step goes
    on (still waiting, or the rest to send)."""
    last_sent = CampaignMessage.objects.filter(step=step).aggregate(at=Max("sent_at"))["at"] or step.started_at
    if last_sent + timedelta(hours=campaign.ab_wait_hours) > now:
        return True
    rate = f"{campaign.ab_metric}_rate"
    rates = {variant: figures[rate] for variant, figures in ab_sample_figures(campaign).items()}
    winner = Campaign.Variant.B if rates["b"] > rates["a"] else Campaign.Variant.A
    campaign.ab_winner, campaign.ab_decided_at = winner, now
    campaign.save(update_fields=["ab_winner", "ab_decided_at", "updated_at"])
    rest = list(CampaignRecipient.objects.filter(campaign=campaign, in_sample=False, status=R.QUEUED))
    CampaignRecipient.objects.filter(pk__in=[recipient.pk for recipient in rest]).update(variant=winner)
    for recipient in rest:
        recipient.variant = winner
    messages_add(step, rest, now=now)
    data = {"winner": winner, "metric": campaign.ab_metric, "rates": rates, "rest": len(rest)}
    publish("crm.campaign.ab_decided", org=campaign.organization_id, subject=campaign, data=data)
    return bool(rest)


def _follow_up_start(campaign: Campaign, step: CampaignStep, previous: CampaignStep, *, now: datetime) -> bool:
    """Make a follow-up step's messages: for the recipients sent the previous step who are
    still reachable and match its condition. Whether there are any."""
    recipients = (
        CampaignRecipient.objects.filter(campaign=campaign, messages__step=previous, messages__status=M.SENT)
        .exclude(status__in=[R.UNSUBSCRIBED, R.BOUNCED, R.FAILED])
        .exclude(email__in=EmailSuppression.objects.filter(organization_id=campaign.organization_id).values("email"))
    )
    if step.condition == CampaignStep.Condition.NOT_OPENED:
        recipients = recipients.filter(opened_at__isnull=True, clicked_at__isnull=True)
    elif step.condition == CampaignStep.Condition.NOT_CLICKED:
        recipients = recipients.filter(clicked_at__isnull=True)
    recipients = list(recipients)
    messages_add(step, recipients, now=now)
    return bool(recipients)
