import pytest

from accounts.exceptions import SeatLimitReached
from accounts.models import User
from accounts.services.organization import organization_update_by_staff
from accounts.services.team import sub_user_create
from accounts.tests.factories import SubUserFactory
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/profile/sub-users/"
FREE_FULL = "Your Free plan includes 3 seats and all are in use. Upgrade the plan or deactivate a member."


@pytest.fixture(autouse=True)
def _plans(settings):
    settings.PLAN_LIMITS = {"free": {"seats": 3}, "pro": {"seats": 5}, "enterprise": {"seats": None}}


@pytest.fixture
def full_free_org(user):
    """A Free organization whose 3 seats are taken: the management user and two sub-users."""
    SubUserFactory.create_batch(2, parent=user)
    return user.organization


def test_creating_a_member_beyond_the_seats_is_refused(auth_client, full_free_org):
    error = assert_error(
        auth_client.post(LIST, {"email": "fourth@example.com"}, format="json"), 409, "seat_limit_reached"
    )

    assert error["message"] == FREE_FULL
    assert error["details"] == {"seats": {"limit": 3, "used": 3}}
    assert not User.objects.filter(email="fourth@example.com").exists()


def test_the_organization_reports_its_seats(auth_client, full_free_org):
    assert auth_client.get("/api/organization/").json()["seats"] == {"limit": 3, "used": 3}


def test_a_deactivated_member_frees_a_seat_and_reactivating_takes_it_back(auth_client, user, full_free_org):
    # given a full org; one member is deactivated and someone new takes the seat
    leaver = user.sub_users.first()
    assert auth_client.patch(f"{LIST}{leaver.pk}/", {"is_active": False}, format="json").status_code == 200
    assert auth_client.post(LIST, {"email": "fourth@example.com"}, format="json").status_code == 201

    # when the leaver is reactivated, then there is no seat for them
    error = assert_error(
        auth_client.patch(f"{LIST}{leaver.pk}/", {"is_active": True}, format="json"), 409, "seat_limit_reached"
    )
    assert error["message"] == FREE_FULL
    leaver.refresh_from_db()
    assert not leaver.is_active


def test_an_upgrade_makes_room(auth_client, user, staff_user, full_free_org):
    leaver = SubUserFactory(parent=user, is_active=False)
    assert_error(auth_client.post(LIST, {"email": "fourth@example.com"}, format="json"), 409, "seat_limit_reached")

    organization_update_by_staff(actor=staff_user, organization_id=full_free_org.pk, changes={"plan": "pro"})

    assert auth_client.post(LIST, {"email": "fourth@example.com"}, format="json").status_code == 201
    assert auth_client.patch(f"{LIST}{leaver.pk}/", {"is_active": True}, format="json").status_code == 200
    assert auth_client.get("/api/organization/").json()["seats"] == {"limit": 5, "used": 5}
    error = assert_error(
        auth_client.post(LIST, {"email": "sixth@example.com"}, format="json"), 409, "seat_limit_reached"
    )
    assert "Pro plan includes 5 seats" in error["message"]


def test_enterprise_has_no_seat_limit(user, staff_user, full_free_org):
    organization_update_by_staff(actor=staff_user, organization_id=full_free_org.pk, changes={"plan": "enterprise"})

    for n in range(5):
        sub_user_create(actor=user, email=f"extra{n}@example.com")

    assert User.objects.filter(organization=full_free_org, is_active=True).count() == 8


def test_a_canceled_plan_falls_back_to_the_free_seats(user, staff_user):
    # given a Pro org with 4 active members
    organization_update_by_staff(actor=staff_user, organization_id=user.organization_id, changes={"plan": "pro"})
    SubUserFactory.create_batch(3, parent=user)

    # when its plan is canceled, then nobody else can be added
    organization_update_by_staff(
        actor=staff_user, organization_id=user.organization_id, changes={"plan_status": "canceled"}
    )
    user.refresh_from_db()
    with pytest.raises(SeatLimitReached) as refused:
        sub_user_create(actor=user, email="late@example.com")
    assert refused.value.code == "seat_limit_reached"
    assert "Pro plan is canceled" in refused.value.message and "3 seats" in refused.value.message


def test_a_pending_invitation_takes_a_seat(auth_client, user):
    SubUserFactory(parent=user)
    assert auth_client.post(LIST, {"email": "invited@example.com"}, format="json").status_code == 201

    assert auth_client.get("/api/organization/").json()["seats"]["used"] == 3
    assert_error(auth_client.post(LIST, {"email": "fourth@example.com"}, format="json"), 409, "seat_limit_reached")
