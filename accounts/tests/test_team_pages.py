import re

import pytest
from django.test import Client

from accounts.models import SubUserPermissions, User
from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.models import Event
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

FLAGS = SubUserPermissions.FLAGS
TEAM = "/settings/team/"


def _member_page(member) -> str:
    return f"{TEAM}{member.pk}/"


def _every_page_request(target):
    """(method, url, data) for every team page and form, aimed at `target` where it takes an id."""
    page = _member_page(target)
    return [
        ("get", TEAM, None),
        ("post", TEAM, {"email": "newcomer@example.com", "role": "sales_rep"}),
        ("get", page, None),
        ("post", page, {"full_name": "Renamed", "role": "sales_rep"}),
        ("post", f"{page}permissions/", {"can_view_leads": "on"}),
        ("post", f"{page}budget/", {"monthly_budget": "150"}),
        ("post", f"{page}resend-invitation/", {}),
        ("post", f"{page}deactivate/", {}),
        ("post", f"{page}reactivate/", {}),
        ("get", f"{page}delete/", None),
        ("post", f"{page}delete/", {}),
    ]


def _send(client, method, url, data):
    return client.post(url, data) if method == "post" else client.get(url)


@pytest.fixture
def org(user):
    user.organization.plan = "enterprise"
    user.organization.save()
    return user.organization


def _pending_member(parent, **kwargs):
    member = SubUserFactory(parent=parent, **kwargs)
    member.set_unusable_password()
    member.save()
    return member


# --- Who may -----------------------------------------------------------------------------------

NOT_MANAGEMENT = [
    pytest.param({"role": "sales_manager"}, id="sales_manager"),
    pytest.param({"role": "sales_rep"}, id="sales_rep"),
    *(
        pytest.param(
            {"role": "sales_manager", "sub": True, "flags": {**dict.fromkeys(FLAGS, not on), flag: on}},
            id=f"sub-user-only-{flag}-{'on' if on else 'off'}",
        )
        for flag in FLAGS
        for on in (True, False)
    ),
]


@pytest.mark.parametrize("who", NOT_MANAGEMENT)
def test_team_pages_answer_403_to_members_without_the_management_role(client, user, org, who):
    if who.get("sub"):
        actor = SubUserFactory(parent=user, role=who["role"], permissions=who["flags"])
    else:
        actor = UserFactory(organization=org, role=who["role"])
    target = _pending_member(user, is_active=False)
    client.force_login(actor)

    for method, url, data in _every_page_request(target):
        assert _send(client, method, url, data).status_code == 403, (method, url)
    target.refresh_from_db()
    assert target.full_name != "Renamed" and not target.is_active
    assert not User.objects.filter(email="newcomer@example.com").exists()
    # and the settings menu does not offer the team
    assert b'href="/settings/team/"' not in client.get("/settings/organization/").content


def test_a_management_sub_user_uses_every_team_page(client, user, org):
    manager = SubUserFactory(parent=user, role="management", permissions=dict.fromkeys(FLAGS, False))
    target = _pending_member(user)
    client.force_login(manager)

    statuses = [_send(client, method, url, data).status_code for method, url, data in _every_page_request(target)]

    # pages 200; every form redirects after its change (the reactivate form too, after the deactivate one)
    assert statuses == [200, 302, 200, 302, 302, 302, 302, 302, 302, 200, 302]
    assert not User.objects.filter(pk=target.pk).exists()
    assert User.objects.filter(email="newcomer@example.com", organization=org).exists()
    assert b'href="/settings/team/"' in client.get(TEAM).content


def test_another_organizations_member_pages_are_not_found(client, user, org, other_org_user):
    stranger = _pending_member(other_org_user)
    client.force_login(user)

    for method, url, data in _every_page_request(stranger)[2:]:
        assert _send(client, method, url, data).status_code == 404, (method, url)
    assert stranger.email.encode() not in client.get(TEAM).content


def test_visitors_are_sent_to_sign_in(client, user):
    for method, url, data in _every_page_request(user):
        response = _send(client, method, url, data)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), (method, url)


# --- What management sees and does ------------------------------------------------------------


def test_the_team_page_lists_members_and_seats(client, user):
    rep = SubUserFactory(parent=user, full_name="Grace Hopper", role="sales_rep")
    SubUserFactory(parent=user, full_name="Alan Turing", is_active=False)
    client.force_login(user)

    page = client.get(TEAM).content.decode()

    assert "Grace Hopper" in page and rep.email in page and "Sales Rep" in page
    assert "Deactivated" in page and "Never" in page
    assert "2 of 3 seats in use · Free plan" in page
    assert 'name="csrfmiddlewaretoken"' in page and 'name="can_buy"' in page


