"""Subscribers of the CRM to other apps' domain events (and its own)."""

from crm.api.webhook_payloads import event_payload
from crm.models import Activity, Contact, Opportunity
from crm.selectors import webhook_endpoints_subscribed
from crm.services.campaign_tracking import campaign_email_failed
from crm.services.webhooks import webhook_deliveries_record
from crm.webhook_events import WEBHOOK_EVENTS
from leadnexus.core.events import subscribe
from leads.events import LEAD_MERGED
from notifications.events import EMAIL_FAILED


@subscribe(LEAD_MERGED)
def crm_records_follow_merge(event) -> None:
    """A lead was merged into another: its activities, opportunities and contacts now belong
    to the survivor (the event's subject)."""
    other, survivor = event.data["other_id"], int(event.subject_id)
    for model in (Activity, Opportunity, Contact):
        model.objects.filter(lead_id=other).update(lead_id=survivor)


@subscribe(EMAIL_FAILED)
def campaign_message_fails_with_its_email(event) -> None:
    """The outbox gave up on an email: when it was a campaign's, its message failed."""
    campaign_email_failed(email_id=event.data["email_id"])


def webhooks_record(event) -> None:
    """An event outbound webhooks carry: its deliveries to the endpoints of its organization
    that subscribe, the payload read only when there are some."""
    endpoints = webhook_endpoints_subscribed(event=event)
    if endpoints:
        webhook_deliveries_record(event=event, endpoints=endpoints, payload=event_payload(event))


# One subscriber for every event a webhook may carry: adding an event to the catalog is enough.
for webhook_event in WEBHOOK_EVENTS:
    subscribe(webhook_event.name)(webhooks_record)
