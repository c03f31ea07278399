"""Daily rollups: what events keep through the services equals what a rebuild from the
source tables makes; a day is the organization's local day; a stale day is recomputed once."""

import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.services.organization import organization_update
from accounts.services.privacy import person_erase
from accounts.tests.factories import StaffUserFactory, UserFactory
from analytics.models import DailyRollup, StaleDay
from analytics.rollups import rollups_recompute
from analytics.services.rollups import rollups_refresh
from crm.models import Activity, Contact, Opportunity
from crm.services.activities import activity_create, activity_delete
from crm.services.contacts import contact_create, contact_delete
from crm.services.conversion import lead_convert
from crm.services.opportunities import opportunity_create, opportunity_delete, opportunity_move, opportunity_reopen
from crm.services.retention import crm_deleted_purge
from leads.models import Lead
from leads.services.records import lead_assign, lead_create, lead_delete, lead_status_change, leads_purge
from leads.tests.factories import LeadFactory
from marketplace import demo as marketplace_demo
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.services.disputes import dispute_open, dispute_resolve
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK

pytestmark = pytest.mark.django_db


def _rollups() -> set[tuple]:
    return set(
        DailyRollup.objects.values_list("organization_id", "date", "metric", "key", "owner_id", "count", "amount")
    )


def _lead(actor, n: int, **kwargs) -> Lead:
    return lead_create(actor=actor, data={"first_name": f"P{n}", "email": f"p{n}@example.com"}, **kwargs).lead


def _buy(buyer, *listings):
    for listing in listings:
        cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    return checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)


def test_what_events_keep_equals_a_rebuild_from_the_source_tables():
    manager = UserFactory(organization__time_zone="America/New_York")
    rep = UserFactory(organization=manager.organization, role="sales_rep")
    seller = VendorUserFactory()
    staff = StaffUserFactory()

    leads = [_lead(manager, n, source=source) for n, source in enumerate(["manual", "api", "form", "import"])]
    lead_assign(actor=manager, lead_id=leads[0].pk, assignee_id=rep.pk)
    lead_status_change(actor=manager, lead_id=leads[1].pk, status="contacted")
    lead_status_change(actor=manager, lead_id=leads[2].pk, status="lost")
    lead_delete(actor=manager, lead_id=leads[3].pk)
    won = lead_convert(
        actor=manager, lead_id=leads[0].pk, opportunity={"title": "Deal", "amount": Decimal("900")}
    ).opportunity
    opportunity_move(actor=manager, opportunity_id=won.pk, stage="closed_won", amount=Decimal("1000"))
    lost = lead_convert(actor=manager, lead_id=leads[1].pk, opportunity={"title": "Other"}).opportunity
    opportunity_move(actor=manager, opportunity_id=lost.pk, stage="closed_lost", lost_reason="Price")
    opportunity_reopen(actor=manager, opportunity_id=lost.pk)
    call = activity_create(actor=rep, data={"kind": "call", "subject": "Hello", "lead_id": leads[0].pk})
    activity_create(actor=manager, data={"kind": "note", "subject": "Note", "lead_id": leads[1].pk})
    activity_delete(actor=manager, activity_id=call.pk)
    first, second = (ListingFactory(vendor=seller.organization, price=Decimal("40")) for _ in range(2))
    _buy(manager, first, second)
    bought = Lead.objects.filter(organization=manager.organization, source="marketplace").order_by("pk")
    lead_status_change(actor=manager, lead_id=bought[0].pk, status="contacted")
    dispute = dispute_open(actor=manager, purchase_id=second.purchases.get().pk, reason="wrong_phone")
    dispute_resolve(actor=staff, dispute_id=dispute.pk, decision="refund")

    kept = _rollups()
    assert not StaleDay.objects.exists()  # each stale day was recomputed as the events came

    call_command("rollups_rebuild")

    assert _rollups() == kept
    metrics = {row[2] for row in kept}
    assert {"leads.new", "leads.status", "leads.contacted", "deals.won", "activities.logged"} <= metrics
    assert {"purchases.made", "purchases.refunded", "purchases.outcome", "sales.made", "sales.disputed"} <= metrics
    assert "deals.lost" not in metrics  # reopened: no longer lost on the day it closed


def test_a_purge_keeps_what_events_keep_equal_to_a_rebuild(settings):
    settings.RETENTION_DAYS = 30
    manager = UserFactory(organization__time_zone="America/New_York")
    contact = contact_create(actor=manager, data={"first_name": "Ada", "email": "ada@example.com"}).contact
    deal = opportunity_create(actor=manager, data={"title": "Deal"}, contact_id=contact.pk)
    for target in ({"contact_id": contact.pk}, {"opportunity_id": deal.pk}, {"contact_id": contact.pk}):
        activity_create(actor=manager, data={"kind": "call", "subject": "Hello", **target})
    contact_delete(actor=manager, contact_id=contact.pk)
    opportunity_delete(actor=manager, opportunity_id=deal.pk)
    Activity.objects.update(created_at=timezone.now() - timedelta(days=40))  # logged on an earlier day
    call_command("rollups_rebuild")
    assert {row[2:6] for row in _rollups()} >= {("activities.logged", "call", manager.pk, 3)}
    Contact.objects.update(deleted_at=timezone.now() - timedelta(days=31))
    Opportunity.objects.update(deleted_at=timezone.now() - timedelta(days=31))

    assert crm_deleted_purge() == 2

    kept = _rollups()
    assert not StaleDay.objects.exists()
    assert not any(row[2] == "activities.logged" for row in kept)
    call_command("rollups_rebuild")
    assert _rollups() == kept


