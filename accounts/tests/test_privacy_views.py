"""Data protection requests from the API, the settings page and the admin: who may ask, what
comes back, the error envelope, bounded queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import SubUserPermissions
from accounts.tests.factories import StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from crm.tests.factories import ContactFactory
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error
from leads.models import Lead
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

EXPORT, ERASE = "/api/privacy/export/", "/api/privacy/erase/"
EMAIL = "sam@example.org"


@pytest.fixture
def held(user):
    """The user's organization holds Sam as a lead and a contact."""
    return LeadFactory(organization=user.organization, email=EMAIL), ContactFactory(created_by=user, email=EMAIL)


def test_management_exports_a_person_as_a_json_download(auth_client, held):
    response = auth_client.post(EXPORT, {"email": EMAIL}, format="json")

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="personal-data-')
    document = json.loads(response.content)
    assert [row["id"] for row in document["records"]["leads.lead"]] == [held[0].pk]
    assert [row["id"] for row in document["records"]["crm.contact"]] == [held[1].pk]


def test_management_erases_a_person_and_again_finds_nothing(auth_client, held):
    first = auth_client.post(ERASE, {"email": EMAIL}, format="json").json()
    second = auth_client.post(ERASE, {"email": EMAIL}, format="json").json()

    assert first["deleted"] == {"leads.lead": 1, "crm.contact": 1} and first["nothing_left"] is False
    assert second == {"deleted": {}, "anonymised": {}, "nothing_left": True}


def test_anonymous_callers_must_authenticate(api_client):
    assert_error(api_client.post(EXPORT, {"email": EMAIL}, format="json"), 401, "not_authenticated")
    assert_error(api_client.post(ERASE, {"email": EMAIL}, format="json"), 401, "not_authenticated")


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager"])
def test_members_below_management_are_refused(user, held, role):
    client = bearer_client(UserFactory(organization=user.organization, role=role))

    assert_error(client.post(EXPORT, {"email": EMAIL}, format="json"), 403, "permission_denied")
    assert_error(client.post(ERASE, {"email": EMAIL}, format="json"), 403, "permission_denied")
    assert Lead.objects.filter(email=EMAIL).exists()


def test_a_management_sub_user_needs_the_export_and_edit_flags(user, held):
    flags = {**dict.fromkeys(SubUserPermissions.FLAGS, True), "can_export": False, "can_edit_leads": False}
    client = bearer_client(SubUserFactory(parent=user, role="management", permissions=flags))

    assert_error(client.post(EXPORT, {"email": EMAIL}, format="json"), 403, "permission_denied")
    assert_error(client.post(ERASE, {"email": EMAIL}, format="json"), 403, "permission_denied")


def test_another_organization_gets_none_of_the_data(user, held, other_org_user):
    client = bearer_client(other_org_user)

    exported = json.loads(client.post(EXPORT, {"email": EMAIL}, format="json").content)
    assert not any(exported["records"].values())
    assert client.post(ERASE, {"email": EMAIL}, format="json").json()["nothing_left"] is True
    scoped = {"email": EMAIL, "organization_id": user.organization_id}
    assert_error(client.post(EXPORT, scoped, format="json"), 404, "not_found")
    assert_error(client.post(ERASE, scoped, format="json"), 404, "not_found")
    assert Lead.objects.filter(pk=held[0].pk).exists()


def test_an_email_or_a_phone_is_required(auth_client):
    error = assert_error(auth_client.post(EXPORT, {}, format="json"), 400, "validation_error")
    assert "email" in error["details"]
    assert_error(auth_client.post(ERASE, {"phone": "not a phone"}, format="json"), 400, "validation_error")


def test_staff_export_one_organization_or_all(user, held, other_org_user):
    LeadFactory(organization=other_org_user.organization, email=EMAIL)
    client = bearer_client(StaffUserFactory())

    everyone = json.loads(client.post(EXPORT, {"email": EMAIL}, format="json").content)
    one = json.loads(
        client.post(EXPORT, {"email": EMAIL, "organization_id": user.organization_id}, format="json").content
    )

    assert len(everyone["records"]["leads.lead"]) == 2
    assert [row["organization_id"] for row in one["records"]["leads.lead"]] == [user.organization_id]


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.post(EXPORT, {"email": EMAIL}, format="json").status_code == 200
    return len(queries)


def test_the_export_makes_as_many_queries_for_many_records_as_for_one(user, auth_client, held):
    few = _queries(auth_client)
    for _ in range(5):
        LeadFactory(organization=user.organization, email=EMAIL)
        ContactFactory(created_by=user, email=EMAIL)

    assert _queries(auth_client) == few


def test_the_settings_page_exports_and_erases_for_management(client, user, held):
    client.force_login(user)

    assert client.get("/settings/privacy/").status_code == 200
    download = client.post("/settings/privacy/", {"email": EMAIL, "action": "export"})
    assert download.status_code == 200 and download["Content-Type"] == "application/json"
    unconfirmed = client.post("/settings/privacy/", {"email": EMAIL, "action": "erase"})
    assert unconfirmed.status_code == 400 and Lead.objects.filter(email=EMAIL).exists()
    erased = client.post("/settings/privacy/", {"email": EMAIL, "action": "erase", "confirm": "on"})
    assert erased.status_code == 200 and 'data-testid="erasure"' in erased.content.decode()
    assert not Lead.objects.filter(email=EMAIL).exists()


def test_the_settings_page_is_refused_below_management(client, user):
    client.force_login(UserFactory(organization=user.organization, role="sales_rep"))

    assert client.get("/settings/privacy/").status_code == 403
    assert client.post("/settings/privacy/", {"email": EMAIL, "action": "export"}).status_code == 403


def test_staff_erase_across_organizations_from_the_admin(client, user, held, other_org_user):
    LeadFactory(organization=other_org_user.organization, email=EMAIL)
    staff = StaffUserFactory()
    client.force_login(staff)
    url = "/admin/accounts/organization/data-protection/"

    assert client.get(url).status_code == 200
    assert client.post(url, {"email": EMAIL, "action": "export"})["Content-Type"] == "application/json"
    page = client.post(url, {"email": EMAIL, "action": "erase", "confirm": "on"})

    assert page.status_code == 200 and 'data-testid="erasure"' in page.content.decode()
    assert not Lead.objects.filter(email=EMAIL).exists()
    assert Event.objects.filter(name="accounts.person.erased", actor=staff, data__organization_id=None).exists()


def test_staff_on_the_settings_page_reach_only_their_own_organization(client, held):
    client.force_login(StaffUserFactory())

    download = client.post("/settings/privacy/", {"email": EMAIL, "action": "export"})

    assert download.status_code == 200 and not any(json.loads(download.content)["records"].values())
