"""Email campaigns, written and started: create, change (before it starts), delete, send a
test to oneself, schedule or send now, pause, resume and cancel. Only campaign managers
(`crm.policy.can_manage_campaigns`) do any of it.

The status moves only as `TRANSITIONS` allows (IllegalTransition otherwise). Starting
snapshots the audience into recipients (the people left out counted on the campaign) and
makes the first step's messages: for everyone, or under an A/B test for a random sample
split in half between the variants. `crm.services.campaign_sending` sends them."""

import random
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from crm.campaign_content import merge_fields_of, merge_problems
from crm.models import Campaign, CampaignMessage, CampaignRecipient, CampaignStep
from crm.policy import require_campaign_manager
from crm.selectors_campaigns import audience_filter_clean, audience_of, campaign_get, campaign_preview
from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import IllegalTransition, ValidationFailed
from notifications.models import EmailMessage
from notifications.services import email_queue_rendered

S = Campaign.Status
TRANSITIONS = {
    S.DRAFT: {S.SCHEDULED, S.SENDING, S.CANCELED},
    S.SCHEDULED: {S.SCHEDULED, S.SENDING, S.CANCELED},
    S.SENDING: {S.PAUSED, S.SENT, S.CANCELED},
    S.PAUSED: {S.SENDING, S.CANCELED},
    S.SENT: set(),
    S.CANCELED: set(),
}
EDITABLE = {S.DRAFT, S.SCHEDULED}
SEND_TASK = "crm.tasks.campaign_send"
MAX_STEPS = 5
MAX_BODY = 20000
MAX_SCHEDULE_AHEAD = timedelta(days=365)


def status_move(campaign: Campaign, to: str) -> None:
    if to not in TRANSITIONS[campaign.status]:
        raise IllegalTransition(f"A {campaign.get_status_display().lower()} campaign cannot become {to}.")
    campaign.status = to


def sender_of(campaign: Campaign) -> str:
    """From: the organization's name at the campaigns' address."""
    return formataddr((" ".join(campaign.organization.name.split()), parseaddr(settings.CAMPAIGN_FROM_EMAIL)[1]))


# --- Writing --------------------------------------------------------------------------------------


def _text(value, *, limit: int, one_line: bool = False) -> str:
    text = str(value if value is not None else "").replace("\x00", "")
    return " ".join(text.split())[:limit] if one_line else text.strip()[:limit]


def _number(data: dict, name: str, low: int, high: int, problems: dict) -> int | None:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems[name] = [f"A whole number from {low} to {high}."]
        return None
    return value


def _steps_clean(steps) -> tuple[list[dict], list]:
    """The steps' values, and the problems of each (a list aligned with the steps)."""
    if not isinstance(steps, list) or not 1 <= len(steps) <= MAX_STEPS:
        return [], [f"Give from 1 to {MAX_STEPS} steps."]
    cleaned, problems = [], []
    for position, step in enumerate(steps, 1):
        step = step if isinstance(step, dict) else {}
        values = {
            "position": position,
            "subject": _text(step.get("subject"), limit=255, one_line=True),
            "body": _text(step.get("body"), limit=MAX_BODY),
            "subject_b": _text(step.get("subject_b"), limit=255, one_line=True),
            "body_b": _text(step.get("body_b"), limit=MAX_BODY),
            "delay_days": step.get("delay_days", 0 if position == 1 else 3),
            "condition": step.get("condition") or CampaignStep.Condition.ALL,
        }
        errors: dict[str, list[str]] = {}
        if not values["subject"]:
            errors["subject"] = ["Give a subject."]
        if not values["body"]:
            errors["body"] = ["Write the email."]
        for name in ("subject", "body", "subject_b", "body_b"):
            errors.setdefault(name, []).extend(merge_problems(values[name]))
        if position == 1:
            values["delay_days"], values["condition"] = 0, CampaignStep.Condition.ALL
        else:
            if values["subject_b"] or values["body_b"]:
                errors["subject_b"] = ["Only the first step has a B variant."]
            if isinstance(values["delay_days"], bool) or values["delay_days"] not in range(1, 366):
                errors["delay_days"] = ["A whole number of days from 1 to 365."]
            if values["condition"] not in CampaignStep.Condition.values:
                errors["condition"] = ["Choose from: " + ", ".join(CampaignStep.Condition.values) + "."]
        cleaned.append(values)
        problems.append({name: messages for name, messages in errors.items() if messages})
    return cleaned, problems if any(problems) else []