def test_a_lead_purge_keeps_what_events_keep_equal_to_a_rebuild():
    manager = UserFactory(organization__time_zone="America/New_York")
    purged, kept_lead = _lead(manager, 1), _lead(manager, 2)
    for lead in (purged, purged, kept_lead):
        activity_create(actor=manager, data={"kind": "call", "subject": "Hello", "lead_id": lead.pk})
    Lead.objects.filter(pk=purged.pk).update(created_at=timezone.now() - timedelta(days=50))
    Activity.objects.filter(lead=purged).update(created_at=timezone.now() - timedelta(days=45))
    lead_delete(actor=manager, lead_id=purged.pk)
    Lead.objects.filter(pk=purged.pk).update(deleted_at=timezone.now() - timedelta(days=40))
    call_command("rollups_rebuild")
    assert sum(row[5] for row in _rollups() if row[2] == "activities.logged") == 3

    assert leads_purge() == 1

    kept = _rollups()
    assert sum(row[5] for row in kept if row[2] == "activities.logged") == 1
    call_command("rollups_rebuild")
    assert _rollups() == kept


def test_an_erasure_keeps_what_events_keep_equal_to_a_rebuild():
    manager = UserFactory()
    erased, kept_lead = _lead(manager, 1), _lead(manager, 2)
    activity_create(actor=manager, data={"kind": "call", "subject": "Hello", "lead_id": erased.pk})
    lead_status_change(actor=manager, lead_id=kept_lead.pk, status="contacted")

    person_erase(actor=manager, email=erased.email)

    kept = _rollups()
    assert sum(row[5] for row in kept if row[2] == "leads.new") == 1
    call_command("rollups_rebuild")
    assert _rollups() == kept


def test_a_day_is_the_organizations_local_day():
    user = UserFactory(organization__time_zone="Asia/Tokyo")
    zone = ZoneInfo("Asia/Tokyo")
    late = datetime(2026, 3, 1, 23, 30, tzinfo=zone)  # 14:30 UTC, still 1 March in Tokyo
    early = datetime(2026, 3, 2, 0, 30, tzinfo=zone)  # 15:30 UTC the same UTC day, 2 March here
    for when in (late, early, early):
        lead = LeadFactory(organization=user.organization, source="form")
        Lead.objects.filter(pk=lead.pk).update(created_at=when)

    rollups_recompute(organization=user.organization, family="leads", first=None, last=None)

    new = DailyRollup.objects.filter(metric="leads.new").order_by("date")
    assert [(row.date.isoformat(), row.count) for row in new] == [("2026-03-01", 1), ("2026-03-02", 2)]


def test_recomputing_one_day_leaves_the_others():
    user = UserFactory()
    LeadFactory(organization=user.organization)
    rollups_recompute(organization=user.organization, family="leads", first=None, last=None)
    other_day = DailyRollup.objects.get(metric="leads.new").date - timedelta(days=3)

    rollups_recompute(organization=user.organization, family="leads", first=other_day, last=other_day)

    assert DailyRollup.objects.filter(metric="leads.new").count() == 1


def test_a_day_marked_again_while_it_was_recomputed_stays_stale():
    user = UserFactory()
    _lead(user, 1)
    assert not StaleDay.objects.exists()
    StaleDay.objects.create(organization=user.organization, date=datetime(2026, 1, 5).date(), family="leads",
                            marked_at=datetime(2999, 1, 1, tzinfo=ZoneInfo("UTC")))  # fmt: skip

    assert rollups_refresh() == 1

    assert StaleDay.objects.count() == 1  # marked after the recompute began: left for the next run


def test_seed_demo_fills_the_dashboards(monkeypatch):
    monkeypatch.setattr(marketplace_demo, "PLAN", (("vendor", 10, 1, 41), ("vendor2", 5, 1, 42)))
    call_command("seed_demo", stdout=io.StringIO())

    assert DailyRollup.objects.filter(metric="leads.new").exists()
    assert DailyRollup.objects.filter(metric="sales.made").exists()
    assert not StaleDay.objects.exists()


def test_a_new_time_zone_moves_every_day():
    user = UserFactory(organization__time_zone="UTC")
    lead = LeadFactory(organization=user.organization)
    Lead.objects.filter(pk=lead.pk).update(created_at=datetime(2026, 3, 2, 2, 0, tzinfo=ZoneInfo("UTC")))
    call_command("rollups_rebuild", verbosity=0)
    assert DailyRollup.objects.get(metric="leads.new").date.isoformat() == "2026-03-02"

    organization_update(actor=user, changes={"time_zone": "America/New_York"})

    assert DailyRollup.objects.get(metric="leads.new").date.isoformat() == "2026-03-01"
