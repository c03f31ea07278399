"""The buying side through the API: who may, the cart and its refusals, create-intent and
confirm with their Idempotency-Key, the error codes of DESIGN §5, the webhook's signature,
orders, purchases (and their export), sales, wallet and earnings, and list query counts."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import SubUserFactory, UserFactory, bearer_client
from leadnexus.core.idempotency import request_fingerprint
from leadnexus.core.models import IdempotencyRecord
from leadnexus.core.testing import assert_error
from leads.tests.factories import LeadFactory
from marketplace.models import LedgerTransaction, Listing, Order, ProviderEvent, Purchase, RevealLog
from marketplace.payments import webhook_sign
from marketplace.services.ledger import Account, Posting, ledger_post
from marketplace.tests.factories import ContactListingFactory, ListingFactory, PendingListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_DECLINED, CARD_NO_FUNDS, CARD_OK, assert_ledger_balanced

pytestmark = pytest.mark.django_db

CART = "/api/marketplace/cart/"
ITEMS = "/api/marketplace/cart/items/"
CREATE = "/api/payments/create-intent/"
CONFIRM = "/api/payments/confirm/"
WEBHOOK = "/api/payments/webhook/"


@pytest.fixture
def client(buyer):
    return bearer_client(buyer)


@pytest.fixture
def seller():
    return VendorUserFactory()


def _listing(seller, **kwargs) -> Listing:
    return ListingFactory(vendor=seller.organization, created_by=seller, **kwargs)


def _post(client, url, body, key):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _checkout(client, *listings, use_wallet_credit=False) -> dict:
    for listing in listings:
        assert client.post(ITEMS, {"listing_id": listing.pk}, format="json").status_code == 201
    response = _post(client, CREATE, {"use_wallet_credit": use_wallet_credit}, f"create-{listings[0].pk}")
    assert response.status_code == 201, response.content
    return response.json()


def _pay(client, intent: dict, card=CARD_OK, key="pay-1"):
    return _post(client, CONFIRM, {"payment_intent_id": intent["payment_intent_id"], "card_number": card}, key)


# --- Who may ---------------------------------------------------------------------------------------

OPERATIONS = [
    ("get", CART, None),
    ("post", ITEMS, {"listing_id": 1}),
    ("delete", f"{ITEMS}1/", None),
    ("post", CREATE, {}),
    ("post", CONFIRM, {"payment_intent_id": "pi_x", "card_number": CARD_OK}),
    ("get", "/api/marketplace/orders/", None),
    ("get", "/api/marketplace/orders/1/", None),
    ("get", "/api/marketplace/purchases/", None),
    ("get", "/api/marketplace/purchases/1/", None),
    ("get", "/api/marketplace/purchases/export/", None),
    ("get", "/api/marketplace/wallet/", None),
]


def _send(client, method, url, body):
    kwargs = {"format": "json", "HTTP_IDEMPOTENCY_KEY": "k"} if body is not None else {}
    return getattr(client, method)(url, body, **kwargs) if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_anonymous_callers_must_sign_in(method, url, body):
    assert_error(_send(APIClient(), method, url, body), 401, "not_authenticated")


@pytest.mark.parametrize(("method", "url", "body"), OPERATIONS)
def test_a_vendor_only_organization_and_a_sub_user_without_can_buy_are_refused(method, url, body, seller):
    cannot_buy = SubUserFactory(permissions={"can_buy": False})
    for user in (seller, cannot_buy):
        assert_error(_send(bearer_client(user), method, url, body), 403, "permission_denied")


@pytest.mark.parametrize("url", ["/api/marketplace/sales/", "/api/marketplace/earnings/"])
def test_sales_and_earnings_are_for_sellers(url, buyer, seller):
    assert_error(bearer_client(buyer).get(url), 403, "permission_denied")
    assert bearer_client(seller).get(url).status_code == 200
    assert_error(APIClient().get(url), 401, "not_authenticated")


# --- The cart --------------------------------------------------------------------------------------


def test_the_cart_shows_masked_listings_stale_items_and_people_already_in_your_leads(client, buyer, seller):
    listing = ContactListingFactory(vendor=seller.organization)
    gone = _listing(seller)
    LeadFactory(organization=buyer.organization, email="jane@acme.com")
    for item in (listing, gone):
        assert client.post(ITEMS, {"listing_id": item.pk}, format="json").status_code == 201
    Listing.objects.filter(pk=gone.pk).update(status=Listing.Status.SOLD_OUT)

    body = client.get(CART).json()

    first, second = body["items"]
    assert first["listing"]["id"] == listing.pk and first["listing"]["contact_email"] == "j***@a***.com"
    assert first["stale"] is False and first["in_your_leads"]["certain"] is True
    assert first["in_your_leads"]["on"] == "email"
    assert second["stale"] is True and "no longer available" in second["stale_reason"]
    assert body["total"] == first["listing"]["price"] and body["currency"] == "USD"


def test_adding_is_refused_with_the_codes_of_the_contract(client, buyer, seller):
    own_seller_client = bearer_client(seller)
    own = _listing(seller)
    bought = _listing(seller, exclusive=False, max_sales=3)
    Purchase.objects.create(listing=bought, buyer=buyer.organization, price=bought.price, vendor_earning=bought.price)
    sold_out = _listing(seller, status=Listing.Status.SOLD_OUT)

    seller.organization.is_buyer = True
    seller.organization.save()
    assert_error(own_seller_client.post(ITEMS, {"listing_id": own.pk}, format="json"), 409, "own_listing")
    assert_error(client.post(ITEMS, {"listing_id": bought.pk}, format="json"), 409, "already_purchased")
    assert_error(client.post(ITEMS, {"listing_id": sold_out.pk}, format="json"), 409, "listing_unavailable")
    assert_error(client.post(ITEMS, {"listing_id": PendingListingFactory().pk}, format="json"), 404, "not_found")
    assert_error(client.post(ITEMS, {"listing_id": "x"}, format="json"), 400, "validation_error")


def test_adding_twice_keeps_one_item_and_removing_anothers_item_is_not_found(client, seller):
    listing = _listing(seller)
    first = client.post(ITEMS, {"listing_id": listing.pk}, format="json").json()
    again = client.post(ITEMS, {"listing_id": listing.pk}, format="json").json()
    assert first["id"] == again["id"]

    assert_error(bearer_client(UserFactory()).delete(f"{ITEMS}{first['id']}/"), 404, "not_found")
    assert client.delete(f"{ITEMS}{first['id']}/").status_code == 204
    assert client.get(CART).json()["items"] == []


def test_the_cart_costs_the_same_queries_for_one_item_or_many(client, seller):
    client.post(ITEMS, {"listing_id": _listing(seller).pk}, format="json")
    with CaptureQueriesContext(connection) as one:
        client.get(CART)
    for _ in range(6):
        client.post(ITEMS, {"listing_id": _listing(seller).pk}, format="json")

    with CaptureQueriesContext(connection) as many:
        assert len(client.get(CART).json()["items"]) == 7

    assert len(many) == len(one)


# --- Paying ----------------------------------------------------------------------------------------


def test_create_intent_answers_the_contract_and_needs_a_key(client, seller):
    listing = _listing(seller, price=Decimal("25.00"))
    client.post(ITEMS, {"listing_id": listing.pk}, format="json")

    assert_error(client.post(CREATE, {}, format="json"), 400, "validation_error")
    response = _post(client, CREATE, {}, "create-a")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "payment_intent_id",
        "order_id",
        "total",
        "wallet_applied",
        "amount_due",
        "currency",
        "status",
    }
    assert (body["total"], body["wallet_applied"], body["amount_due"]) == ("25.00", "0.00", "25.00")
    assert body["status"] == "requires_payment_method" and body["payment_intent_id"].startswith("pi_mock_")


def test_the_same_key_replays_and_another_body_with_it_is_refused(client, seller):
    client.post(ITEMS, {"listing_id": _listing(seller).pk}, format="json")
    first = _post(client, CREATE, {}, "same-key")

    replay = _post(client, CREATE, {}, "same-key")
    reused = _post(client, CREATE, {"use_wallet_credit": True}, "same-key")

    assert replay.content == first.content and replay["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert_error(reused, 409, "idempotency_key_reused")


def test_a_confirm_sent_again_while_the_first_still_runs_is_a_conflict(client, buyer, seller):
    intent = _checkout(client, _listing(seller))
    body = {"payment_intent_id": intent["payment_intent_id"], "card_number": CARD_OK}
    IdempotencyRecord.objects.create(
        org_id=buyer.organization_id,
        key="pay-twice",
        endpoint=f"POST {CONFIRM}",
        request_hash=request_fingerprint("POST", CONFIRM, json.dumps(body).encode()),
        expires_at=timezone.now() + timedelta(hours=1),
    )

    assert_error(_post(client, CONFIRM, body, "pay-twice"), 409, "conflict")

    assert not Purchase.objects.exists()


def test_a_declined_card_is_402_then_another_card_pays_and_delivers(client, buyer, seller):
    listing = ContactListingFactory(vendor=seller.organization)
    intent = _checkout(client, listing)

    declined = assert_error(_pay(client, intent, CARD_DECLINED, key="pay-declined"), 402, "card_declined")
    no_funds = _pay(client, intent, CARD_NO_FUNDS, key="pay-no-funds")
    paid = _pay(client, intent, CARD_OK, key="pay-ok")

    assert "declined" in declined["message"]
    assert_error(no_funds, 402, "insufficient_funds")
    assert paid.status_code == 200
    body = paid.json()
    assert body["status"] == "succeeded" and body["order_status"] == "paid" and body["order_id"] == intent["order_id"]
    (purchase,) = body["purchases"]
    assert purchase["listing_id"] == listing.pk and purchase["delivered_lead_id"]
    # the listing now shows its contacts in full to the buyer
    shown = client.get(f"/api/marketplace/listings/{listing.pk}/").json()
    assert shown["contact_email"] == "jane@acme.com" and shown["is_purchased"] is True
    assert_ledger_balanced()


def test_confirming_again_with_the_same_key_replays_without_charging(client, seller):
    intent = _checkout(client, _listing(seller))
    first = _pay(client, intent, key="pay-once")

    again = _pay(client, intent, key="pay-once")

    assert again.content == first.content
    assert Purchase.objects.count() == 1 and LedgerTransaction.objects.count() == 1


def test_a_listing_sold_meanwhile_is_409_naming_it(client, seller):
    listing = _listing(seller)
    intent = _checkout(client, listing)
    Listing.objects.filter(pk=listing.pk).update(sold_count=1)

    error = assert_error(_pay(client, intent), 409, "listing_unavailable")

    assert error["details"] == {"listing_id": [str(listing.pk)]}


def test_over_the_budget_is_409_naming_it(seller):
    rep = SubUserFactory(permissions={"monthly_budget": Decimal("10.00")})
    client = bearer_client(rep)
    client.post(ITEMS, {"listing_id": _listing(seller, price=Decimal("25.00")).pk}, format="json")

    error = assert_error(_post(client, CREATE, {}, "over"), 409, "budget_exceeded")

    assert "10.00" in error["message"]


def test_another_organizations_intent_is_not_found(client, seller):
    intent = _checkout(client, _listing(seller))

    assert_error(_pay(bearer_client(UserFactory()), intent), 404, "not_found")


def test_wallet_credit_pays_in_full_without_a_card(client, buyer, seller):
    ledger_post(
        kind=LedgerTransaction.Kind.WALLET_CREDIT,
        ref_type="test",
        ref_id="1",
        postings=[
            Posting(Account.WALLET, Decimal("50.00"), buyer.organization_id),
            Posting(Account.PROVIDER_CLEARING, Decimal("-50.00")),
        ],
    )
    intent = _checkout(client, _listing(seller, price=Decimal("20.00")), use_wallet_credit=True)
    assert (intent["wallet_applied"], intent["amount_due"]) == ("20.00", "0.00")

    paid = _post(client, CONFIRM, {"payment_intent_id": intent["payment_intent_id"]}, "wallet-pay")

    assert paid.status_code == 200 and paid.json()["status"] == "succeeded"
    wallet = client.get("/api/marketplace/wallet/").json()
    assert wallet["balance"] == "30.00" and wallet["available"] == "30.00"
    assert [entry["amount"] for entry in wallet["entries"]] == ["-20.00", "50.00"]
    assert [entry["balance_after"] for entry in wallet["entries"]] == ["30.00", "50.00"]


# --- The webhook -----------------------------------------------------------------------------------


def test_the_webhook_refuses_a_bad_signature_and_takes_a_good_one_once():
    body = b'{"id":"evt_api_1","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_none"}}}'
    import time

    body = body.replace(b'"created":1', f'"created":{int(time.time())}'.encode())

    assert_error(
        APIClient().post(WEBHOOK, body, content_type="application/json", HTTP_LEADNEXUS_SIGNATURE="t=1,v1=00"),
        400,
        "validation_error",
    )
    signed = {"content_type": "application/json", "HTTP_LEADNEXUS_SIGNATURE": webhook_sign(body)}
    first = APIClient().post(WEBHOOK, body, **signed)
    again = APIClient().post(WEBHOOK, body, **signed)

    assert first.status_code == 200 and first.json() == {"received": True, "outcome": "unknown payment intent"}
    assert again.json()["outcome"] == "duplicate"
    assert ProviderEvent.objects.count() == 1


# --- Orders, purchases, sales, earnings -------------------------------------------------------------


def test_orders_and_purchases_show_what_was_bought_with_its_lead(client, buyer, seller):
    listing = ContactListingFactory(vendor=seller.organization, created_by=seller)
    intent = _checkout(client, listing)
    _pay(client, intent)

    orders = client.get("/api/marketplace/orders/").json()
    (order,) = orders["results"]
    assert order["status"] == "paid" and order["payment"]["status"] == "succeeded"
    assert order["payment"]["card_last4"] == "4242"
    assert order["items"][0]["state"] == "sold" and order["items"][0]["purchase_id"]
    purchases = client.get("/api/marketplace/purchases/").json()["results"]
    assert purchases[0]["lead"]["email"] == "jane@acme.com" and purchases[0]["order_id"] == order["id"]
    assert purchases[0]["lead"]["source"] == "marketplace"
    detail = client.get(f"/api/marketplace/purchases/{purchases[0]['id']}/").json()
    assert detail["dispute_deadline"]
    # another organization sees none of it
    stranger = bearer_client(UserFactory())
    assert stranger.get("/api/marketplace/orders/").json()["results"] == []
    assert_error(stranger.get(f"/api/marketplace/orders/{order['id']}/"), 404, "not_found")
    assert_error(stranger.get(f"/api/marketplace/purchases/{purchases[0]['id']}/"), 404, "not_found")
    # the vendor sees the sale and the earning pending
    sale = bearer_client(seller).get("/api/marketplace/sales/").json()["results"][0]
    assert (sale["price"], sale["vendor_earning"], sale["platform_fee"], sale["earning"]) == (
        "25.00",
        "20.00",
        "5.00",
        "pending",
    )
    earnings = bearer_client(seller).get("/api/marketplace/earnings/").json()
    assert (earnings["pending"], earnings["available"]) == ("20.00", "0.00")


def test_purchases_export_in_full_and_logs_the_reveals(client, buyer, seller):
    listing = ContactListingFactory(vendor=seller.organization)
    _pay(client, _checkout(client, listing))
    RevealLog.objects.all().delete()

    response = client.get("/api/marketplace/purchases/export/", {"format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["contact_email"] == "jane@acme.com" and rows[0]["listing"] == listing.title
    assert RevealLog.objects.filter(listing=listing, context="export", organization=buyer.organization).count() == 1


@pytest.mark.parametrize("url", ["/api/marketplace/orders/", "/api/marketplace/purchases/", "/api/marketplace/sales/"])
def test_lists_cost_the_same_queries_for_one_row_or_many(url, buyer, seller):
    buyer.organization.is_vendor = True
    buyer.organization.save()
    client = bearer_client(buyer)
    own_listings = [ListingFactory(vendor=buyer.organization) for _ in range(4)]

    def buy(count):
        for _ in range(count):
            _pay(client, _checkout(client, _listing(seller)), key=f"pay-{Order.objects.count()}")
        for listing in own_listings[:count]:
            other = bearer_client(UserFactory())
            _pay(other, _checkout(other, listing), key=f"sale-{listing.pk}")
        del own_listings[:count]

    buy(1)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    buy(3)
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).json()

    assert body["count"] == 4
    assert len(many) == len(one)
