"""Each report kind's rows against hand-built data."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, StaffUserFactory, SubUserFactory, UserFactory
from analytics.dates import local_bounds
from analytics.reports import KINDS, report_rows
from analytics.selectors.reports import report_kind_get, report_kind_list, report_range
from crm.models import Campaign, CampaignRecipient
from crm.tests.factories import OpportunityFactory
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace.models import Dispute, VendorQuality
from marketplace.tests.factories import ListingFactory, PurchaseFactory, VendorFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)


def _rows(user, kind, date_from=DAY, date_to=DAY):
    spec = KINDS[kind]
    records = spec.records(user, *local_bounds(user.organization, date_from, date_to))
    header, *rows = report_rows(spec, records, user.organization.zone)
    assert header == list(spec.columns)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _at(record, when: datetime, field: str = "created_at"):
    type(record).objects.filter(pk=record.pk).update(**{field: when})


def test_leads_kind_lists_leads_created_on_the_local_day_without_inventory():
    # Given an organization in New York and a lead at 23:30 local time on the day (03:30 UTC the next day)
    org = OrganizationFactory(time_zone="America/New_York")
    user = UserFactory(organization=org)
    late = LeadFactory(organization=org, first_name="Late", email="=cmd@example.com")
    _at(late, datetime(2026, 3, 11, 3, 30, tzinfo=UTC))
    next_day = LeadFactory(organization=org)
    _at(next_day, datetime(2026, 3, 11, 4, 30, tzinfo=UTC))
    inventory = LeadFactory(organization=org, is_inventory=True, source=Lead.Source.LISTING)
    _at(inventory, datetime(2026, 3, 10, 15, 0, tzinfo=UTC))
    LeadFactory()  # another organization's

    # When the day's report runs
    rows = _rows(user, "leads")

    # Then only the late lead shows, at its local time, its email neutralised as a formula
    assert [row["id"] for row in rows] == [late.pk]
    assert rows[0]["created_at"] == "2026-03-10 23:30"
    assert rows[0]["email"] == "'=cmd@example.com"
    assert [row["id"] for row in _rows(user, "leads", date(2026, 3, 11), date(2026, 3, 11))] == [next_day.pk]


def test_an_empty_range_has_only_the_header():
    user = UserFactory()
    for kind in report_kind_list(user=user):
        assert _rows(user, kind.slug, date(2020, 1, 1), date(2020, 1, 2)) == []


def test_a_sales_rep_sees_only_their_own_leads_and_opportunities():
    manager = UserFactory()
    rep = SubUserFactory(parent=manager, permissions={"can_export": True})
    mine = LeadFactory(organization=manager.organization, assigned_to=rep)
    LeadFactory(organization=manager.organization, assigned_to=manager)
    deal = OpportunityFactory(created_by=rep)
    OpportunityFactory(created_by=manager)
    today = datetime.now(UTC).date()

    assert [row["id"] for row in _rows(rep, "leads", today, today)] == [mine.pk]
    assert [row["id"] for row in _rows(rep, "pipeline", today, today)] == [deal.pk]
    assert len(_rows(manager, "leads", today, today)) == 2


def test_pipeline_rows_carry_stage_amount_and_owner():
    user = UserFactory()
    deal = OpportunityFactory(created_by=user, amount=Decimal("1200.00"), stage="proposal")
    today = datetime.now(UTC).date()

    (row,) = _rows(user, "pipeline", today, today)

    assert (row["id"], row["stage"], row["amount"], row["assigned_to"]) == (
        deal.pk,
        "proposal",
        Decimal("1200.00"),
        user.email,
    )


def test_campaigns_kind_counts_recipients_and_rates():
    user = UserFactory()
    campaign = Campaign.objects.create(organization=user.organization, created_by=user, name="Spring")
    now = datetime.now(UTC)
    for n, opened in enumerate([True, True, False, False]):
        lead = LeadFactory(organization=user.organization)
        CampaignRecipient.objects.create(
            campaign=campaign, lead=lead, email=f"r{n}@example.com", sent_at=now, opened_at=now if opened else None
        )
    Campaign.objects.create(organization=OrganizationFactory(), name="Elsewhere")

    (row,) = _rows(user, "campaigns", now.date(), now.date())

    assert (row["name"], row["recipients"], row["sent"], row["delivered"], row["opened"]) == ("Spring", 4, 4, 4, 2)
    assert row["open_rate"] == 0.5


def test_purchases_and_sales_are_each_sides_own():
    vendor_user = VendorUserFactory()
    buyer = UserFactory()
    listing = ListingFactory(vendor=vendor_user.organization, price=Decimal("40.00"))
    sale = PurchaseFactory(
        listing=listing, buyer=buyer.organization, price=Decimal("40.00"), platform_fee=Decimal("8.00"),
        vendor_earning=Decimal("32.00"),
    )  # fmt: skip
    PurchaseFactory()  # someone else's
    today = datetime.now(UTC).date()

    (purchase,) = _rows(buyer, "purchases", today, today)
    (sold,) = _rows(vendor_user, "sales", today, today)

    assert (purchase["id"], purchase["vendor"], purchase["price"]) == (
        sale.pk,
        vendor_user.organization.name,
        Decimal("40.00"),
    )
    assert (sold["id"], sold["buyer"], sold["earning"], sold["platform_fee"]) == (
        sale.pk, buyer.organization.name, Decimal("32.00"), Decimal("8.00"),
    )  # fmt: skip


def test_vendor_quality_lists_every_vendor_for_staff_and_itself_for_a_vendor():
    vendor_user = VendorUserFactory()
    other_vendor = VendorFactory(name="Zeta Leads")
    rated = ListingFactory(vendor=vendor_user.organization)
    also_rated = ListingFactory(vendor=vendor_user.organization)
    sold = PurchaseFactory(listing=rated)
    PurchaseFactory(listing=also_rated)
    Dispute.objects.create(purchase=sold, buyer=sold.buyer, vendor=vendor_user.organization, reason="duplicate")
    VendorQuality.objects.create(
        vendor=vendor_user.organization, sold=40, contacted=30, won=8, disputed=2, contact_rate=Decimal("0.75"),
        win_rate=Decimal("0.2"), dispute_rate=Decimal("0.05"), score=Decimal("3.63"), computed_at=datetime.now(UTC),
    )  # fmt: skip
    today = datetime.now(UTC).date()

    (own,) = _rows(vendor_user, "vendor_quality", today, today)
    staff_rows = {row["vendor_id"]: row for row in _rows(StaffUserFactory(), "vendor_quality", today, today)}

    assert (own["vendor_id"], own["sales"], own["disputes"], own["sold_leads"], own["quality"]) == (
        vendor_user.organization.pk, 2, 1, 40, Decimal("3.63"),
    )  # fmt: skip
    assert (own["contact_rate"], own["win_rate"], own["dispute_rate"]) == (
        Decimal("0.75"),
        Decimal("0.2"),
        Decimal("0.05"),
    )
    assert staff_rows[other_vendor.pk]["sales"] == 0 and staff_rows[other_vendor.pk]["quality"] == ""
    assert vendor_user.organization.pk in staff_rows


def test_kinds_follow_who_may_run_them():
    buyer = UserFactory()
    vendor = VendorUserFactory()
    no_export = SubUserFactory(permissions={"can_export": False})

    assert {kind.slug for kind in report_kind_list(user=buyer)} == {"purchases", "pipeline", "campaigns", "leads"}
    assert {"sales", "vendor_quality"} <= {kind.slug for kind in report_kind_list(user=vendor)}
    assert report_kind_list(user=no_export) == []
    with pytest.raises(PermissionDenied):
        report_kind_get(user=buyer, kind="sales")
    with pytest.raises(NotFound):
        report_kind_get(user=buyer, kind="nothing")


def test_the_range_is_validated():
    user = UserFactory()
    with pytest.raises(ValidationFailed) as order:
        report_range(user=user, date_from="2026-03-10", date_to="2026-03-01")
    with pytest.raises(ValidationFailed) as span:
        report_range(user=user, date_from="2020-01-01", date_to="2026-03-01")
    with pytest.raises(ValidationFailed) as shape:
        report_range(user=user, date_from="10/03/2026")

    assert set(order.value.details) == {"from"}
    assert set(span.value.details) == {"to"}
    assert set(shape.value.details) == {"from"}
    assert report_range(user=user, date_from="2026-03-01", date_to="2026-03-01") == (date(2026, 3, 1), date(2026, 3, 1))


def test_a_rep_without_lead_rights_has_no_crm_kinds():
    rep = SubUserFactory(role=User.Role.SALES_REP, permissions={"can_view_leads": False, "can_export": True})
    assert "leads" not in {kind.slug for kind in report_kind_list(user=rep)}
