"""`/api/marketplace/saved-searches/`: saving catalog filters, each member's own searches,
their new matches since the last visit, who may use them, and query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from marketplace.models import SavedSearch, SavedSearchMatch
from marketplace.services.listings import listing_approve
from marketplace.services.saved_searches import MAX_SAVED_SEARCHES
from marketplace.tests.factories import ContactListingFactory, PendingListingFactory, SavedSearchFactory

pytestmark = pytest.mark.django_db

URL = "/api/marketplace/saved-searches/"
FILTERS = {"industry": ["Software"], "location": ["CA"], "price_max": "100", "exclusive": True, "search": "cto"}


def _url(saved_search, suffix="") -> str:
    pk = saved_search if isinstance(saved_search, int) else saved_search.pk
    return f"{URL}{pk}/{suffix}"


def _approved(staff_user, **fields):
    listing = PendingListingFactory(**fields)
    listing_approve(actor=staff_user, listing_id=listing.pk)
    return listing


def test_a_buyer_saves_catalog_filters(auth_client, user):
    # When a buyer saves filters
    response = auth_client.post(URL, {"name": "SaaS CTOs in CA", "filters": FILTERS}, format="json")

    # Then the search is stored as the catalog reads them, and answered typed
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "SaaS CTOs in CA" and body["notify"] is True and body["new_matches"] == 0
    assert body["filters"] == {
        "industry": ["Software"],
        "location": ["CA"],
        "price_max": "100.00",
        "exclusive": True,
        "search": "cto",
    }
    assert body["query"] == "industry=Software&location=CA&price_max=100.00&exclusive=true&search=cto"
    saved = SavedSearch.objects.get(pk=body["id"])
    assert saved.user == user and saved.organization == user.organization
    assert saved.filters == {
        "industry": ["Software"],
        "location": ["CA"],
        "price_max": "100.00",
        "exclusive": "true",
        "search": "cto",
    }
    event = Event.objects.get(name="marketplace.saved_search.created")
    assert event.actor == user and event.subject_id == str(saved.pk)


def test_saved_filters_are_checked(auth_client):
    for filters in ({"min_score": 500}, {"location": ["x"] * 11}, {"ordering": "nonsense"}, {"price_min": "abc"}):
        assert_error(auth_client.post(URL, {"name": "Bad", "filters": filters}, format="json"), 400, "validation_error")
    assert_error(auth_client.post(URL, {"name": "", "filters": {}}, format="json"), 400, "validation_error")
    assert not SavedSearch.objects.exists()


def test_a_member_keeps_at_most_so_many_saved_searches(auth_client, user):
    SavedSearchFactory.create_batch(MAX_SAVED_SEARCHES, user=user)
    assert_error(auth_client.post(URL, {"name": "One more"}, format="json"), 409, "conflict")


def test_each_member_sees_and_changes_only_their_own(auth_client, user):
    # Given my saved search, a colleague's and another organization's member's
    mine = SavedSearchFactory(user=user)
    colleague = SavedSearchFactory(user=UserFactory(organization=user.organization))
    stranger = SavedSearchFactory()

    # Then I list mine only
    assert [item["id"] for item in auth_client.get(URL).json()["results"]] == [mine.pk]
    assert auth_client.get(_url(mine)).json()["name"] == mine.name
    # And the others are not found, whatever I try
    for other in (colleague, stranger):
        assert_error(auth_client.get(_url(other)), 404, "not_found")
        assert_error(auth_client.patch(_url(other), {"name": "Mine now"}, format="json"), 404, "not_found")
        assert_error(auth_client.delete(_url(other)), 404, "not_found")
        assert_error(auth_client.get(_url(other, "matches/")), 404, "not_found")
        assert_error(auth_client.post(_url(other, "viewed/")), 404, "not_found")
    assert SavedSearch.objects.count() == 3


def test_a_saved_search_is_renamed_refiltered_silenced_and_deleted(auth_client, user):
    saved = SavedSearchFactory(user=user, name="Old", filters={"industry": ["Software"]})

    # When it is changed
    response = auth_client.patch(
        _url(saved), {"name": "New", "filters": {"location": ["TX"]}, "notify": False}, format="json"
    )

    # Then the changes hold, and are recorded from → to
    assert response.status_code == 200, response.content
    assert response.json()["filters"] == {"location": ["TX"]} and response.json()["notify"] is False
    saved.refresh_from_db()
    assert (saved.name, saved.filters, saved.notify) == ("New", {"location": ["TX"]}, False)
    event = Event.objects.get(name="marketplace.saved_search.updated")
    assert event.data["name"] == {"from": "Old", "to": "New"}
    assert event.data["filters"] == {"from": {"industry": ["Software"]}, "to": {"location": ["TX"]}}

    # And it is deleted
    assert auth_client.delete(_url(saved)).status_code == 204
    assert not SavedSearch.objects.exists()
    assert Event.objects.filter(name="marketplace.saved_search.deleted", subject_id=str(saved.pk)).exists()


@pytest.mark.parametrize("role", [User.Role.MANAGEMENT, User.Role.SALES_MANAGER, User.Role.SALES_REP])
def test_every_role_of_a_buyer_organization_saves_searches(role):
    client = bearer_client(UserFactory(role=role))
    created = client.post(URL, {"name": "Mine", "filters": {"industry": ["Retail"]}}, format="json")
    assert created.status_code == 201, created.content
    assert client.get(URL).json()["count"] == 1
    assert client.delete(_url(created.json()["id"])).status_code == 204


def test_who_may_not_save_searches(api_client, user):
    no_buy = SubUserFactory(parent=user, permissions={"can_buy": False})
    seller = UserFactory(organization=OrganizationFactory(is_buyer=False, is_vendor=True))
    for member in (no_buy, seller):
        client = bearer_client(member)
        assert_error(client.get(URL), 403, "permission_denied")
        assert_error(client.post(URL, {"name": "Nope"}, format="json"), 403, "permission_denied")
    # Even their own earlier searches, once the right is gone
    old = SavedSearchFactory(user=no_buy)
    assert_error(bearer_client(no_buy).get(_url(old)), 403, "permission_denied")
    assert_error(api_client.get(URL), 401, "not_authenticated")
    assert_error(api_client.post(URL, {"name": "Nope"}, format="json"), 401, "not_authenticated")
    assert_error(api_client.get(_url(old)), 401, "not_authenticated")


def test_new_matches_since_the_last_visit(auth_client, user, staff_user):
    # Given a saved search, and two listings approved since it was saved
    saved = SavedSearchFactory(user=user, filters={"industry": ["Software"]})
    first = _approved(staff_user, industry="Software")
    second = _approved(staff_user, industry="Software")
    _approved(staff_user, industry="Retail")

    # Then it counts two new matches, and lists them newest first
    assert auth_client.get(_url(saved)).json()["new_matches"] == 2
    matches = auth_client.get(_url(saved, "matches/")).json()
    assert [item["listing"]["id"] for item in matches["results"]] == [second.pk, first.pk]
    assert all(item["is_new"] for item in matches["results"])
    assert matches["results"][0]["listing"]["is_masked"] is True

    # When the buyer marks it visited, and one more listing is approved
    assert auth_client.post(_url(saved, "viewed/")).json()["new_matches"] == 0
    third = _approved(staff_user, industry="Software")

    # Then only that one is new
    assert auth_client.get(_url(saved)).json()["new_matches"] == 1
    new = auth_client.get(_url(saved, "matches/"), {"new": "true"}).json()
    assert [item["listing"]["id"] for item in new["results"]] == [third.pk]
    everything = auth_client.get(_url(saved, "matches/")).json()["results"]
    assert [item["is_new"] for item in everything] == [True, False, False]


def test_matches_that_left_the_catalog_are_not_counted(auth_client, user, staff_user):
    saved = SavedSearchFactory(user=user)
    listing = _approved(staff_user, industry="Software")
    listing.status = listing.Status.WITHDRAWN
    listing.save()
    assert SavedSearchMatch.objects.filter(saved_search=saved).count() == 1
    assert auth_client.get(_url(saved)).json()["new_matches"] == 0
    assert auth_client.get(_url(saved, "matches/")).json()["results"] == []


def test_list_query_count_does_not_grow_with_the_number_of_searches(auth_client, user, staff_user):
    SavedSearchFactory.create_batch(2, user=user)
    _approved(staff_user, industry="Software")
    with CaptureQueriesContext(connection) as few:
        assert auth_client.get(URL).json()["count"] == 2
    SavedSearchFactory.create_batch(6, user=user)
    _approved(staff_user, industry="Software")
    with CaptureQueriesContext(connection) as many:
        body = auth_client.get(URL).json()
    assert body["count"] == 8 and len(many) == len(few)


def test_matches_query_count_does_not_grow_with_the_number_of_matches(auth_client, user, staff_user):
    saved = SavedSearchFactory(user=user)
    for _ in range(2):
        _approved(staff_user, industry="Software")
    with CaptureQueriesContext(connection) as few:
        assert len(auth_client.get(_url(saved, "matches/")).json()["results"]) == 2
    for _ in range(6):
        listing = PendingListingFactory(industry="Software")
        listing_approve(actor=staff_user, listing_id=listing.pk)
    ContactListingFactory()  # not matched: approved before the search knew of it
    with CaptureQueriesContext(connection) as many:
        assert len(auth_client.get(_url(saved, "matches/")).json()["results"]) == 8
    assert len(many) == len(few)
