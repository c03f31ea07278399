"""Outbound webhooks: who may manage endpoints (the visibility matrix), what an endpoint may
be (its events, its secret, and no private, loopback or link-local address, then or at any
send), deliveries of real services' events to the subscribed endpoints only, signed with the
endpoint's secret, retried with backoff and sent once per attempt, an endpoint turned off
after repeated failures with its owners told, the delivery log and its query counts, the
pages, the admin, and a delivery through a real worker."""

import hashlib
import hmac
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffUserFactory, SubUserFactory, UserFactory, bearer_client
from crm.models import WebhookDelivery, WebhookEndpoint
from crm.services.opportunities import opportunity_move
from crm.services.webhooks import webhook_deliver, webhook_deliveries_retry, webhook_endpoint_create
from crm.tests.factories import OpportunityFactory, WebhookDeliveryFactory, WebhookEndpointFactory
from crm.webhook_events import EVENT_KEYS
from leadnexus.core.crypto import signature_check
from leadnexus.core.exceptions import PermissionDenied, ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.testing import assert_error, celery_eager
from leads.services.records import lead_assign, lead_create, lead_status_change
from notifications.models import Notification

pytestmark = pytest.mark.django_db

S = WebhookDelivery.Status


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: a host name resolves to the addresses a test gives it, else fails."""
    names: dict[str, list[str]] = {}

    def resolve(host, port):
        if host not in names:
            raise OSError(f"unknown host {host}")
        return names[host]

    monkeypatch.setattr("leadnexus.core.outbound.resolve", resolve)
    return names


def _lead(actor, email="ada@engines.example"):
    return lead_create(actor=actor, data={"first_name": "Ada", "email": email}).lead


def _make_due(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.next_attempt_at - timedelta(days=1))


# --- Who may manage endpoints ------------------------------------------------------------------

OPERATIONS = [
    ("get", "/api/webhooks/", 200),
    ("post", "/api/webhooks/", 201),
    ("get", "/api/webhooks/{id}/", 200),
    ("patch", "/api/webhooks/{id}/", 200),
    ("get", "/api/webhooks/{id}/deliveries/", 200),
    ("post", "/api/webhooks/{id}/test/", 202),
    ("delete", "/api/webhooks/{id}/", 204),
]


def _call(client, method: str, path: str, endpoint: WebhookEndpoint, receiver):
    url = path.format(id=endpoint.pk)
    if path == "/api/webhooks/" and method == "post":
        return client.post(url, {"url": receiver.url, "events": ["lead.created"]})
    if method == "patch":
        return client.patch(url, {"description": "CRM sync"})
    return getattr(client, method)(url)


@pytest.mark.parametrize(("method", "path", "allowed"), OPERATIONS)
def test_the_visibility_matrix(method, path, allowed, manager, rep, receiver):
    callers = {
        "management": (manager, allowed),
        "a sales manager": (UserFactory(organization=manager.organization, role="sales_manager"), allowed),
        "a sales rep": (rep, 403),
        "a manager without can_export": (
            SubUserFactory(parent=manager, role="sales_manager", permissions={"can_export": False}),
            403,
        ),
        "another organization's management": (UserFactory(), 404 if "{id}" in path else allowed),
    }
    for who, (user, expected) in callers.items():
        endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)
        response = _call(bearer_client(user), method, path, endpoint, receiver)
        if expected >= 400:
            assert_error(response, expected, {403: "permission_denied", 404: "not_found"}[expected])
        else:
            assert response.status_code == expected, (who, response.content)
    assert_error(_call(APIClient(), method, path, endpoint, receiver), 401, "not_authenticated")


def test_each_organization_lists_its_own_endpoints(manager):
    mine = WebhookEndpointFactory(created_by=manager)
    WebhookEndpointFactory()

    listed = bearer_client(manager).get("/api/webhooks/").json()

    assert [row["id"] for row in listed["results"]] == [mine.pk]
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(
            actor=UserFactory(organization=manager.organization, role="sales_rep"), url="", events=[]
        )


def test_lists_cost_the_same_few_queries_for_one_or_many(manager, django_assert_max_num_queries):
    client = bearer_client(manager)
    endpoint = WebhookEndpointFactory(created_by=manager)
    WebhookDeliveryFactory(endpoint=endpoint)
    deliveries = f"/api/webhooks/{endpoint.pk}/deliveries/"
    with CaptureQueriesContext(connection) as endpoints_one:
        client.get("/api/webhooks/")
    with CaptureQueriesContext(connection) as deliveries_one:
        client.get(deliveries)
    for _ in range(5):
        WebhookEndpointFactory(created_by=manager)
        WebhookDeliveryFactory(endpoint=endpoint)

    # the session, the page size preference, (the count,) the page
    with django_assert_max_num_queries(len(endpoints_one)) as many:
        assert len(client.get("/api/webhooks/").json()["results"]) == 6
    assert len(many) <= 5
    with django_assert_max_num_queries(len(deliveries_one)) as many:
        assert len(client.get(deliveries).json()["results"]) == 6
    assert len(many) <= 5


# --- What an endpoint may be -------------------------------------------------------------------


def test_the_secret_is_shown_in_full_only_when_the_endpoint_is_created(manager, receiver):
    client = bearer_client(manager)

    made = client.post("/api/webhooks/", {"url": receiver.url, "events": ["lead.created", "opportunity.won"]})
    chosen = client.post("/api/webhooks/", {"url": receiver.url, "events": ["lead.created"], "secret": "s" * 20})

    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert WebhookEndpoint.objects.get(pk=made.json()["id"]).secret == secret
    shown = client.get(f"/api/webhooks/{made.json()['id']}/").json()
    assert shown["secret"] == f"…{secret[-4:]}" and shown["events"] == ["lead.created", "opportunity.won"]
    assert chosen.json()["secret"] == "s" * 20
    assert_error(
        client.post("/api/webhooks/", {"url": receiver.url, "events": ["lead.created"], "secret": "short"}),
        400,
        "validation_error",
    )
    created = Event.objects.get(name="crm.webhook.created", subject_id=str(made.json()["id"]))
    assert secret not in str(created.data)


def test_events_are_checked_against_the_public_keys(manager, receiver):
    client = bearer_client(manager)

    unknown = client.post("/api/webhooks/", {"url": receiver.url, "events": ["lead.created", "lead.exploded"]})
    empty = client.post("/api/webhooks/", {"url": receiver.url, "events": []})

    assert assert_error(unknown, 400, "validation_error")["details"] == {
        "events": [f"Not an event: lead.exploded. Choose from: {', '.join(EVENT_KEYS)}."]
    }
    assert_error(empty, 400, "validation_error")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
    ],
)
def test_a_url_resolving_to_a_non_public_address_is_refused(address, kind, manager, dns):
    dns["hooks.customer.example"] = ["93.184.216.34", address]

    response = bearer_client(manager).post(
        "/api/webhooks/", {"url": "https://hooks.customer.example/in", "events": ["lead.created"]}
    )

    error = assert_error(response, 400, "validation_error")
    assert error["details"]["url"] == [
        f"hooks.customer.example resolves to a {kind} address ({address}); webhooks go to public addresses only."
    ]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://[::1]/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://2130706433/",  # 127.0.0.1 spelled as a number
        "ftp://hooks.customer.example/",
        "https://user:password@hooks.customer.example/",
        "https://nowhere.example/",
        "not a url",
    ],
)
def test_other_urls_that_may_not_be_called_are_refused(url, manager, dns):
    dns["hooks.customer.example"] = ["93.184.216.34"]
    dns["2130706433"] = ["127.0.0.1"]

    response = bearer_client(manager).post("/api/webhooks/", {"url": url, "events": ["lead.created"]})

    assert assert_error(response, 400, "validation_error")["details"]["url"]


def test_a_public_address_is_taken_and_the_setting_lets_a_local_one_through(manager, dns, settings):
    dns["hooks.customer.example"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]
    dns["crm.internal"] = ["10.20.0.5"]
    settings.WEBHOOK_ALLOWED_HOSTS = ["crm.internal", "172.16.0.0/12"]

    public = webhook_endpoint_create(actor=manager, url="https://hooks.customer.example/in", events=["lead.created"])
    by_name = webhook_endpoint_create(actor=manager, url="http://crm.internal:8080/in", events=["lead.created"])
    by_network = webhook_endpoint_create(actor=manager, url="http://172.17.0.2/in", events=["lead.created"])

    assert {public.url, by_name.url, by_network.url} == set(WebhookEndpoint.objects.values_list("url", flat=True))
    with pytest.raises(ValidationFailed):
        webhook_endpoint_create(actor=manager, url="http://10.20.0.5/in", events=["lead.created"])


def test_the_address_is_checked_again_at_every_send(manager, dns):
    # given an endpoint registered while its name resolved to a public address
    dns["hooks.customer.example"] = ["93.184.216.34"]
    endpoint = webhook_endpoint_create(actor=manager, url="https://hooks.customer.example/in", events=["lead.created"])

    # when the name now resolves inside the network and an event happens
    dns["hooks.customer.example"] = ["10.0.0.7"]
    _lead(manager)

    # then nothing is sent: the attempt failed and waits for a retry
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.status, delivery.attempts, delivery.response_code) == (S.PENDING, 1, None)
    assert delivery.error == (
        "hooks.customer.example resolves to a private address (10.0.0.7); webhooks go to public addresses only."
    )


def test_a_change_is_checked_like_a_new_endpoint(manager, receiver):
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)
    client = bearer_client(manager)
    url = f"/api/webhooks/{endpoint.pk}/"

    assert_error(client.patch(url, {"url": "http://10.0.0.1/in"}), 400, "validation_error")
    assert_error(client.patch(url, {"events": ["nope"]}), 400, "validation_error")
    changed = client.patch(url, {"events": ["opportunity.lost", "lead.created"], "secret": "another-secret-0123"})

    assert changed.status_code == 200 and changed.json()["events"] == ["lead.created", "opportunity.lost"]
    assert changed.json()["secret"] == "…0123"
    event = Event.objects.get(name="crm.webhook.updated")
    assert event.data == {"fields": ["events", "secret"]} and event.actor == manager
    assert client.delete(url).status_code == 204
    assert not WebhookEndpoint.objects.exists() and Event.objects.filter(name="crm.webhook.deleted").exists()


# --- Deliveries --------------------------------------------------------------------------------


def test_a_delivery_is_signed_with_the_endpoints_secret(manager, receiver):
    secret = (
        bearer_client(manager)
        .post("/api/webhooks/", {"url": receiver.url, "events": ["lead.created"]})
        .json()["secret"]
    )

    lead = _lead(manager)

    [request] = receiver.requests
    body, headers = request["body"], request["headers"]
    timestamp, signature = (part.split("=", 1)[1] for part in headers["LeadNexus-Signature"].split(","))
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert abs(int(timestamp) - time.time()) < 60
    signature_check(secret.encode(), body, headers["LeadNexus-Signature"], tolerance=300)
    with pytest.raises(ValidationFailed):
        signature_check(b"not the endpoint's secret", body, headers["LeadNexus-Signature"], tolerance=300)
    delivery = WebhookDelivery.objects.get()
    assert headers["Content-Type"] == "application/json" and request["path"] == "/hooks"
    assert (headers["LeadNexus-Event"], headers["LeadNexus-Delivery"]) == ("lead.created", str(delivery.pk))
    payload = receiver.payloads()[0]
    assert (payload["id"], payload["type"]) == (delivery.event_id, "lead.created")
    assert payload["data"]["lead"]["id"] == lead.pk and payload["data"]["lead"]["email"] == "ada@engines.example"
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.response_excerpt) == (
        S.SUCCEEDED,
        1,
        200,
        "ok",
    )
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_a_won_deal_reaches_the_endpoints_subscribed_to_it_and_no_other(manager, receiver):
    subscribed = WebhookEndpointFactory(
        created_by=manager, url=receiver.url, events=["opportunity.stage_changed", "opportunity.won"]
    )
    WebhookEndpointFactory(created_by=manager, events=["lead.created", "opportunity.lost"])
    WebhookEndpointFactory(created_by=manager, events=["opportunity.won"], is_active=False)
    WebhookEndpointFactory(events=EVENT_KEYS)  # another organization's
    deal = OpportunityFactory(created_by=manager, title="Engines rollout")

    opportunity_move(actor=manager, opportunity_id=deal.pk, stage="closed_won", amount=Decimal("900.00"))

    assert [payload["type"] for payload in receiver.payloads()] == ["opportunity.stage_changed", "opportunity.won"]
    won = receiver.payloads()[1]["data"]
    assert (won["from"], won["to"]) == ("prospecting", "closed_won")
    assert won["opportunity"]["id"] == deal.pk and won["opportunity"]["title"] == "Engines rollout"
    assert (won["opportunity"]["stage"], won["opportunity"]["amount"]) == ("closed_won", "900.00")
    assert set(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == {subscribed.pk}


def test_lead_and_lost_deal_events_carry_the_change(manager, rep, receiver):
    WebhookEndpointFactory(
        created_by=manager, url=receiver.url, events=["lead.status_changed", "lead.assigned", "opportunity.lost"]
    )
    lead = _lead(manager)
    deal = OpportunityFactory(created_by=manager)

    lead_status_change(actor=manager, lead_id=lead.pk, status="contacted")
    lead_assign(actor=manager, lead_id=lead.pk, assignee_id=rep.pk)
    opportunity_move(actor=manager, opportunity_id=deal.pk, stage="closed_lost", lost_reason="Budget cut")

    status, assigned, lost = (payload["data"] for payload in receiver.payloads())
    assert (status["from"], status["to"], status["lead"]["id"]) == ("new", "contacted", lead.pk)
    assert (assigned["from"], assigned["to"], assigned["lead"]["assigned_to"]) == (lead.assigned_to_id, rep.pk, rep.pk)
    assert (lost["to"], lost["reason"], lost["opportunity"]["lost_reason"]) == (
        "closed_lost",
        "Budget cut",
        "Budget cut",
    )


def test_a_ping_tries_the_receiver_and_is_logged(manager, receiver):
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)
    client = bearer_client(manager)

    answer = client.post(f"/api/webhooks/{endpoint.pk}/test/")
    log = client.get(f"/api/webhooks/{endpoint.pk}/deliveries/").json()

    assert answer.status_code == 202
    assert (answer.json()["event"], answer.json()["status"], answer.json()["response_code"]) == (
        "ping",
        S.SUCCEEDED,
        200,
    )
    assert receiver.payloads()[0]["type"] == "ping" and receiver.payloads()[0]["data"] == {"webhook_id": endpoint.pk}
    assert log["count"] == 1 and log["results"][0]["id"] == answer.json()["id"]
    client.patch(f"/api/webhooks/{endpoint.pk}/", {"is_active": False})
    assert_error(client.post(f"/api/webhooks/{endpoint.pk}/test/"), 409, "conflict")


def test_a_failed_delivery_is_retried_with_backoff_until_it_succeeds(manager, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 60
    receiver.answers = [500, 503]
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)

    _lead(manager)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (S.PENDING, 1, 500)
    assert delivery.error == "The endpoint answered 500." and delivery.response_excerpt == "try again"
    assert timedelta(seconds=60) <= delivery.next_attempt_at - delivery.last_attempt_at < timedelta(seconds=61)
    assert webhook_deliveries_retry() == 0  # not due yet

    _make_due(delivery)
    assert webhook_deliveries_retry() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (S.PENDING, 2, 503)
    assert timedelta(seconds=120) <= delivery.next_attempt_at - delivery.last_attempt_at < timedelta(seconds=121)

    _make_due(delivery)
    webhook_deliveries_retry()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code, delivery.error) == (S.SUCCEEDED, 3, 200, "")
    assert len({request["body"] for request in receiver.requests}) == 1 and len(receiver.requests) == 3
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_a_delivery_fails_for_good_after_its_last_attempt(manager, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.answers = [500, 500]
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)
    _lead(manager)
    delivery = WebhookDelivery.objects.get()

    _make_due(delivery)
    webhook_deliveries_retry()

    delivery.refresh_from_db()
    endpoint.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (S.FAILED, 2, None)
    assert endpoint.consecutive_failures == 1 and endpoint.is_active
    assert webhook_deliveries_retry() == 0


def test_an_attempt_is_made_once_however_often_its_task_is_sent(manager, receiver):
    WebhookEndpointFactory(created_by=manager, url=receiver.url)
    _lead(manager)
    delivery = WebhookDelivery.objects.get()

    assert webhook_deliver(delivery_id=delivery.pk, attempt=1) is None
    assert webhook_deliver(delivery_id=delivery.pk, attempt=2) is None  # it succeeded

    assert len(receiver.requests) == 1


def test_a_delivery_whose_task_was_lost_is_sent_by_the_retry_job(manager, receiver):
    # given a delivery whose task went to a broker no worker reads (a worker lost, a restart)
    WebhookEndpointFactory(created_by=manager, url=receiver.url)
    with celery_eager(False):
        _lead(manager)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempts, receiver.requests) == (0, [])

    # when the lease is over, the retry job sends it
    assert webhook_deliveries_retry() == 0
    _make_due(delivery)
    assert webhook_deliveries_retry() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(receiver.requests)) == (S.SUCCEEDED, 1, 1)


def test_an_endpoint_failing_again_and_again_is_turned_off_and_its_owners_told(manager, rep, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    sales_manager = UserFactory(organization=manager.organization, role="sales_manager")
    receiver.answers = [500] * 3
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)

    _lead(manager, "one@example.com")
    endpoint.refresh_from_db()
    assert (endpoint.is_active, endpoint.consecutive_failures) == (True, 1)
    _lead(manager, "two@example.com")
    _lead(manager, "three@example.com")

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "2 deliveries in a row failed. The last: The endpoint answered 500."
    assert WebhookDelivery.objects.count() == 2  # nothing recorded for an endpoint that is off
    told = Notification.objects.filter(type="webhook")
    assert {notification.user_id for notification in told} == {manager.pk, sales_manager.pk}
    assert told.first().link == f"/crm/webhooks/{endpoint.pk}/"
    assert Event.objects.filter(name="crm.webhook.disabled", subject_id=str(endpoint.pk)).exists()

    turned_on = bearer_client(manager).patch(f"/api/webhooks/{endpoint.pk}/", {"is_active": True}).json()

    assert (turned_on["is_active"], turned_on["consecutive_failures"], turned_on["disabled_reason"]) == (True, 0, "")


def test_a_success_forgets_earlier_failures(manager, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500]
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)

    _lead(manager, "one@example.com")
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1
    _lead(manager, "two@example.com")

    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_a_delivery_to_an_endpoint_turned_off_meanwhile_is_dropped(manager, receiver):
    endpoint = WebhookEndpointFactory(created_by=manager, url=receiver.url)
    with celery_eager(False):
        _lead(manager)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)

    webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk, attempt=1)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.error, receiver.requests) == (S.FAILED, "The endpoint is off.", [])
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


# --- Pages and admin ---------------------------------------------------------------------------


def test_the_webhook_pages(client, manager, rep, receiver):
    client.login(email=manager.email, password=PASSWORD)

    made = client.post("/crm/webhooks/", {"url": receiver.url, "events": ["lead.created", "opportunity.won"]})

    endpoint = WebhookEndpoint.objects.get()
    assert made.status_code == 201 and endpoint.secret in made.content.decode()
    detail = client.get(f"/crm/webhooks/{endpoint.pk}/")
    assert detail.status_code == 200 and endpoint.secret not in detail.content.decode()
    assert client.post(f"/crm/webhooks/{endpoint.pk}/test/").status_code == 302
    assert receiver.payloads()[0]["type"] == "ping"
    assert "ping" in client.get(f"/crm/webhooks/{endpoint.pk}/").content.decode()
    client.post(f"/crm/webhooks/{endpoint.pk}/active/", {"is_active": "false"})
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert client.post(f"/crm/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()
    client.login(email=rep.email, password=PASSWORD)
    assert client.get("/crm/webhooks/").status_code == 403


def test_the_settings_menu_offers_webhooks_to_those_who_manage_them(client, manager, rep):
    client.login(email=manager.email, password=PASSWORD)
    assert 'href="/crm/webhooks/"' in client.get("/settings/api-tokens/").content.decode()
    client.login(email=rep.email, password=PASSWORD)
    assert 'href="/crm/webhooks/"' not in client.get("/settings/api-tokens/").content.decode()


def test_staff_see_endpoints_and_deliveries_and_may_turn_an_endpoint_off(client, manager):
    endpoint = WebhookEndpointFactory(created_by=manager)
    WebhookDeliveryFactory(endpoint=endpoint)
    client.force_login(StaffUserFactory())

    assert client.get("/admin/crm/webhookendpoint/").status_code == 200
    assert client.get("/admin/crm/webhookdelivery/").status_code == 200
    page = client.get(f"/admin/crm/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret not in page.content.decode()
    client.post("/admin/crm/webhookendpoint/", {"action": "disable", "_selected_action": [endpoint.pk]}, follow=True)

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == "Turned off by LeadNexus staff."
    assert Notification.objects.filter(user=manager, type="webhook").exists()


# --- Through a real worker ---------------------------------------------------------------------


@pytest.mark.real_worker
def test_a_delivery_through_a_real_worker(real_worker, receiver):
    manager = UserFactory()
    WebhookEndpointFactory(created_by=manager, url=receiver.url)

    _lead(manager)

    deadline = time.monotonic() + 20
    while not receiver.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert receiver.payloads()[0]["type"] == "lead.created"
    while WebhookDelivery.objects.get().status != S.SUCCEEDED and time.monotonic() < deadline:
        time.sleep(0.1)
    assert WebhookDelivery.objects.get().status == S.SUCCEEDED