def _campaign_clean(data: dict, *, actor: User, campaign: Campaign | None) -> tuple[dict, list[dict] | None]:
    """(the campaign's values, its steps or None when not given), checked; ValidationFailed
    naming every problem otherwise."""
    values, problems = {}, {}
    if "name" in data:
        values["name"] = _text(data["name"], limit=200, one_line=True)
        if not values["name"]:
            problems["name"] = ["Give the campaign a name."]
    kind = data.get("audience_kind", campaign.audience_kind if campaign else Campaign.AudienceKind.LEADS)
    if "audience_kind" in data or "audience_filter" in data or campaign is None:
        filters = data.get("audience_filter", campaign.audience_filter if campaign else {})
        try:
            values["audience_filter"] = audience_filter_clean(kind=kind, filters=filters, user=actor)
            values["audience_kind"] = kind
        except ValidationFailed as exc:
            problems.update(exc.details)
    if "ab_test" in data:
        values["ab_test"] = bool(data["ab_test"])
    if "ab_metric" in data:
        values["ab_metric"] = data["ab_metric"]
        if values["ab_metric"] not in Campaign.AbMetric.values:
            problems["ab_metric"] = ["Choose open or click."]
    if "ab_sample_percent" in data:
        values["ab_sample_percent"] = _number(data, "ab_sample_percent", 10, 100, problems)
    if "ab_wait_hours" in data:
        values["ab_wait_hours"] = _number(data, "ab_wait_hours", 1, 168, problems)
    steps = None
    if "steps" in data:
        steps, step_problems = _steps_clean(data["steps"])
        if step_problems:
            problems["steps"] = step_problems
    elif campaign is None:
        problems["steps"] = ["Give the campaign at least one step."]
    ab_test = values.get("ab_test", campaign.ab_test if campaign else False)
    first = steps[0] if steps else (campaign.steps.order_by("position").first() if campaign else None)
    if ab_test and "steps" not in problems and first is not None:
        subject, body = (first["subject"], first["body"]) if isinstance(first, dict) else first.content("a")
        subject_b, body_b = (first["subject_b"], first["body_b"]) if isinstance(first, dict) else first.content("b")
        if (subject_b or subject, body_b or body) == (subject, body):
            problems["ab_test"] = ["An A/B test needs a B subject or a B body on the first step."]
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    return values, steps


def _steps_save(campaign: Campaign, steps: list[dict]) -> None:
    campaign.steps.all().delete()
    CampaignStep.objects.bulk_create([CampaignStep(campaign=campaign, **step) for step in steps])


def campaign_create(*, actor: User, data: dict) -> Campaign:
    """A draft campaign of the actor's organization."""
    require_campaign_manager(actor)
    values, steps = _campaign_clean(data, actor=actor, campaign=None)
    with transaction.atomic():
        campaign = Campaign.objects.create(organization_id=actor.organization_id, created_by=actor, **values)
        _steps_save(campaign, steps)
        publish("crm.campaign.created", actor=actor, org=campaign.organization_id, subject=campaign)
    return campaign_get(user=actor, campaign_id=campaign.pk)


def _locked(actor: User, campaign_id: int) -> Campaign:
    campaign = campaign_get(user=actor, campaign_id=campaign_id)
    return Campaign.objects.select_for_update(of=("self",)).select_related("organization").get(pk=campaign.pk)


