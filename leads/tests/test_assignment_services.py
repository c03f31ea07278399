"""Picking the assignee of new leads: rule order, sources, round-robin turns, fixed users."""

from collections import Counter

import pytest

from accounts.models import User
from accounts.tests.factories import OrganizationFactory, UserFactory
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leads.models import AssignmentRule, Lead
from leads.services.assignment import (
    assignee_pick,
    assignees_pick,
    assignment_rule_create,
    assignment_rule_delete,
    assignment_rule_move,
    assignment_rule_update,
)
from leads.services.records import lead_create
from leads.tests.factories import AssignmentRuleFactory
from notifications.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory()


def _team(org, count):
    return sorted((UserFactory(organization=org, role=User.Role.SALES_REP) for _ in range(count)), key=lambda u: u.pk)


def _picks(org, count, source=Lead.Source.API):
    return [assignee_pick(organization_id=org.pk, source=source) for _ in range(count)]


def test_round_robin_deals_in_turn_and_evenly(org):
    # Given a round-robin rule over three reps
    reps = _team(org, 3)
    AssignmentRuleFactory(organization=org, members=reps)

    # When nine leads are assigned
    picked = _picks(org, 9)

    # Then they go a, b, c, a, b, c... three each
    assert picked == reps * 3
    assert AssignmentRule.objects.get().last_assigned_user_id == reps[-1].pk


def test_round_robin_skips_deactivated_members_and_takes_them_back(org):
    # Given three reps, the middle one deactivated
    a, b, c = _team(org, 3)
    AssignmentRuleFactory(organization=org, members=[a, b, c])
    b.is_active = False
    b.save()

    # When four leads come in, then only the active members get them, evenly
    assert _picks(org, 4) == [a, c, a, c]

    # When b is back, the turn passes through b again
    b.is_active = True
    b.save()
    assert _picks(org, 3) == [a, b, c]


def test_round_robin_resumes_after_a_member_who_left_the_rule(org):
    # Given the last lead went to b, and b was then removed from the rule
    a, b, c = _team(org, 3)
    rule = AssignmentRuleFactory(organization=org, members=[a, b, c])
    assert _picks(org, 2) == [a, b]
    rule.members.remove(b)

    # When the next lead comes, then the turn goes on to the member after b, not back to a
    assert _picks(org, 2) == [c, a]


def test_round_robin_ignores_a_member_of_another_organization(org):
    # Given a rule whose members somehow include someone from another org
    a = _team(org, 1)[0]
    stranger = UserFactory()
    AssignmentRuleFactory(organization=org, members=[a, stranger])

    # Then only the org's own member is ever picked
    assert set(_picks(org, 4)) == {a}


def test_fixed_rule_gives_every_lead_to_its_user(org):
    owner = _team(org, 1)[0]
    AssignmentRuleFactory(organization=org, mode=AssignmentRule.Mode.FIXED, fixed_user=owner)

    assert _picks(org, 3) == [owner] * 3


def test_fixed_rule_with_a_deactivated_user_falls_through_to_the_next_rule(org):
    # Given a fixed rule first, whose user is deactivated, and a round-robin rule after it
    gone = UserFactory(organization=org, is_active=False)
    a, b = _team(org, 2)
    AssignmentRuleFactory(organization=org, priority=1, mode=AssignmentRule.Mode.FIXED, fixed_user=gone)
    AssignmentRuleFactory(organization=org, priority=2, members=[a, b])

    # Then the second rule decides
    assert _picks(org, 2) == [a, b]


def test_rules_apply_by_priority_and_source(org):
    # Given an import-only rule first and a catch-all rule after it
    importer, everyone = _team(org, 2)
    AssignmentRuleFactory(organization=org, priority=5, sources=["import"], members=[importer])
    AssignmentRuleFactory(organization=org, priority=50, mode="fixed", fixed_user=everyone)

    # Then imports go to the import rule, other sources to the catch-all
    assert assignee_pick(organization_id=org.pk, source="import") == importer
    assert assignee_pick(organization_id=org.pk, source="form") == everyone
    assert assignee_pick(organization_id=org.pk, source="marketplace") == everyone


def test_inactive_rules_and_rules_without_active_members_are_skipped(org):
    a, b = _team(org, 2)
    gone = UserFactory(organization=org, is_active=False)
    AssignmentRuleFactory(organization=org, priority=1, is_active=False, mode="fixed", fixed_user=a)
    AssignmentRuleFactory(organization=org, priority=2, members=[gone])
    AssignmentRuleFactory(organization=org, priority=3, mode="fixed", fixed_user=b)

    assert assignee_pick(organization_id=org.pk, source="api") == b


def test_no_rule_leaves_leads_unassigned(org):
    AssignmentRuleFactory(organization=OrganizationFactory(), members=_team(OrganizationFactory(), 1))

    assert assignee_pick(organization_id=org.pk, source="api") is None
    assert assignees_pick(organization_id=org.pk, source="import", count=3) == [None, None, None]


