"""The CRM's services: contacts (dedupe, soft delete), converting a lead in one transaction,
the pipeline's stage rules and reopening, the board and forecast against hand-computed
figures, activities and their reminders, and a lead merge moving CRM records."""

from datetime import date, timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from accounts.tests.factories import SubUserFactory, UserFactory
from crm.models import Activity, Contact, Opportunity
from crm.selectors import pipeline_board, pipeline_forecast
from crm.services.activities import activities_remind, activity_create, activity_update
from crm.services.contacts import contact_create, contact_delete, contact_restore, contact_update
from crm.services.conversion import lead_convert
from crm.services.opportunities import opportunity_create, opportunity_move, opportunity_reopen
from crm.tests.factories import ContactFactory, OpportunityFactory
from leadnexus.core.exceptions import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leads.models import Lead
from leads.services.merge import lead_merge
from leads.tests.factories import LeadFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

S = Opportunity.Stage


# --- Contacts ------------------------------------------------------------------------------------


def test_a_contact_is_cleaned_and_a_duplicate_reported(manager):
    first = contact_create(actor=manager, data={"first_name": " Ada ", "email": "ADA@Engines.example"}).contact
    assert (first.first_name, first.email, first.assigned_to) == ("Ada", "ADA@engines.example", manager)
    assert first.email_key == "ada@engines.example"

    again = contact_create(actor=manager, data={"last_name": "Lovelace", "email": "ada@engines.example"})

    assert again.duplicate == first
    with pytest.raises(ValidationFailed):
        contact_create(actor=manager, data={"email": "not an email"})
    with pytest.raises(ValidationFailed):
        contact_create(actor=manager, data={})


def test_a_contact_is_edited_deleted_and_restored(manager):
    contact = contact_create(actor=manager, data={"first_name": "Ada", "company": "Engines"}).contact

    contact_update(actor=manager, contact_id=contact.pk, data={"position": "CTO"})
    contact_delete(actor=manager, contact_id=contact.pk)
    with pytest.raises(NotFound):
        contact_update(actor=manager, contact_id=contact.pk, data={"position": "CEO"})
    contact_restore(actor=manager, contact_id=contact.pk)

    contact.refresh_from_db()
    assert contact.position == "CTO" and contact.deleted_at is None
    names = list(Event.objects.filter(subject_type="crm.contact").order_by("pk").values_list("name", flat=True))
    assert names == ["crm.contact.created", "crm.contact.updated", "crm.contact.deleted", "crm.contact.restored"]


# --- Converting a lead --------------------------------------------------------------------------------


def test_converting_makes_a_contact_and_an_opportunity_and_converts_the_lead(manager):
    lead = LeadFactory(organization=manager.organization, first_name="Ada", email="ada@engines.example")

    done = lead_convert(
        actor=manager, lead_id=lead.pk, opportunity={"title": "Engines rollout", "amount": Decimal("5000")}
    )

    assert done.contact_created and done.contact.email == "ada@engines.example" and done.contact.lead == lead
    assert done.opportunity.lead == lead and done.opportunity.contact == done.contact
    assert (done.opportunity.stage, done.opportunity.probability) == (S.PROSPECTING, 10)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.CONVERTED
    converted = Event.objects.get(name="leads.lead.converted")
    assert converted.data == {"contact": done.contact.pk, "contact_created": True, "opportunity": done.opportunity.pk}


def test_converting_links_the_existing_contact_of_the_same_person(manager):
    existing = contact_create(actor=manager, data={"first_name": "Ada", "email": "ada@engines.example"}).contact
    lead = LeadFactory(organization=manager.organization, email="ada@engines.example")

    done = lead_convert(actor=manager, lead_id=lead.pk)

    assert done.contact == existing and not done.contact_created and done.opportunity is None
    assert Contact.objects.count() == 1


