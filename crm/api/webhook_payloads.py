"""The `data` of a webhook delivery: the record as the API returns it (`lead`, `opportunity`;
a purchase as `purchase` plus the `lead` it delivered into the buyer's organization) and what
the event says of the change (`from`, `to`, `reason`), read once when the event happens."""

from django.conf import settings

from crm.api.records import OpportunityOutputSerializer
from crm.models import Opportunity
from crm.webhook_events import BY_NAME, payload_of
from leadnexus.core.models import Event
from leads.api.records import LeadOutputSerializer
from leads.models import Lead

# Records are read within the event's organization only, whatever ids its data names.


def _lead(event: Event, lead_id) -> dict | None:
    lead = Lead.objects.filter(pk=lead_id, organization_id=event.org_id).first() if lead_id else None
    return dict(LeadOutputSerializer(lead).data) if lead is not None else None


def _opportunity(event: Event) -> dict | None:
    opportunity = Opportunity.objects.filter(pk=event.subject_id, organization_id=event.org_id).first()
    return dict(OpportunityOutputSerializer(opportunity).data) if opportunity is not None else None


def _purchase(event: Event) -> dict:
    purchase = {
        "id": int(event.subject_id),
        "listing_id": event.data.get("listing"),
        "price": event.data.get("price"),
        "currency": settings.CURRENCY,
        "delivered_lead_id": event.data.get("delivered_lead"),
    }
    return {"purchase": purchase, "lead": _lead(event, event.data.get("delivered_lead"))}


SUBJECTS = {
    "leads.lead": lambda event: {"lead": _lead(event, event.subject_id)},
    "crm.opportunity": lambda event: {"opportunity": _opportunity(event)},
    "marketplace.purchase": _purchase,
}


def event_payload(event: Event) -> dict:
    """The body every endpoint subscribed to `event` is sent, read once when it happens."""
    webhook_event = BY_NAME[event.name]
    data = SUBJECTS[event.subject_type](event)
    data.update({name: event.data.get(name) for name in webhook_event.carries})
    return payload_of(event, webhook_event.key, data)
