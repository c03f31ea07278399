"""The vendor's pages: my listings (every status, filters, a constant number of queries), a new
listing, listing one of the CRM leads, edit while unsold, withdraw; the Sell link; who may."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from leads.models import Lead
from leads.tests.factories import LeadFactory
from marketplace.models import Listing
from marketplace.tests.factories import ListingFactory, PendingListingFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

NEW = {
    "title": "VP of Sales, SaaS, Austin",
    "description": "Decision maker.",
    "industry": "SaaS",
    "price": "120",
    "exclusive": "on",
    "max_sales": "1",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@engines.com",
    "company": "Analytical Engines",
    "job_title": "VP of Sales",
    "location": "Austin, TX",
}


@pytest.fixture
def vendor():
    return VendorUserFactory()


@pytest.fixture
def signed_in(client, vendor):
    client.login(email=vendor.email, password=PASSWORD)
    return client


def _sign_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


# --- My listings ----------------------------------------------------------------------------------


def test_my_listings_shows_every_status_of_mine_only(signed_in, vendor):
    org = vendor.organization
    ListingFactory(vendor=org, title="Approved one")
    PendingListingFactory(vendor=org, title="Pending one")
    ListingFactory(vendor=org, title="Rejected one", approval_status="rejected", rejection_reason="Bounces")
    ListingFactory(vendor=org, title="Withdrawn one", status="withdrawn")
    ListingFactory(title="Somebody else's")

    response = signed_in.get(reverse("marketplace:my-listings"))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="my-listing"') == 4
    for title in ("Approved one", "Pending one", "Rejected one", "Withdrawn one", "Bounces"):
        assert title in html
    assert "Somebody else" not in html


def test_my_listings_filters_by_review_status_sales_and_upload(signed_in, vendor):
    org = vendor.organization
    ListingFactory(vendor=org, title="Sold once", exclusive=False, max_sales=3, sold_count=1)
    ListingFactory(vendor=org, title="Never sold")
    PendingListingFactory(vendor=org, title="Waiting")

    def titles(**params):
        response = signed_in.get(reverse("marketplace:my-listings"), params)
        return sorted(listing.title for listing in response.context["listings"])

    assert titles(approval_status="pending") == ["Waiting"]
    assert titles(sold="yes") == ["Sold once"]
    assert titles(sold="no", approval_status="approved") == ["Never sold"]
    assert titles(status="withdrawn") == []
    assert titles(upload="12345") == []
    assert titles(approval_status="bogus") == ["Never sold", "Sold once", "Waiting"]  # a wrong filter is ignored


def test_my_listings_costs_the_same_queries_for_one_or_many(signed_in, vendor):
    ListingFactory(vendor=vendor.organization)
    signed_in.get(reverse("marketplace:my-listings"))  # the sign-in's session is adopted on the first page
    with CaptureQueriesContext(connection) as few:
        assert signed_in.get(reverse("marketplace:my-listings")).status_code == 200
    ListingFactory.create_batch(8, vendor=vendor.organization)

    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(reverse("marketplace:my-listings"))

    assert len(response.context["listings"]) == 9
    assert len(many) == len(few)


def test_an_empty_list_says_how_to_start(signed_in):
    html = signed_in.get(reverse("marketplace:my-listings")).content.decode()

    assert "You have not listed any lead yet." in html
    assert reverse("marketplace:uploads") in html and reverse("marketplace:listing-pick-lead") in html


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: UserFactory(),  # a buyer-only organization
        lambda: SubUserFactory(parent=VendorUserFactory(), permissions={"can_sell": False}),
    ],
    ids=["buyer-org", "vendor-sub-user-without-can-sell"],
)
def test_the_selling_pages_are_for_members_allowed_to_sell(client, make_user):
    user = make_user()
    _sign_in(client, user)
    listing = ListingFactory()

    for url in (
        reverse("marketplace:my-listings"),
        reverse("marketplace:listing-new"),
        reverse("marketplace:listing-pick-lead"),
        reverse("marketplace:listing-edit", args=[listing.pk]),
        reverse("marketplace:uploads"),
    ):
        assert client.get(url).status_code == 403, url


def test_the_sell_link_shows_to_members_of_vendor_organizations(client, vendor):
    assert 'href="/marketplace/my-listings/"' in _sign_in(client, vendor).get(reverse("leads:list")).content.decode()
    client.logout()
    assert (
        'href="/marketplace/my-listings/"'
        not in _sign_in(client, UserFactory()).get(reverse("leads:list")).content.decode()
    )


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("marketplace:my-listings"))

    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


# --- New listing ---------------------------------------------------------------------------------


def test_a_new_listing_from_the_form_waits_for_review(signed_in, vendor):
    page = signed_in.get(reverse("marketplace:listing-new"))
    assert page.status_code == 200 and b"js/marketplace/selling.js" in page.content

    response = signed_in.post(reverse("marketplace:listing-new"), NEW, follow=True)

    listing = Listing.objects.get()
    assert response.redirect_chain[-1][0] == reverse("marketplace:my-listings")
    assert "staff review it before it enters the catalog" in response.content.decode()
    assert (listing.title, listing.price, listing.approval_status) == (NEW["title"], Decimal("120.00"), "pending")
    assert listing.lead.is_inventory and listing.lead.email == "ada@engines.com"


def test_a_wrong_form_shows_its_problems(signed_in):
    response = signed_in.post(
        reverse("marketplace:listing-new"), {**NEW, "email": "nope", "exclusive": "", "max_sales": "0"}
    )

    assert response.status_code == 400
    assert not Listing.objects.exists()


def test_a_domain_problem_shows_on_its_field(signed_in):
    response = signed_in.post(reverse("marketplace:listing-new"), {**NEW, "max_sales": "4"})

    assert response.status_code == 400
    assert response.context["form"].errors["max_sales"] == ["An exclusive listing sells once."]


def test_the_same_person_twice_is_refused_with_409(signed_in):
    signed_in.post(reverse("marketplace:listing-new"), NEW)

    response = signed_in.post(reverse("marketplace:listing-new"), NEW)

    assert response.status_code == 409
    assert "already in one of your live listings" in response.content.decode()


# --- From a CRM lead ------------------------------------------------------------------------------


def test_the_vendor_picks_one_of_their_leads_and_lists_a_copy(signed_in, vendor):
    crm = LeadFactory(organization=vendor.organization, first_name="Grace", email="grace@navy.com", job_title="CTO")
    LeadFactory(first_name="Stranger")  # another organization's

    picker = signed_in.get(reverse("marketplace:listing-pick-lead")).content.decode()
    assert "Grace" in picker and "Stranger" not in picker
    assert reverse("marketplace:listing-from-lead", args=[crm.pk]) in picker
    form = signed_in.get(reverse("marketplace:listing-from-lead", args=[crm.pk]))
    assert form.status_code == 200 and form.context["form"].initial["title"].startswith("CTO")

    response = signed_in.post(
        reverse("marketplace:listing-from-lead", args=[crm.pk]),
        {"title": "CTO at the Navy", "price": "80", "exclusive": "on", "max_sales": "1"},
    )

    assert response.status_code == 302
    listing = Listing.objects.get()
    assert listing.lead_id != crm.pk and listing.lead.email == "grace@navy.com" and listing.lead.is_inventory
    crm.refresh_from_db()
    assert not crm.is_inventory and crm.source == Lead.Source.MANUAL


def test_another_organizations_lead_is_not_found(signed_in):
    theirs = LeadFactory()

    assert signed_in.get(reverse("marketplace:listing-from-lead", args=[theirs.pk])).status_code == 404


# --- Edit and withdraw ----------------------------------------------------------------------------


def test_the_vendor_edits_the_price_and_description(signed_in, vendor):
    listing = ListingFactory(vendor=vendor.organization)
    page = signed_in.get(reverse("marketplace:listing-edit", args=[listing.pk]))
    assert page.status_code == 200 and page.context["form"].initial["price"] == Decimal("25.00")

    response = signed_in.post(
        reverse("marketplace:listing-edit", args=[listing.pk]),
        {"title": listing.title, "description": "Now with a direct line.", "industry": "Software", "price": "32.50"},
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert (listing.price, listing.description) == (Decimal("32.50"), "Now with a direct line.")


def test_a_sold_listing_cannot_be_edited(signed_in, vendor):
    listing = ListingFactory(vendor=vendor.organization, exclusive=False, max_sales=2, sold_count=1)

    response = signed_in.post(
        reverse("marketplace:listing-edit", args=[listing.pk]),
        {"title": listing.title, "description": "", "industry": "", "price": "1"},
    )

    assert response.status_code == 409
    listing.refresh_from_db()
    assert listing.price == Decimal("25.00")


def test_another_vendors_listing_is_not_found(signed_in):
    theirs = ListingFactory()

    assert signed_in.get(reverse("marketplace:listing-edit", args=[theirs.pk])).status_code == 404
    assert signed_in.post(reverse("marketplace:listing-withdraw", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "available"


def test_withdraw_asks_first_then_takes_the_listing_off_sale(signed_in, vendor):
    listing = ListingFactory(vendor=vendor.organization)

    page = signed_in.get(reverse("marketplace:listing-withdraw", args=[listing.pk]))
    assert page.status_code == 200 and b"Withdraw it" in page.content
    response = signed_in.post(reverse("marketplace:listing-withdraw", args=[listing.pk]), follow=True)

    listing.refresh_from_db()
    assert listing.status == "withdrawn"
    assert "was withdrawn from sale" in response.content.decode()