def test_adding_a_member_from_the_team_page(user, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(TEAM)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()

    # unticked boxes (can_buy, can_export) remove those rights
    ticked = {flag: "on" for flag in FLAGS if flag not in ("can_buy", "can_export", "can_view_all_org_leads")}
    response = client.post(
        TEAM,
        {"csrfmiddlewaretoken": token, "email": "ada@example.com", "full_name": "Ada", "role": "sales_rep", **ticked},
    )

    assert response.status_code == 302 and response["Location"] == TEAM
    member = User.objects.get(email="ada@example.com")
    assert member.parent == user and member.organization == org
    flags = member.sub_user_permissions
    assert not flags.can_buy and not flags.can_export and flags.can_view_leads and flags.can_sell
    assert EmailMessage.objects.filter(to="ada@example.com", template="sub_user_invite").exists()
    listing = client.get(TEAM).content.decode()
    assert "ada@example.com was added" in listing and "Invitation pending" in listing


def test_the_team_page_explains_a_full_plan(client, user):
    SubUserFactory.create_batch(2, parent=user)
    client.force_login(user)
    assert b"All 3 seats of your Free plan are in use" in client.get(TEAM).content

    response = client.post(TEAM, {"email": "fourth@example.com", "role": "sales_rep"})

    assert response.status_code == 409
    assert b"Your Free plan includes 3 seats and all are in use" in response.content


def test_the_team_form_shows_field_errors(client, user, other_org_user):
    client.force_login(user)
    assert client.post(TEAM, {"email": "nope", "role": "sales_rep"}).status_code == 400
    taken = client.post(TEAM, {"email": other_org_user.email, "role": "sales_rep"})
    assert taken.status_code == 409 and b"already exists" in taken.content


def test_editing_a_member_from_their_page(client, user, org):
    member = SubUserFactory(parent=user, full_name="Old Name", role="sales_rep", permissions={"can_sell": True})
    client.force_login(user)
    page = client.get(_member_page(member)).content.decode()
    assert "Old Name" in page and 'name="can_sell"' in page and "Resend invitation" not in page

    assert client.post(_member_page(member), {"full_name": "New Name", "role": "sales_manager"}).status_code == 302
    ticked = {flag: "on" for flag in FLAGS if flag != "can_sell"}
    assert client.post(f"{_member_page(member)}permissions/", ticked).status_code == 302

    member.refresh_from_db()
    assert member.full_name == "New Name" and member.role == "sales_manager"
    assert not member.sub_user_permissions.can_sell and member.sub_user_permissions.can_view_all_org_leads
    assert b"The permissions of New Name were saved" in client.get(_member_page(member)).content


def test_deactivating_and_reactivating_from_the_member_page(client, user, org):
    member = SubUserFactory(parent=user, full_name="Rep")
    member_client = Client()
    member_client.force_login(member)
    assert member_client.get("/dashboard/").status_code == 200
    client.force_login(user)

    response = client.post(f"{_member_page(member)}deactivate/", follow=True)
    assert b"Rep is deactivated and signed out everywhere" in response.content
    assert member_client.get("/dashboard/")["Location"].startswith("/login/")

    response = client.post(f"{_member_page(member)}reactivate/", follow=True)
    assert b"Rep is active again" in response.content
    member.refresh_from_db()
    assert member.is_active


def test_a_refused_action_shows_why_on_the_member_page(client, user, org):
    client.force_login(user)

    response = client.post(f"{_member_page(user)}deactivate/")

    assert response.status_code == 409
    assert b"You cannot deactivate your own account" in response.content
    # own page offers no deactivate or remove button
    own = client.get(_member_page(user)).content
    assert b"(you)" in own and b"Deactivate</button>" not in own and b"Remove" not in own


def test_removing_a_member_asks_first(client, user, org):
    member = SubUserFactory(parent=user, full_name="Short Stay")
    client.force_login(user)

    confirm = client.get(f"{_member_page(member)}delete/")
    assert confirm.status_code == 200 and b"Remove Short Stay?" in confirm.content

    response = client.post(f"{_member_page(member)}delete/", follow=True)
    assert b"Short Stay was removed from the team" in response.content
    assert not User.objects.filter(pk=member.pk).exists()
    assert Event.objects.filter(name="accounts.sub_user.deleted", actor=user).exists()


def test_resending_an_invitation_from_the_member_page(client, user, org):
    member = _pending_member(user)
    client.force_login(user)
    assert b"Resend invitation" in client.get(_member_page(member)).content

    response = client.post(f"{_member_page(member)}resend-invitation/", follow=True)

    assert f"A new invitation is on its way to {member.email}".encode() in response.content
    assert EmailMessage.objects.filter(to=member.email, template="sub_user_invite").count() == 1


def test_the_team_list_pages_and_keeps_its_query_count(client, user, org, django_assert_max_num_queries):
    SubUserFactory.create_batch(3, parent=user)
    client.force_login(user)
    client.get(TEAM)
    with django_assert_max_num_queries(30) as few:
        client.get(TEAM)
    SubUserFactory.create_batch(30, parent=user)
    with django_assert_max_num_queries(len(few)):
        page = client.get(TEAM).content.decode()
    assert "Page 1 of 2" in page


def test_management_sets_a_sub_users_monthly_budget_on_their_page(client, user, org):
    member = SubUserFactory(parent=user)
    client.force_login(user)
    page = _member_page(member)
    assert 'data-testid="budget-form"' in client.get(page).content.decode()

    assert client.post(f"{page}budget/", {"monthly_budget": "150.00"}).status_code == 302
    assert SubUserPermissions.objects.get(user=member).monthly_budget == 150
    refused = client.post(f"{page}budget/", {"monthly_budget": "-5"})
    assert refused.status_code == 400
    assert client.post(f"{page}budget/", {"monthly_budget": ""}).status_code == 302
    assert SubUserPermissions.objects.get(user=member).monthly_budget is None
