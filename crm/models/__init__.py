"""The CRM's models: contacts, the opportunity pipeline, activities, email campaigns and
outbound webhooks."""

from crm.models.activities import Activity
from crm.models.campaigns import Campaign, CampaignMessage, CampaignRecipient, CampaignStep, EmailSuppression
from crm.models.contacts import Contact
from crm.models.pipeline import Opportunity
from crm.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Activity",
    "Campaign",
    "CampaignMessage",
    "CampaignRecipient",
    "CampaignStep",
    "Contact",
    "EmailSuppression",
    "Opportunity",
    "WebhookDelivery",
    "WebhookEndpoint",
]
