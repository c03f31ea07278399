"""The events outbound webhooks carry: the public keys an endpoint subscribes to and the
domain event behind each, and the body every delivery sends:
`{"id": <event id>, "type": <key>, "created_at": …, "data": {…}}` (`crm.api.webhook_payloads`
fills `data`). The id is the event's: a receiver tells a retried delivery from a new event.
"""

from dataclasses import dataclass

from rest_framework import serializers

from leadnexus.core.models import Event
from leads.events import LEAD_ASSIGNED, LEAD_CREATED, LEAD_STATUS_CHANGED


@dataclass(frozen=True)
class WebhookEvent:
    key: str
    name: str  # the domain event
    label: str
    carries: tuple[str, ...] = ()  # keys of the event's data copied into the payload


WEBHOOK_EVENTS = [
    WebhookEvent("lead.created", LEAD_CREATED, "Lead created"),
    WebhookEvent("lead.status_changed", LEAD_STATUS_CHANGED, "Lead status changed", ("from", "to")),
    WebhookEvent("lead.assigned", LEAD_ASSIGNED, "Lead assigned", ("from", "to")),
    WebhookEvent(
        "opportunity.stage_changed", "crm.opportunity.stage_changed", "Opportunity stage changed", ("from", "to")
    ),
    WebhookEvent("opportunity.won", "crm.opportunity.won", "Opportunity won", ("from", "to")),
    WebhookEvent("opportunity.lost", "crm.opportunity.lost", "Opportunity lost", ("from", "to", "reason")),
    # Published with the buyer's organization: the buyer's endpoints hear of its purchases.
    WebhookEvent("purchase.completed", "marketplace.purchase.completed", "Purchase completed"),
]
EVENT_CHOICES = [(event.key, event.label) for event in WEBHOOK_EVENTS]
EVENT_KEYS = [event.key for event in WEBHOOK_EVENTS]
BY_NAME = {event.name: event for event in WEBHOOK_EVENTS}
PING = "ping"


def payload_of(event: Event, key: str, data: dict) -> dict:
    created_at = serializers.DateTimeField().to_representation(event.created_at)
    return {"id": event.pk, "type": key, "created_at": created_at, "data": data}
