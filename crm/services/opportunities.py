"""Opportunities: create, edit, move through the pipeline (`crm.pipeline`), reopen, delete.
Each move is an event (`crm.opportunity.stage_changed`, and `…won` or `…lost` when it
closes) that the timeline, analytics and outbound webhooks read."""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.selectors import assignee_get
from crm.models import Opportunity
from crm.pipeline import CLOSED_STAGES, DEFAULT_PROBABILITY, OPEN_STAGES, check_move
from crm.policy import can_reopen, require
from crm.selectors import contact_get, opportunity_get
from leadnexus.core.events import publish
from leadnexus.core.exceptions import IllegalTransition, PermissionDenied, ValidationFailed
from leads.selectors import lead_get

S = Opportunity.Stage
EDITABLE = ("title", "amount", "probability", "expected_close_date")


def _terms_clean(data: dict) -> dict:
    values, problems = {}, {}
    if "title" in data:
        title = " ".join(str(data["title"] or "").replace("\x00", "").split())[:200]
        if not title:
            problems["title"] = ["Give the opportunity a title."]
        values["title"] = title
    if "amount" in data:
        amount = data["amount"]
        if amount is not None and (not isinstance(amount, Decimal) or amount < 0 or amount >= Decimal("1e12")):
            problems["amount"] = ["A positive amount, below a trillion."]
        values["amount"] = amount
    if "probability" in data:
        probability = data["probability"]
        if not isinstance(probability, int) or not 0 <= probability <= 100:
            problems["probability"] = ["A whole percent from 0 to 100."]
        values["probability"] = probability
    if "expected_close_date" in data:
        values["expected_close_date"] = data["expected_close_date"]
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    return values


def _assignee(actor: User, assignee_id: int | None) -> User | None:
    return None if assignee_id is None else assignee_get(user=actor, assignee_id=assignee_id)


def opportunity_create(
    *,
    actor: User,
    data: dict,
    lead_id: int | None = None,
    contact_id: int | None = None,
    assigned_to_id: int | None = None,
) -> Opportunity:
    """An opportunity of the actor's organization, on one of their leads and/or contacts,
    starting at prospecting (or the open stage given) with that stage's probability."""
    require(actor, "can_add_leads", "You do not have permission to add opportunities.")
    stage = data.get("stage") or S.PROSPECTING
    if stage not in OPEN_STAGES:
        raise ValidationFailed("A new opportunity starts at an open stage.", details={"stage": ["An open stage."]})
    values = _terms_clean({"title": data.get("title", ""), **{k: data[k] for k in EDITABLE[1:] if k in data}})
    with transaction.atomic():
        lead = lead_get(user=actor, lead_id=lead_id) if lead_id is not None else None
        contact = contact_get(user=actor, contact_id=contact_id) if contact_id is not None else None
        assignee = _assignee(actor, assigned_to_id) or actor
        opportunity = Opportunity(
            organization_id=actor.organization_id,
            created_by=actor,
            assigned_to=assignee,
            lead=lead,
            contact=contact,
            stage=stage,
            currency=settings.CURRENCY,
            probability=DEFAULT_PROBABILITY[stage],
            **values,
        )
        opportunity.save()
        data = {"stage": stage, "amount": _text(opportunity.amount), "lead": lead_id, "contact": contact_id}
        _publish("crm.opportunity.created", actor, opportunity, data)
    return opportunity


def opportunity_update(*, actor: User, opportunity_id: int, data: dict, assigned_to_id=...) -> Opportunity:
    """Change an opportunity's title, amount, probability or expected close, or its owner."""
    require(actor, "can_edit_leads", "You do not have permission to edit opportunities.")
    values = _terms_clean({name: data[name] for name in EDITABLE if name in data})
    with transaction.atomic():
        opportunity = _locked(actor, opportunity_id)
        changes = {
            name: [_text(getattr(opportunity, name)), _text(value)]
            for name, value in values.items()
            if getattr(opportunity, name) != value
        }
        for name, value in values.items():
            setattr(opportunity, name, value)
        if assigned_to_id is not ...:
            assignee = _assignee(actor, assigned_to_id)
            if opportunity.assigned_to_id != (assignee.pk if assignee else None):
                changes["assigned_to"] = [opportunity.assigned_to_id, assignee.pk if assignee else None]
                opportunity.assigned_to = assignee
        if changes:
            opportunity.save()
            publish(
                "crm.opportunity.updated",
                actor=actor,
                org=opportunity.organization_id,
                subject=opportunity,
                data=changes,
            )
    return opportunity