def test_a_batch_takes_its_turns_in_one_go(org, django_assert_max_num_queries):
    # Given a round-robin over three reps that already dealt one lead
    reps = _team(org, 3)
    AssignmentRuleFactory(organization=org, members=reps)
    assert _picks(org, 1) == [reps[0]]

    # When an import batch asks for 7 assignees, then they continue the turn, in a fixed
    # handful of queries (savepoint, rules, lock, members, position, users, release)
    with django_assert_max_num_queries(7):
        batch = assignees_pick(organization_id=org.pk, source="import", count=7)
    assert batch == [reps[1], reps[2], reps[0], reps[1], reps[2], reps[0], reps[1]]
    assert Counter(u.pk for u in [reps[0], *batch]) == {reps[0].pk: 3, reps[1].pk: 3, reps[2].pk: 2}

    # And the next single lead goes to the member after the batch's last
    assert _picks(org, 1) == [reps[2]]


def test_lead_create_assigns_by_the_rules_and_notifies_the_assignee(org):
    # Given a round-robin rule and a manager creating leads by the API
    manager = UserFactory(organization=org, role=User.Role.SALES_MANAGER)
    a, b = _team(org, 2)
    AssignmentRuleFactory(organization=org, members=[a, b])

    # When two leads are created
    first = lead_create(actor=manager, data={"email": "one@example.com"}, source="api").lead
    second = lead_create(actor=manager, data={"email": "two@example.com"}, source="api").lead

    # Then they are dealt in turn, and each assignee is told
    assert (first.assigned_to, second.assigned_to) == (a, b)
    assert Notification.objects.filter(user=a, title__contains="New lead assigned").count() == 1
    assert Notification.objects.filter(user=b).count() == 1


# --- Managing rules ----------------------------------------------------------------------------


def test_create_update_move_and_delete_publish_events(org):
    # Given a sales manager
    manager = UserFactory(organization=org, role=User.Role.SALES_MANAGER)
    a, b = _team(org, 2)

    # When they add two rules, change one, move it and delete it
    first = assignment_rule_create(actor=manager, name="Web", member_ids=[a.pk, b.pk], sources=["form"])
    second = assignment_rule_create(actor=manager, name="Imports", mode="fixed", fixed_user_id=a.pk)
    assignment_rule_update(actor=manager, rule_id=first.pk, changes={"is_active": False, "member_ids": [b.pk]})
    assignment_rule_move(actor=manager, rule_id=second.pk, direction="up")
    assignment_rule_delete(actor=manager, rule_id=first.pk)

    # Then new rules go last, the move reorders, and each change is an event with from → to
    assert (first.priority, second.priority) == (10, 20)
    assert list(AssignmentRule.objects.values_list("name", "priority")) == [("Imports", 10)]
    events = Event.objects.filter(name__startswith="leads.assignment_rule.").order_by("pk")
    assert [e.name for e in events] == [
        "leads.assignment_rule.created",
        "leads.assignment_rule.created",
        "leads.assignment_rule.updated",
        "leads.assignment_rule.updated",
        "leads.assignment_rule.updated",
        "leads.assignment_rule.deleted",
    ]
    assert events[2].data == {"changes": {"is_active": [True, False], "members": [[a.pk, b.pk], [b.pk]]}}
    assert events[3].data == {"changes": {"priority": [20, 10]}}
    assert all(e.actor_id == manager.pk and e.org_id == org.pk for e in events)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "R", "mode": "fixed"}, "fixed_user"),
        ({"name": "R", "mode": "round_robin"}, "members"),
        ({"name": "R", "mode": "round_robin", "sources": ["listing"]}, "sources"),
        ({"name": " ", "mode": "round_robin"}, "name"),
    ],
)
def test_rules_that_cannot_name_anyone_are_refused(org, arguments, field):
    manager = UserFactory(organization=org)
    with pytest.raises(ValidationFailed) as refused:
        assignment_rule_create(actor=manager, **arguments)
    assert field in refused.value.details


def test_members_of_another_organization_are_refused(org):
    manager = UserFactory(organization=org)
    stranger = UserFactory()
    with pytest.raises(ValidationFailed) as refused:
        assignment_rule_create(actor=manager, name="R", member_ids=[stranger.pk])
    assert "members" in refused.value.details
    with pytest.raises(ValidationFailed):
        assignment_rule_create(actor=manager, name="R", mode="fixed", fixed_user_id=stranger.pk)


def test_reps_cannot_change_rules(org):
    rep = UserFactory(organization=org, role=User.Role.SALES_REP)
    with pytest.raises(PermissionDenied):
        assignment_rule_create(actor=rep, name="Mine", mode="fixed", fixed_user_id=rep.pk)
