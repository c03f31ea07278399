"""The catalog page and the listing page: filters from the query string, the htmx results
part, invalid filters as field errors, keyset pages by "Next"/"Previous", empty states, a
constant number of queries, and what the listing page shows and to whom."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import UserPreferences
from accounts.tests.factories import PASSWORD, UserFactory
from marketplace.services.listings import listings_search_index
from marketplace.tests.factories import ListingFactory, PendingListingFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

CATALOG = reverse("marketplace:catalog")


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [listing.pk for listing in response.context["listings"]]


def test_anyone_browses_the_approved_available_listings_best_scored_first(client):
    best = ListingFactory(lead_score=90)
    good = ListingFactory(lead_score=70)
    PendingListingFactory(lead_score=99)
    ListingFactory(lead_score=95, status="withdrawn")
    ListingFactory(lead_score=95, approval_status="rejected")

    response = client.get(CATALOG)

    assert _ids(response) == [best.pk, good.pk]
    assert response.context["ordering"] == "-score"


def test_filters_and_ordering_come_from_the_query_string(client):
    cheap_ca = ListingFactory(industry="Software", location="San Diego, CA", price=Decimal("20.00"))
    dear_ca = ListingFactory(industry="Software", location="Fresno, CA", price=Decimal("90.00"))
    ListingFactory(industry="Software", location="Austin, TX", price=Decimal("10.00"))
    ListingFactory(industry="Retail", location="San Diego, CA", price=Decimal("10.00"))

    response = client.get(CATALOG, {"industry": "software", "location": "CA", "ordering": "-price"})

    assert _ids(response) == [dear_ca.pk, cheap_ca.pk]
    assert response.context["filtered"] is True
    assert _ids(client.get(CATALOG, {"location": "CA", "price_max": "50", "industry": "Software"})) == [cheap_ca.pk]


def test_an_htmx_request_gets_the_results_part_only(client):
    listings_search_index([ListingFactory(title="Head of growth").pk])

    response = client.get(CATALOG, {"search": "growth"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.templates[0].name == "marketplace/catalog/partials/results.html"
    assert "Head of growth" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_invalid_filters_show_on_their_fields(client):
    ListingFactory()

    response = client.get(CATALOG, {"price_min": "lots", "min_score": "500", "ordering": "cheapest"})

    assert response.status_code == 400
    errors = response.context["filter_form"].errors
    assert set(errors) == {"price_min", "min_score", "ordering"}
    assert response.context["listings"] == []
    assert "Some filters are not valid" in response.content.decode()


def test_empty_states_say_why_nothing_is_shown(client):
    assert "The catalog is empty for now." in client.get(CATALOG).content.decode()
    ListingFactory(industry="Software")
    assert "No listing matches these filters." in client.get(CATALOG, {"industry": "Retail"}).content.decode()


def test_next_and_previous_links_walk_the_pages_by_cursor(client):
    user = UserFactory()
    UserPreferences.objects.update_or_create(user=user, defaults={"items_per_page": 10})
    client.login(email=user.email, password=PASSWORD)
    listings = [ListingFactory(lead_score=score) for score in range(50, 75)]
    expected = [x.pk for x in sorted(listings, key=lambda x: -x.lead_score)]

    # following "Next" visits every listing once, in order
    seen, response = [], client.get(CATALOG, {"min_score": "10"})
    while True:
        seen += _ids(response)
        if not response.context["next_cursor"]:
            break
        assert f"cursor={response.context['next_cursor']}" in response.content.decode()
        response = client.get(CATALOG, {"min_score": "10", "cursor": response.context["next_cursor"]})
    assert seen == expected
    # and "Previous" goes back a page
    back = client.get(CATALOG, {"min_score": "10", "cursor": response.context["previous_cursor"]})
    assert _ids(back) == expected[10:20]
    # a cursor that is not one is not found
    assert client.get(CATALOG, {"cursor": "not-a-cursor"}).status_code == 404


def test_the_catalog_page_query_count_does_not_grow_with_the_page(client, settings):
    settings.CATALOG_CACHE_SECONDS = 0  # the reads themselves (marketplace/tests/test_catalog_cache.py)
    user = UserFactory()
    client.login(email=user.email, password=PASSWORD)
    ListingFactory()
    client.get(CATALOG)  # the first page after signing in also records the session
    with CaptureQueriesContext(connection) as one:
        client.get(CATALOG)
    for _ in range(20):
        ListingFactory()

    with CaptureQueriesContext(connection) as many:
        response = client.get(CATALOG)

    assert len(response.context["listings"]) == 21
    assert len(many) == len(one)


# --- The listing page ----------------------------------------------------------------------------


def test_the_listing_page_shows_what_a_buyer_needs_to_decide(client):
    listing = ListingFactory(
        title="CFO of a logistics firm",
        industry="Logistics",
        location="Austin, TX",
        employee_count=250,
        price=Decimal("45.00"),
        exclusive=False,
        max_sales=5,
        sold_count=2,
        lead_score=72,
    )
    listing.lead.score_breakdown = [{"factor": "email_quality", "points": 20, "max": 20, "why": "A valid address."}]
    listing.lead.save(update_fields=["score_breakdown"])

    response = client.get(reverse("marketplace:listing", args=[listing.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("CFO of a logistics firm", "Logistics", "Austin, TX", "250 employees", "45.00", "3 of 5 left"):
        assert text in html, text
    assert "Not rated yet" in html and "A valid address." in html
    assert response.context["breakdown"][0]["label"] == "Email quality"


def test_a_listing_outside_the_catalog_opens_only_for_its_vendor(client):
    vendor = VendorUserFactory()
    pending = PendingListingFactory(vendor=vendor.organization)
    url = reverse("marketplace:listing", args=[pending.pk])

    assert client.get(url).status_code == 404
    client.login(email=UserFactory().email, password=PASSWORD)
    assert client.get(url).status_code == 404
    client.login(email=vendor.email, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    assert "It appears in the catalog once staff approve it." in response.content.decode()
