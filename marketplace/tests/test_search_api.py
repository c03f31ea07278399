"""`/api/search/goals/` and `/api/search/results/`: goals read into strategies and kept as
history, the catalog ranked by a goal (masked like the catalog, overridable by explicit
filters, keyset pages), who may use them, the quota, and query counts."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from marketplace.models import Listing, RevealLog, SearchGoal
from marketplace.tests.factories import ContactListingFactory, ListingFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

GOALS = "/api/search/goals/"
RESULTS = "/api/search/results/"
GOAL = "SaaS companies in California with 50+ employees under $120"


@pytest.fixture
def buyer(user):
    return user


@pytest.fixture
def catalog():
    """What the vocabulary is read from: software and retail listings in CA and TX."""
    return {
        "software_ca": ListingFactory(industry="Software", location="San Diego, CA", price=Decimal("90.00")),
        "retail_tx": ListingFactory(industry="Retail", location="Austin, TX", price=Decimal("40.00")),
    }


def _goal(client, goal=GOAL) -> dict:
    response = client.post(GOALS, {"goal": goal}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


# --- Goals ---------------------------------------------------------------------------------------


def test_a_buyer_reads_a_goal_into_a_strategy(auth_client, buyer, catalog):
    # When a buyer posts a goal in plain words
    body = _goal(auth_client)

    # Then it answers the strategy read from it, and keeps the goal
    assert body["goal"] == GOAL
    assert body["strategy"] == {
        "industries": ["Software"],
        "locations": ["CA"],
        "employee_min": 50,
        "employee_max": None,
        "price_max": "120.00",
        "keywords": [],
    }
    goal = SearchGoal.objects.get(pk=body["id"])
    assert goal.user == buyer and goal.organization == buyer.organization
    event = Event.objects.get(name="marketplace.search_goal.created")
    assert event.actor == buyer and event.subject_id == str(goal.pk) and event.data["goal"] == GOAL


def test_goals_are_kept_as_history_each_users_own(auth_client, buyer):
    # Given two goals of mine, and one of a colleague
    first = _goal(auth_client, "retail in Texas")
    second = _goal(auth_client, "fintech startups")
    colleague = UserFactory(organization=buyer.organization)
    theirs = _goal(bearer_client(colleague), "healthcare in Ohio")

    # Then my history lists mine, newest first
    body = auth_client.get(GOALS).json()
    assert [goal["id"] for goal in body["results"]] == [second["id"], first["id"]]
    assert auth_client.get(f"{GOALS}{first['id']}/").json()["goal"] == "retail in Texas"
    # And a colleague's goal, or its results, is not found
    assert_error(auth_client.get(f"{GOALS}{theirs['id']}/"), 404, "not_found")
    assert_error(auth_client.get(RESULTS, {"goal": theirs["id"]}), 404, "not_found")


def test_a_goal_must_say_something(auth_client):
    assert_error(auth_client.post(GOALS, {"goal": "   "}, format="json"), 400, "validation_error")
    assert_error(auth_client.post(GOALS, {}, format="json"), 400, "validation_error")
    assert_error(auth_client.post(GOALS, {"goal": "x" * 501}, format="json"), 400, "validation_error")
    assert not SearchGoal.objects.exists()


def test_goals_count_against_the_daily_quota(auth_client, settings):
    # Given a quota of two goals a day
    settings.QUOTAS = {**settings.QUOTAS, "search_goals": "2/day"}
    # A refused goal does not count
    assert_error(auth_client.post(GOALS, {"goal": ""}, format="json"), 400, "validation_error")
    _goal(auth_client, "retail")
    _goal(auth_client, "software")

    # When a third is posted
    response = auth_client.post(GOALS, {"goal": "healthcare"}, format="json")

    # Then it is refused with 429 and when to come back
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert SearchGoal.objects.count() == 2


@pytest.mark.parametrize("role", [User.Role.MANAGEMENT, User.Role.SALES_MANAGER, User.Role.SALES_REP])
def test_every_role_of_a_buyer_organization_searches_by_goal(role):
    client = bearer_client(UserFactory(role=role))
    goal = _goal(client, "retail in Texas")
    assert client.get(RESULTS, {"goal": goal["id"]}).status_code == 200


def test_staff_search_by_goal():
    _goal(bearer_client(StaffUserFactory()), "retail in Texas")


def test_who_may_not_search_by_goal(api_client, buyer):
    # A sub-user without the right to buy, and a member of an organization that only sells
    no_buy = SubUserFactory(parent=buyer, permissions={"can_buy": False})
    seller = UserFactory(organization=OrganizationFactory(is_buyer=False, is_vendor=True))
    for member in (no_buy, seller):
        client = bearer_client(member)
        assert_error(client.post(GOALS, {"goal": "retail"}, format="json"), 403, "permission_denied")
        assert_error(client.get(GOALS), 403, "permission_denied")
    # Anonymous visitors sign in first
    assert_error(api_client.post(GOALS, {"goal": "retail"}, format="json"), 401, "not_authenticated")
    assert_error(api_client.get(GOALS), 401, "not_authenticated")
    assert_error(api_client.get(RESULTS, {"goal": 1}), 401, "not_authenticated")
    assert not SearchGoal.objects.exists()


def test_the_strategy_is_editable(auth_client, buyer, catalog):
    goal = _goal(auth_client)

    # When the buyer changes parts of it
    response = auth_client.patch(
        f"{GOALS}{goal['id']}/", {"strategy": {"locations": ["TX"], "price_max": None}}, format="json"
    )

    # Then only those parts change, and the change is recorded from → to
    assert response.status_code == 200, response.content
    strategy = response.json()["strategy"]
    assert strategy["locations"] == ["TX"] and strategy["price_max"] is None
    assert strategy["industries"] == ["Software"] and strategy["employee_min"] == 50
    event = Event.objects.get(name="marketplace.search_goal.refined")
    assert event.data["from"]["locations"] == ["CA"] and event.data["to"]["locations"] == ["TX"]
    assert SearchGoal.objects.get(pk=goal["id"]).goal == GOAL


def test_an_edited_strategy_is_checked(auth_client):
    goal = _goal(auth_client)
    url = f"{GOALS}{goal['id']}/"
    assert_error(
        auth_client.patch(url, {"strategy": {"employee_min": 500, "employee_max": 10}}, format="json"),
        400,
        "validation_error",
    )
    assert_error(auth_client.patch(url, {"strategy": {"price_max": "-1"}}, format="json"), 400, "validation_error")
    assert_error(auth_client.patch(url, {"strategy": {"keywords": ["x"] * 11}}, format="json"), 400, "validation_error")
    assert_error(auth_client.put(url, {"strategy": {}}, format="json"), 405, "method_not_allowed")


# --- Results -------------------------------------------------------------------------------------


def test_results_rank_listings_matching_more_of_the_strategy_first(auth_client, catalog):
    # Given listings matching all of the goal, part of it, or none of it
    everything = ListingFactory(
        industry="Software", location="Fresno, CA", employee_count=80, price=Decimal("100.00"), lead_score=40
    )
    three = ListingFactory(industry="Software", location="Fresno, CA", employee_count=10, lead_score=70)
    one = ListingFactory(industry="Software", location="Austin, TX", employee_count=10, price=Decimal("500.00"))
    one.lead_score = 95
    one.save()
    nothing = ListingFactory(industry="Mining", location="Elko, NV", employee_count=5, price=Decimal("900.00"))
    pending = ListingFactory(
        industry="Software", location="Fresno, CA", approval_status=Listing.ApprovalStatus.PENDING, price=Decimal("5")
    )
    goal = _goal(auth_client)

    # When the results are read
    response = auth_client.get(RESULTS, {"goal": goal["id"]})

    # Then the listings matching more come first, then the better scored; unmatched and
    # pending listings are not there
    ids = _ids(response)
    assert ids.index(everything.pk) < ids.index(three.pk) < ids.index(one.pk)
    assert nothing.pk not in ids and pending.pk not in ids
    results = {item["id"]: item for item in response.json()["results"]}
    assert results[everything.pk]["relevance"] == 4
    assert results[everything.pk]["matched"] == ["industries", "locations", "employees", "price_max"]
    assert results[three.pk]["matched"] == ["industries", "locations", "price_max"]
    assert results[one.pk]["relevance"] == 1
    body = response.json()
    assert body["goal"] == {"id": goal["id"], "goal": GOAL}
    assert body["strategy"] == goal["strategy"] and body["overridden"] == []


def test_explicit_catalog_filters_override_the_strategy(auth_client, catalog):
    # Given a goal for software in CA, and a retail listing in CA
    retail_ca = ListingFactory(industry="Retail", location="Fresno, CA", price=Decimal("30.00"))
    goal = _goal(auth_client)

    # When an explicit industry filter is given
    response = auth_client.get(RESULTS, {"goal": goal["id"], "industry": "Retail"})

    # Then it replaces the strategy's industries: only retail listings, ranked by the rest
    ids = _ids(response)
    assert ids[0] == retail_ca.pk and set(ids) == {retail_ca.pk, catalog["retail_tx"].pk}
    body = response.json()
    assert body["overridden"] == ["industries"] and body["strategy"]["industries"] == []
    # And filters the strategy does not name narrow it
    assert _ids(auth_client.get(RESULTS, {"goal": goal["id"], "price_min": "50"})) == [catalog["software_ca"].pk]


def test_results_check_their_query(auth_client):
    goal = _goal(auth_client)
    assert_error(auth_client.get(RESULTS), 400, "validation_error")
    assert_error(auth_client.get(RESULTS, {"goal": "abc"}), 400, "validation_error")
    assert_error(auth_client.get(RESULTS, {"goal": 10**30}), 400, "validation_error")
    assert_error(auth_client.get(RESULTS, {"goal": goal["id"], "min_score": "500"}), 400, "validation_error")
    assert_error(auth_client.get(RESULTS, {"goal": goal["id"], "cursor": "garbage"}), 404, "not_found")


def test_results_are_masked_like_the_catalog(auth_client, buyer):
    # Given two matching listings, one of them bought by the buyer's organization
    masked = ContactListingFactory(location="Fresno, CA", lead_score=90)
    bought = ContactListingFactory(location="Fresno, CA", lead_score=80)
    PurchaseFactory(listing=bought, buyer=buyer.organization)
    goal = _goal(auth_client, "software in CA")

    results = {item["id"]: item for item in auth_client.get(RESULTS, {"goal": goal["id"]}).json()["results"]}

    # Then the one not bought is masked in every contact field; the bought one is revealed and logged
    assert {name: results[masked.pk][name] for name in _CONTACTS} == {
        "company_name": "A*** Inc.",
        "website": "a***.com",
        "contact_name": "J*** S***",
        "contact_email": "j***@a***.com",
        "contact_phone": "+1 ***-***-4567",
    }
    assert results[masked.pk]["is_masked"] is True and results[masked.pk]["is_purchased"] is False
    assert results[bought.pk]["contact_email"] == "jane@acme.com" and results[bought.pk]["is_masked"] is False
    assert list(RevealLog.objects.values_list("listing_id", "user_id", "context")) == [(bought.pk, buyer.pk, "api")]


_CONTACTS = ("company_name", "website", "contact_name", "contact_email", "contact_phone")


def test_results_page_by_cursor_without_skipping_or_repeating(auth_client):
    # Given seven matching listings
    listings = [ListingFactory(location="Fresno, CA", lead_score=score) for score in (90, 80, 80, 70, 60, 50, 40)]
    goal = _goal(auth_client, "software in CA")

    # When the results are read two at a time, forwards then backwards
    seen, pages, url, params = [], [], RESULTS, {"goal": goal["id"], "page_size": 2}
    while url:
        body = auth_client.get(url, params).json()
        pages.append(body)
        seen += [item["id"] for item in body["results"]]
        url, params = body["next"], None

    # Then every listing shows once, best first (ties: the newer first)
    assert seen == [listing.pk for listing in sorted(listings, key=lambda item: (-item.lead_score, -item.pk))]
    assert len(pages) == 4
    back = auth_client.get(pages[-1]["previous"]).json()
    assert [item["id"] for item in back["results"]] == seen[4:6]


def test_results_query_count_does_not_grow_with_the_page(auth_client):
    for _ in range(12):
        ListingFactory(location="Fresno, CA")
    goal = _goal(auth_client, "software in CA")

    with CaptureQueriesContext(connection) as few:
        assert len(_ids(auth_client.get(RESULTS, {"goal": goal["id"], "page_size": 3}))) == 3
    with CaptureQueriesContext(connection) as many:
        assert len(_ids(auth_client.get(RESULTS, {"goal": goal["id"], "page_size": 12}))) == 12
    assert len(many) == len(few)


def test_results_neither_skip_nor_repeat_while_listings_are_approved_between_pages(auth_client, staff_user):
    # Given six matching listings, read two at a time
    from marketplace.services.listings import listing_approve

    listings = [ListingFactory(location="Fresno, CA", lead_score=score) for score in (90, 80, 70, 60, 50, 40)]
    goal = _goal(auth_client, "software in CA")
    first = auth_client.get(RESULTS, {"goal": goal["id"], "page_size": 2}).json()
    seen = [item["id"] for item in first["results"]]

    # When better, middling and worse matches are approved before the next pages are read
    for score in (99, 65, 10):
        waiting = ListingFactory(
            location="Fresno, CA", lead_score=score, approval_status=Listing.ApprovalStatus.PENDING
        )
        listing_approve(actor=staff_user, listing_id=waiting.pk)
    url = first["next"]
    while url:
        body = auth_client.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url = body["next"]

    # Then no listing shows twice, and none of those listed from the start is skipped
    assert len(seen) == len(set(seen))
    assert {listing.pk for listing in listings} <= set(seen)
