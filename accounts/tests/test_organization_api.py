import pytest

from accounts.models import SubUserPermissions
from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db

FLAGS = SubUserPermissions.FLAGS
URL = "/api/organization/"

NOT_MANAGEMENT = [
    pytest.param({"role": "sales_manager"}, id="sales_manager"),
    pytest.param({"role": "sales_rep"}, id="sales_rep"),
    *(
        pytest.param(
            {"role": "sales_rep", "sub": True, "flags": {**dict.fromkeys(FLAGS, not on), flag: on}},
            id=f"sub-user-only-{flag}-{'on' if on else 'off'}",
        )
        for flag in FLAGS
        for on in (True, False)
    ),
]


def _colleague(user, who):
    if who.get("sub"):
        return SubUserFactory(parent=user, role=who["role"], permissions=who["flags"])
    return UserFactory(organization=user.organization, role=who["role"])


def test_any_member_reads_the_organization(auth_client, user):
    org = user.organization
    SubUserFactory(parent=user, is_active=False)

    response = auth_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "slug",
        "is_buyer",
        "is_vendor",
        "verified",
        "plan",
        "plan_status",
        "seats",
        "require_mfa",
        "time_zone",
        "company_size",
        "industry",
        "website",
        "phone",
        "response_target_minutes",
    }
    assert body["id"] == org.pk and body["name"] == org.name and body["slug"] == org.slug
    assert body["plan"] == "free" and body["plan_status"] == "active" and body["require_mfa"] is False
    assert body["seats"]["used"] == 1


@pytest.mark.parametrize("who", NOT_MANAGEMENT)
def test_members_without_the_management_role_read_but_cannot_edit(user, who):
    client = bearer_client(_colleague(user, who))

    assert client.get(URL).json()["id"] == user.organization_id
    assert_error(client.patch(URL, {"name": "Taken Over"}, format="json"), 403, "permission_denied")
    user.organization.refresh_from_db()
    assert user.organization.name != "Taken Over"


def test_a_management_sub_user_may_edit(user):
    manager = SubUserFactory(parent=user, role="management", permissions=dict.fromkeys(FLAGS, False))
    response = bearer_client(manager).patch(URL, {"industry": "Logistics"}, format="json")
    assert response.status_code == 200 and response.json()["industry"] == "Logistics"


def test_anonymous_callers_must_authenticate(api_client):
    assert_error(api_client.get(URL), 401, "not_authenticated")
    assert_error(api_client.patch(URL, {"name": "X"}, format="json"), 401, "not_authenticated")


def test_each_organization_sees_only_its_own(auth_client, user, other_org_user):
    assert bearer_client(other_org_user).get(URL).json()["id"] == other_org_user.organization_id
    auth_client.patch(URL, {"name": "Mine"}, format="json")
    other_org_user.organization.refresh_from_db()
    assert other_org_user.organization.name != "Mine"


def test_management_edits_the_organization_and_the_change_is_recorded(auth_client, user):
    response = auth_client.patch(
        URL,
        {
            "name": "  Acme Leads  ",
            "company_size": "11-50",
            "industry": "Software",
            "website": "https://acme.example",
            "phone": "+1 (415) 555-2671",
            "time_zone": "Europe/Berlin",
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Acme Leads" and body["company_size"] == "11-50" and body["industry"] == "Software"
    assert body["website"] == "https://acme.example" and body["time_zone"] == "Europe/Berlin"
    assert body["phone"] == "+14155552671"  # stored in E.164
    event = Event.objects.get(name="accounts.organization.updated")
    assert event.actor == user and event.org_id == user.organization_id
    assert event.data["changes"]["phone"] == {"from": "", "to": "+14155552671"}
    assert set(event.data["changes"]) == {"name", "company_size", "industry", "website", "phone", "time_zone"}


def test_an_unchanged_save_records_nothing(auth_client, user):
    auth_client.patch(URL, {"name": user.organization.name}, format="json")
    assert not Event.objects.filter(name="accounts.organization.updated").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", ""),
        ("website", "not a web address"),
        ("phone", "12345"),
        ("phone", "+1 555"),
        ("company_size", "huge"),
        ("name", "   "),
    ],
)
def test_invalid_settings_are_refused_field_by_field(auth_client, user, field, value):
    error = assert_error(auth_client.patch(URL, {field: value}, format="json"), 400, "validation_error")
    assert field in error["details"]
    assert not Event.objects.filter(name="accounts.organization.updated").exists()


def test_plan_verification_and_mfa_are_read_only_here(auth_client, user):
    response = auth_client.patch(
        URL, {"plan": "enterprise", "verified": True, "require_mfa": True, "slug": "mine"}, format="json"
    )
    assert response.status_code == 200
    org = user.organization
    org.refresh_from_db()
    assert org.plan == "free" and org.require_mfa is False and org.slug != "mine"
