"""The assignment rules page: who may see and change rules, and what each button does."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.models import Event
from leads.models import AssignmentRule
from leads.tests.factories import AssignmentRuleFactory

pytestmark = pytest.mark.django_db

LIST = "/leads/assignment/"


@pytest.fixture
def org(user):
    return user.organization


@pytest.fixture
def reps(org):
    return [UserFactory(organization=org, role=User.Role.SALES_REP, full_name=f"Rep {n}") for n in range(2)]


def _writes(rule, reps):
    """(url, data) of every form that changes a rule."""
    page = f"{LIST}{rule.pk}/"
    return [
        (f"{LIST}new/", {"name": "Sneaky", "mode": "fixed", "fixed_user": reps[0].pk}),
        (page, {"name": "Renamed", "mode": "round_robin", "members": [r.pk for r in reps]}),
        (f"{page}move/", {"direction": "down"}),
        (f"{page}active/", {}),
        (f"{page}delete/", {}),
    ]


def test_visitors_are_sent_to_sign_in(client, org, reps):
    rule = AssignmentRuleFactory(organization=org, members=reps)
    for url in (LIST, f"{LIST}new/", f"{LIST}{rule.pk}/", f"{LIST}{rule.pk}/delete/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    for url, data in _writes(rule, reps):
        assert client.post(url, data).status_code == 302, url
    assert AssignmentRule.objects.get().name == rule.name


def test_management_adds_a_rule_with_csrf(user, reps):
    # Given management on the new-rule page, with CSRF checks on
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(f"{LIST}new/")
    assert page.status_code == 200
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    assert client.post(f"{LIST}new/", {"name": "No token", "members": [reps[0].pk]}).status_code == 403

    # When they post the form
    response = client.post(
        f"{LIST}new/",
        {
            "csrfmiddlewaretoken": token,
            "name": "Website",
            "mode": "round_robin",
            "members": [r.pk for r in reps],
            "sources": ["form"],
            "is_active": "on",
        },
    )

    # Then the rule exists and the list shows it, with a flash message
    assert response.status_code == 302 and response["Location"] == LIST
    rule = AssignmentRule.objects.get()
    assert (rule.name, rule.sources, rule.is_active) == ("Website", ["form"], True)
    listing = client.get(LIST).content.decode()
    assert "Website" in listing and "Rep 0" in listing and "was added" in listing


def test_form_errors_come_back_on_the_page(client, user):
    client.force_login(user)

    response = client.post(f"{LIST}new/", {"name": "Nobody", "mode": "fixed"})

    assert response.status_code == 400
    assert "A fixed rule needs the member who gets the leads." in response.content.decode()
    assert not AssignmentRule.objects.exists()


def test_a_member_of_another_organization_is_not_offered_nor_accepted(client, user, reps):
    stranger = UserFactory(full_name="Stranger Danger")
    client.force_login(user)

    assert "Stranger Danger" not in client.get(f"{LIST}new/").content.decode()
    response = client.post(f"{LIST}new/", {"name": "R", "mode": "round_robin", "members": [stranger.pk]})
    assert response.status_code == 400
    assert not AssignmentRule.objects.exists()


def test_edit_move_switch_and_delete(client, user, org, reps):
    first = AssignmentRuleFactory(organization=org, name="First", priority=10, members=reps)
    second = AssignmentRuleFactory(organization=org, name="Second", priority=20, members=reps[:1])
    client.force_login(user)

    # Edit
    edit = client.get(f"{LIST}{second.pk}/").content.decode()
    assert 'value="Second"' in edit
    response = client.post(
        f"{LIST}{second.pk}/", {"name": "Second, renamed", "mode": "fixed", "fixed_user": reps[1].pk, "is_active": "on"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert (second.name, second.mode, second.fixed_user, second.priority) == ("Second, renamed", "fixed", reps[1], 20)

    # Move up: it applies first now
    assert client.post(f"{LIST}{second.pk}/move/", {"direction": "up"}).status_code == 302
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Second, renamed", "First"]

    # Switch off, then on again
    assert client.post(f"{LIST}{first.pk}/active/", {}).status_code == 302
    assert not AssignmentRule.objects.get(pk=first.pk).is_active
    assert client.post(f"{LIST}{first.pk}/active/", {"is_active": "on"}).status_code == 302
    assert AssignmentRule.objects.get(pk=first.pk).is_active

    # Delete asks first, then deletes
    assert "Delete “First”?" in client.get(f"{LIST}{first.pk}/delete/").content.decode()
    assert client.post(f"{LIST}{first.pk}/delete/").status_code == 302
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Second, renamed"]
    assert Event.objects.filter(name="leads.assignment_rule.deleted", subject_id=str(first.pk)).exists()


@pytest.mark.parametrize(
    "who",
    [
        pytest.param({"role": "sales_rep"}, id="sales_rep"),
        pytest.param({"role": "sales_manager", "sub": {"can_edit_leads": False}}, id="manager-without-edit"),
        pytest.param({"role": "management", "sub": {"can_edit_leads": False}}, id="management-without-edit"),
    ],
)
def test_members_who_may_not_manage_read_the_list_but_cannot_change_rules(client, user, org, reps, who):
    rule = AssignmentRuleFactory(organization=org, name="Keep me", members=reps)
    if "sub" in who:
        actor = SubUserFactory(parent=user, role=who["role"], permissions=who["sub"])
    else:
        actor = UserFactory(organization=org, role=who["role"])
    client.force_login(actor)

    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "Keep me" in listing.content.decode() and "Add a rule" not in listing.content.decode()
    for url, data in _writes(rule, reps):
        assert client.post(url, data).status_code == 403, url
    rule.refresh_from_db()
    assert (rule.name, rule.is_active, AssignmentRule.objects.count()) == ("Keep me", True, 1)


def test_a_sub_user_without_view_rights_gets_403(client, user, org):
    rule = AssignmentRuleFactory(organization=org)
    client.force_login(SubUserFactory(parent=user, role="sales_manager", permissions={"can_view_leads": False}))

    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{rule.pk}/").status_code == 403


def test_another_organizations_rules_are_not_found(client, user, reps):
    other = AssignmentRuleFactory(name="Theirs", members=[UserFactory()])
    client.force_login(user)

    assert "Theirs" not in client.get(LIST).content.decode()
    assert client.get(f"{LIST}{other.pk}/").status_code == 404
    assert client.get(f"{LIST}{other.pk}/delete/").status_code == 404
    for url, data in _writes(other, reps)[1:]:
        assert client.post(url, data).status_code == 404, url
    assert AssignmentRule.objects.get().name == "Theirs"


def test_empty_state(client, user):
    client.force_login(user)
    assert "No assignment rules yet" in client.get(LIST).content.decode()


def test_the_list_page_queries_do_not_grow_with_rules(client, user, org, reps):
    client.force_login(user)
    client.get(LIST)  # the first page of a session also records the sign-in
    AssignmentRuleFactory(organization=org, members=reps)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    for _ in range(12):
        AssignmentRuleFactory(organization=org, members=reps, mode="fixed", fixed_user=reps[0])
    with CaptureQueriesContext(connection) as many:
        assert client.get(LIST).status_code == 200
    assert len(many) == len(few)
