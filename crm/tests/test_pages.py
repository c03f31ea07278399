"""The CRM pages: who may open them, contacts, the board (its move answers for htmx), the
forecast, my tasks, and converting a lead with the existing contact offered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from crm.models import Activity, Contact, Opportunity
from crm.tests.factories import ActivityFactory, ContactFactory, OpportunityFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/crm/contacts/",
    "/crm/contacts/new/",
    "/crm/opportunities/",
    "/crm/opportunities/new/",
    "/crm/opportunities/board/",
    "/crm/opportunities/forecast/",
    "/crm/tasks/",
]


@pytest.fixture
def signed_in(client, manager):
    client.login(email=manager.email, password=PASSWORD)
    return client


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_a_member_who_may_view_leads(client, manager, url):
    assert client.get(url).status_code == 302
    client.login(email=manager.email, password=PASSWORD)
    assert client.get(url).status_code == 200
    client.login(email=SubUserFactory(parent=manager, permissions={"can_view_leads": False}).email, password=PASSWORD)
    assert client.get(url).status_code == 403


def test_a_contact_is_added_shown_and_its_record_pages_are_scoped(signed_in, manager):
    response = signed_in.post("/crm/contacts/new/", {"first_name": "Ada", "email": "ada@engines.example"})
    contact = Contact.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crm/contacts/{contact.pk}/"
    page = signed_in.get(response["Location"]).content.decode()
    assert "ada@engines.example" in page and 'data-testid="activity-form"' in page
    assert "Ada" in signed_in.get("/crm/contacts/", {"search": "ada"}).content.decode()
    other = ContactFactory(created_by=UserFactory())
    assert signed_in.get(f"/crm/contacts/{other.pk}/").status_code == 404
    assert signed_in.post("/crm/contacts/new/", {"email": "bad"}).status_code == 400


def test_the_board_shows_columns_and_moves_a_card(signed_in, manager):
    deal = OpportunityFactory(created_by=manager, title="Engines rollout", amount="1000")
    page = signed_in.get("/crm/opportunities/board/").content.decode()
    assert 'data-testid="column-prospecting"' in page and "Engines rollout" in page

    moved = signed_in.post(f"/crm/opportunities/{deal.pk}/move/", {"stage": "proposal"}, HTTP_HX_REQUEST="true")
    refused = signed_in.post(f"/crm/opportunities/{deal.pk}/move/", {"stage": "closed_lost"}, HTTP_HX_REQUEST="true")

    assert moved.status_code == 204
    assert refused.status_code == 400 and "reason" in refused.content.decode()
    deal.refresh_from_db()
    assert deal.stage == "proposal"
    won = signed_in.post(f"/crm/opportunities/{deal.pk}/move/", {"stage": "closed_won", "amount": "1200"})
    assert won.status_code == 302
    assert Opportunity.objects.get(pk=deal.pk).stage == "closed_won"
    assert "Reopen" in signed_in.get(f"/crm/opportunities/{deal.pk}/").content.decode()


def test_my_tasks_are_done_and_snoozed(signed_in, manager):
    task = ActivityFactory(created_by=manager, subject="Send the quote", due_at=timezone.now() - timedelta(hours=1))
    page = signed_in.get("/crm/tasks/").content.decode()
    assert "Send the quote" in page

    signed_in.post(f"/crm/activities/{task.pk}/snooze/", {"hours": "24", "next": "/crm/tasks/"})
    task.refresh_from_db()
    assert task.due_at > timezone.now() + timedelta(hours=23)
    signed_in.post(f"/crm/activities/{task.pk}/done/", {"next": "/crm/tasks/"})
    assert Activity.objects.get(pk=task.pk).done_at is not None


def test_converting_a_lead_offers_the_existing_contact(signed_in, manager):
    existing = ContactFactory(created_by=manager, email="ada@engines.example", email_key="ada@engines.example")
    lead = LeadFactory(organization=manager.organization, email="ada@engines.example", email_key="ada@engines.example")
    assert 'data-testid="convert"' in signed_in.get(f"/leads/{lead.pk}/").content.decode()
    page = signed_in.get(f"/crm/leads/{lead.pk}/convert/").content.decode()
    assert 'data-testid="existing-contact"' in page

    response = signed_in.post(
        f"/crm/leads/{lead.pk}/convert/", {"link_existing": "on", "create_opportunity": "on", "title": "Rollout"}
    )

    deal = Opportunity.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/crm/opportunities/{deal.pk}/"
    assert deal.contact == existing and Contact.objects.count() == 1
    assert Lead.objects.get(pk=lead.pk).status == "converted"
    assert 'data-testid="convert"' not in signed_in.get(f"/leads/{lead.pk}/").content.decode()
