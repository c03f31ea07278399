"""The goal search page and the saved search pages: a goal read into chips above ranked,
masked results; chips removed (htmx or a plain post) and the strategy edited by hand; the
catalog's "Save this search"; a saved search's list, new matches, edit and delete; who may."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import PASSWORD, StaffUserFactory, SubUserFactory, UserFactory
from marketplace.models import SavedSearch, SearchGoal
from marketplace.services.listings import listing_approve
from marketplace.tests.factories import (
    ContactListingFactory,
    ListingFactory,
    PendingListingFactory,
    SavedSearchFactory,
    VendorUserFactory,
)

pytestmark = pytest.mark.django_db

SEARCH = reverse("marketplace:search")
SAVED = reverse("marketplace:saved-searches")
CATALOG = reverse("marketplace:catalog")
GOAL = "Software companies in California under $100"


@pytest.fixture
def signed_in(client, buyer):
    client.login(email=buyer.email, password=PASSWORD)
    return client


@pytest.fixture
def catalog():
    return {
        "match": ContactListingFactory(industry="Software", location="San Diego, CA", price=Decimal("80.00")),
        "too_dear": ListingFactory(industry="Software", location="Fresno, CA", price=Decimal("150.00")),
        "elsewhere": ListingFactory(industry="Retail", location="Austin, TX", price=Decimal("40.00")),
    }


def _sign_in(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def _card_ids(response) -> list[int]:
    return [listing.pk for listing in response.context["listings"]]


# --- Goal search ----------------------------------------------------------------------------------


def test_a_goal_is_read_into_chips_above_ranked_masked_results(signed_in, buyer, catalog):
    # when the buyer types a goal
    response = signed_in.post(SEARCH, {"goal": GOAL})

    # then it is kept and its results open, the best match first, contacts masked
    goal = SearchGoal.objects.get(user=buyer)
    assert response.status_code == 302 and response["Location"] == f"{SEARCH}?goal={goal.pk}"
    page = signed_in.get(response["Location"])
    assert page.status_code == 200
    assert [chip["label"] for chip in page.context["chips"]] == ["Software", "in CA", "up to 100.00"]
    assert _card_ids(page)[0] == catalog["match"].pk
    html = page.content.decode()
    assert "J*** S***" in html and "j***@a***.com" in html
    assert "jane@acme.com" not in html and "Acme Inc." not in html
    # and the goal is in the recent goals, in the box again
    assert [recent.pk for recent in page.context["recent_goals"]] == [goal.pk]
    assert page.context["form"].initial == {"goal": GOAL}


def test_an_empty_goal_is_a_form_error(signed_in, buyer):
    response = signed_in.post(SEARCH, {"goal": "   "})

    assert response.status_code == 400
    assert response.context["form"].errors["goal"]
    assert not SearchGoal.objects.filter(user=buyer).exists()


def test_removing_a_chip_widens_the_results_in_place(signed_in, buyer, catalog):
    signed_in.post(SEARCH, {"goal": GOAL})
    goal = SearchGoal.objects.get(user=buyer)
    remove = reverse("marketplace:search-chip-remove", args=[goal.pk])

    # when the price chip is removed with htmx
    response = signed_in.post(remove, {"part": "price_max", "value": ""}, HTTP_HX_REQUEST="true", follow=True)

    # then only the results part comes back, without the price limit
    assert response.status_code == 200
    assert response.templates[0].name == "marketplace/search/partials/results.html"
    assert [chip["label"] for chip in response.context["chips"]] == ["Software", "in CA"]
    assert catalog["too_dear"].pk in _card_ids(response)
    goal.refresh_from_db()
    assert goal.strategy["price_max"] is None

    # and without JavaScript the whole page reloads
    response = signed_in.post(remove, {"part": "locations", "value": "CA"})
    assert response.status_code == 302 and response["Location"] == f"{SEARCH}?goal={goal.pk}"
    assert SearchGoal.objects.get(pk=goal.pk).strategy["locations"] == []


def test_the_strategy_is_edited_by_hand_and_checked(signed_in, buyer, catalog):
    signed_in.post(SEARCH, {"goal": GOAL})
    goal = SearchGoal.objects.get(user=buyer)
    edit = reverse("marketplace:search-strategy", args=[goal.pk])

    response = signed_in.post(edit, {"industries": "Retail", "locations": "TX", "price_max": "50"})

    assert response.status_code == 302
    page = signed_in.get(response["Location"])
    assert _card_ids(page)[0] == catalog["elsewhere"].pk
    # a price that is not one stays on the page with its error, the strategy unchanged
    response = signed_in.post(edit, {"industries": "Retail", "price_max": "-5"})
    assert response.status_code == 400
    assert response.context["strategy_form"].errors
    assert SearchGoal.objects.get(pk=goal.pk).strategy["price_max"] == "50.00"


def test_the_goal_page_query_count_does_not_grow_with_the_results(signed_in, buyer):
    ListingFactory(industry="Software", location="Austin, TX")
    signed_in.post(SEARCH, {"goal": "software in Texas"})
    url = f"{SEARCH}?goal={SearchGoal.objects.get(user=buyer).pk}"
    with CaptureQueriesContext(connection) as few:
        signed_in.get(url)
    for _ in range(15):
        ListingFactory(industry="Software", location="Austin, TX")

    with CaptureQueriesContext(connection) as many:
        response = signed_in.get(url)

    assert len(response.context["listings"]) == 16
    assert len(many) == len(few)


def test_who_may_not_use_goal_search(client, buyer, catalog):
    signed_in_goal = SearchGoal.objects.create(user=buyer, organization=buyer.organization, goal="x", strategy={})
    # anonymous visitors are asked to sign in
    response = client.get(SEARCH)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    # a vendor-only organization, and a sub-user who may not buy, are refused
    for user in (VendorUserFactory(), SubUserFactory(parent=buyer, permissions={"can_buy": False})):
        _sign_in(client, user)
        assert client.get(SEARCH).status_code == 403
        assert client.post(SEARCH, {"goal": GOAL}).status_code == 403
    # another member's goal is not found
    _sign_in(client, UserFactory(organization=buyer.organization))
    assert client.get(f"{SEARCH}?goal={signed_in_goal.pk}").status_code == 404
    chip = reverse("marketplace:search-chip-remove", args=[signed_in_goal.pk])
    assert client.post(chip, {"part": "keywords", "value": "x"}).status_code == 404


# --- Saving a search from the catalog ------------------------------------------------------------


def test_the_catalog_offers_to_save_its_filters_to_buyers_only(client, buyer):
    ListingFactory()
    query = {"industry": "Software", "location": "CA", "price_max": "100"}

    assert "save-search-form" not in client.get(CATALOG, query).content.decode()
    _sign_in(client, VendorUserFactory())
    assert "save-search-form" not in client.get(CATALOG, query).content.decode()
    _sign_in(client, buyer)
    html = client.get(CATALOG, query).content.decode()
    assert 'data-testid="save-search-form"' in html
    assert 'value="industry=Software&amp;location=CA&amp;price_max=100"' in html
    assert reverse("marketplace:search") in html and SAVED in html


def test_a_buyer_saves_the_catalog_filters(signed_in, buyer):
    response = signed_in.post(
        reverse("marketplace:saved-search-new"),
        {"name": "Software in CA", "query": "industry=Software&location=CA&price_max=100&cursor=abc", "notify": "on"},
    )

    assert response.status_code == 302 and response["Location"] == SAVED
    saved = SavedSearch.objects.get(user=buyer)
    assert saved.name == "Software in CA" and saved.notify
    assert saved.filters == {"industry": ["Software"], "location": ["CA"], "price_max": "100"}
    listed = signed_in.get(SAVED)
    assert [s.pk for s in listed.context["saved_searches"]] == [saved.pk]
    assert "Industry: Software · Location: CA · Price up to: 100" in listed.content.decode()


def test_saving_checks_the_name_and_the_filters(signed_in, buyer):
    new = reverse("marketplace:saved-search-new")

    assert signed_in.post(new, {"name": "", "query": "industry=Software"}).status_code == 400
    response = signed_in.post(new, {"name": "Bad", "query": "price_max=lots"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert not SavedSearch.objects.filter(user=buyer).exists()


# --- A saved search -------------------------------------------------------------------------------


def test_a_saved_search_shows_its_new_matches_once(signed_in, buyer):
    saved = SavedSearchFactory(user=buyer, filters={"industry": ["Software"]})
    staff = StaffUserFactory()
    new, other = PendingListingFactory(industry="Software"), PendingListingFactory(industry="Retail")
    for listing in (new, other):
        listing_approve(actor=staff, listing_id=listing.pk)

    assert "1 new" in signed_in.get(SAVED).content.decode()
    first = signed_in.get(reverse("marketplace:saved-search", args=[saved.pk]))
    assert first.status_code == 200 and _card_ids(first) == [new.pk]
    second = signed_in.get(reverse("marketplace:saved-search", args=[saved.pk]))
    assert _card_ids(second) == []
    assert "Nothing new since then" in second.content.decode()


def test_a_saved_search_is_edited_and_deleted(signed_in, buyer):
    saved = SavedSearchFactory(user=buyer, name="Old name", filters={"industry": ["Software"]})
    edit = reverse("marketplace:saved-search-edit", args=[saved.pk])

    assert signed_in.get(edit).context["filter_form"]["industry"].value() == "Software"
    response = signed_in.post(edit, {"name": "Retail in TX", "industry": "Retail", "location": "TX"})
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.notify, saved.filters) == (
        "Retail in TX",
        False,
        {"industry": ["Retail"], "location": ["TX"]},
    )
    # a filter that is not valid stays on the page, the search unchanged
    response = signed_in.post(edit, {"name": "Broken", "min_score": "500"})
    assert response.status_code == 400
    assert SavedSearch.objects.get(pk=saved.pk).name == "Retail in TX"

    delete = reverse("marketplace:saved-search-delete", args=[saved.pk])
    assert signed_in.get(delete).status_code == 200
    assert signed_in.post(delete).status_code == 302
    assert not SavedSearch.objects.filter(pk=saved.pk).exists()


def test_who_may_not_open_a_saved_search(client, buyer):
    saved = SavedSearchFactory(user=buyer)
    pages = [
        reverse("marketplace:saved-search", args=[saved.pk]),
        reverse("marketplace:saved-search-edit", args=[saved.pk]),
        reverse("marketplace:saved-search-delete", args=[saved.pk]),
    ]

    for url in [SAVED, *pages]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    _sign_in(client, VendorUserFactory())
    assert client.get(SAVED).status_code == 403
    # a colleague in the same organization does not see it
    _sign_in(client, UserFactory(organization=buyer.organization))
    for url in pages:
        assert client.get(url).status_code == 404
    assert client.post(pages[2]).status_code == 404
    assert SavedSearch.objects.filter(pk=saved.pk).exists()
