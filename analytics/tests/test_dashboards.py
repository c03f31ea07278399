"""Dashboards against small hand-built data sets with known answers: the sales figures (a
rep's own, a manager's the organization's), the buyer's spend and return on spend, the
vendor's sales, the staff overview; local days at their edges, empty ranges, who may see
each one, and their query counts."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from crm.models import Opportunity
from crm.services.conversion import lead_convert
from crm.services.opportunities import opportunity_create, opportunity_move
from crm.tests.factories import ActivityFactory, OpportunityFactory
from leadnexus.core.testing import assert_error
from leads.services.records import lead_create
from leads.tests.factories import LeadFactory
from marketplace.models import Dispute, Listing, Purchase
from marketplace.tests.factories import ListingFactory, PurchaseFactory, VendorFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
# 1 March 2026, 22:30 in New York: already 2 March in UTC.
LATE_EVENING = datetime(2026, 3, 1, 22, 30, tzinfo=NY)
ON_THE_1ST = {"from": "2026-03-01", "to": "2026-03-01"}


def _at(record, **stamps) -> None:
    type(record).objects.filter(pk=record.pk).update(**stamps)


def _rebuild() -> None:
    call_command("rollups_rebuild", verbosity=0)


@pytest.fixture
def manager():
    return UserFactory(organization__time_zone="America/New_York")


@pytest.fixture
def rep(manager):
    return UserFactory(organization=manager.organization, role="sales_rep")


def _sales_data(manager, rep):
    """Five leads added on 1 March (one of them converted, one a rep's with a first contact 90
    minutes after), one deal won for 1,200 and one lost, three activities; and another
    organization's lead the same day."""
    org = manager.organization
    leads = [
        LeadFactory(organization=org, assigned_to=manager, source="form", status="new"),
        LeadFactory(organization=org, assigned_to=manager, source="form", status="converted"),
        LeadFactory(organization=org, assigned_to=rep, source="api", status="contacted"),
        LeadFactory(organization=org, assigned_to=rep, source="manual", status="lost"),
        LeadFactory(organization=org, assigned_to=None, source="import", status="new"),
    ]
    for lead in leads:
        _at(lead, created_at=LATE_EVENING - timedelta(hours=2))
    _at(leads[2], first_contacted_at=LATE_EVENING - timedelta(minutes=30))
    LeadFactory(organization=org, is_inventory=True)  # vendor stock never counts
    LeadFactory()  # another organization's
    won = OpportunityFactory(created_by=rep, stage=Opportunity.Stage.CLOSED_WON, amount=Decimal("1200"))
    lost = OpportunityFactory(created_by=manager, stage=Opportunity.Stage.CLOSED_LOST, amount=Decimal("500"))
    OpportunityFactory(created_by=manager, stage=Opportunity.Stage.PROPOSAL, amount=Decimal("1000"), probability=40)
    for deal in (won, lost):
        _at(deal, closed_at=LATE_EVENING)
    for user, kind in ((rep, "call"), (rep, "email"), (manager, "note")):
        activity = ActivityFactory(created_by=user, kind=kind)
        _at(activity, created_at=LATE_EVENING)
    _rebuild()


def test_the_sales_figures_of_a_manager_are_the_organizations(manager, rep):
    _sales_data(manager, rep)

    data = bearer_client(manager).get("/api/analytics/", ON_THE_1ST).json()

    assert data["range"] == {"from": "2026-03-01", "to": "2026-03-01", "days": 1, "time_zone": "America/New_York"}
    kpis = data["kpis"]
    assert (kpis["new_leads"], kpis["contacted"], kpis["conversion_rate"]) == (5, 1, 0.2)
    assert (kpis["won"], kpis["won_amount"], kpis["lost"], kpis["win_rate"]) == (1, "1200.00", 1, 0.5)
    assert kpis["avg_first_contact_minutes"] == 90.0
    assert kpis["activities"] == 3
    assert (kpis["pipeline_value"], kpis["weighted_forecast"]) == ("1000.00", "400.00")
    series = data["series"]
    assert series["new_leads"] == [{"date": "2026-03-01", "count": 5, "amount": "0.00"}]
    by_source = {row["source"]: row["count"] for row in series["leads_by_source"]}
    assert by_source == {"manual": 1, "import": 1, "form": 2, "marketplace": 0, "listing": 0, "api": 1}
    board = {row["name"]: (row["won_amount"], row["activities"]) for row in series["leaderboard"]}
    assert board == {rep.full_name: ("1200.00", 2), manager.full_name: ("0.00", 1)}
    assert series["leaderboard"][0]["user_id"] == rep.pk  # the best won amount first


