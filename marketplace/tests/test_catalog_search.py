"""Catalog search. On PostgreSQL: full-text search over the stored vector (stemming, web
search syntax, rare and common words, the company from the lead), relevance ranked within a
bounded candidate set, keyset paging while searching, and the query plans: every whitelisted
ordering reads its partial composite index, search reads the GIN index. On SQLite: the plain
fallback."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

from accounts.tests.factories import StaffUserFactory, UserFactory, bearer_client
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace import selectors_catalog
from marketplace.models import Listing
from marketplace.selectors_catalog import catalog_page, catalog_search
from marketplace.services.listings import listing_approve, listing_update, listings_search_index
from marketplace.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

LIST = "/api/marketplace/listings/"
postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search and its indexes need PostgreSQL (set DATABASE_URL)"
)
sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="the plain search fallback runs on SQLite only")


def _indexed(*listings):
    listings_search_index([x.pk for x in listings])
    return listings


def _ids(client, params) -> list[int]:
    response = client.get(LIST, params)
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


# --- PostgreSQL full-text search ----------------------------------------------------------------


@postgresql
def test_search_stems_words(auth_client, vendor):
    (managing,) = _indexed(ListingFactory(vendor=vendor, title="Managing director, logistics"))
    _indexed(ListingFactory(vendor=vendor, title="Chief financial officer"))

    assert _ids(auth_client, {"search": "managers"}) == [managing.pk]
    assert _ids(auth_client, {"search": "LOGISTIC"}) == [managing.pk]


@postgresql
def test_search_finds_a_rare_word_and_every_listing_with_a_common_one(auth_client, vendor):
    # given many listings sharing a common word and one with a rare word
    common = _indexed(*(ListingFactory(vendor=vendor, description="Enterprise software buyer") for _ in range(30)))
    (rare,) = _indexed(ListingFactory(vendor=vendor, industry="Brewing", description="Runs a zymurgy lab"))

    assert _ids(auth_client, {"search": "zymurgy"}) == [rare.pk]
    assert set(_ids(auth_client, {"search": "software", "page_size": 100})) == {x.pk for x in common}


@postgresql
def test_search_reads_web_search_syntax_and_the_company(auth_client, vendor):
    def listing(title, company="Initech"):
        lead = LeadFactory(organization=vendor, is_inventory=True, source=Lead.Source.LISTING, company=company)
        return _indexed(ListingFactory(vendor=vendor, lead=lead, title=title))[0]

    head_of_sales = listing("Head of sales, EMEA")
    sales_head = listing("Sales operations head")
    globex = listing("Procurement lead", company="Globex Corporation")

    assert _ids(auth_client, {"search": '"head of sales"'}) == [head_of_sales.pk]
    assert set(_ids(auth_client, {"search": "sales -emea"})) == {sales_head.pk}
    assert _ids(auth_client, {"search": "globex"}) == [globex.pk]
    assert _ids(auth_client, {"search": "or -"}) == []  # nothing to search for: no match, no error


@postgresql
def test_searching_ranks_by_relevance_unless_another_order_is_asked(auth_client, vendor):
    # given a listing matching in its title (weighs most) with a lower score than one
    # matching only in its description
    in_title = _indexed(ListingFactory(vendor=vendor, title="Fintech founder", lead_score=40))[0]
    in_description = _indexed(ListingFactory(vendor=vendor, description="Sells to fintech", lead_score=90))[0]

    assert _ids(auth_client, {"search": "fintech"}) == [in_title.pk, in_description.pk]
    assert _ids(auth_client, {"search": "fintech", "ordering": "-score"}) == [in_description.pk, in_title.pk]
    # relevance without a search is the default order
    assert _ids(auth_client, {"ordering": "relevance"}) == [in_description.pk, in_title.pk]


@postgresql
def test_relevance_ranks_only_the_best_scored_candidates(auth_client, vendor, monkeypatch):
    # given five matches and a candidate set of three
    monkeypatch.setattr(selectors_catalog, "RELEVANCE_CANDIDATES", 3)
    matches = _indexed(
        *(ListingFactory(vendor=vendor, title="Data engineer", lead_score=s) for s in (10, 20, 30, 40, 50))
    )

    # then relevance pages hold the three best-scored matches, each once
    seen = []
    body = auth_client.get(LIST, {"search": "engineer", "page_size": 2}).json()
    seen += [row["id"] for row in body["results"]]
    while body["next"]:
        body = auth_client.get(body["next"]).json()
        seen += [row["id"] for row in body["results"]]
    assert sorted(seen) == sorted(x.pk for x in matches[2:])
    # while an explicit ordering pages through every match
    assert len(_ids(auth_client, {"search": "engineer", "ordering": "score"})) == 5


@postgresql
@pytest.mark.parametrize("ordering", ["relevance", "price", "-score"])
def test_search_pages_neither_skip_nor_repeat_while_listings_are_approved(auth_client, vendor, ordering):
    # given matches of different relevance and price, and more waiting for approval
    titles = ("Cloud architect", "Cloud and cloud security lead", "Architect", "Cloud buyer")
    there = _indexed(
        *(
            ListingFactory(vendor=vendor, title=titles[n % 4], price=Decimal(10 + n % 3), lead_score=n * 7 % 100)
            for n in range(16)
        )
    )
    waiting = [
        ListingFactory(vendor=vendor, title="Cloud migration", approval_status=Listing.ApprovalStatus.PENDING)
        for _ in range(6)
    ]
    staff = StaffUserFactory()
    matching = {x.pk for x in there if "cloud" in x.title.lower()}

    # when a buyer pages through the results while staff approve more matching listings
    seen = []
    body = auth_client.get(LIST, {"search": "cloud", "ordering": ordering, "page_size": 3}).json()
    while True:
        seen += [row["id"] for row in body["results"]]
        if waiting:
            listing_approve(actor=staff, listing_id=waiting.pop().pk)
        if not body["next"]:
            break
        body = auth_client.get(body["next"]).json()

    # then nothing repeats and every match there from the start was seen
    assert len(seen) == len(set(seen))
    assert matching <= set(seen)
    assert set(seen) <= matching | set(Listing.objects.filter(title="Cloud migration").values_list("pk", flat=True))


@postgresql
def test_an_edited_or_approved_listing_is_found_by_its_new_words(auth_client, vendor):
    seller = UserFactory(organization=vendor)
    pending = ListingFactory(vendor=vendor, title="Quantum hardware buyer", approval_status="pending")
    listed = _indexed(ListingFactory(vendor=vendor, title="Old title"))[0]

    listing_approve(actor=StaffUserFactory(), listing_id=pending.pk)
    listing_update(actor=seller, listing_id=listed.pk, changes={"title": "Biotech procurement head"})

    assert _ids(auth_client, {"search": "quantum"}) == [pending.pk]
    assert _ids(auth_client, {"search": "biotech"}) == [listed.pk]
    assert _ids(auth_client, {"search": "old"}) == []


def _bulk_catalog(vendor, n: int) -> None:
    """`n` approved listings with their leads, written in bulk, then analysed."""
    leads = Lead.objects.bulk_create(
        Lead(organization=vendor, is_inventory=True, source=Lead.Source.LISTING, company=f"Company {i}")
        for i in range(n)
    )
    Listing.objects.bulk_create(
        Listing(
            vendor=vendor,
            lead=lead,
            title=f"Buyer {i} " + ("software" if i % 3 else "zymurgy" if i == 7 else "retail"),
            industry=("Software", "Retail", "Healthcare")[i % 3],
            price=Decimal(5 + i % 200),
            lead_score=i % 101,
            approval_status="approved",
        )
        for i, lead in enumerate(leads)
    )
    listings_search_index(list(Listing.objects.values_list("pk", flat=True)))
    with connection.cursor() as cursor:
        # Rolled-back tests leave their rows in the GIN index's pending list, which the
        # planner prices in: flush it, as autovacuum does in production.
        cursor.execute("SELECT gin_clean_pending_list('catalog_search_idx'::regclass)")
        cursor.execute("ANALYZE marketplace_listing")


@postgresql
@pytest.mark.parametrize(
    ("ordering", "index"),
    [
        ("-score", "catalog_score_idx"),
        ("score", "catalog_score_idx"),
        ("price", "catalog_price_idx"),
        ("-price", "catalog_price_idx"),
        ("-created", "catalog_created_idx"),
    ],
)
def test_each_ordering_reads_its_partial_composite_index(vendor, ordering, index):
    # given a catalog big enough for the planner to prefer an index to a sort
    _bulk_catalog(vendor, 3000)
    catalog = catalog_search(user=StaffUserFactory(), params={"ordering": ordering})
    last = catalog_page(catalog, cursor=None, size=25).listings[-1]
    prefix = "-" if catalog.descending else ""
    order = (f"{prefix}{catalog.field}", f"{prefix}pk")
    seek = TupleLessThan if catalog.descending else TupleGreaterThan

    # when PostgreSQL plans page 1 and a page after a cursor
    page_one = catalog.queryset.order_by(*order)[:26].explain()
    after = (
        catalog.queryset.filter(seek(Tuple(F(catalog.field), F("pk")), (getattr(last, catalog.field), last.pk)))
        .order_by(*order)[:26]
        .explain()
    )

    # then both walk the ordering's index without sorting, the cursor seeking in the index
    for plan in (page_one, after):
        assert f"Index Scan{' Backward' if catalog.descending else ''} using {index}" in plan, plan
        assert "Sort" not in plan, plan
    assert "Index Cond: (ROW(" in after, after


@postgresql
def test_search_reads_the_gin_index_for_a_rare_word(vendor):
    _bulk_catalog(vendor, 3000)

    catalog = catalog_search(user=StaffUserFactory(), params={"search": "zymurgy", "ordering": "-score"})
    plan = catalog.queryset.order_by("-lead_score", "-pk")[:26].explain()

    assert "catalog_search_idx" in plan, plan


# --- The SQLite fallback ----------------------------------------------------------------------


@sqlite
def test_sqlite_matches_each_word_plainly_in_any_searched_field(vendor):
    client = bearer_client(UserFactory())
    lead = LeadFactory(organization=vendor, is_inventory=True, company="Globex Corporation")
    both = ListingFactory(vendor=vendor, lead=lead, title="Logistics manager")
    ListingFactory(vendor=vendor, title="Logistics analyst")
    in_location = ListingFactory(vendor=vendor, location="Springfield, OR")

    assert _ids(client, {"search": "logist globex"}) == [both.pk]  # every word, substrings too
    assert _ids(client, {"search": "springfield"}) == [in_location.pk]
    # relevance needs PostgreSQL: here it is the score order
    assert catalog_search(user=UserFactory(), params={"search": "logistics"}).ordering == "-score"
