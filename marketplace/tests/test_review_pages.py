"""The staff review queue page and the admin: pending listings oldest first with each lead in
full, approve and reject one or many through the same services; staff only; a constant
number of queries; the Review link."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import PASSWORD, StaffUserFactory, UserFactory
from marketplace.models import Listing, RevealLog
from marketplace.tests.factories import ListingFactory, PendingListingFactory, VendorUserFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffUserFactory()


@pytest.fixture
def signed_in(client, staff):
    client.login(email=staff.email, password=PASSWORD)
    return client


def test_the_queue_shows_pending_listings_oldest_first_with_the_lead_in_full(signed_in, staff):
    older = PendingListingFactory(title="Older one")
    newer = PendingListingFactory(title="Newer one")
    ListingFactory(title="Approved already")
    Listing.objects.filter(pk=older.pk).update(created_at=newer.created_at.replace(year=2020))

    response = signed_in.get(reverse("marketplace:review"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Older one") < html.index("Newer one") and "Approved already" not in html
    assert html.count('data-testid="review-card"') == 2
    assert older.lead.email in html and newer.lead.email in html
    assert reverse("marketplace:review-approve", args=[older.pk]) in html
    assert reverse("marketplace:review-reject", args=[older.pk]) in html
    assert 'href="/marketplace/review/"' in html  # the Review link in the navigation
    assert RevealLog.objects.filter(user=staff, context="page").count() == 2


def test_the_queue_costs_the_same_queries_for_one_or_many(signed_in):
    PendingListingFactory()
    signed_in.get(reverse("marketplace:review"))  # the sign-in's session is adopted on the first page
    with CaptureQueriesContext(connection) as few:
        signed_in.get(reverse("marketplace:review"))
    PendingListingFactory.create_batch(6)

    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(reverse("marketplace:review"))

    assert len(response.context["listings"]) == 7
    assert len(many) == len(few)


def test_an_empty_queue_says_so(signed_in):
    assert "Nothing waits for review." in signed_in.get(reverse("marketplace:review")).content.decode()


def test_approve_from_the_queue(signed_in):
    vendor = VendorUserFactory()
    listing = PendingListingFactory(vendor=vendor.organization, created_by=vendor)

    response = signed_in.post(reverse("marketplace:review-approve", args=[listing.pk]), follow=True)

    listing.refresh_from_db()
    assert listing.approval_status == "approved"
    assert response.redirect_chain[-1][0] == reverse("marketplace:review")
    assert "is approved and in the catalog" in response.content.decode()
    assert Notification.objects.filter(user=vendor).exists()


def test_reject_from_the_queue_needs_a_reason(signed_in):
    listing = PendingListingFactory()

    refused = signed_in.post(reverse("marketplace:review-reject", args=[listing.pk]), {"reason": ""})
    done = signed_in.post(reverse("marketplace:review-reject", args=[listing.pk]), {"reason": "Bounces."})

    assert refused.status_code == 400
    assert done.status_code == 302
    listing.refresh_from_db()
    assert (listing.approval_status, listing.rejection_reason) == ("rejected", "Bounces.")


def test_a_second_decision_shows_why_it_failed(signed_in):
    listing = ListingFactory()

    response = signed_in.post(reverse("marketplace:review-approve", args=[listing.pk]))

    assert response.status_code == 409
    assert "This listing was already approved." in response.content.decode()


def test_many_at_once(signed_in):
    first, second = PendingListingFactory.create_batch(2)
    done = ListingFactory()

    response = signed_in.post(
        reverse("marketplace:review-bulk"),
        {"ids": [first.pk, second.pk, done.pk], "decision": "reject", "reason": "Duplicates of other vendors."},
        follow=True,
    )

    html = response.content.decode()
    assert "2 listings rejected." in html and f"Listing {done.pk} was left alone" in html
    assert set(Listing.objects.filter(approval_status="rejected").values_list("pk", flat=True)) == {first.pk, second.pk}


def test_rejecting_many_needs_a_reason(signed_in):
    listing = PendingListingFactory()

    response = signed_in.post(reverse("marketplace:review-bulk"), {"ids": [listing.pk], "decision": "reject"})

    assert response.status_code == 400
    listing.refresh_from_db()
    assert listing.approval_status == "pending"


@pytest.mark.parametrize("make_user", [VendorUserFactory, UserFactory], ids=["vendor", "buyer"])
def test_the_queue_and_its_actions_are_staff_only(client, make_user):
    user = make_user()
    own = PendingListingFactory(vendor=user.organization)
    client.login(email=user.email, password=PASSWORD)

    assert client.get(reverse("marketplace:review")).status_code == 403
    # a vendor cannot approve their own listing, alone or in a batch
    assert client.post(reverse("marketplace:review-approve", args=[own.pk])).status_code == 403
    assert client.post(reverse("marketplace:review-bulk"), {"ids": [own.pk], "decision": "approve"}).status_code == 403
    own.refresh_from_db()
    assert own.approval_status == "pending"
    assert 'href="/marketplace/review/"' not in client.get(reverse("leads:list")).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    listing = PendingListingFactory()

    assert client.get(reverse("marketplace:review")).status_code == 302
    assert client.post(reverse("marketplace:review-approve", args=[listing.pk])).status_code == 302
    listing.refresh_from_db()
    assert listing.approval_status == "pending"


# --- Admin -------------------------------------------------------------------------------------------


def test_the_admin_approves_through_the_service(signed_in):
    listing = PendingListingFactory()

    response = signed_in.post(
        reverse("admin:marketplace_listing_changelist"),
        {"action": "approve", "_selected_action": [listing.pk]},
        follow=True,
    )

    assert response.status_code == 200
    listing.refresh_from_db()
    assert listing.approval_status == "approved"


def test_the_admin_asks_for_a_reason_before_rejecting(signed_in):
    listing = PendingListingFactory()
    url = reverse("admin:marketplace_listing_changelist")

    form = signed_in.post(url, {"action": "reject", "_selected_action": [listing.pk]})
    assert form.status_code == 200 and b"Reject 1 listing" in form.content
    listing.refresh_from_db()
    assert listing.approval_status == "pending"

    signed_in.post(url, {"action": "reject", "_selected_action": [listing.pk], "apply": "1", "reason": "Fake."})

    listing.refresh_from_db()
    assert (listing.approval_status, listing.rejection_reason) == ("rejected", "Fake.")


def test_the_admin_shows_listings_and_the_reveal_log_read_only(signed_in, staff):
    listing = ListingFactory()
    RevealLog.objects.create(listing=listing, user=staff, organization=staff.organization, context="page")

    for name in ("marketplace_listing_changelist", "marketplace_reveallog_changelist"):
        assert signed_in.get(reverse(f"admin:{name}")).status_code == 200, name
    assert signed_in.get(reverse("admin:marketplace_listing_change", args=[listing.pk])).status_code == 200
    assert signed_in.get(reverse("admin:marketplace_listing_add")).status_code == 403
    assert signed_in.get(reverse("admin:leads_importjob_changelist"), {"kind__exact": "listings"}).status_code == 200