def test_a_rep_sees_only_their_own_figures(manager, rep):
    _sales_data(manager, rep)

    kpis = bearer_client(rep).get("/api/analytics/", ON_THE_1ST).json()["kpis"]

    assert (kpis["new_leads"], kpis["contacted"], kpis["won"], kpis["lost"], kpis["activities"]) == (2, 1, 1, 0, 2)
    assert kpis["pipeline_value"] == "0.00"  # the open deal is the manager's


def test_a_day_is_the_organizations_local_day_and_an_empty_range_is_zero(manager, rep):
    _sales_data(manager, rep)
    client = bearer_client(manager)

    utc_day = client.get("/api/analytics/", {"from": "2026-03-02", "to": "2026-03-02"}).json()["kpis"]
    week = client.get("/api/analytics/", {"from": "2026-02-23", "to": "2026-03-01"}).json()

    assert (utc_day["new_leads"], utc_day["won"], utc_day["conversion_rate"], utc_day["win_rate"]) == (0, 0, None, None)
    assert utc_day["avg_first_contact_minutes"] is None
    assert [point["count"] for point in week["series"]["new_leads"]] == [0, 0, 0, 0, 0, 0, 5]


def test_days_and_bad_ranges(manager):
    client = bearer_client(manager)

    assert client.get("/api/analytics/", {"days": 7}).json()["range"]["days"] == 7
    assert client.get("/api/analytics/").json()["range"]["days"] == 30
    assert_error(client.get("/api/analytics/", {"days": 0}), 400, "validation_error")
    assert_error(client.get("/api/analytics/", {"days": "x"}), 400, "validation_error")
    assert_error(client.get("/api/analytics/", {"from": "2026-02-30"}), 400, "validation_error")
    assert_error(client.get("/api/analytics/", {"from": "2026-03-02", "to": "2026-03-01"}), 400, "validation_error")
    assert_error(client.get("/api/analytics/", {"from": "2020-01-01", "to": "2026-01-01"}), 400, "validation_error")


# --- Buyer and vendor ---------------------------------------------------------------------------------


def _market(buyer):
    """Two vendors; the buyer bought three leads on 1 March: two from the first (40 and 60, one
    of them won for 500, the other disputed and refunded), one from the second (100, won for
    300 and contacted)."""
    first, second = VendorFactory(time_zone="America/New_York"), VendorFactory()
    purchases = []
    for vendor, price, industry in ((first, "40", "Software"), (first, "60", "Retail"), (second, "100", "Software")):
        listing = ListingFactory(vendor=vendor, price=Decimal(price), industry=industry)
        lead = LeadFactory(organization=buyer.organization, source="marketplace", status="new")
        purchase = PurchaseFactory(
            listing=listing,
            buyer=buyer.organization,
            price=Decimal(price),
            vendor_earning=Decimal(price) * Decimal("0.8"),
            platform_fee=Decimal(price) * Decimal("0.2"),
            delivered_lead=lead,
            purchased_by=buyer,
        )
        _at(purchase, purchased_at=LATE_EVENING)
        purchases.append(purchase)
    for purchase, amount in ((purchases[0], "500"), (purchases[2], "300")):
        OpportunityFactory(
            created_by=buyer, lead=purchase.delivered_lead, stage=Opportunity.Stage.CLOSED_WON, amount=Decimal(amount)
        )
    Dispute.objects.create(
        purchase=purchases[1], buyer=buyer.organization, vendor=first, reason="wrong_phone", status="resolved"
    )
    _at(purchases[1], refunded_at=LATE_EVENING + timedelta(days=2), status=Purchase.Status.REFUNDED)
    pending = ListingFactory(vendor=first, approval_status=Listing.ApprovalStatus.REJECTED)
    _at(pending, reviewed_at=LATE_EVENING)
    _rebuild()
    return first, second, purchases


