import re

import pytest
from django.test import Client

from accounts.models import SubUserPermissions
from accounts.tests.factories import SubUserFactory, UserFactory
from leadnexus.core.models import Event

pytestmark = pytest.mark.django_db

FLAGS = SubUserPermissions.FLAGS
URL = "/settings/organization/"
VALID = {
    "name": "Acme Leads",
    "industry": "Software",
    "company_size": "51-200",
    "website": "acme.example",
    "phone": "+44 20 7946 0958",
    "time_zone": "Europe/London",
}

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


def test_management_edits_the_organization_from_its_page(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 200 and b'name="time_zone"' in page.content
    assert b'href="/settings/organization/"' in page.content and b'href="/settings/team/"' in page.content
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()

    response = client.post(URL, {**VALID, "csrfmiddlewaretoken": token})

    assert response.status_code == 302 and response["Location"] == URL
    org = user.organization
    org.refresh_from_db()
    assert org.name == "Acme Leads" and org.company_size == "51-200" and org.time_zone == "Europe/London"
    assert org.website == "https://acme.example" and org.phone == "+442079460958"
    assert Event.objects.filter(name="accounts.organization.updated", actor=user).exists()
    assert b"settings were saved" in client.get(URL).content


def test_the_page_shows_the_plan_and_seats(client, user):
    SubUserFactory(parent=user)
    client.force_login(user)
    page = client.get(URL).content.decode()
    assert "Free" in page and "2 of 3 in use" in page and "Each member chooses" in page


def test_invalid_values_come_back_as_field_errors(client, user):
    client.force_login(user)

    response = client.post(URL, {**VALID, "phone": "555"})

    assert response.status_code == 400
    assert b"Enter a valid phone number with its country code" in response.content
    user.organization.refresh_from_db()
    assert user.organization.name != "Acme Leads"


@pytest.mark.parametrize("who", NOT_MANAGEMENT)
def test_other_members_see_the_settings_read_only_and_cannot_change_them(client, user, who):
    if who.get("sub"):
        member = SubUserFactory(parent=user, role=who["role"], permissions=who["flags"])
    else:
        member = UserFactory(organization=user.organization, role=who["role"])
    client.force_login(member)

    page = client.get(URL)
    assert page.status_code == 200
    assert b"Only management users can change these settings" in page.content
    assert b'name="time_zone"' not in page.content and b'href="/settings/team/"' not in page.content

    response = client.post(URL, VALID)
    assert response.status_code == 403
    user.organization.refresh_from_db()
    assert user.organization.name != "Acme Leads"


def test_a_management_sub_user_may_edit_from_the_page(client, user):
    manager = SubUserFactory(parent=user, role="management", permissions=dict.fromkeys(FLAGS, False))
    client.force_login(manager)
    assert client.post(URL, VALID).status_code == 302


def test_visitors_are_sent_to_sign_in(client):
    assert client.get(URL)["Location"] == f"/login/?next={URL}"
    assert client.post(URL, VALID)["Location"] == f"/login/?next={URL}"
