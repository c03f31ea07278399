"""The reveal log: a row each time full contacts of a listing are shown to a buyer who bought
it or to staff, once per listing per request, in one insert per page, with the context
(api, page, export); never for the vendor's own view, other buyers or anonymous visitors."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import StaffUserFactory, UserFactory, bearer_client
from marketplace.models import RevealLog
from marketplace.services.reveals import listings_disclose
from marketplace.tests.factories import ContactListingFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(vendor):
    return [ContactListingFactory(vendor=vendor, lead_score=score) for score in (90, 80, 70)]


@pytest.fixture
def buyer(listings):
    user = UserFactory()
    PurchaseFactory(listing=listings[1], buyer=user.organization)
    return user


def _logged():
    return sorted(RevealLog.objects.values_list("listing_id", "user_id", "organization_id", "context"))


def test_a_buyer_who_bought_is_logged_for_that_listing_only(buyer, listings):
    # when the buyer lists a catalog page holding three listings, one of them bought
    response = bearer_client(buyer).get("/api/marketplace/listings/")

    # then one reveal is logged: that listing, that user and organization, through the API
    assert response.status_code == 200
    assert _logged() == [(listings[1].pk, buyer.pk, buyer.organization_id, "api")]


def test_staff_are_logged_once_per_listing_shown_in_one_insert(listings):
    staff = StaffUserFactory()
    client = bearer_client(staff)

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/marketplace/listings/", {"page_size": 2})

    # each listing on the page (two of the three), once, written by a single insert
    assert _logged() == sorted((listing.pk, staff.pk, staff.organization_id, "api") for listing in listings[:2])
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "marketplace_reveallog"')]
    assert len(inserts) == 1


def test_each_request_logs_again(buyer, listings):
    client = bearer_client(buyer)

    client.get("/api/marketplace/listings/")
    client.get(f"/api/marketplace/listings/{listings[1].pk}/")

    assert RevealLog.objects.filter(listing=listings[1], user=buyer).count() == 2


@pytest.mark.parametrize("kind", ["vendor", "other_buyer", "anonymous"])
def test_nothing_is_logged_for_the_vendor_other_buyers_or_anonymous_visitors(kind, vendor, listings):
    client = {
        "vendor": lambda: bearer_client(UserFactory(organization=vendor)),
        "other_buyer": lambda: bearer_client(UserFactory()),
        "anonymous": APIClient,
    }[kind]()

    client.get("/api/marketplace/listings/")
    client.get(f"/api/marketplace/listings/{listings[0].pk}/")

    assert RevealLog.objects.count() == 0


def test_pages_log_with_the_page_context(buyer, listings):
    client = Client()
    client.force_login(buyer)

    client.get("/marketplace/")
    client.get(f"/marketplace/listings/{listings[1].pk}/")
    client.get(f"/marketplace/listings/{listings[0].pk}/")  # not bought: masked, not logged

    assert _logged() == [(listings[1].pk, buyer.pk, buyer.organization_id, "page")] * 2


def test_the_export_logs_with_the_export_context(buyer, listings):
    response = bearer_client(buyer).get("/api/marketplace/listings/export/", {"format": "csv"})
    b"".join(response.streaming_content)

    assert _logged() == [(listings[1].pk, buyer.pk, buyer.organization_id, "export")]


def test_staff_exports_log_every_listing_in_the_file(listings):
    staff = StaffUserFactory()
    response = bearer_client(staff).get("/api/marketplace/listings/export/", {"format": "csv"})
    b"".join(response.streaming_content)

    assert sorted(RevealLog.objects.values_list("listing_id", flat=True)) == sorted(x.pk for x in listings)
    assert set(RevealLog.objects.values_list("context", flat=True)) == {"export"}


def test_disclose_marks_each_listing_with_one_query(buyer, listings):
    # given the page's listings, loaded
    with CaptureQueriesContext(connection) as queries:
        shown = listings_disclose(actor=buyer, listings=listings, context="api")

    # then one query asks what was bought, one inserts the reveal
    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 2
    assert [(x.is_purchased, x.contacts_revealed) for x in shown] == [(False, False), (True, True), (False, False)]