def test_a_failed_conversion_leaves_nothing_half_done(manager):
    lead = LeadFactory(organization=manager.organization, email="ada@engines.example")

    with (
        mock.patch("crm.services.conversion.lead_convert_record", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        lead_convert(actor=manager, lead_id=lead.pk, opportunity={"title": "Deal"})

    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert not Contact.objects.exists() and not Opportunity.objects.exists()


def test_a_lead_converts_once_and_only_from_an_open_status(manager):
    lead = LeadFactory(organization=manager.organization)
    lead_convert(actor=manager, lead_id=lead.pk)

    with pytest.raises(IllegalTransition):
        lead_convert(actor=manager, lead_id=lead.pk)
    with pytest.raises(NotFound):
        lead_convert(actor=UserFactory(), lead_id=LeadFactory(organization=manager.organization).pk)


# --- The pipeline ---------------------------------------------------------------------------------


def test_stages_move_with_their_default_probability_and_closing_asks_for_amount_or_reason(manager):
    deal = opportunity_create(actor=manager, data={"title": "Deal"})

    moved = opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.PROPOSAL)
    assert (moved.stage, moved.probability) == (S.PROPOSAL, 50)
    tuned = opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.PROPOSAL, probability=60)
    assert tuned.probability == 60
    with pytest.raises(ValidationFailed) as no_amount:
        opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.CLOSED_WON)
    assert "amount" in no_amount.value.details
    with pytest.raises(ValidationFailed) as no_reason:
        opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.CLOSED_LOST)
    assert "lost_reason" in no_reason.value.details

    won = opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.CLOSED_WON, amount=Decimal("1200"))

    assert (won.stage, won.probability, won.amount) == (S.CLOSED_WON, 100, Decimal("1200"))
    assert won.closed_at is not None
    assert Event.objects.filter(name="crm.opportunity.won").count() == 1
    with pytest.raises(IllegalTransition):
        opportunity_move(actor=manager, opportunity_id=deal.pk, stage=S.NEGOTIATION)


def test_only_managers_reopen_a_closed_opportunity_and_it_is_recorded(manager, rep):
    deal = opportunity_create(actor=rep, data={"title": "Deal"})
    opportunity_move(actor=rep, opportunity_id=deal.pk, stage=S.CLOSED_LOST, lost_reason="Budget cut")

    with pytest.raises(PermissionDenied):
        opportunity_reopen(actor=rep, opportunity_id=deal.pk)
    reopened = opportunity_reopen(actor=manager, opportunity_id=deal.pk, stage=S.PROPOSAL)

    assert (reopened.stage, reopened.probability, reopened.lost_reason, reopened.closed_at) == (
        S.PROPOSAL,
        50,
        "",
        None,
    )
    event = Event.objects.get(name="crm.opportunity.reopened")
    assert event.actor == manager and event.data == {"from": "closed_lost", "to": "proposal"}
    with pytest.raises(IllegalTransition):
        opportunity_reopen(actor=manager, opportunity_id=deal.pk)


def test_the_board_and_the_forecast_add_up(manager):
    today = date(2026, 12, 4)
    made = [
        ("prospecting", "1000", 10, date(2026, 12, 20)),
        ("prospecting", "3000", 20, date(2027, 1, 10)),
        ("proposal", "2000", 50, date(2026, 12, 1)),
        ("negotiation", None, 75, None),
        ("negotiation", "4000", 75, date(2026, 11, 15)),
        ("closed_won", "9000", 100, date(2026, 12, 2)),
        ("prospecting", "500", 10, date(2027, 9, 1)),
    ]
    for stage, amount, probability, close in made:
        OpportunityFactory(
            created_by=manager,
            stage=stage,
            amount=Decimal(amount) if amount else None,
            probability=probability,
            expected_close_date=close,
        )
    OpportunityFactory(created_by=UserFactory(), amount=Decimal("77"))  # another organization

    board = {column["stage"]: column for column in pipeline_board(user=manager)}

    assert (board["prospecting"]["count"], board["prospecting"]["total"]) == (3, Decimal("4500.00"))
    # weighted: 1000 x 10% + 3000 x 20% + 500 x 10%
    assert board["prospecting"]["weighted"] == Decimal("750.00")
    assert (board["negotiation"]["count"], board["negotiation"]["total"]) == (2, Decimal("4000.00"))
    assert board["negotiation"]["weighted"] == Decimal("3000.00")
    assert board["closed_won"]["total"] == Decimal("9000.00") and board["closed_lost"]["count"] == 0
    assert [column["stage"] for column in pipeline_board(user=manager)] == list(S.values)

    forecast = {row["month"]: row for row in pipeline_forecast(user=manager, months=3, today=today)}

    assert list(forecast) == ["2026-12", "2027-01", "2027-02", "later", "overdue", "undated"]
    # December: the 1,000 prospecting (10%) and the 2,000 proposal (50%); the won deal is not open
    assert (forecast["2026-12"]["count"], forecast["2026-12"]["total"]) == (2, Decimal("3000.00"))
    assert forecast["2026-12"]["weighted"] == Decimal("1100.00")
    assert forecast["2027-01"]["weighted"] == Decimal("600.00")
    assert forecast["2027-02"]["count"] == 0
    assert (forecast["later"]["count"], forecast["later"]["weighted"]) == (1, Decimal("50.00"))
    assert (forecast["overdue"]["count"], forecast["overdue"]["total"]) == (1, Decimal("4000.00"))
    assert forecast["undated"]["count"] == 1


