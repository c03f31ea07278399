import pytest
from rest_framework.test import APIClient

from accounts.models import SubUserPermissions, User
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from notifications.models import EmailMessage

pytestmark = pytest.mark.django_db

FLAGS = SubUserPermissions.FLAGS
LIST = "/api/profile/sub-users/"


def _detail(member) -> str:
    return f"/api/profile/sub-users/{member.pk}/"


def _every_operation(target):
    """(method, url, body) of every sub-user operation, aimed at `target` where it takes an id."""
    return [
        ("get", LIST, None),
        ("post", LIST, {"email": "newcomer@example.com"}),
        ("get", _detail(target), None),
        ("patch", _detail(target), {"full_name": "Renamed"}),
        ("patch", f"{_detail(target)}permissions/", {"can_buy": False}),
        ("patch", f"{_detail(target)}budget/", {"monthly_budget": "100.00"}),
        ("post", f"{_detail(target)}resend-invitation/", None),
        ("delete", _detail(target), None),
    ]


def _send(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


@pytest.fixture
def org(user):
    # Seats are tested on their own; here they must not get in the way.
    user.organization.plan = "enterprise"
    user.organization.save()
    return user.organization


def _pending_member(parent, **kwargs):
    """A sub-user who was invited and has not set a password yet."""
    member = SubUserFactory(parent=parent, **kwargs)
    member.set_unusable_password()
    member.save()
    return member


# --- Who may: the permission matrix ------------------------------------------------------------

NOT_MANAGEMENT = [
    pytest.param({"role": "sales_manager"}, id="sales_manager"),
    pytest.param({"role": "sales_rep"}, id="sales_rep"),
    *(
        pytest.param(
            {"role": role, "sub": True, "flags": {**dict.fromkeys(FLAGS, not on), flag: on}},
            id=f"{role}-sub-user-only-{flag}-{'on' if on else 'off'}",
        )
        for role in ("sales_manager", "sales_rep")
        for flag in FLAGS
        for on in (True, False)
    ),
]


@pytest.mark.parametrize("who", NOT_MANAGEMENT)
def test_members_without_the_management_role_are_refused_every_team_operation(user, org, who):
    # given a colleague of the same org who is not management, whatever their flags
    if who.get("sub"):
        actor = SubUserFactory(parent=user, role=who["role"], permissions=who["flags"])
    else:
        actor = UserFactory(organization=org, role=who["role"])
    target = _pending_member(user)
    client = bearer_client(actor)

    # when they try each operation, then each is 403 and nothing changed
    for method, url, body in _every_operation(target):
        assert_error(_send(client, method, url, body), 403, "permission_denied")
    target.refresh_from_db()
    assert target.full_name != "Renamed" and target.sub_user_permissions.can_buy
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_a_management_sub_user_may_manage_the_team_whatever_their_flags(user, org):
    # given a sub-user with the management role and every flag off
    manager = SubUserFactory(parent=user, role="management", permissions=dict.fromkeys(FLAGS, False))
    target = _pending_member(user)
    client = bearer_client(manager)

    # when they run every operation, then each succeeds
    expected = [200, 201, 200, 200, 200, 200, 200, 204]
    statuses = [_send(client, method, url, body).status_code for method, url, body in _every_operation(target)]
    assert statuses == expected
    assert not User.objects.filter(pk=target.pk).exists()


def test_another_organizations_members_are_not_found(auth_client, org, other_org_user):
    # given a sub-user in another organization
    stranger = _pending_member(other_org_user)

    # when a management user aims at them, then every operation is 404 and the list leaves them out
    for method, url, body in _every_operation(stranger)[2:]:
        assert_error(_send(auth_client, method, url, body), 404, "not_found")
    listed = {row["id"] for row in auth_client.get(LIST).json()["results"]}
    assert stranger.pk not in listed and other_org_user.pk not in listed
    stranger.refresh_from_db()
    assert stranger.full_name != "Renamed" and stranger.is_active


def test_anonymous_callers_must_authenticate(api_client, user):
    for method, url, body in _every_operation(user):
        assert_error(_send(api_client, method, url, body), 401, "not_authenticated")


# --- Create and list ---------------------------------------------------------------------------


def test_management_creates_a_sub_user_with_the_flags_chosen(auth_client, user, org):
    # when a management user adds a member with two rights removed
    response = auth_client.post(
        LIST,
        {
            "email": "Rep.One@Example.com",
            "full_name": "Rep One",
            "role": "sales_rep",
            "permissions": {"can_buy": False, "can_export": False},
        },
        format="json",
    )

    # then the member belongs to the creator's org, under the creator, with those flags and the defaults
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "email_verified",
        "last_login",
        "created",
        "permissions",
        "monthly_budget",
        "parent",
        "invitation_pending",
    }
    assert body["email"] == "rep.one@example.com" and body["role"] == "sales_rep"
    assert body["monthly_budget"] is None
    assert body["is_active"] is True and body["email_verified"] is False and body["last_login"] is None
    assert body["invitation_pending"] is True and body["parent"] == user.pk
    assert body["permissions"] == {
        "can_view_leads": True,
        "can_edit_leads": True,
        "can_add_leads": True,
        "can_view_all_org_leads": False,
        "can_buy": False,
        "can_sell": True,
        "can_export": False,
    }
    member = User.objects.get(pk=body["id"])
    assert member.organization == org and member.parent == user and not member.has_usable_password()
    # and they are invited by email, and both steps are recorded
    assert EmailMessage.objects.filter(to=member.email, template="sub_user_invite").count() == 1
    names = set(Event.objects.filter(subject_id=str(member.pk)).values_list("name", flat=True))
    assert names == {"accounts.sub_user.created", "accounts.sub_user.invited"}
    created = Event.objects.get(name="accounts.sub_user.created")
    assert created.actor == user and created.org_id == org.pk
    assert created.data["permissions"]["can_buy"] is False


