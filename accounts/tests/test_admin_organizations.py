import pytest

from accounts.models import Organization
from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.models import Event
from notifications.models import EmailMessage, Notification

pytestmark = pytest.mark.django_db


def _form(org: Organization, **overrides) -> dict:
    """The admin change form as a browser would post it, with `overrides` typed in."""
    values = {
        "name": org.name,
        "is_buyer": org.is_buyer,
        "is_vendor": org.is_vendor,
        "verified": org.verified,
        "require_mfa": org.require_mfa,
        "plan": org.plan,
        "plan_status": org.plan_status,
        "time_zone": org.time_zone,
        "company_size": org.company_size,
        "industry": org.industry,
        "website": org.website,
        "phone": org.phone,
        "response_target_minutes": org.response_target_minutes,
        **overrides,
    }
    # Unticked checkboxes are simply not sent.
    return {key: ("on" if value is True else value) for key, value in values.items() if value is not False}


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_staff_change_a_plan_in_the_admin_and_management_is_told(staff_client, staff_user, user):
    # given an org with a second management user, a sales rep and a deactivated manager
    org = user.organization
    co_manager = SubUserFactory(parent=user, role="management")
    rep = SubUserFactory(parent=user, role="sales_rep")
    gone = SubUserFactory(parent=user, role="management", is_active=False)

    # when staff move it to Pro
    response = staff_client.post(f"/admin/accounts/organization/{org.pk}/change/", _form(org, plan="pro"))

    # then the plan is saved, the change recorded with its before and after
    assert response.status_code == 302, response.content[:3000]
    org.refresh_from_db()
    assert org.plan == "pro"
    changed = Event.objects.get(name="accounts.organization.plan_changed")
    assert changed.actor == staff_user and changed.org_id == org.pk and changed.subject_id == str(org.pk)
    assert changed.data == {
        "from": {"plan": "free", "plan_status": "active"},
        "to": {"plan": "pro", "plan_status": "active"},
    }
    updated = Event.objects.get(name="accounts.organization.updated")
    assert updated.data == {"changes": {"plan": {"from": "free", "to": "pro"}}, "by_staff": True}
    # and the org's active management users are notified, nobody else
    notified = Notification.objects.filter(type="account", title="Your plan is now Pro")
    assert {n.user for n in notified} == {user, co_manager}
    assert notified.first().link == "/settings/organization/"
    assert not Notification.objects.filter(user__in=[rep, gone]).exists()
    assert EmailMessage.objects.filter(to=user.email, template="notification").exists()


def test_a_plan_status_change_is_announced_too(staff_client, user):
    org = user.organization
    org.plan = "pro"
    org.save()

    staff_client.post(f"/admin/accounts/organization/{org.pk}/change/", _form(org, plan_status="past_due"))

    assert Notification.objects.get(user=user).title == "Your Pro plan is past due"
    event = Event.objects.get(name="accounts.organization.plan_changed")
    assert event.data["from"]["plan_status"] == "active" and event.data["to"]["plan_status"] == "past_due"


def test_other_admin_edits_are_recorded_without_a_plan_notice(staff_client, staff_user, user):
    org = user.organization

    response = staff_client.post(
        f"/admin/accounts/organization/{org.pk}/change/", _form(org, industry="Freight", phone="+49 30 901820")
    )

    assert response.status_code == 302
    org.refresh_from_db()
    assert org.phone == "+4930901820"
    event = Event.objects.get(name="accounts.organization.updated")
    assert event.actor == staff_user and event.data["changes"]["industry"] == {"from": "", "to": "Freight"}
    assert not Event.objects.filter(name="accounts.organization.plan_changed").exists()
    assert not Notification.objects.exists()


def test_the_admin_form_refuses_invalid_values(staff_client, user):
    org = user.organization

    response = staff_client.post(f"/admin/accounts/organization/{org.pk}/change/", _form(org, phone="12"))

    assert response.status_code == 200
    assert b"Enter a valid phone number with its country code" in response.content
    assert not Event.objects.filter(name__startswith="accounts.organization.").exists()


def test_verification_actions_go_through_the_service(staff_client, staff_user):
    unverified = UserFactory(organization__verified=False).organization
    verified = UserFactory(organization__verified=True).organization

    response = staff_client.post(
        "/admin/accounts/organization/",
        {"action": "mark_verified", "_selected_action": [unverified.pk, verified.pk]},
        follow=True,
    )

    assert b"1 organization(s) marked verified" in response.content
    unverified.refresh_from_db()
    assert unverified.verified
    event = Event.objects.get(name="accounts.organization.updated")
    assert event.actor == staff_user and event.org_id == unverified.pk
    assert event.data["changes"] == {"verified": {"from": False, "to": True}}

    staff_client.post(
        "/admin/accounts/organization/", {"action": "mark_unverified", "_selected_action": [unverified.pk]}
    )
    unverified.refresh_from_db()
    assert not unverified.verified


def test_plan_actions_notify_each_organization(staff_client, user, other_org_user):
    staff_client.post(
        "/admin/accounts/organization/",
        {"action": "set_plan_enterprise", "_selected_action": [user.organization_id, other_org_user.organization_id]},
    )

    assert Organization.objects.filter(plan="enterprise").count() == 2
    assert Notification.objects.filter(title="Your plan is now Enterprise").count() == 2
    assert Event.objects.filter(name="accounts.organization.plan_changed").count() == 2


def test_staff_add_an_organization_through_the_service(staff_client, staff_user):
    response = staff_client.post(
        "/admin/accounts/organization/add/",
        {"name": "Walk-in Customer", "is_buyer": "on", "plan": "pro", "plan_status": "active", "time_zone": "UTC"},
    )

    assert response.status_code == 302, response.content[:3000]
    org = Organization.objects.get(name="Walk-in Customer")
    assert org.slug == "walk-in-customer" and org.is_buyer and org.plan == "pro"
    event = Event.objects.get(name="accounts.organization.created")
    assert event.actor == staff_user and event.data["by_staff"] is True


def test_the_organization_list_shows_seats(staff_client, user):
    SubUserFactory(parent=user)
    page = staff_client.get("/admin/accounts/organization/").content.decode()
    assert "2 / 3" in page


def test_user_admin_shows_parents_and_filters_by_plan(staff_client, user):
    rep = SubUserFactory(parent=user, email="rep.filtered@example.com")
    page = staff_client.get("/admin/accounts/user/?organization__plan=free&parent__isempty=0").content.decode()
    assert rep.email in page and f">{user.email}<" in page  # the parent column

    assert rep.email not in staff_client.get("/admin/accounts/user/?parent__isempty=1").content.decode()
    change = staff_client.get(f"/admin/accounts/user/{rep.pk}/change/")
    assert change.status_code == 200 and b"can_buy" in change.content


def test_the_admin_is_for_staff_only(client, user):
    client.force_login(user)
    org = user.organization
    response = client.post(f"/admin/accounts/organization/{org.pk}/change/", _form(org, plan="enterprise"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    org.refresh_from_db()
    assert org.plan == "free"
