"""Catalog pages shared through the cache (`marketplace.catalog_cache`): a page read again
costs no query, every change to the catalog made through a service shows at once, contacts
are still disclosed per viewer, a vendor's own list is never shared, and a cache that cannot
be reached only costs the database reads."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import caches
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory, bearer_client
from marketplace.models import Listing
from marketplace.services.listings import listing_approve, listing_update, listing_withdraw
from marketplace.tests.factories import ContactListingFactory, ListingFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

LIST = "/api/marketplace/listings/"
PAGE = "/marketplace/"


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def _queries(client, path, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content[:300]
    return len(queries), response


def test_a_page_read_again_costs_no_query(vendor):
    ListingFactory.create_batch(3, vendor=vendor)
    client = APIClient()
    params = {"industry": "Software", "ordering": "price", "page_size": 2}

    first_count, first = _queries(client, LIST, params)
    again_count, again = _queries(client, LIST, params)

    assert first_count == 1
    assert again_count == 0
    assert again.json() == first.json()
    # other filters, another cursor or another size are other pages
    assert _queries(client, LIST, {**params, "page_size": 3})[0] == 1
    cursor = parse_qs(urlsplit(first.json()["next"]).query)["cursor"][0]
    assert _queries(client, LIST, {**params, "cursor": cursor})[0] == 1


def test_an_approved_listing_shows_at_once(vendor):
    shown = ListingFactory(vendor=vendor, lead_score=50)
    pending = ListingFactory(vendor=vendor, lead_score=90, approval_status=Listing.ApprovalStatus.PENDING)
    client = APIClient()
    assert _ids(client.get(LIST)) == [shown.pk]

    listing_approve(actor=StaffUserFactory(), listing_id=pending.pk)

    assert _ids(client.get(LIST)) == [pending.pk, shown.pk]


def test_an_edit_and_a_withdrawal_show_at_once(vendor, seller):
    listing = ListingFactory(vendor=vendor, price=Decimal("25.00"))
    other = ListingFactory(vendor=vendor)
    client = APIClient()
    assert client.get(LIST).json()["results"][0]["price"] == "25.00"

    listing_update(actor=seller, listing_id=listing.pk, changes={"price": Decimal("30.00")})
    prices = {row["id"]: row["price"] for row in client.get(LIST).json()["results"]}
    assert prices[listing.pk] == "30.00"

    listing_withdraw(actor=seller, listing_id=other.pk)
    assert _ids(client.get(LIST)) == [listing.pk]


def test_a_change_rolled_back_keeps_the_cached_pages(vendor, seller):
    listing = ListingFactory(vendor=vendor)
    client = APIClient()
    client.get(LIST)

    with pytest.raises(RuntimeError), transaction.atomic():
        listing_withdraw(actor=seller, listing_id=listing.pk)
        raise RuntimeError("rolled back")

    # a new version starts only when a change commits
    count, response = _queries(client, LIST)
    assert count == 0
    assert _ids(response) == [listing.pk]


def test_contacts_are_disclosed_per_viewer_on_a_shared_page(vendor):
    listing = ContactListingFactory(vendor=vendor, exclusive=False, max_sales=3)
    buyer = UserFactory()
    PurchaseFactory(listing=listing, buyer=buyer.organization)
    anonymous = APIClient()

    before = anonymous.get(LIST).json()["results"][0]
    bought = bearer_client(buyer).get(LIST).json()["results"][0]
    after = anonymous.get(LIST).json()["results"][0]

    assert before["is_masked"] and before["contact_email"] == "j***@a***.com"
    assert not bought["is_masked"] and bought["contact_email"] == "jane@acme.com" and bought["is_purchased"]
    assert after == before


def test_a_vendors_own_list_is_read_for_them(vendor, seller):
    ListingFactory(vendor=vendor)
    client = bearer_client(seller)
    client.get(LIST, {"mine": "true"})

    pending = ListingFactory(vendor=vendor, approval_status=Listing.ApprovalStatus.PENDING)

    assert pending.pk in _ids(client.get(LIST, {"mine": "true"}))


def test_the_catalog_page_shares_the_cached_pages_too(vendor, client):
    ListingFactory(vendor=vendor, title="Head of growth")
    client.get(PAGE)

    count, response = _queries(client, PAGE)

    assert count == 0
    assert "Head of growth" in response.content.decode()


def test_no_cache_reads_the_database_every_time(vendor, settings):
    settings.CATALOG_CACHE_SECONDS = 0
    ListingFactory(vendor=vendor)
    client = APIClient()
    client.get(LIST)

    assert _queries(client, LIST)[0] == 1


def test_a_cache_that_cannot_be_reached_costs_only_the_reads(vendor, monkeypatch, caplog):
    listing = ListingFactory(vendor=vendor)

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "get_many", "add", "set"):
        monkeypatch.setattr(caches["default"], name, unreachable)

    count, response = _queries(APIClient(), LIST)

    assert count == 1
    assert _ids(response) == [listing.pk]
    assert "cache unavailable" in caplog.text
