"""Helpers of the campaign tests: an audience of leads, a campaign written through the service,
the emails each address was sent, and the links found in an email."""

import re

from crm.services.campaigns import campaign_create
from leads.tests.factories import LeadFactory
from notifications.models import EmailMessage

STEP = {
    "subject": "Hello {{ first_name }}",
    "body": 'Hi {{ first_name|default:"there" }},\nSee https://example.com/offer',
}


def leads_make(organization, count: int, **fields) -> list:
    return [LeadFactory(organization=organization, **fields) for _ in range(count)]


def campaign_make(actor, *, steps=None, **data):
    return campaign_create(actor=actor, data={"name": "Spring offer", "steps": steps or [STEP], **data})


def campaign_emails(template: str = "campaign") -> dict[str, list[EmailMessage]]:
    """The campaign emails queued, by address."""
    sent: dict[str, list[EmailMessage]] = {}
    for email in EmailMessage.objects.filter(template=template).order_by("pk"):
        sent.setdefault(email.to, []).append(email)
    return sent


def link(email: EmailMessage, kind: str) -> str:
    """The path of the email's open pixel (`o`), first click link (`c`) or unsubscribe link (`u`)."""
    pattern = {
        "o": r"http://testserver(/t/o/[^\"]+\.gif)",
        "c": r"http://testserver(/t/c/[^\"]+)",
        "u": r"http://testserver(/u/[^\"]+)",
    }
    return re.search(pattern[kind], email.html).group(1)
