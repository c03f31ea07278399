"""The CRM's models: contacts, the opportunity pipeline, activities and outbound
webhooks."""

from crm.models.activities import Activity
from crm.models.contacts import Contact
from crm.models.pipeline import Opportunity
from crm.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Activity",
    "Contact",
    "Opportunity",
    "WebhookDelivery",
    "WebhookEndpoint",
]
