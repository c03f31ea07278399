import dns.resolver
import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import SubUserFactory, bearer_client
from leadnexus.core.testing import assert_error
from leads import validation
from leads.models import Lead
from leads.tests.test_validation import FakeResolver, mx

pytestmark = pytest.mark.django_db

URL = "/api/leads/validate/"


def test_one_set_of_contacts_is_checked_and_normalised(auth_client):
    response = auth_client.post(
        URL, {"email": "Jane.Doe@Example.com", "phone": "(415) 555-0123", "website": "Example.com/"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "email": "Jane.Doe@example.com",
        "phone": "+14155550123",
        "website": "https://example.com",
        "validation_status": "valid",
        "validation_reasons": [],
        "problems": {},
        "reachable": True,
    }


def test_problems_come_with_reasons_and_messages(auth_client):
    response = auth_client.post(URL, {"email": "info@mailinator.com", "phone": "12345"}, format="json")

    body = response.json()
    assert body["validation_status"] == "risky"
    assert body["validation_reasons"] == ["email_disposable", "email_role", "phone_invalid"]
    assert set(body["problems"]) == {"email", "phone"}
    assert body["phone"] == "12345"


def test_the_trailing_slash_is_optional(auth_client):
    assert auth_client.post(URL.rstrip("/"), {"email": "a@acme.com"}, format="json").status_code == 200


def test_a_region_reads_local_phone_numbers(auth_client):
    response = auth_client.post(URL, {"phone": "020 7946 0958", "region": "gb"}, format="json")

    assert response.json()["phone"] == "+442079460958"


def test_many_items_are_answered_in_order(auth_client):
    items = [{"email": "info@acme.com"}, {"phone": "+44 20 7946 0958"}, {"email": "bad@", "phone": "1"}]

    response = auth_client.post(URL, {"items": items}, format="json")

    assert response.status_code == 200
    assert [item["validation_status"] for item in response.json()["items"]] == ["risky", "valid", "invalid"]
    assert response.json()["items"][1]["phone"] == "+442079460958"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="nothing"),
        pytest.param({"email": "", "phone": ""}, id="all-blank"),
        pytest.param({"items": []}, id="no-items"),
        pytest.param({"items": [{"email": "a@acme.com"}], "email": "b@acme.com"}, id="both-shapes"),
        pytest.param({"items": [{"email": "a@acme.com"}, {}]}, id="an-empty-item"),
        pytest.param({"items": [{"email": f"a{n}@acme.com"} for n in range(1001)]}, id="too-many-items"),
        pytest.param({"phone": "020 7946 0958", "region": "XX"}, id="unknown-region"),
        pytest.param({"email": "x" * 1001}, id="too-long"),
        pytest.param({"email": "a\x00b@acme.com"}, id="nul-byte"),
        pytest.param({"items": "a@acme.com"}, id="items-not-a-list"),
    ],
)
def test_malformed_requests_are_validation_errors(auth_client, body):
    assert_error(auth_client.post(URL, body, format="json"), 400, "validation_error")


def test_anonymous_callers_are_refused(api_client):
    assert_error(api_client.post(URL, {"email": "a@acme.com"}, format="json"), 401, "not_authenticated")


def test_a_sub_user_without_lead_rights_may_still_check_addresses(user):
    # checking an address reads no lead, so no lead flag is needed
    member = SubUserFactory(parent=user, permissions={"can_view_leads": False, "can_edit_leads": False})

    assert bearer_client(member).post(URL, {"email": "a@acme.com"}, format="json").status_code == 200


def test_the_quota_counts_items_not_calls(user, settings):
    # given a quota of 5 checks
    settings.QUOTAS = {**settings.QUOTAS, "validate": "5/day"}
    client = bearer_client(user)

    # when 3 items, then 2 single checks are sent
    assert (
        client.post(URL, {"items": [{"email": f"a{n}@acme.com"} for n in range(3)]}, format="json").status_code == 200
    )
    assert client.post(URL, {"email": "b@acme.com"}, format="json").status_code == 200
    assert client.post(URL, {"email": "c@acme.com"}, format="json").status_code == 200

    # then the sixth check is refused, with a time to wait
    response = client.post(URL, {"email": "d@acme.com"}, format="json")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_batch_past_the_quota_is_refused_whole(user, settings):
    settings.QUOTAS = {**settings.QUOTAS, "validate": "5/day"}
    client = bearer_client(user)

    response = client.post(URL, {"items": [{"email": f"a{n}@acme.com"} for n in range(6)]}, format="json")

    assert_error(response, 429, "throttled")


def test_quotas_are_per_user(user, settings):
    settings.QUOTAS = {**settings.QUOTAS, "validate": "1/day"}
    colleague = SubUserFactory(parent=user)
    assert bearer_client(user).post(URL, {"email": "a@acme.com"}, format="json").status_code == 200

    assert bearer_client(colleague).post(URL, {"email": "a@acme.com"}, format="json").status_code == 200


def test_the_mail_server_check_runs_when_turned_on(auth_client, settings, monkeypatch):
    # given MX look-ups on, one domain with mail servers and one that does not exist
    settings.EMAIL_MX_CHECK = True
    fake = FakeResolver({("acme.com", "MX"): mx("mx.acme.com"), ("gone.example", "MX"): dns.resolver.NXDOMAIN()})
    monkeypatch.setattr(validation, "dns_resolver", lambda: fake)
    validation.domain_receives_mail.cache_clear()

    response = auth_client.post(URL, {"items": [{"email": "a@acme.com"}, {"email": "a@gone.example"}]}, format="json")

    first, second = response.json()["items"]
    assert first["validation_status"] == "valid"
    assert second["validation_reasons"] == ["email_no_mx", "phone_missing"]
    assert second["validation_status"] == "risky"
    validation.domain_receives_mail.cache_clear()


def test_nothing_is_stored(auth_client):
    auth_client.post(URL, {"email": "a@acme.com"}, format="json")

    assert not Lead.objects.exists()


def test_session_callers_need_the_csrf_token(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    assert_error(client.post(URL, {"email": "a@acme.com"}, format="json"), 403, "permission_denied")
