"""The review queue and decisions through the API: staff only, oldest first, each lead in full
(and each shown written to the reveal log), one decision per listing, never on one's own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.testing import assert_error
from marketplace.models import Listing, RevealLog
from marketplace.tests.factories import LISTING_PAYLOAD, ListingFactory, PendingListingFactory, VendorUserFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db

QUEUE = "/api/workflows/leads/pending-approval/"


@pytest.fixture
def staff():
    return StaffUserFactory()


@pytest.fixture
def staff_client(staff):
    return bearer_client(staff)


def _approve(client, listing_id):
    return client.post(f"/api/marketplace/listings/{listing_id}/approve/", {}, format="json")


def _reject(client, listing_id, reason="Not a real person."):
    return client.post(f"/api/marketplace/listings/{listing_id}/reject/", {"reason": reason}, format="json")


# --- The queue -------------------------------------------------------------------------------------


def test_the_queue_lists_pending_listings_oldest_first_with_their_leads_in_full(staff_client, staff):
    older = PendingListingFactory()
    newer = PendingListingFactory()
    ListingFactory()  # approved: not in the queue
    Listing.objects.filter(pk=older.pk).update(created_at=newer.created_at.replace(year=2020))

    response = staff_client.get(QUEUE)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["count"] == 2 and [item["id"] for item in data["results"]] == [older.pk, newer.pk]
    item = data["results"][0]
    assert set(item) == LISTING_PAYLOAD | {"lead", "created_by", "upload"}
    lead = older.lead
    assert item["is_masked"] is False
    assert (item["contact_email"], item["company_name"]) == (lead.email, lead.company)
    assert item["lead"]["email"] == lead.email and item["lead"]["id"] == lead.pk
    assert item["approval_status"] == "pending" and item["vendor"]["quality"] is None
    assert RevealLog.objects.filter(user=staff, context="api").count() == 2


def test_the_queue_costs_the_same_queries_for_one_or_many_listings(staff_client):
    PendingListingFactory()
    with CaptureQueriesContext(connection) as few:
        assert staff_client.get(QUEUE).status_code == 200
    PendingListingFactory.create_batch(6)

    with CaptureQueriesContext(connection) as many:
        response = staff_client.get(QUEUE)

    assert response.json()["count"] == 7
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: VendorUserFactory(),
        lambda: UserFactory(),
        lambda: UserFactory(role=User.Role.SALES_MANAGER),
        lambda: SubUserFactory(parent=UserFactory()),
    ],
    ids=["vendor", "buyer-management", "buyer-manager", "sub-user"],
)
def test_the_queue_is_staff_only(make_user):
    PendingListingFactory()

    assert_error(bearer_client(make_user()).get(QUEUE), 403, "permission_denied")


def test_anonymous_callers_are_401(api_client):
    listing = PendingListingFactory()

    assert_error(api_client.get(QUEUE), 401, "not_authenticated")
    assert_error(_approve(api_client, listing.pk), 401, "not_authenticated")
    assert_error(_reject(api_client, listing.pk), 401, "not_authenticated")


# --- Decisions -------------------------------------------------------------------------------------


def test_staff_approve_and_the_listing_leaves_the_queue(staff_client, staff):
    vendor = VendorUserFactory()
    listing = PendingListingFactory(vendor=vendor.organization, created_by=vendor)

    response = _approve(staff_client, listing.pk)

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["id"], data["approval_status"], data["reviewed_by"], data["rejection_reason"]) == (
        listing.pk,
        "approved",
        staff.pk,
        "",
    )
    assert data["vendor"] == {"id": vendor.organization_id, "name": vendor.organization.name, "quality": None}
    assert staff_client.get(QUEUE).json()["count"] == 0
    assert Notification.objects.filter(user=vendor, title__startswith="Listing approved").exists()


def test_staff_reject_with_a_reason(staff_client):
    listing = PendingListingFactory()

    response = _reject(staff_client, listing.pk, "The email bounces.")

    assert response.status_code == 200
    assert (response.json()["approval_status"], response.json()["rejection_reason"]) == (
        "rejected",
        "The email bounces.",
    )


def test_a_rejection_without_a_reason_is_400(staff_client):
    listing = PendingListingFactory()

    error = assert_error(_reject(staff_client, listing.pk, ""), 400, "validation_error")
    assert "reason" in error["details"]
    assert_error(
        staff_client.post(f"/api/marketplace/listings/{listing.pk}/reject/", {}, format="json"), 400, "validation_error"
    )


def test_a_second_decision_is_409(staff_client):
    listing = PendingListingFactory()
    _approve(staff_client, listing.pk)

    assert_error(_approve(staff_client, listing.pk), 409, "illegal_transition")
    assert_error(_reject(staff_client, listing.pk), 409, "illegal_transition")


def test_a_vendor_cannot_approve_their_own_listing():
    vendor = VendorUserFactory()
    listing = PendingListingFactory(vendor=vendor.organization)
    client = bearer_client(vendor)

    assert_error(_approve(client, listing.pk), 403, "permission_denied")
    assert_error(_reject(client, listing.pk), 403, "permission_denied")
    listing.refresh_from_db()
    assert listing.approval_status == "pending"


def test_a_buyer_cannot_decide_either():
    listing = PendingListingFactory()

    assert_error(_approve(bearer_client(UserFactory()), listing.pk), 403, "permission_denied")


def test_an_unknown_listing_is_404(staff_client):
    assert_error(_approve(staff_client, 999999), 404, "not_found")
    assert_error(_reject(staff_client, 999999), 404, "not_found")