def campaign_update(*, actor: User, campaign_id: int, data: dict) -> Campaign:
    """Change a campaign before it starts (the fields given; `steps` replaces them all)."""
    require_campaign_manager(actor)
    with transaction.atomic():
        campaign = _locked(actor, campaign_id)
        if campaign.status not in EDITABLE:
            raise IllegalTransition("A campaign can be changed only before it starts sending.")
        values, steps = _campaign_clean(data, actor=actor, campaign=campaign)
        changed = sorted(name for name, value in values.items() if getattr(campaign, name) != value)
        for name in changed:
            setattr(campaign, name, values[name])
        campaign.save()
        if steps is not None:
            _steps_save(campaign, steps)
            changed.append("steps")
        if changed:
            data = {"fields": changed}
            publish("crm.campaign.updated", actor=actor, org=campaign.organization_id, subject=campaign, data=data)
    return campaign_get(user=actor, campaign_id=campaign.pk)


def campaign_delete(*, actor: User, campaign_id: int) -> None:
    """Delete a campaign and its figures; one sending or paused is canceled first."""
    require_campaign_manager(actor)
    with transaction.atomic():
        campaign = _locked(actor, campaign_id)
        if campaign.status in (S.SENDING, S.PAUSED):
            raise IllegalTransition("Cancel the campaign before deleting it.")
        data = {"name": campaign.name}
        publish("crm.campaign.deleted", actor=actor, org=campaign.organization_id, subject=campaign, data=data)
        campaign.delete()


def campaign_test_send(*, actor: User, campaign_id: int, recipient_id: int | None = None) -> list[EmailMessage]:
    """Email the actor the first step as one person of the audience would get it (the lead
    or contact `recipient_id`, else the first one): each variant under an A/B test. Marked as
    a test, without tracking, and counted nowhere."""
    require_campaign_manager(actor)
    campaign = campaign_get(user=actor, campaign_id=campaign_id)
    variants = Campaign.Variant.values if campaign.ab_test else [Campaign.Variant.A]
    emails = []
    with transaction.atomic():
        for variant in variants:
            _, rendered = campaign_preview(
                user=actor, campaign_id=campaign.pk, recipient_id=recipient_id, variant=variant
            )
            label = f"[Test {variant.upper()}]" if campaign.ab_test else "[Test]"
            emails.append(
                email_queue_rendered(
                    to=actor.email,
                    template="campaign_test",
                    subject=f"{label} {rendered.subject}",
                    text=rendered.text,
                    html=rendered.html,
                    from_email=sender_of(campaign),
                )
            )
        publish("crm.campaign.tested", actor=actor, org=campaign.organization_id, subject=campaign)
    return emails


# --- Sending: start, pause, resume, cancel ------------------------------------------------------------


def campaign_schedule(*, actor: User, campaign_id: int, send_at: datetime | None = None) -> Campaign:
    """Send the campaign at `send_at`, or now (no time, or a time already past). Sending now
    snapshots the audience at once; in the embedded default it is sent before this returns."""
    require_campaign_manager(actor)
    now = timezone.now()
    if send_at is not None and send_at > now + MAX_SCHEDULE_AHEAD:
        raise ValidationFailed("Schedule it within a year.", details={"send_at": ["Schedule it within a year."]})
    with transaction.atomic():
        campaign = _locked(actor, campaign_id)
        campaign.sent_by = actor
        if send_at is not None and send_at > now:
            status_move(campaign, S.SCHEDULED)
            audience = audience_of(
                organization_id=campaign.organization_id,
                kind=campaign.audience_kind,
                filters=campaign.audience_filter,
                user=actor,
            )
            if not audience.people:
                raise _empty_audience()
            campaign.scheduled_at = send_at
            campaign.save()
            data = {"send_at": send_at.isoformat()}
            publish("crm.campaign.scheduled", actor=actor, org=campaign.organization_id, subject=campaign, data=data)
        elif not campaign_start(campaign, now=now, actor=actor):
            raise _empty_audience()
    return campaign_get(user=actor, campaign_id=campaign.pk)


def _empty_audience() -> ValidationFailed:
    message = "No one in the audience can be sent to: change its filters."
    return ValidationFailed(message, details={"audience_filter": [message]})


