"""The catalog through the API: who may browse it, what it holds (approved, available
listings; `mine=true`: my own in any status), one listing, the payload of DESIGN §5, each
filter and ordering, bad input, and queries that do not grow with the page."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads.tests.factories import LeadFactory
from marketplace.api.catalog import ListingDetailOutputSerializer, ListingOutputSerializer
from marketplace.models import Listing
from marketplace.tests.factories import (
    LISTING_PAYLOAD,
    ContactListingFactory,
    ListingFactory,
    PurchaseFactory,
    VendorFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/marketplace/listings/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


# --- Who may browse, what is listed -----------------------------------------------------------


def test_anonymous_visitors_browse_the_catalog(vendor):
    # given an approved, available listing
    listing = ListingFactory(vendor=vendor)

    # when someone who is not signed in lists the catalog
    response = APIClient().get(LIST)

    # then they get it, keyset-paged (no count)
    assert _ids(response) == [listing.pk]
    assert set(response.json()) == {"next", "previous", "results"}


def test_only_approved_available_listings_are_in_the_catalog(auth_client, vendor):
    listed = ListingFactory(vendor=vendor)
    ListingFactory(vendor=vendor, approval_status=Listing.ApprovalStatus.PENDING)
    ListingFactory(vendor=vendor, approval_status=Listing.ApprovalStatus.REJECTED)
    ListingFactory(vendor=vendor, status=Listing.Status.WITHDRAWN)
    ListingFactory(vendor=vendor, status=Listing.Status.SOLD_OUT, sold_count=1)

    assert _ids(auth_client.get(LIST)) == [listed.pk]


def test_mine_lists_every_status_of_my_own_listings_only(vendor, seller):
    # given my listings in every state, and another vendor's
    mine = [
        ListingFactory(vendor=vendor),
        ListingFactory(vendor=vendor, approval_status=Listing.ApprovalStatus.PENDING),
        ListingFactory(vendor=vendor, approval_status=Listing.ApprovalStatus.REJECTED),
        ListingFactory(vendor=vendor, status=Listing.Status.WITHDRAWN),
        ListingFactory(vendor=vendor, status=Listing.Status.SOLD_OUT, sold_count=1),
    ]
    ListingFactory()

    # when I list mine
    response = bearer_client(seller).get(LIST, {"mine": "true"})

    # then all of mine, newest first, with their contacts in full
    assert _ids(response) == [listing.pk for listing in reversed(mine)]
    assert not any(row["is_masked"] for row in response.json()["results"])


def test_mine_is_empty_for_a_buyer_and_needs_a_sign_in(auth_client, vendor):
    ListingFactory(vendor=vendor)

    assert _ids(auth_client.get(LIST, {"mine": "true"})) == []
    assert_error(APIClient().get(LIST, {"mine": "true"}), 401, "not_authenticated")
    assert_error(auth_client.get(LIST, {"mine": "maybe"}), 400, "validation_error")


# --- One listing ----------------------------------------------------------------------------


def test_a_catalog_listing_opens_for_anyone_with_its_score_breakdown(vendor):
    listing = ContactListingFactory(vendor=vendor)
    listing.lead.score_breakdown = [{"factor": "email_quality", "points": 20, "max": 20, "why": "A valid address"}]
    listing.lead.save()

    response = APIClient().get(f"{LIST}{listing.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == LISTING_PAYLOAD | {"score_breakdown", "rejection_reason", "vendor_sales", "vendor_dispute_rate"}
    assert (body["vendor_sales"], body["vendor_dispute_rate"]) == (0, None)
    assert body["score_breakdown"] == [
        {"factor": "email_quality", "label": "Email quality", "points": 20, "max": 20, "why": "A valid address"}
    ]


def test_a_listing_outside_the_catalog_opens_only_for_its_vendor_and_staff(vendor, seller, auth_client):
    # given a rejected listing
    listing = ListingFactory(
        vendor=vendor, approval_status=Listing.ApprovalStatus.REJECTED, rejection_reason="Stale data"
    )
    url = f"{LIST}{listing.pk}/"

    # then its vendor and staff open it; a buyer, another vendor and anonymous visitors do not
    assert bearer_client(seller).get(url).json()["rejection_reason"] == "Stale data"
    assert bearer_client(StaffUserFactory()).get(url).status_code == 200
    assert_error(auth_client.get(url), 404, "not_found")
    assert_error(bearer_client(UserFactory(organization=VendorFactory())).get(url), 404, "not_found")
    assert_error(APIClient().get(url), 404, "not_found")


def test_an_unknown_or_out_of_range_id_is_not_found(auth_client):
    assert_error(auth_client.get(f"{LIST}999999/"), 404, "not_found")
    assert_error(auth_client.get(f"{LIST}99999999999999999999/"), 404, "not_found")


# --- The payload ----------------------------------------------------------------------------


def test_the_payload_has_the_fixed_names_money_as_strings_and_the_vendor(auth_client):
    vendor = VendorFactory(name="Northwind Data")
    listing = ListingFactory(
        vendor=vendor,
        price=Decimal("119.5"),
        exclusive=False,
        max_sales=5,
        sold_count=2,
        reserved_count=1,
        vendor_quality=Decimal("87.5"),
        employee_count=250,
    )

    (row,) = auth_client.get(LIST).json()["results"]

    assert set(row) == LISTING_PAYLOAD
    assert row["price"] == "119.50" and row["currency"] == "USD"
    assert row["vendor"] == {
        "id": vendor.pk,
        "name": "Northwind Data",
        "quality": "87.50",
        "quality_figures": {
            "score": "87.50",
            "rated": True,
            "sold": 0,
            "min_sample": 20,
            "contact_rate": None,
            "win_rate": None,
            "dispute_rate": None,
        },
    }
    assert (row["remaining"], row["max_sales"], row["exclusive"]) == (2, 5, False)
    assert row["employee_count"] == 250 and row["lead_score"] == 60
    assert (row["approval_status"], row["status"], row["validation_status"]) == ("approved", "available", "valid")
    assert row["created_at"] == listing.created_at.isoformat().replace("+00:00", "Z")


def test_a_vendor_not_rated_yet_has_a_null_quality(auth_client, vendor):
    ListingFactory(vendor=vendor, vendor_quality=None)

    (row,) = auth_client.get(LIST).json()["results"]

    assert row["vendor"]["quality"] is None


def test_the_rendered_payload_matches_the_documented_fields(vendor):
    listing = ContactListingFactory(vendor=vendor)

    for serializer in (ListingOutputSerializer, ListingDetailOutputSerializer):
        assert set(serializer(listing).data) == set(serializer().fields)


def test_is_purchased_is_true_for_the_buying_organization(vendor):
    buyer = UserFactory()
    bought, other = ListingFactory(vendor=vendor, lead_score=90), ListingFactory(vendor=vendor, lead_score=10)
    PurchaseFactory(listing=bought, buyer=buyer.organization)

    rows = bearer_client(buyer).get(LIST).json()["results"]

    assert [(row["id"], row["is_purchased"]) for row in rows] == [(bought.pk, True), (other.pk, False)]


# --- Filters --------------------------------------------------------------------------------


@pytest.fixture
def assorted(vendor):
    """Listings that differ in each filtered value."""
    rated = VendorFactory()
    return {
        "saas_sf": ListingFactory(
            vendor=vendor,
            industry="SaaS",
            location="San Francisco, CA",
            price=Decimal("120.00"),
            lead_score=80,
            exclusive=True,
        ),
        "saas_austin": ListingFactory(
            vendor=vendor,
            industry="saas",
            location="Austin, TX",
            price=Decimal("40.00"),
            lead_score=55,
            exclusive=False,
            max_sales=3,
        ),
        "retail_chicago": ListingFactory(
            vendor=rated,
            industry="Retail",
            location="Chicago, IL",
            price=Decimal("15.00"),
            lead_score=30,
            vendor_quality=Decimal("4.50"),
        ),
        "health_sacramento": ListingFactory(
            vendor=rated,
            industry="Healthcare",
            location="Sacramento, California",
            price=Decimal("75.00"),
            lead_score=65,
            vendor_quality=Decimal("2.00"),
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"industry": "SAAS"}, {"saas_sf", "saas_austin"}),
        ({"industry": ["Retail", "Healthcare"]}, {"retail_chicago", "health_sacramento"}),
        ({"industry": "Soft"}, set()),
        ({"location": "CA"}, {"saas_sf"}),  # a part of the location, not a substring of "Chicago"
        ({"location": ["california", "TX"]}, {"health_sacramento", "saas_austin"}),
        ({"location": "San Francisco"}, {"saas_sf"}),
        ({"location": "Chicago, IL"}, {"retail_chicago"}),
        ({"price_min": "40"}, {"saas_sf", "saas_austin", "health_sacramento"}),
        ({"price_max": "40.00"}, {"saas_austin", "retail_chicago"}),
        ({"price_min": "20", "price_max": "100"}, {"saas_austin", "health_sacramento"}),
        ({"min_score": "60"}, {"saas_sf", "health_sacramento"}),
        ({"exclusive": "true"}, {"saas_sf", "retail_chicago", "health_sacramento"}),
        ({"exclusive": "false"}, {"saas_austin"}),
        ({"vendor_quality_min": "3"}, {"retail_chicago"}),  # not rated: left out
        ({"vendor_quality_min": "0"}, {"retail_chicago", "health_sacramento"}),
        ({"industry": "SaaS", "min_score": "60"}, {"saas_sf"}),
    ],
)
def test_each_filter_narrows_the_catalog(auth_client, assorted, params, expected):
    response = auth_client.get(LIST, params)

    assert set(_ids(response)) == {assorted[name].pk for name in expected}


def test_search_matches_title_description_industry_location_and_company(auth_client, vendor):
    # (on SQLite a plain match; PostgreSQL's full-text search is tested in test_catalog_search)
    by_title = ListingFactory(vendor=vendor, title="Head of Logistics")
    by_description = ListingFactory(vendor=vendor, description="Runs logistics for a fleet")
    by_company = ListingFactory(
        vendor=vendor, lead=LeadFactory(organization=vendor, is_inventory=True, company="Logistics Partners Ltd")
    )
    ListingFactory(vendor=vendor, title="CFO", description="Finance")

    if connection.vendor != "sqlite":
        from marketplace.services.listings import listings_search_index

        listings_search_index(list(Listing.objects.values_list("pk", flat=True)))

    assert set(_ids(auth_client.get(LIST, {"search": "logistics"}))) == {
        by_title.pk,
        by_description.pk,
        by_company.pk,
    }


@pytest.mark.parametrize(
    "params",
    [
        {"price_min": "cheap"},
        {"price_max": "-1"},
        {"min_score": "101"},
        {"vendor_quality_min": "1e9"},
        {"exclusive": "perhaps"},
        {"ordering": "title"},
        {"search": "x" * 201},
        {"industry": "x" * 101},
        {"industry": [f"i{n}" for n in range(11)]},
    ],
)
def test_filters_that_are_not_valid_answer_400_with_the_field(auth_client, params):
    error = assert_error(auth_client.get(LIST, params), 400, "validation_error")

    assert set(error["details"]) == set(params)


def test_blank_values_are_ignored_and_nul_characters_are_harmless(auth_client, vendor):
    listing = ListingFactory(vendor=vendor, industry="Software")

    assert _ids(auth_client.get(LIST, {"search": "", "industry": ["", "Soft\x00ware"], "location": " "})) == [
        listing.pk
    ]
    assert_error(auth_client.get(LIST, {"search": "a\x00b"}), 400, "validation_error")


# --- Orderings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (None, lambda x: (-x.lead_score, -x.pk)),
        ("-score", lambda x: (-x.lead_score, -x.pk)),
        ("score", lambda x: (x.lead_score, x.pk)),
        ("price", lambda x: (x.price, x.pk)),
        ("-price", lambda x: (-x.price, -x.pk)),
        ("-created", lambda x: (-x.created_at.timestamp(), -x.pk)),
    ],
)
def test_each_ordering_sorts_the_catalog_with_the_id_as_tie_breaker(auth_client, vendor, ordering, key):
    listings = [
        ListingFactory(vendor=vendor, lead_score=score, price=Decimal(price))
        for score, price in ((50, "10"), (90, "30"), (50, "30"), (10, "20"), (90, "5"))
    ]

    response = auth_client.get(LIST, {"ordering": ordering} if ordering else {})

    assert _ids(response) == [x.pk for x in sorted(listings, key=key)]


# --- Cursors and queries --------------------------------------------------------------------


def test_a_cursor_that_is_not_ours_is_not_found(auth_client, vendor):
    ListingFactory.create_batch(3, vendor=vendor)
    next_url = auth_client.get(LIST, {"page_size": 1}).json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]

    assert_error(auth_client.get(LIST, {"cursor": "not-a-cursor"}), 404, "not_found")
    # a cursor of one ordering is meaningless in another
    assert_error(auth_client.get(LIST, {"cursor": cursor, "ordering": "price"}), 404, "not_found")


@pytest.mark.parametrize("kind", ["anonymous", "buyer", "vendor", "staff"])
def test_the_catalog_query_count_does_not_grow_with_the_page_size(kind, vendor, settings):
    settings.CATALOG_CACHE_SECONDS = 0  # the reads themselves (marketplace/tests/test_catalog_cache.py)
    # given more listings than the biggest page, some bought by the buyer
    ListingFactory.create_batch(110, vendor=vendor)
    buyer = UserFactory()
    for listing in Listing.objects.all()[:30]:
        PurchaseFactory(listing=listing, buyer=buyer.organization)
    client = {
        "anonymous": APIClient,
        "buyer": lambda: bearer_client(buyer),
        "vendor": lambda: bearer_client(UserFactory(organization=vendor)),
        "staff": lambda: bearer_client(StaffUserFactory()),
    }[kind]()

    counts = []
    for size in (10, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))

    # then a page of 100 costs the queries a page of 10 does
    assert counts[0] == counts[1]


def test_the_catalog_page_is_one_query_for_an_anonymous_visitor(vendor, settings):
    settings.CATALOG_CACHE_SECONDS = 0  # read from the database, not the cache
    ListingFactory.create_batch(5, vendor=vendor)

    with CaptureQueriesContext(connection) as queries:
        APIClient().get(LIST)

    assert len(queries) == 1
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(" not in sql.upper()


def test_a_sub_user_without_the_export_flag_cannot_export(vendor):
    ListingFactory(vendor=vendor)
    member = SubUserFactory(permissions={"can_export": False})

    assert_error(bearer_client(member).get(f"{LIST}export/", {"format": "csv"}), 403, "permission_denied")


def test_an_unknown_export_format_is_refused(auth_client):
    assert_error(auth_client.get(f"{LIST}export/", {"format": "pdf"}), 400, "validation_error")


def test_the_export_follows_the_filters_and_neutralises_formulas(auth_client, vendor):
    import csv
    import io

    ListingFactory(vendor=vendor, title="=HYPERLINK(1)", industry="SaaS", lead_score=70)
    ListingFactory(vendor=vendor, title="Other", industry="Retail")

    response = auth_client.get(f"{LIST}export/", {"format": "csv", "industry": "saas"})

    assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="listings-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row["title"] for row in rows] == ["'=HYPERLINK(1)"]
    assert rows[0]["lead_score"] == "70" and rows[0]["price"] == "25.00"