# --- Activities -----------------------------------------------------------------------------------


def test_an_activity_goes_on_one_visible_record(manager, rep):
    lead = LeadFactory(organization=manager.organization, assigned_to=manager)

    with pytest.raises(ValidationFailed):
        activity_create(actor=manager, data={"kind": "call", "subject": "Call"})
    with pytest.raises(NotFound):  # a rep may not log on a lead they do not see
        activity_create(actor=rep, data={"kind": "call", "subject": "Call", "lead_id": lead.pk})
    with pytest.raises(NotFound):
        activity_create(actor=UserFactory(), data={"kind": "call", "subject": "Call", "lead_id": lead.pk})
    activity = activity_create(actor=manager, data={"kind": "call", "subject": "Intro call", "lead_id": lead.pk})

    assert activity.lead == lead and activity.assigned_to == manager and activity.done_at is None


def test_a_task_is_done_snoozed_and_reminded_once(manager):
    deal = OpportunityFactory(created_by=manager)
    soon = timezone.now() + timedelta(minutes=10)
    task = activity_create(
        actor=manager, data={"kind": "task", "subject": "Send the quote", "opportunity_id": deal.pk, "due_at": soon}
    )

    assert activities_remind() == 1
    assert activities_remind() == 0
    assert Notification.objects.filter(user=manager, type="follow_up_due").count() == 1
    later = timezone.now() + timedelta(minutes=20)
    snoozed = activity_update(actor=manager, activity_id=task.pk, data={"due_at": later})
    assert snoozed.reminded_at is None and activities_remind() == 1
    done = activity_update(actor=manager, activity_id=task.pk, data={"done": True})
    assert done.done_at is not None


# --- A merge moves CRM records --------------------------------------------------------------------


def test_a_merge_moves_activities_opportunities_and_contacts_to_the_survivor(manager):
    survivor = LeadFactory(organization=manager.organization, email="a@example.com")
    other = LeadFactory(organization=manager.organization, email="b@example.com")
    activity = activity_create(actor=manager, data={"kind": "note", "subject": "Met", "lead_id": other.pk})
    deal = opportunity_create(actor=manager, data={"title": "Deal"}, lead_id=other.pk)
    contact = ContactFactory(created_by=manager, lead=other)

    lead_merge(actor=manager, lead_id=survivor.pk, other_id=other.pk)

    for record in (activity, deal, contact):
        record.refresh_from_db()
        assert record.lead_id == survivor.pk


def test_a_sub_user_without_edit_rights_changes_nothing(manager):
    viewer = SubUserFactory(parent=manager, permissions={"can_edit_leads": False, "can_add_leads": False})
    deal = OpportunityFactory(created_by=manager)

    with pytest.raises(PermissionDenied):
        opportunity_move(actor=viewer, opportunity_id=deal.pk, stage=S.PROPOSAL)
    with pytest.raises(PermissionDenied):
        contact_create(actor=viewer, data={"first_name": "Ada"})
    assert not Activity.objects.exists()
