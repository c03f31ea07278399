import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db


def test_two_organizations_never_see_each_others_users(auth_client, user, other_org_user):
    colleague = UserFactory(organization=user.organization)

    listed = {row["email"] for row in auth_client.get("/api/users").json()["results"]}
    assert listed == {user.email, colleague.email}
    assert auth_client.get(f"/api/users/{colleague.pk}").json()["email"] == colleague.email
    assert_error(auth_client.get(f"/api/users/{other_org_user.pk}"), 404, "not_found")


def test_users_need_authentication(api_client, user):
    assert_error(api_client.get("/api/users"), 401, "not_authenticated")
    assert_error(api_client.get(f"/api/users/{user.pk}"), 401, "not_authenticated")


def test_user_list_query_count_does_not_grow_with_members(auth_client, user):
    SubUserFactory.create_batch(3, parent=user)
    with CaptureQueriesContext(connection) as few:
        assert auth_client.get("/api/users").status_code == 200
    SubUserFactory.create_batch(10, parent=user)
    with CaptureQueriesContext(connection) as many:
        assert len(auth_client.get("/api/users").json()["results"]) == 14
    assert len(many) == len(few) <= 4


def test_sub_user_permissions_narrow_the_role(user):
    from accounts.tests.factories import bearer_client

    sub = SubUserFactory(parent=user, permissions={"can_buy": False, "can_export": False})
    me = bearer_client(sub).get("/api/auth/me").json()
    assert me["permissions"]["can_buy"] is False and me["permissions"]["can_export"] is False
    assert me["permissions"]["can_view_leads"] is True
    assert me["organization"]["id"] == user.organization_id


def test_users_can_be_filtered_and_searched(auth_client, user):
    UserFactory(organization=user.organization, full_name="Grace Hopper", role="sales_rep")
    reps = auth_client.get("/api/users?role=sales_rep").json()["results"]
    assert [row["full_name"] for row in reps] == ["Grace Hopper"]
    assert auth_client.get("/api/users?search=hopper").json()["count"] == 1