def test_the_buyers_spend_outcomes_and_return_on_spend(manager):
    first, second, _ = _market(manager)

    data = bearer_client(manager).get("/api/dashboard/client/", ON_THE_1ST).json()

    kpis = data["kpis"]
    assert (kpis["purchases"], kpis["spend"], kpis["refunded"], kpis["net_spend"]) == (3, "200.00", "60.00", "140.00")
    assert (kpis["won"], kpis["won_amount"], kpis["disputed"]) == (2, "800.00", 1)
    assert kpis["return_on_spend"] == round(800 / 140, 4)
    outcomes = {row["outcome"]: row["count"] for row in data["series"]["outcomes"]}
    assert outcomes == {"disputed": 1, "won": 2, "lost": 0, "qualified": 0, "contacted": 0, "new": 0}
    vendors = {
        row["vendor"]: (row["amount"], row["won_amount"], row["return_on_spend"]) for row in data["series"]["by_vendor"]
    }
    assert vendors == {first.name: ("100.00", "500.00", 12.5), second.name: ("100.00", "300.00", 3.0)}
    assert {row["industry"]: row["amount"] for row in data["series"]["by_industry"]} == {
        "Software": "140.00",
        "Retail": "60.00",
    }


def test_the_purchase_trends_by_week_and_month(manager):
    _market(manager)
    client = bearer_client(manager)

    weekly = client.get(
        "/api/dashboard/client/purchase-trends/", {"from": "2026-02-20", "to": "2026-03-10", "interval": "week"}
    )
    monthly = client.get(
        "/api/dashboard/client/purchase-trends/", {"from": "2026-02-20", "to": "2026-03-10", "interval": "month"}
    )

    assert [(p["date"], p["count"]) for p in weekly.json()["points"]] == [
        ("2026-02-20", 0),
        ("2026-02-23", 3),
        ("2026-03-02", 0),
        ("2026-03-09", 0),
    ]
    assert [(p["date"], p["amount"]) for p in monthly.json()["points"]] == [
        ("2026-02-20", "0.00"),
        ("2026-03-01", "200.00"),
    ]
    assert_error(client.get("/api/dashboard/client/purchase-trends/", {"interval": "year"}), 400, "validation_error")


def test_the_vendors_sales_disputes_and_approvals(manager):
    first, _, _ = _market(manager)
    seller = UserFactory(organization=first)

    data = bearer_client(seller).get("/api/dashboard/vendor/", ON_THE_1ST).json()

    kpis = data["kpis"]
    assert (kpis["sales"], kpis["revenue"], kpis["earned"], kpis["refunded"]) == (2, "100.00", "80.00", "60.00")
    assert (kpis["disputed"], kpis["dispute_rate"]) == (1, 0.5)
    assert (kpis["approved"], kpis["rejected"], kpis["approval_rate"]) == (0, 1, 0.0)
    quality = kpis["quality"]  # rebuilt with the rollups; 2 sold leads are below the minimum sample
    assert (quality["rated"], quality["sold"], quality["win_rate"], quality["dispute_rate"]) == (
        False,
        2,
        "0.5000",
        "0.5000",
    )
    assert [row["amount"] for row in data["series"]["top_listings"]] == ["60.00", "40.00"]
    trends = bearer_client(seller).get("/api/dashboard/vendor/sales-trends/", ON_THE_1ST).json()
    assert trends["points"] == [{"date": "2026-03-01", "count": 2, "amount": "100.00"}]


def test_the_staff_overview(manager):
    _market(manager)
    ListingFactory(approval_status=Listing.ApprovalStatus.PENDING)

    kpis = (
        bearer_client(StaffUserFactory())
        .get("/api/analytics/overview/", {"from": "2026-02-28", "to": "2026-03-02"})
        .json()["kpis"]
    )

    assert (kpis["sales"], kpis["volume"], kpis["fees"]) == (3, "200.00", "40.00")
    assert (kpis["active_buyers"], kpis["active_vendors"], kpis["refunds"], kpis["return_rate"]) == (1, 2, 1, 0.3333)
    assert kpis["approval_queue"] == 1 and kpis["approval_queue_oldest_hours"] is not None


# --- Who may see what -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/analytics/", "/api/dashboard/client/", "/api/dashboard/vendor/", "/api/analytics/overview/"]
)
def test_anonymous_callers_are_refused(url):
    assert_error(Client().get(url), 401, "not_authenticated")