def campaign_start(campaign: Campaign, *, now: datetime, actor: User | None = None) -> int:
    """Start sending a campaign locked by the caller: its audience becomes recipients, the
    first step's messages are made (for the A/B sample only, under a test) and a task is
    sent to send them once this commits. How many recipients it has."""
    status_move(campaign, S.SENDING)
    audience = audience_of(
        organization_id=campaign.organization_id,
        kind=campaign.audience_kind,
        filters=campaign.audience_filter,
        user=campaign.sent_by or campaign.created_by,
    )
    person_key = "lead_id" if campaign.audience_kind == Campaign.AudienceKind.LEADS else "contact_id"
    variant = "" if campaign.ab_test else Campaign.Variant.A
    recipients = CampaignRecipient.objects.bulk_create(
        [
            CampaignRecipient(
                campaign=campaign,
                email=person["email"],
                merge_fields=merge_fields_of(person),
                variant=variant,
                **{person_key: person["pk"]},
            )
            for person in audience.people
        ],
        batch_size=1000,
    )
    if campaign.ab_test:
        size = min(len(recipients), max(2, round(len(recipients) * campaign.ab_sample_percent / 100)))
        recipients = random.sample(recipients, size)  # a fair split, not a secret
        for index, recipient in enumerate(recipients):
            recipient.in_sample, recipient.variant = True, Campaign.Variant.values[index % 2]
        CampaignRecipient.objects.bulk_update(recipients, ["in_sample", "variant"], batch_size=1000)
    campaign.started_at, campaign.scheduled_at, campaign.excluded = now, campaign.scheduled_at or now, audience.excluded
    campaign.save()
    messages_add(campaign.steps.order_by("position").first(), recipients, now=now)
    data = {"recipients": len(audience.people), "excluded": audience.excluded}
    publish("crm.campaign.started", actor=actor, org=campaign.organization_id, subject=campaign, data=data)
    return len(audience.people)


def messages_add(step: CampaignStep, recipients: list[CampaignRecipient], *, now: datetime) -> None:
    """A step's messages to `recipients` (once each, whatever happens), sent by a task once
    this commits."""
    CampaignMessage.objects.bulk_create(
        [
            CampaignMessage(step=step, recipient=recipient, variant=recipient.variant or Campaign.Variant.A)
            for recipient in recipients
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    step.status, step.started_at = CampaignStep.Status.SENDING, step.started_at or now
    step.save(update_fields=["status", "started_at"])
    if recipients:
        outbox.enqueue(SEND_TASK, campaign_id=step.campaign_id)


def campaign_pause(*, actor: User, campaign_id: int) -> Campaign:
    """Stop sending after the batch under way; nothing is lost."""
    return _lifecycle(actor, campaign_id, S.PAUSED, "crm.campaign.paused")


def campaign_resume(*, actor: User, campaign_id: int) -> Campaign:
    """Carry on where the campaign was paused (an A/B decision or follow-up that fell due
    meanwhile comes next)."""
    return _lifecycle(actor, campaign_id, S.SENDING, "crm.campaign.resumed")


def campaign_cancel(*, actor: User, campaign_id: int) -> Campaign:
    """Stop the campaign for good: its messages not yet sent are skipped."""
    return _lifecycle(actor, campaign_id, S.CANCELED, "crm.campaign.canceled")


def _lifecycle(actor: User, campaign_id: int, to: str, event: str) -> Campaign:
    require_campaign_manager(actor)
    with transaction.atomic():
        campaign = _locked(actor, campaign_id)
        status_move(campaign, to)
        if to == S.CANCELED:
            campaign.finished_at = timezone.now()
            CampaignMessage.objects.filter(step__campaign=campaign, status=CampaignMessage.Status.PENDING).update(
                status=CampaignMessage.Status.SKIPPED
            )
        campaign.save()
        if to == S.SENDING:
            outbox.enqueue(SEND_TASK, campaign_id=campaign.pk)
        publish(event, actor=actor, org=campaign.organization_id, subject=campaign)
    return campaign_get(user=actor, campaign_id=campaign.pk)
