"""One timeline per detail page (activities, recorded changes and, on a bought lead, its
purchase), and the activities that count as a lead's first contact."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD
from crm.models import Activity
from crm.services.activities import activity_create, activity_update
from crm.services.opportunities import opportunity_create, opportunity_move
from crm.tests.factories import ContactFactory
from leads.models import Lead
from leads.services.records import lead_status_change
from leads.tests.factories import LeadFactory
from marketplace.tests.factories import PurchaseFactory

pytestmark = pytest.mark.django_db


def _lead(owner) -> Lead:
    return LeadFactory(organization=owner.organization, assigned_to=owner, created_by=owner)


def _timeline(client, url: str) -> str:
    page = client.get(url).content.decode()
    start = page.index('data-testid="timeline"')
    return page[start : page.index("</ol>", start)]


@pytest.mark.parametrize(
    ("kind", "due_in", "reached"),
    [
        (Activity.Kind.CALL, None, True),
        (Activity.Kind.EMAIL, None, True),
        (Activity.Kind.MEETING, timedelta(days=1), False),  # not held yet
        (Activity.Kind.TASK, None, False),
        (Activity.Kind.NOTE, None, False),
    ],
)
def test_a_call_email_or_held_meeting_is_a_leads_first_contact(manager, kind, due_in, reached):
    lead = _lead(manager)
    due_at = timezone.now() + due_in if due_in else None

    activity_create(actor=manager, data={"kind": kind, "subject": "Hello", "lead_id": lead.pk, "due_at": due_at})

    lead.refresh_from_db()
    assert (lead.first_contacted_at is not None) is reached


def test_a_planned_meeting_counts_once_held_and_a_call_on_the_contact_counts(manager):
    lead = _lead(manager)
    meeting = activity_create(
        actor=manager,
        data={"kind": "meeting", "subject": "Demo", "lead_id": lead.pk, "due_at": timezone.now() + timedelta(hours=1)},
    )
    activity_update(actor=manager, activity_id=meeting.pk, data={"done": True})
    lead.refresh_from_db()
    assert lead.first_contacted_at is not None

    other = _lead(manager)
    contact = ContactFactory(created_by=manager, lead=other)
    activity_create(actor=manager, data={"kind": "call", "subject": "Intro", "contact_id": contact.pk})
    other.refresh_from_db()
    assert other.first_contacted_at is not None
    assert not other.awaiting_first_contact


def test_a_bought_leads_page_shows_its_changes_activities_and_purchase(manager, client):
    lead = LeadFactory(organization=manager.organization, assigned_to=manager, source=Lead.Source.MARKETPLACE)
    PurchaseFactory(buyer=manager.organization, delivered_lead=lead, price=Decimal("42.00"), purchased_by=manager)
    lead_status_change(actor=manager, lead_id=lead.pk, status=Lead.Status.CONTACTED)
    activity_create(actor=manager, data={"kind": "call", "subject": "Left a voicemail", "lead_id": lead.pk})
    client.login(email=manager.email, password=PASSWORD)

    timeline = _timeline(client, f"/leads/{lead.pk}/")

    # newest first: the call, the status move, the purchase
    call = timeline.index("Call: Left a voicemail")
    moved = timeline.index("Status: New → Contacted")
    bought = timeline.index("Bought on the marketplace for 42.00 USD")
    assert call < moved < bought


def test_an_opportunitys_timeline_tells_its_moves_in_words(manager, client):
    deal = opportunity_create(actor=manager, data={"title": "Big deal", "amount": Decimal("500")})
    opportunity_move(actor=manager, opportunity_id=deal.pk, stage="qualification")
    opportunity_move(actor=manager, opportunity_id=deal.pk, stage="closed_won", amount=Decimal("450"))
    client.login(email=manager.email, password=PASSWORD)

    timeline = _timeline(client, f"/crm/opportunities/{deal.pk}/")

    assert "Won for 450.00" in timeline
    assert "Moved from Prospecting to Qualification" in timeline
    assert "Opened at Prospecting" in timeline
    assert "to Closed won" not in timeline  # the close is told once


def test_a_call_logged_from_the_lead_page_is_its_first_contact(manager, client):
    lead = _lead(manager)
    client.login(email=manager.email, password=PASSWORD)
    assert 'data-testid="lead-activity-form"' in client.get(f"/leads/{lead.pk}/").content.decode()

    response = client.post(
        "/crm/activities/new/",
        {"kind": "call", "subject": "Reached her", "lead_id": lead.pk, "next": f"/leads/{lead.pk}/"},
    )

    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert lead.first_contacted_at is not None
    assert "Call: Reached her" in _timeline(client, f"/leads/{lead.pk}/")