def test_each_dashboard_is_for_those_who_may_see_it(manager):
    seller = UserFactory(organization=VendorFactory())
    no_leads = SubUserFactory(parent=manager, permissions={"can_view_leads": False})

    assert bearer_client(manager).get("/api/dashboard/client/").status_code == 200
    assert_error(bearer_client(manager).get("/api/dashboard/vendor/"), 403, "permission_denied")
    assert_error(bearer_client(seller).get("/api/dashboard/client/"), 403, "permission_denied")
    assert bearer_client(seller).get("/api/dashboard/vendor/").status_code == 200
    assert_error(bearer_client(manager).get("/api/analytics/overview/"), 403, "permission_denied")
    assert_error(bearer_client(no_leads).get("/api/analytics/"), 403, "permission_denied")


def test_a_buyer_never_sees_another_organizations_purchases(manager):
    _market(manager)
    other = UserFactory()

    kpis = bearer_client(other).get("/api/dashboard/client/", ON_THE_1ST).json()["kpis"]

    assert (kpis["purchases"], kpis["spend"]) == (0, "0.00")


def test_dashboards_cost_the_same_queries_with_more_data(manager, rep):
    _sales_data(manager, rep)
    _market(manager)
    client = bearer_client(manager)

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, {"from": "2026-02-01", "to": "2026-03-31"}).status_code == 200
        return len(captured)

    before = {url: queries(url) for url in ("/api/analytics/", "/api/dashboard/client/")}
    _sales_data(manager, rep)
    _market(manager)

    assert {url: queries(url) for url in before} == before
    assert before["/api/analytics/"] <= 14 and before["/api/dashboard/client/"] <= 6


# --- Pages --------------------------------------------------------------------------------------------


def _page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_home_page_shows_the_sales_figures_charts_tables_and_downloads(manager, rep):
    _sales_data(manager, rep)
    client = _page_client(manager)

    page = client.get("/dashboard/", ON_THE_1ST).content.decode()
    csv = client.get("/dashboard/", {**ON_THE_1ST, "download": "source"})

    assert 'data-testid="kpis"' in page and "20.0%" in page  # the conversion rate
    assert 'data-chart="chart-new-leads-data"' in page and 'id="chart-new-leads-data"' in page
    assert f"<td>{rep.full_name}</td>" in page
    assert 'href="/dashboard/buyer/"' in page  # a buyer organization's management also buys
    assert csv["Content-Type"].startswith("text/csv")
    assert b"Form,2" in b"".join(csv.streaming_content)
    assert client.get("/dashboard/", {"download": "nope"}).status_code == 404


def test_a_bad_range_on_a_page_says_so_and_shows_the_last_30_days(manager):
    page = _page_client(manager).get("/dashboard/", {"from": "2026-03-02", "to": "2026-03-01"}).content.decode()

    assert "from must not be after to." in page and "Showing the last 30 days." in page


def test_empty_dashboards_say_what_to_do_next(manager):
    page = _page_client(manager).get("/dashboard/buyer/").content.decode()

    assert "Nothing in this range yet." in page and "Browse the marketplace" in page


def test_pages_are_for_those_who_may_see_them(manager):
    seller = SubUserFactory(
        parent=UserFactory(organization=VendorFactory()), permissions={"can_view_leads": False, "can_sell": True}
    )

    assert _page_client(manager).get("/dashboard/vendor/").status_code == 403
    assert _page_client(manager).get("/dashboard/overview/").status_code == 403
    assert _page_client(seller).get("/dashboard/").url == "/dashboard/vendor/"
    assert _page_client(StaffUserFactory()).get("/dashboard/overview/").status_code == 200
    assert Client().get("/dashboard/buyer/").status_code == 302