def test_a_sub_user_without_flags_gets_the_model_defaults(auth_client, org):
    body = auth_client.post(LIST, {"email": "plain@example.com"}, format="json").json()
    assert body["role"] == "sales_rep"
    assert body["permissions"] == {flag: SubUserPermissions._meta.get_field(flag).default for flag in FLAGS}


def test_creating_a_sub_user_with_a_taken_email_or_bad_input_is_refused(auth_client, org, other_org_user):
    assert_error(auth_client.post(LIST, {"email": other_org_user.email}, format="json"), 409, "conflict")
    error = assert_error(
        auth_client.post(LIST, {"email": "x@example.com", "role": "owner"}, format="json"), 400, "validation_error"
    )
    assert "role" in error["details"]
    error = assert_error(auth_client.post(LIST, {"email": "not-an-email"}, format="json"), 400, "validation_error")
    assert "email" in error["details"]
    assert not User.objects.filter(email="x@example.com").exists()


def test_the_list_shows_every_member_of_my_organization_and_filters(auth_client, user, org):
    rep = SubUserFactory(parent=user, full_name="Grace Hopper", role="sales_rep")
    SubUserFactory(parent=user, role="sales_manager", is_active=False)

    rows = auth_client.get(LIST).json()["results"]
    assert {row["id"] for row in rows} == set(User.objects.filter(organization=org).values_list("pk", flat=True))
    assert [row["id"] for row in auth_client.get(f"{LIST}?search=hopper").json()["results"]] == [rep.pk]
    assert auth_client.get(f"{LIST}?is_active=false").json()["count"] == 1
    mine = next(row for row in rows if row["id"] == user.pk)
    assert mine["parent"] is None and all(mine["permissions"].values())


def test_the_list_query_count_does_not_grow_with_members(auth_client, user, org, django_assert_max_num_queries):
    SubUserFactory.create_batch(3, parent=user)
    page = f"{LIST}?page_size=50"
    auth_client.get(page)  # warm up whatever is cached per process
    with django_assert_max_num_queries(6) as few:
        assert auth_client.get(page).status_code == 200
    SubUserFactory.create_batch(20, parent=user)
    with django_assert_max_num_queries(len(few)) as many:
        assert len(auth_client.get(page).json()["results"]) == 24
    assert len(many) == len(few)