def opportunity_move(
    *,
    actor: User,
    opportunity_id: int,
    stage: str,
    amount: Decimal | None = None,
    lost_reason: str = "",
    probability: int | None = None,
) -> Opportunity:
    """Move an open opportunity to a stage (the board's drag and drop, its buttons and the
    API). Closing as won takes the amount won; as lost, the reason. The probability becomes
    the stage's default unless one is given."""
    require(actor, "can_edit_leads", "You do not have permission to move opportunities.")
    lost_reason = (lost_reason or "").replace("\x00", "").strip()[:2000]
    with transaction.atomic():
        opportunity = _locked(actor, opportunity_id)
        won_amount = amount if amount is not None else opportunity.amount
        check_move(opportunity.stage, stage, amount=won_amount, lost_reason=lost_reason)
        if stage == opportunity.stage and probability is None:
            return opportunity
        before = opportunity.stage
        opportunity.stage = stage
        opportunity.probability = (
            DEFAULT_PROBABILITY[stage]
            if probability is None
            else _terms_clean({"probability": probability})["probability"]
        )
        if stage == S.CLOSED_WON:
            opportunity.amount = won_amount
        if stage == S.CLOSED_LOST:
            opportunity.lost_reason = lost_reason
        opportunity.closed_at = timezone.now() if stage in CLOSED_STAGES else None
        opportunity.save()
        data = {
            "from": before,
            "to": stage,
            "amount": _text(opportunity.amount),
            "probability": opportunity.probability,
        }
        publish(
            "crm.opportunity.stage_changed",
            actor=actor,
            org=opportunity.organization_id,
            subject=opportunity,
            data=data,
        )
        if stage == S.CLOSED_WON:
            publish("crm.opportunity.won", actor=actor, org=opportunity.organization_id, subject=opportunity, data=data)
        if stage == S.CLOSED_LOST:
            publish(
                "crm.opportunity.lost",
                actor=actor,
                org=opportunity.organization_id,
                subject=opportunity,
                data={**data, "reason": lost_reason},
            )
    return opportunity


def opportunity_reopen(*, actor: User, opportunity_id: int, stage: str = S.NEGOTIATION) -> Opportunity:
    """Reopen a won or lost opportunity at an open stage: for managers and management only,
    and recorded."""
    require(actor, "can_edit_leads", "You do not have permission to edit opportunities.")
    if not can_reopen(actor):
        raise PermissionDenied("Only managers reopen a closed opportunity.")
    if stage not in OPEN_STAGES:
        raise ValidationFailed("Reopen at an open stage.", details={"stage": ["An open stage."]})
    with transaction.atomic():
        opportunity = _locked(actor, opportunity_id)
        if opportunity.stage not in CLOSED_STAGES:
            raise IllegalTransition("This opportunity is open.")
        before = opportunity.stage
        opportunity.stage, opportunity.probability = stage, DEFAULT_PROBABILITY[stage]
        opportunity.closed_at, opportunity.lost_reason = None, ""
        opportunity.save()
        _publish("crm.opportunity.reopened", actor, opportunity, {"from": before, "to": stage})
    return opportunity


def opportunity_delete(*, actor: User, opportunity_id: int) -> Opportunity:
    require(actor, "can_edit_leads", "You do not have permission to delete opportunities.")
    with transaction.atomic():
        opportunity = _locked(actor, opportunity_id)
        opportunity.deleted_at = timezone.now()
        opportunity.save(update_fields=["deleted_at", "updated_at"])
        _publish("crm.opportunity.deleted", actor, opportunity)
    return opportunity


def _locked(actor: User, opportunity_id: int) -> Opportunity:
    opportunity = opportunity_get(user=actor, opportunity_id=opportunity_id)
    return Opportunity.objects.select_for_update().get(pk=opportunity.pk)


def _publish(name: str, actor: User, opportunity: Opportunity, data: dict | None = None) -> None:
    publish(name, actor=actor, org=opportunity.organization_id, subject=opportunity, data=data)


def _text(value) -> str | None:
    return None if value is None else str(value)
