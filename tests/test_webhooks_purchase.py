"""Outbound webhooks across apps: a paid order (marketplace) is told to the buyer's endpoints
(crm), with the lead it delivered into the buyer's pipeline, and not to the vendor's. Here
rather than in crm's tests, which do not import the marketplace, a sibling app."""

import pytest

from accounts.tests.factories import UserFactory
from crm.models import WebhookDelivery
from crm.tests.factories import WebhookEndpointFactory
from marketplace.models import Purchase
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.tests.factories import ListingFactory, VendorUserFactory
from marketplace.tests.helpers import CARD_OK

pytestmark = pytest.mark.django_db


def test_a_purchase_is_told_to_the_buyers_endpoints_with_the_lead_it_delivered():
    buyer, seller = UserFactory(), VendorUserFactory()
    buyers = WebhookEndpointFactory(created_by=buyer, events=["purchase.completed"])
    WebhookEndpointFactory(created_by=seller, events=["purchase.completed", "lead.created"])
    listing = ListingFactory(vendor=seller.organization, created_by=seller)
    cart_add(actor=buyer, listing_id=listing.pk)

    checkout_confirm(actor=buyer, intent_id=checkout_create_intent(actor=buyer).payment.intent_id, card_number=CARD_OK)

    purchase = Purchase.objects.get()
    delivery = WebhookDelivery.objects.get()  # the buyer's endpoint only
    assert (delivery.endpoint, delivery.event_type) == (buyers, "purchase.completed")
    data = delivery.payload["data"]
    assert data["purchase"] == {
        "id": purchase.pk,
        "listing_id": listing.pk,
        "price": str(purchase.price),
        "currency": purchase.currency,
        "delivered_lead_id": purchase.delivered_lead_id,
    }
    assert data["lead"]["id"] == purchase.delivered_lead_id and data["lead"]["email"] == listing.lead.email