# --- Edit, flags ------------------------------------------------------------------------------


def test_management_renames_and_changes_the_role_of_a_member(auth_client, user, org):
    member = SubUserFactory(parent=user, full_name="Old Name", role="sales_rep")

    response = auth_client.patch(_detail(member), {"full_name": "New Name", "role": "sales_manager"}, format="json")

    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name" and response.json()["role"] == "sales_manager"
    event = Event.objects.get(name="accounts.sub_user.updated")
    assert event.data["changes"] == {
        "full_name": {"from": "Old Name", "to": "New Name"},
        "role": {"from": "sales_rep", "to": "sales_manager"},
    }


def test_management_edits_the_permission_flags_of_a_sub_user(auth_client, user, org):
    member = SubUserFactory(parent=user, permissions={"can_export": True})

    response = auth_client.patch(
        f"{_detail(member)}permissions/", {"can_export": False, "can_view_all_org_leads": True}, format="json"
    )

    assert response.status_code == 200
    flags = response.json()["permissions"]
    assert flags["can_export"] is False and flags["can_view_all_org_leads"] is True and flags["can_buy"] is True
    event = Event.objects.get(name="accounts.sub_user.permissions_changed")
    assert event.actor == user and event.data["changes"]["can_export"] == {"from": True, "to": False}
    # what the member's own token reports follows at once
    me = bearer_client(member).get("/api/auth/me").json()
    assert me["permissions"]["can_export"] is False


def test_management_sets_and_clears_a_sub_users_monthly_budget(auth_client, user, org):
    member = SubUserFactory(parent=user)

    response = auth_client.patch(f"{_detail(member)}budget/", {"monthly_budget": "150.00"}, format="json")

    assert response.status_code == 200 and response.json()["monthly_budget"] == "150.00"
    event = Event.objects.get(name="accounts.sub_user.budget_changed")
    assert event.actor == user and event.data == {"from": None, "to": "150.00"}
    cleared = auth_client.patch(f"{_detail(member)}budget/", {"monthly_budget": None}, format="json")
    assert cleared.json()["monthly_budget"] is None
    assert_error(
        auth_client.patch(f"{_detail(member)}budget/", {"monthly_budget": "-1"}, format="json"), 400, "validation_error"
    )
    assert_error(auth_client.patch(f"{_detail(member)}budget/", {}, format="json"), 400, "validation_error")
    top_level = UserFactory(organization=org, role="sales_rep")
    error = assert_error(
        auth_client.patch(f"{_detail(top_level)}budget/", {"monthly_budget": "5"}, format="json"), 409, "conflict"
    )
    assert "not a sub-user" in error["message"]


def test_flags_are_only_for_sub_users_and_not_for_oneself(auth_client, user, org):
    top_level = UserFactory(organization=org, role="sales_rep")
    error = assert_error(
        auth_client.patch(f"{_detail(top_level)}permissions/", {"can_buy": False}, format="json"), 409, "conflict"
    )
    assert "not a sub-user" in error["message"]
    manager = SubUserFactory(parent=user, role="management")
    error = assert_error(
        bearer_client(manager).patch(f"{_detail(manager)}permissions/", {"can_buy": True}, format="json"),
        409,
        "conflict",
    )
    assert "your own permissions" in error["message"]


def test_a_management_user_cannot_change_their_own_role(auth_client, user, org):
    error = assert_error(auth_client.patch(_detail(user), {"role": "sales_rep"}, format="json"), 409, "conflict")
    assert "own role" in error["message"]
    user.refresh_from_db()
    assert user.role == "management"


# --- Deactivate, reactivate, delete ------------------------------------------------------------


