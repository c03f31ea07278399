"""The payment provider's webhook twice, late, before the confirmation returns, and with
the database cut off while the confirmation or the webhook is being handled: one charge,
one paid order, one purchase per listing, a balanced ledger. The orderly cases (a repeat,
a success before the confirmation, a late failure, a charge after the hold expired) are in
marketplace/tests/test_checkout_services.py; these are the faulty and concurrent ones."""

import re
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from accounts.tests.factories import UserFactory, bearer_client
from leadnexus.core import outbox
from leadnexus.core.testing import assert_error
from marketplace.models import LedgerTransaction, Listing, MockProcessorIntent, Order, ProviderEvent, Purchase
from marketplace.payments import mock, webhook_sign
from marketplace.services import checkout
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK, assert_ledger_balanced
from tests.faults.processes import wait_for

WEBHOOK = "/api/payments/webhook/"
HANDLED = re.compile(r"payment_webhook_receive\[[^\]]+\] succeeded")


def _intent(client, listing: Listing) -> dict:
    assert client.post("/api/marketplace/cart/items/", {"listing_id": listing.pk}, format="json").status_code == 201
    response = client.post("/api/payments/create-intent/", {}, format="json", HTTP_IDEMPOTENCY_KEY=f"i-{listing.pk}")
    assert response.status_code == 201, response.content
    return response.json()


def _confirm(client, intent: dict, key: str):
    body = {"payment_intent_id": intent["payment_intent_id"], "card_number": CARD_OK}
    return client.post("/api/payments/confirm/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _deliver(client, body: str):
    """The provider posting an event, signed now (a late delivery is signed when it is sent)."""
    signature = webhook_sign(body.encode())
    return client.post(WEBHOOK, body, content_type="application/json", HTTP_LEADNEXUS_SIGNATURE=signature)


def _assert_sold_once(*orders: int) -> None:
    assert set(MockProcessorIntent.objects.values_list("charges", flat=True)) == {1}
    assert set(Order.objects.filter(pk__in=orders).values_list("status", flat=True)) == {Order.Status.PAID}
    assert Purchase.objects.count() == len(orders)
    assert LedgerTransaction.objects.filter(ref_type="order").count() == len(orders)
    assert_ledger_balanced()


@pytest.mark.django_db
def test_a_confirmation_and_a_webhook_cut_off_mid_handling_end_in_one_charge_and_one_order(monkeypatch):
    buyer, seller = UserFactory(), VendorUserFactory()
    client = bearer_client(buyer)
    intent = _intent(client, ListingFactory(vendor=seller.organization, price=Decimal("25.00")))
    # the provider's deliveries wait here, to be sent by the test when it says
    deliveries, enqueue = [], outbox.enqueue

    def provider_outbox(task, **kwargs):
        if task == mock.WEBHOOK_TASK:
            return deliveries.append(kwargs["body"])
        return enqueue(task, **kwargs)

    monkeypatch.setattr(outbox, "enqueue", provider_outbox)
    succeeded, cuts = checkout.payment_succeeded, []

    def cut_off(**kwargs):
        if cuts:
            cuts.pop()
            raise OperationalError("server closed the connection unexpectedly")
        return succeeded(**kwargs)

    monkeypatch.setattr(checkout, "payment_succeeded", cut_off)

    # the connection is lost after the card was charged: the buyer is told to try again
    cuts.append(1)
    assert_error(_confirm(client, intent, "pay-1"), 503, "service_unavailable")
    assert MockProcessorIntent.objects.get().charges == 1 and len(deliveries) == 2
    # the provider's webhook is cut off too: nothing is kept, the provider will send it again
    cuts.append(1)
    assert_error(_deliver(client, deliveries[0]), 503, "service_unavailable")
    assert not ProviderEvent.objects.exists()

    assert re.fullmatch(r"order \d+ paid", _deliver(client, deliveries[0]).json()["outcome"])
    assert _deliver(client, deliveries[1]).json()["outcome"] == "duplicate"
    assert _deliver(client, deliveries[0]).json()["outcome"] == "duplicate"  # late
    retried = _confirm(client, intent, "pay-2")  # the buyer tries again
    assert retried.status_code == 200 and retried.json()["status"] == "succeeded"

    _assert_sold_once(intent["order_id"])
    assert ProviderEvent.objects.get().outcome.endswith("paid")


@pytest.mark.django_db(transaction=True)
def test_webhooks_racing_the_confirmations_in_two_workers_sell_each_order_once(workers, on_private_redis):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    consumers = [workers.start(), workers.start()]  # the two deliveries of an event race each other
    seller = VendorUserFactory()
    buyers = [UserFactory() for _ in range(4)]
    intents = []
    for buyer in buyers:
        client = bearer_client(buyer)
        intent = _intent(client, ListingFactory(vendor=seller.organization, price=Decimal("25.00")))
        # the deliveries, sent when the charge commits, are handled while this call goes on
        assert _confirm(client, intent, "pay").status_code == 200
        intents.append(intent)

    def handled() -> int:
        return sum(len(HANDLED.findall(worker.log())) for worker in consumers)

    wait_for(lambda: handled() >= 2 * len(buyers), timeout=60, what="both deliveries of every event")
    assert ProviderEvent.objects.count() == len(buyers)
    # late: every event delivered once more, and a confirmation sent again
    for event in ProviderEvent.objects.all():
        body = mock.json.dumps(event.payload, separators=(",", ":"))
        assert _deliver(bearer_client(buyers[0]), body).json()["outcome"] == "duplicate"
    assert _confirm(bearer_client(buyers[0]), intents[0], "pay-again").status_code == 200

    _assert_sold_once(*(intent["order_id"] for intent in intents))