def test_the_buyer_dashboard_changes_after_a_deal_on_a_bought_lead_is_won(manager):
    """Through the services: the rollups follow the events, no rebuild needed."""
    lead = LeadFactory(organization=manager.organization, source="marketplace")
    PurchaseFactory(buyer=manager.organization, delivered_lead=lead, purchased_by=manager, price=Decimal("50"))
    _rebuild()
    client = bearer_client(manager)
    before = client.get("/api/dashboard/client/", {"days": 1}).json()["kpis"]

    deal = lead_convert(actor=manager, lead_id=lead.pk, opportunity={"title": "Deal", "amount": Decimal("700")})
    opportunity_move(actor=manager, opportunity_id=deal.opportunity.pk, stage="closed_won", amount=Decimal("700"))

    after = client.get("/api/dashboard/client/", {"days": 1}).json()["kpis"]
    assert (before["won_amount"], after["won_amount"], after["return_on_spend"]) == ("0.00", "700.00", 14.0)


def test_the_figure_cards_count_one_in_the_singular(manager):
    lead = LeadFactory(organization=manager.organization, source="marketplace")
    PurchaseFactory(buyer=manager.organization, delivered_lead=lead, purchased_by=manager, price=Decimal("50"))
    deal = lead_convert(actor=manager, lead_id=lead.pk, opportunity={"title": "Deal", "amount": Decimal("700")})
    opportunity_move(actor=manager, opportunity_id=deal.opportunity.pk, stage="closed_won", amount=Decimal("700"))
    _rebuild()

    page = _page_client(manager).get("/dashboard/buyer/", {"days": 1}).content.decode()

    assert '<small class="muted">1 lead bought</small>' in page
    assert '<small class="muted">1 deal</small>' in page


def test_every_dashboard_endpoint_costs_a_fixed_number_of_queries(manager):
    first, _, _ = _market(manager)
    seller, staff = UserFactory(organization=first), StaffUserFactory()
    viewers = {
        "/api/analytics/": manager,
        "/api/dashboard/client/": manager,
        "/api/dashboard/client/purchase-trends/": manager,
        "/api/dashboard/vendor/": seller,
        "/api/dashboard/vendor/sales-trends/": seller,
        "/api/analytics/overview/": staff,
    }
    clients = {url: bearer_client(user) for url, user in viewers.items()}

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert clients[url].get(url, {"from": "2026-02-01", "to": "2026-03-31"}).status_code == 200
        return len(captured)

    before = {url: queries(url) for url in viewers}
    _market(manager)
    for day in range(5):  # more sales of the same vendor, on other days
        purchase = PurchaseFactory(listing=ListingFactory(vendor=first), buyer=manager.organization)
        _at(purchase, purchased_at=LATE_EVENING - timedelta(days=day + 1))
    _rebuild()

    assert {url: queries(url) for url in viewers} == before
    # Signing in (the session, the user) included; the rollups are one query whatever the range.
    assert before == {
        "/api/analytics/": 8,
        "/api/dashboard/client/": 3,
        "/api/dashboard/client/purchase-trends/": 3,
        "/api/dashboard/vendor/": 6,
        "/api/dashboard/vendor/sales-trends/": 6,
        "/api/analytics/overview/": 5,
    }


# --- Shared answers ---------------------------------------------------------------------------------


def test_answers_are_shared_until_a_change_they_show(manager, settings):
    settings.DASHBOARD_CACHE_SECONDS = 300
    client = bearer_client(manager)
    deal = opportunity_create(actor=manager, data={"title": "Deal", "amount": Decimal("100")})
    first = client.get("/api/analytics/").json()["kpis"]

    with CaptureQueriesContext(connection) as served:
        again = client.get("/api/analytics/").json()["kpis"]
    opportunity_move(actor=manager, opportunity_id=deal.pk, stage="proposal")
    lead_create(actor=manager, data={"first_name": "New", "email": "new@example.com"})
    after = client.get("/api/analytics/").json()["kpis"]

    assert again == first
    assert not [query for query in served.captured_queries if "analytics_dailyrollup" in query["sql"]]
    assert (first["weighted_forecast"], after["weighted_forecast"]) == ("10.00", "50.00")  # an open deal moved
    assert after["new_leads"] == first["new_leads"] + 1  # a rollup day recomputed


def test_answers_are_computed_when_the_cache_cannot_be_reached(manager, monkeypatch, settings):
    settings.DASHBOARD_CACHE_SECONDS = 300

    class Unreachable:
        def __getattr__(self, name):
            raise ConnectionError("cache down")

    monkeypatch.setattr("analytics.dashboard_cache.cache", Unreachable())

    assert bearer_client(manager).get("/api/analytics/").status_code == 200
