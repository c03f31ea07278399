"""Vendor quality (`analytics.quality`): the figures of a hand-built set of sold leads, the
minimum sample, and the figures following the outcomes of sold leads as they happen
through the real services (a sale, a first contact, a won deal, a dispute and its decision),
stored on the vendor and on its listings."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import OrganizationFactory, StaffUserFactory, UserFactory
from analytics.quality import quality_score, vendor_quality_figures, vendor_quality_refresh, vendor_quality_refresh_all
from crm.models import Opportunity
from crm.services.activities import activity_create
from crm.services.opportunities import opportunity_create, opportunity_move, opportunity_reopen
from crm.tests.factories import ContactFactory, OpportunityFactory
from leads.models import Lead
from leads.services.records import lead_status_change
from marketplace.models import Dispute, Listing, Purchase, VendorQuality
from marketplace.services.cart import cart_add
from marketplace.services.checkout import checkout_confirm, checkout_create_intent
from marketplace.services.disputes import dispute_open, dispute_resolve
from marketplace.services.quality import QualityFigures
from marketplace.tests.factories import (
    DisputeFactory,
    ListingFactory,
    PurchaseFactory,
    SoldLeadFactory,
    VendorFactory,
    VendorUserFactory,
)
from marketplace.tests.helpers import CARD_OK

pytestmark = pytest.mark.django_db


def _deal(lead, stage=Opportunity.Stage.CLOSED_WON, **kwargs):
    return OpportunityFactory(
        created_by=UserFactory(organization=lead.organization), lead=lead, stage=stage, amount=Decimal("100"), **kwargs
    )


@pytest.fixture
def sold_set():
    """A vendor's five sold leads with known outcomes, and purchases that do not count.

    1. reached (first contact logged) and won    2. contacted (status) and lost
    3. new, disputed (open), a deleted won deal  4. new, dispute rejected
    5. new, refunded after its dispute
    → sold 5, contacted 2, won 1, disputed 2."""
    vendor = VendorFactory()
    leads = [SoldLeadFactory(listing__vendor=vendor).delivered_lead for _ in range(5)]
    Lead.objects.filter(pk=leads[0].pk).update(first_contacted_at=timezone.now(), status=Lead.Status.QUALIFIED)
    _deal(leads[0])
    Lead.objects.filter(pk=leads[1].pk).update(status=Lead.Status.CONTACTED)
    _deal(leads[1], Opportunity.Stage.CLOSED_LOST)
    DisputeFactory(purchase=leads[2].purchases.get())
    _deal(leads[2], deleted_at=timezone.now())
    DisputeFactory(purchase=leads[3].purchases.get(), status=Dispute.Status.REJECTED)
    refunded = leads[4].purchases.get()
    DisputeFactory(purchase=refunded, status=Dispute.Status.REFUNDED)
    Purchase.objects.filter(pk=refunded.pk).update(status=Purchase.Status.REFUNDED, refunded_at=timezone.now())
    # Not in the sample: a purchase with no delivered lead, another vendor's sold lead.
    PurchaseFactory(listing__vendor=vendor)
    _deal(SoldLeadFactory().delivered_lead)
    return vendor


def test_the_figures_of_a_known_set_of_sold_leads(sold_set, settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 5

    figures = vendor_quality_figures(vendor_id=sold_set.pk)

    assert figures == QualityFigures(
        sold=5,
        contacted=2,
        won=1,
        disputed=2,
        contact_rate=Decimal("0.4000"),
        win_rate=Decimal("0.2000"),
        dispute_rate=Decimal("0.4000"),
        # 5 x (0.3 x 0.4 + 0.3 x 0.2 + 0.4 x 0.6)
        score=Decimal("2.10"),
    )


def test_no_score_below_the_minimum_sample(sold_set, settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 6

    figures = vendor_quality_figures(vendor_id=sold_set.pk)

    assert figures.sold == 5 and figures.contact_rate == Decimal("0.4000") and figures.score is None


def test_the_minimum_sample_defaults_to_twenty_sales():
    assert quality_score(sold=19, contacted=19, won=19, disputed=0) is None
    assert quality_score(sold=20, contacted=20, won=20, disputed=0) == Decimal("5.00")
    assert quality_score(sold=20, contacted=0, won=0, disputed=20) == Decimal("0.00")


def test_a_vendor_that_sold_nothing_has_no_rates():
    figures = vendor_quality_figures(vendor_id=VendorFactory().pk)

    assert (figures.sold, figures.contact_rate, figures.win_rate, figures.dispute_rate, figures.score) == (
        0,
        None,
        None,
        None,
        None,
    )


def test_a_deal_won_on_the_contact_converted_from_the_lead_counts(settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 1
    lead = SoldLeadFactory().delivered_lead
    member = UserFactory(organization=lead.organization)
    OpportunityFactory(
        created_by=member,
        contact=ContactFactory(created_by=member, lead=lead),
        stage=Opportunity.Stage.CLOSED_WON,
        amount=Decimal("10"),
    )

    assert vendor_quality_figures(vendor_id=lead.purchases.get().listing.vendor_id).won == 1


def test_refreshing_stores_the_figures_on_the_vendor_and_its_listings(sold_set, settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 5
    unsold = ListingFactory(vendor=sold_set)

    vendor_quality_refresh(vendor_id=sold_set.pk)

    quality = VendorQuality.objects.get(vendor=sold_set)
    assert (quality.sold, quality.contacted, quality.won, quality.disputed, quality.score) == (
        5,
        2,
        1,
        2,
        Decimal("2.10"),
    )
    assert set(Listing.objects.filter(vendor=sold_set).values_list("vendor_quality", flat=True)) == {Decimal("2.10")}
    unsold.refresh_from_db()
    assert unsold.vendor_quality == Decimal("2.10")
    # the listing score blends it in: 0.8 x 60 + 4 x 2.10, in hundredths
    assert unsold.catalog_score == 4800 + 840 and unsold.score == Decimal("56.40")


def test_refreshing_every_vendor_covers_those_that_sold(sold_set, settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 5
    VendorFactory()  # sold nothing: left alone

    refreshed = vendor_quality_refresh_all()

    assert refreshed == 2  # the set's vendor, and the other vendor's sold lead
    assert VendorQuality.objects.get(vendor=sold_set).score == Decimal("2.10")


# --- The loop: outcomes arriving through the services ------------------------------------------


@pytest.fixture
def sale(settings):
    """A purchase made through the checkout, of a vendor rated from its first sale."""
    settings.VENDOR_QUALITY_MIN_SAMPLE = 1
    seller = VendorUserFactory()
    listing = ListingFactory(vendor=seller.organization, created_by=seller)
    other = ListingFactory(vendor=seller.organization, created_by=seller)
    buyer = UserFactory()
    cart_add(actor=buyer, listing_id=listing.pk)
    order = checkout_create_intent(actor=buyer)
    checkout_confirm(actor=buyer, intent_id=order.payment.intent_id, card_number=CARD_OK)
    return buyer, Purchase.objects.get(listing=listing), other


def _quality(purchase) -> VendorQuality:
    return VendorQuality.objects.get(vendor_id=purchase.listing.vendor_id)


def test_a_sale_rates_the_vendor_and_its_listings(sale):
    _, purchase, other = sale

    quality = _quality(purchase)

    # not reached, not won, not disputed: 5 x 0.4
    assert (quality.sold, quality.contact_rate, quality.dispute_rate, quality.score) == (
        1,
        Decimal("0"),
        Decimal("0"),
        Decimal("2.00"),
    )
    other.refresh_from_db()
    assert other.vendor_quality == Decimal("2.00")


def test_the_buyer_reaching_the_lead_raises_the_contact_rate(sale):
    buyer, purchase, other = sale

    lead_status_change(actor=buyer, lead_id=purchase.delivered_lead_id, status=Lead.Status.CONTACTED)

    assert _quality(purchase).contact_rate == 1 and _quality(purchase).score == Decimal("3.50")
    other.refresh_from_db()
    assert other.vendor_quality == Decimal("3.50")


def test_a_logged_call_is_a_first_contact(sale):
    buyer, purchase, _ = sale

    activity_create(actor=buyer, data={"kind": "call", "subject": "Intro call", "lead_id": purchase.delivered_lead_id})

    assert _quality(purchase).contacted == 1


def test_a_won_deal_raises_the_win_rate_and_reopening_it_lowers_it(sale):
    buyer, purchase, _ = sale
    deal = opportunity_create(actor=buyer, data={"title": "First order"}, lead_id=purchase.delivered_lead_id)

    opportunity_move(actor=buyer, opportunity_id=deal.pk, stage="closed_won", amount=Decimal("500"))
    assert _quality(purchase).won == 1 and _quality(purchase).win_rate == 1

    opportunity_reopen(actor=buyer, opportunity_id=deal.pk)
    assert _quality(purchase).won == 0


def test_a_dispute_counts_until_staff_reject_it(sale):
    buyer, purchase, other = sale

    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="invalid_email")
    assert _quality(purchase).disputed == 1 and _quality(purchase).score == Decimal("0.00")
    other.refresh_from_db()
    assert other.vendor_quality == Decimal("0.00")

    dispute_resolve(actor=StaffUserFactory(), dispute_id=dispute.pk, decision="reject")
    assert _quality(purchase).disputed == 0 and _quality(purchase).score == Decimal("2.00")


def test_a_refunded_dispute_keeps_counting(sale):
    buyer, purchase, _ = sale
    dispute = dispute_open(actor=buyer, purchase_id=purchase.pk, reason="wrong_phone")

    dispute_resolve(actor=StaffUserFactory(), dispute_id=dispute.pk, decision="refund")

    assert (_quality(purchase).sold, _quality(purchase).disputed) == (1, 1)


def test_outcomes_of_leads_nobody_sold_change_no_vendor(settings):
    settings.VENDOR_QUALITY_MIN_SAMPLE = 1
    member = UserFactory(organization=OrganizationFactory())
    lead = Lead.objects.create(organization=member.organization, first_name="Own", email="own@example.com")

    lead_status_change(actor=member, lead_id=lead.pk, status=Lead.Status.CONTACTED)

    assert not VendorQuality.objects.exists()
