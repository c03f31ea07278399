"""No oversell under real concurrency (PostgreSQL, one thread and one connection per buyer):
buyers confirming their payment for the same listing at the same moment get exactly its
capacity in purchases and charges; every other buyer gets 409 listing_unavailable and is
charged nothing. The ledger balances afterwards."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from accounts.tests.factories import UserFactory
from marketplace.exceptions import ListingUnavailable
from marketplace.models import Listing, MockProcessorIntent, Payment, Purchase
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK, assert_ledger_balanced, balances_of

BUYERS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks under concurrency need PostgreSQL"),
]


def _race(max_sales: int) -> tuple[Listing, dict]:
    seller = VendorUserFactory()
    listing = ListingFactory(
        vendor=seller.organization,
        created_by=seller,
        price=Decimal("40.00"),
        exclusive=max_sales == 1,
        max_sales=max_sales,
    )
    orders = []
    for _ in range(BUYERS):
        buyer = UserFactory()
        cart_add(actor=buyer, listing_id=listing.pk)
        orders.append((buyer, checkout_create_intent(actor=buyer)))
    start = threading.Barrier(BUYERS)
    outcomes: dict[str, int] = {}
    lock = threading.Lock()

    def pay(buyer, order):
        try:
            start.wait()
            checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
            outcome = "paid"
        except ListingUnavailable:
            outcome = "listing_unavailable"
        except Exception as exc:  # anything else is a failure of the test, reported by name
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    threads = [threading.Thread(target=pay, args=pair) for pair in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    listing.refresh_from_db()
    return listing, outcomes


@pytest.mark.parametrize("max_sales", [1, 3])
def test_simultaneous_buyers_get_exactly_the_capacity(max_sales):
    listing, outcomes = _race(max_sales)

    assert outcomes == {"paid": max_sales, "listing_unavailable": BUYERS - max_sales}
    assert Purchase.objects.filter(listing=listing).count() == max_sales
    assert sum(MockProcessorIntent.objects.values_list("charges", flat=True)) == max_sales
    assert (listing.sold_count, listing.reserved_count, listing.status) == (max_sales, 0, Listing.Status.SOLD_OUT)
    assert Payment.objects.filter(status="succeeded").count() == max_sales
    assert Payment.objects.filter(status="processing").count() == 0
    assert balances_of(listing.vendor_id)["vendor_pending"] == Decimal("32.00") * max_sales
    assert balances_of()["provider_clearing"] == Decimal("-40.00") * max_sales
    assert_ledger_balanced()
