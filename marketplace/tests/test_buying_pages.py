"""The buying pages: the listing's add-to-cart button, the cart (stale items, people already in
your leads, empty state), checkout and the pay page (decline as a form error, then success),
orders, purchases and sales; who may open them."""

from decimal import Decimal

import pytest

from accounts.tests.factories import PASSWORD, SubUserFactory, UserFactory
from leads.tests.factories import LeadFactory
from marketplace.models import Listing, Order, Purchase
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.tests.factories import ContactListingFactory, ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.django_db

CART = "/marketplace/cart/"


@pytest.fixture
def signed_in(client, buyer):
    client.login(email=buyer.email, password=PASSWORD)
    return client


@pytest.fixture
def seller():
    return VendorUserFactory()


def _listing(seller, **kwargs) -> Listing:
    return ListingFactory(vendor=seller.organization, created_by=seller, **kwargs)


@pytest.mark.parametrize("url", [CART, "/marketplace/orders/", "/marketplace/purchases/", "/marketplace/orders/1/pay/"])
def test_buying_pages_need_a_buyer(client, seller, url):
    assert client.get(url).status_code == 302  # to sign in
    client.login(email=seller.email, password=PASSWORD)
    assert client.get(url).status_code == 403
    client.login(email=SubUserFactory(permissions={"can_buy": False}).email, password=PASSWORD)
    assert client.get(url).status_code == 403


def test_the_sales_page_is_for_sellers(signed_in, client, seller):
    assert signed_in.get("/marketplace/sales/").status_code == 403
    client.login(email=seller.email, password=PASSWORD)
    response = client.get("/marketplace/sales/")
    assert response.status_code == 200 and "No sales yet" in response.content.decode()


def test_the_listing_page_offers_add_to_cart_to_buyers_only(signed_in, client, seller):
    listing = _listing(seller)
    page = signed_in.get(f"/marketplace/listings/{listing.pk}/").content.decode()
    assert 'data-testid="add-to-cart"' in page

    response = signed_in.post(f"/marketplace/cart/add/{listing.pk}/")

    assert response.status_code == 302 and response["Location"] == CART
    assert 'data-testid="in-cart"' in signed_in.get(f"/marketplace/listings/{listing.pk}/").content.decode()
    client.logout()
    client.login(email=seller.email, password=PASSWORD)
    assert 'data-testid="add-to-cart"' not in client.get(f"/marketplace/listings/{listing.pk}/").content.decode()


def test_the_listing_page_warns_when_its_person_is_already_one_of_your_leads(signed_in, buyer, seller):
    listing = ContactListingFactory(vendor=seller.organization)
    url = f"/marketplace/listings/{listing.pk}/"
    assert 'data-testid="listing-in-your-leads"' not in signed_in.get(url).content.decode()

    lead = LeadFactory(organization=buyer.organization, email="jane@acme.com")

    page = signed_in.get(url).content.decode()
    assert 'data-testid="listing-in-your-leads"' in page and f"/leads/{lead.pk}/" in page
    assert "jane@acme.com" not in page  # the contacts stay masked


def test_adding_a_listing_that_cannot_be_bought_says_why(signed_in, seller):
    listing = _listing(seller, status=Listing.Status.SOLD_OUT)

    response = signed_in.post(f"/marketplace/cart/add/{listing.pk}/", follow=True)

    assert "no longer available" in response.content.decode()


def test_the_cart_flags_stale_items_and_people_already_in_your_leads(signed_in, buyer, seller):
    known = ContactListingFactory(vendor=seller.organization)
    gone = _listing(seller, price=Decimal("99.00"))
    LeadFactory(organization=buyer.organization, email="jane@acme.com")
    cart_add(actor=buyer, listing_id=known.pk)
    cart_add(actor=buyer, listing_id=gone.pk)
    Listing.objects.filter(pk=gone.pk).update(status=Listing.Status.WITHDRAWN)

    page = signed_in.get(CART).content.decode()

    assert page.count('data-testid="cart-line"') == 2
    assert "no longer available" in page and "already one of your leads" in page
    assert f'data-testid="cart-total">{known.price} USD' in page  # the stale item is not counted


def test_an_empty_cart_says_what_to_do(signed_in):
    assert "Your cart is empty" in signed_in.get(CART).content.decode()


def test_checkout_then_a_declined_card_then_a_good_one(signed_in, buyer, seller):
    listing = _listing(seller, price=Decimal("25.00"))
    cart_add(actor=buyer, listing_id=listing.pk)

    checkout = signed_in.post(CART, {})
    order = Order.objects.get()
    assert checkout.status_code == 302 and checkout["Location"] == f"/marketplace/orders/{order.pk}/pay/"
    pay_page = signed_in.get(checkout["Location"]).content.decode()
    assert "25.00 USD" in pay_page and "4242424242424242" in pay_page

    declined = signed_in.post(checkout["Location"], {"card_number": CARD_DECLINED})
    assert declined.status_code == 402 and "declined" in declined.content.decode()
    paid = signed_in.post(checkout["Location"], {"card_number": CARD_OK})

    assert paid.status_code == 302 and paid["Location"] == f"/marketplace/orders/{order.pk}/"
    detail = signed_in.get(paid["Location"]).content.decode()
    purchase = Purchase.objects.get()
    assert "Paid" in detail and f"/leads/{purchase.delivered_lead_id}/" in detail
    assert signed_in.get(checkout["Location"])["Location"] == paid["Location"]  # paying again: the order
    assert listing.title in signed_in.get("/marketplace/purchases/").content.decode()
    assert f"Order {order.pk}" in signed_in.get("/marketplace/orders/").content.decode()


def test_a_listing_sold_before_paying_is_a_page_error_with_nothing_charged(signed_in, buyer, seller):
    listing = _listing(seller)
    cart_add(actor=buyer, listing_id=listing.pk)
    pay = signed_in.post(CART, {})["Location"]
    Listing.objects.filter(pk=listing.pk).update(sold_count=1)

    response = signed_in.post(pay, {"card_number": CARD_OK})

    assert response.status_code == 409 and "no longer available" in response.content.decode()
    assert not Purchase.objects.exists()


def test_another_organizations_order_is_not_found(signed_in, seller):
    other = UserFactory()
    cart_add(actor=other, listing_id=_listing(seller).pk)
    order = checkout_create_intent(actor=other)

    assert signed_in.get(f"/marketplace/orders/{order.pk}/").status_code == 404
    assert signed_in.get(f"/marketplace/orders/{order.pk}/pay/").status_code == 404


def test_the_vendor_sees_the_sale(client, buyer, seller):
    listing = _listing(seller)
    cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    client.login(email=seller.email, password=PASSWORD)

    page = client.get("/marketplace/sales/").content.decode()

    assert listing.title in page and "20.00 USD" in page and "Pending until" in page