def test_deactivation_stops_bearer_and_api_token_access_at_once(auth_client, user, org):
    from accounts.services.tokens import api_token_create

    # given a sub-user signed in through the API with a JWT and with a personal API token
    member = SubUserFactory(parent=user)
    jwt_client = bearer_client(member)
    issued = api_token_create(actor=member, name="CRM sync")
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    assert jwt_client.get("/api/auth/me").status_code == 200
    assert token_client.get("/api/auth/me").status_code == 200

    # when management deactivates them
    response = auth_client.patch(_detail(member), {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False

    # then their very next requests are refused, with either credential
    assert_error(jwt_client.get("/api/auth/me"), 401, "not_authenticated")
    assert_error(token_client.get("/api/auth/me"), 401, "not_authenticated")
    assert not member.sessions.filter(revoked_at__isnull=True).exists()
    event = Event.objects.get(name="accounts.sub_user.deactivated")
    assert event.actor == user and event.data["sessions_ended"] == 1


def test_deactivation_signs_a_member_out_of_pages(client, auth_client, user, org):
    member = SubUserFactory(parent=user)
    client.force_login(member)
    assert client.get("/dashboard/").status_code == 200

    auth_client.patch(_detail(member), {"is_active": False}, format="json")

    assert client.get("/dashboard/")["Location"].startswith("/login/")


def test_reactivation_lets_a_member_sign_in_again(auth_client, user, org):
    member = SubUserFactory(parent=user, is_active=False)

    response = auth_client.patch(_detail(member), {"is_active": True}, format="json")

    assert response.status_code == 200 and response.json()["is_active"] is True
    assert bearer_client(member).get("/api/auth/me").status_code == 200
    assert Event.objects.filter(name="accounts.sub_user.reactivated", subject_id=str(member.pk)).exists()


def test_nobody_deactivates_or_removes_themselves(auth_client, user, org):
    error = assert_error(auth_client.patch(_detail(user), {"is_active": False}, format="json"), 409, "conflict")
    assert "your own account" in error["message"]
    error = assert_error(auth_client.delete(_detail(user)), 409, "conflict")
    assert "your own account" in error["message"]
    user.refresh_from_db()
    assert user.is_active


def test_the_last_active_management_user_stays(user, org):
    # given two management users; the founder deactivated by the other
    manager = SubUserFactory(parent=user, role="management")
    client = bearer_client(manager)
    assert client.patch(_detail(user), {"is_active": False}, format="json").status_code == 200

    # when the remaining one tries to step down, then it is refused
    error = assert_error(client.patch(_detail(manager), {"is_active": False}, format="json"), 409, "conflict")
    assert "your own account" in error["message"]
    manager.refresh_from_db()
    assert manager.is_active and manager.role == "management"


def test_deleting_a_member_removes_them_and_keeps_the_history(auth_client, user, org):
    from accounts.services.tokens import api_token_create

    # given a member who did something recorded, and who had added a sub-user of their own
    member = SubUserFactory(parent=user, role="management")
    api_token_create(actor=member, name="old")
    their_rep = SubUserFactory(parent=member, permissions={"can_buy": False})
    jwt_client = bearer_client(member)

    # when management deletes them
    response = auth_client.delete(_detail(member))

    # then they are gone, their sign-ins ended, their events kept without an actor
    assert response.status_code == 204
    assert not User.objects.filter(pk=member.pk).exists()
    assert_error(jwt_client.get("/api/auth/me"), 401, "not_authenticated")
    created = Event.objects.get(name="accounts.api_token.created")
    assert created.actor is None
    deleted = Event.objects.get(name="accounts.sub_user.deleted")
    assert deleted.actor == user and deleted.subject_id == str(member.pk)
    assert deleted.data["email"] == member.email and deleted.data["sub_users_moved"] == 1
    # and their sub-user moved to the one who deleted them, keeping its narrowed rights
    their_rep.refresh_from_db()
    assert their_rep.parent == user
    assert bearer_client(their_rep).get("/api/auth/me").json()["permissions"]["can_buy"] is False


def test_resending_an_invitation_only_for_members_without_a_password(auth_client, user, org):
    pending = _pending_member(user)
    signed_up = SubUserFactory(parent=user)

    assert auth_client.post(f"{_detail(pending)}resend-invitation/").status_code == 200
    assert EmailMessage.objects.filter(to=pending.email, template="sub_user_invite").count() == 1
    error = assert_error(auth_client.post(f"{_detail(signed_up)}resend-invitation/"), 409, "conflict")
    assert "already set a password" in error["message"]
