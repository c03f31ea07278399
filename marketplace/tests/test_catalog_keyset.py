"""Keyset pages of the catalog: walking `next` (and back through `previous`) visits every
listing once in order, and listings approved between two requests neither make the walk
skip nor repeat a listing: the pages hold exactly the listings there from the start, plus
those approved meanwhile that sort after the page already read."""

import random
from decimal import Decimal

import pytest

from accounts.tests.factories import StaffUserFactory
from marketplace.models import Listing
from marketplace.services.listings import listing_approve
from marketplace.tests.factories import ListingFactory, VendorFactory

pytestmark = pytest.mark.django_db

LIST = "/api/marketplace/listings/"
# ordering → the sort key of a listing (ascending in the order pages are read)
KEYS = {
    "-score": lambda x: (-x.lead_score, -x.pk),
    "score": lambda x: (x.lead_score, x.pk),
    "price": lambda x: (x.price, x.pk),
    "-price": lambda x: (-x.price, -x.pk),
    "-created": lambda x: (-x.created_at.timestamp(), -x.pk),
}


def _make(vendor, rng, n, **extra):
    # Few distinct scores and prices: many ties, so the id tie-breaker matters.
    return [
        ListingFactory(
            vendor=vendor,
            lead_score=rng.choice((20, 50, 50, 80)),
            price=Decimal(rng.choice(("9.99", "25.00"))),
            **extra,
        )
        for _ in range(n)
    ]


def _walk(client, params, *, between=None) -> list[int]:
    """Every id along the `next` links; `between(last_row_id)` runs after each page."""
    seen, url, query = [], LIST, params
    while url:
        response = client.get(url, query)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        seen.extend(row["id"] for row in body["results"])
        if between and body["results"]:
            between(body["results"][-1]["id"])
        url, query = body["next"], None
    return seen


@pytest.mark.parametrize("ordering", KEYS)
def test_walking_the_pages_visits_every_listing_once_in_order(auth_client, ordering):
    listings = _make(VendorFactory(), random.Random(1), 23)

    seen = _walk(auth_client, {"ordering": ordering, "page_size": 5})

    assert seen == [x.pk for x in sorted(listings, key=KEYS[ordering])]


@pytest.mark.parametrize("ordering", ["-score", "price"])
def test_previous_links_lead_back_through_the_same_pages(auth_client, ordering):
    _make(VendorFactory(), random.Random(2), 12)
    pages, url, query = [], LIST, {"ordering": ordering, "page_size": 5}
    while url:
        body = auth_client.get(url, query).json()
        pages.append([row["id"] for row in body["results"]])
        url, query = body["next"], None
    assert [len(page) for page in pages] == [5, 5, 2]

    # from the last page, previous goes back page by page; the first page has no previous
    body = auth_client.get(LIST, {"ordering": ordering, "page_size": 5}).json()
    for _ in range(2):
        body = auth_client.get(body["next"]).json()
    back = [[row["id"] for row in body["results"]]]
    while body["previous"]:
        body = auth_client.get(body["previous"]).json()
        back.append([row["id"] for row in body["results"]])
    assert back == list(reversed(pages))


@pytest.mark.parametrize("ordering", KEYS)
def test_listings_approved_between_requests_neither_skip_nor_repeat_a_listing(auth_client, ordering):
    # given a catalog, and listings waiting for approval
    rng = random.Random(3)
    vendor = VendorFactory()
    there = _make(vendor, rng, 30)
    waiting = _make(vendor, rng, 12, approval_status=Listing.ApprovalStatus.PENDING)
    staff = StaffUserFactory()
    key = KEYS[ordering]
    expected_new = set()

    def approve_two(last_id):
        # staff approve two more after each page; they belong in the walk only when they
        # sort after the page just read
        last = Listing.objects.get(pk=last_id)
        for _ in range(2):
            if waiting:
                listing = waiting.pop()
                listing_approve(actor=staff, listing_id=listing.pk)
                if key(listing) > key(last):
                    expected_new.add(listing.pk)

    # when a buyer walks the pages while they are approved
    seen = _walk(auth_client, {"ordering": ordering, "page_size": 7}, between=approve_two)

    # then no listing repeats, every listing there from the start is seen, and the union is exact
    assert len(seen) == len(set(seen))
    assert set(seen) == {x.pk for x in there} | expected_new
    assert seen == sorted(seen, key=lambda pk: key(Listing.objects.get(pk=pk)))
