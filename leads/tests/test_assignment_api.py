"""`/api/assignment-rules/`: who may read and change rules, validation, events, query counts.

Decision: every member who may view leads reads the rules (reps see who gets what);
management and sales managers with `can_edit_leads` change them; everyone else gets 403."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import AssignmentRule
from leads.tests.factories import AssignmentRuleFactory

pytestmark = pytest.mark.django_db

URL = "/api/assignment-rules/"


def _url(rule) -> str:
    return f"{URL}{rule.pk}/"


@pytest.fixture
def org(user):
    return user.organization


@pytest.fixture
def reps(org):
    return [UserFactory(organization=org, role=User.Role.SALES_REP) for _ in range(2)]


def test_management_creates_a_round_robin_rule(auth_client, user, reps):
    # When management posts a rule
    response = auth_client.post(
        URL,
        {"name": "Website leads", "sources": ["form", "api"], "members": [r.pk for r in reps]},
        format="json",
    )

    # Then it is stored, answered in full and published
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Website leads"
    assert body["mode"] == "round_robin"
    assert body["sources"] == ["form", "api"]
    assert sorted(body["members"]) == sorted(r.pk for r in reps)
    assert body["is_active"] is True and body["fixed_user"] is None
    assert set(body) >= {"id", "priority", "last_assigned_user", "created_at"}
    event = Event.objects.get(name="leads.assignment_rule.created")
    assert event.actor == user and event.subject_id == str(body["id"])


def test_sales_manager_may_manage_rules(org, reps):
    manager = UserFactory(organization=org, role=User.Role.SALES_MANAGER)
    client = bearer_client(manager)

    created = client.post(URL, {"name": "Fixed", "mode": "fixed", "fixed_user": reps[0].pk}, format="json")
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    assert client.patch(f"{URL}{rule_id}/", {"is_active": False}, format="json").json()["is_active"] is False
    assert client.delete(f"{URL}{rule_id}/").status_code == 204
    assert not AssignmentRule.objects.exists()


def test_reps_read_the_rules_but_cannot_change_them(org, reps):
    # Given a rule and a rep
    rule = AssignmentRuleFactory(organization=org, members=reps)
    client = bearer_client(reps[0])

    # Then the rep reads it
    assert client.get(URL).json()["count"] == 1
    assert client.get(_url(rule)).json()["id"] == rule.pk

    # But every change is refused
    assert_error(client.post(URL, {"name": "Me", "mode": "fixed", "fixed_user": reps[0].pk}), 403, "permission_denied")
    assert_error(client.patch(_url(rule), {"is_active": False}, format="json"), 403, "permission_denied")
    assert_error(client.delete(_url(rule)), 403, "permission_denied")
    assert AssignmentRule.objects.get().is_active


def test_sub_users_follow_their_flags(org, user, reps):
    rule = AssignmentRuleFactory(organization=org, members=reps)
    blind = SubUserFactory(parent=user, role=User.Role.SALES_MANAGER, permissions={"can_view_leads": False})
    read_only = SubUserFactory(parent=user, role=User.Role.SALES_MANAGER, permissions={"can_edit_leads": False})
    editor = SubUserFactory(parent=user, role=User.Role.SALES_MANAGER, permissions={})

    # Without can_view_leads: nothing
    assert_error(bearer_client(blind).get(URL), 403, "permission_denied")
    assert_error(bearer_client(blind).get(_url(rule)), 403, "permission_denied")
    # Without can_edit_leads: read only
    assert bearer_client(read_only).get(URL).status_code == 200
    assert_error(bearer_client(read_only).patch(_url(rule), {"name": "X"}, format="json"), 403, "permission_denied")
    # A sales manager sub-user with the default flags manages them
    assert bearer_client(editor).patch(_url(rule), {"name": "Renamed"}, format="json").json()["name"] == "Renamed"


def test_another_organizations_rule_is_not_found(auth_client):
    other = AssignmentRuleFactory(members=[UserFactory()])

    assert auth_client.get(URL).json()["count"] == 0
    assert_error(auth_client.get(_url(other)), 404, "not_found")
    assert_error(auth_client.patch(_url(other), {"name": "Mine"}, format="json"), 404, "not_found")
    assert_error(auth_client.delete(_url(other)), 404, "not_found")
    assert AssignmentRule.objects.get().name == other.name


def test_anonymous_is_refused(api_client, org):
    rule = AssignmentRuleFactory(organization=org)
    assert_error(api_client.get(URL), 401, "not_authenticated")
    assert_error(api_client.post(URL, {"name": "X"}), 401, "not_authenticated")
    assert_error(api_client.delete(_url(rule)), 401, "not_authenticated")


def test_members_from_another_organization_are_a_validation_error(auth_client, reps):
    stranger = UserFactory()

    error = assert_error(
        auth_client.post(URL, {"name": "R", "members": [reps[0].pk, stranger.pk]}, format="json"),
        400,
        "validation_error",
    )
    assert "members" in error["details"]
    error = assert_error(
        auth_client.post(URL, {"name": "R", "mode": "fixed", "fixed_user": stranger.pk}, format="json"),
        400,
        "validation_error",
    )
    assert "fixed_user" in error["details"]
    assert not AssignmentRule.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "R", "mode": "fixed"}, "fixed_user"),
        ({"name": "R"}, "members"),
        ({"name": "R", "members": [], "sources": ["listing"]}, "sources"),
        ({"name": "R", "mode": "sometimes"}, "mode"),
        ({"name": "R", "priority": -1}, "priority"),
    ],
)
def test_invalid_rules_say_what_is_wrong(auth_client, body, field):
    error = assert_error(auth_client.post(URL, body, format="json"), 400, "validation_error")
    assert field in error["details"], error


def test_patch_reorders_and_switches_rules_and_records_the_change(auth_client, user, org, reps):
    rule = AssignmentRuleFactory(organization=org, members=reps, priority=50)

    response = auth_client.patch(_url(rule), {"priority": 5, "is_active": False}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["priority"], response.json()["is_active"]) == (5, False)
    event = Event.objects.get(name="leads.assignment_rule.updated")
    assert event.data == {"changes": {"priority": [50, 5], "is_active": [True, False]}}
    assert event.actor == user


def test_delete_publishes_the_rule_it_removed(auth_client, org, reps):
    rule = AssignmentRuleFactory(organization=org, members=reps)

    assert auth_client.delete(_url(rule)).status_code == 204

    event = Event.objects.get(name="leads.assignment_rule.deleted")
    assert event.subject_id == str(rule.pk)
    assert event.data["members"] == sorted(r.pk for r in reps)


def test_list_queries_do_not_grow_with_rules_or_page_size(auth_client, org, reps, django_assert_num_queries):
    # Given a few rules, counted once
    for _ in range(2):
        AssignmentRuleFactory(organization=org, members=reps)
    with CaptureQueriesContext(connection) as few:
        auth_client.get(URL, {"page_size": 2})
    baseline = len(few)

    # When there are many more rules, each with members, and a bigger page
    for _ in range(15):
        AssignmentRuleFactory(organization=org, members=reps)
    with django_assert_num_queries(baseline):
        body = auth_client.get(URL, {"page_size": 50}).json()

    # Then the same number of queries served them all
    assert body["count"] == 17 and len(body["results"]) == 17
