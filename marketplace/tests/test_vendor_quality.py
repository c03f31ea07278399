"""Vendor quality in the marketplace: stored on the vendor and its listings, blended into the
listing score that orders the catalog (keyset pages still hold), inherited by new listings,
shown in the API, on catalog cards, the listing page and the vendor's own listings page, and
read-only in the admin. (How the figures are computed: analytics/tests/test_quality.py.)"""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, StaffUserFactory
from marketplace.catalog_cache import _version
from marketplace.models import Listing, VendorQuality
from marketplace.services.listings import listing_create
from marketplace.services.quality import QualityFigures, vendor_quality_store
from marketplace.tests.factories import ListingFactory, VendorFactory, VendorUserFactory

pytestmark = pytest.mark.django_db

LIST = "/api/marketplace/listings/"


def _figures(score, sold=25, contacted=20, won=5, disputed=1) -> QualityFigures:
    def share(part):
        return (Decimal(part) / sold).quantize(Decimal("0.0001"))

    return QualityFigures(
        sold=sold,
        contacted=contacted,
        won=won,
        disputed=disputed,
        contact_rate=share(contacted),
        win_rate=share(won),
        dispute_rate=share(disputed),
        score=None if score is None else Decimal(score),
    )


def test_storing_figures_rates_every_listing_of_the_vendor_and_moves_the_catalog_version(
    django_capture_on_commit_callbacks,
):
    vendor = VendorFactory()
    listings = ListingFactory.create_batch(2, vendor=vendor)
    other = ListingFactory()
    before = _version()

    with django_capture_on_commit_callbacks(execute=True):
        vendor_quality_store(vendor_id=vendor.pk, figures=_figures("4.10"))

    assert VendorQuality.objects.get(vendor=vendor).score == Decimal("4.10")
    for listing in listings:
        listing.refresh_from_db()
        assert listing.vendor_quality == Decimal("4.10")
        # 0.8 x 60 + 4 x 4.10 = 64.40
        assert listing.score == Decimal("64.40")
    other.refresh_from_db()
    assert other.vendor_quality is None and other.score == Decimal("58.00")  # neutral: 0.8 x 60 + 4 x 2.5
    assert _version() != before


def test_storing_the_same_figures_again_leaves_the_catalog_cached(django_capture_on_commit_callbacks):
    vendor = VendorFactory()
    ListingFactory(vendor=vendor)
    vendor_quality_store(vendor_id=vendor.pk, figures=_figures("4.10"))
    before = _version()

    with django_capture_on_commit_callbacks(execute=True):
        vendor_quality_store(vendor_id=vendor.pk, figures=_figures("4.10"))

    assert _version() == before


def test_falling_below_the_sample_again_unrates_the_listings():
    vendor = VendorFactory()
    listing = ListingFactory(vendor=vendor, vendor_quality=Decimal("3.00"))

    vendor_quality_store(vendor_id=vendor.pk, figures=_figures(None, sold=3, contacted=1, won=0, disputed=0))

    listing.refresh_from_db()
    assert listing.vendor_quality is None


def test_a_new_listing_carries_its_vendors_score():
    seller = VendorUserFactory()
    vendor_quality_store(vendor_id=seller.organization_id, figures=_figures("3.75"))

    listing = listing_create(
        actor=seller, data={"title": "CTO", "price": Decimal("30"), "first_name": "Ada", "email": "ada@example.com"}
    )

    assert listing.vendor_quality == Decimal("3.75")


def test_a_good_vendors_listing_ranks_above_an_equal_one_and_unrated_ranks_between(settings):
    settings.CATALOG_CACHE_SECONDS = 0
    poor, unrated, good = (ListingFactory(lead_score=70) for _ in range(3))
    vendor_quality_store(vendor_id=good.vendor_id, figures=_figures("4.50"))
    vendor_quality_store(vendor_id=poor.vendor_id, figures=_figures("1.00"))
    # A much better lead still beats a better vendor: the lead score weighs most.
    strong_lead = ListingFactory(lead_score=95)

    results = APIClient().get(LIST).json()["results"]

    assert [row["id"] for row in results] == [strong_lead.pk, good.pk, unrated.pk, poor.pk]
    assert [row["score"] for row in results] == ["86.00", "74.00", "66.00", "60.00"]
    lowest_first = APIClient().get(LIST, {"ordering": "score"}).json()["results"]
    assert [row["id"] for row in lowest_first] == [poor.pk, unrated.pk, good.pk, strong_lead.pk]


def test_keyset_pages_follow_the_blended_score(settings):
    settings.CATALOG_CACHE_SECONDS = 0
    vendors = [VendorFactory() for _ in range(3)]
    for index, vendor in enumerate(vendors):
        ListingFactory.create_batch(4, vendor=vendor, lead_score=50 + index)
    vendor_quality_store(vendor_id=vendors[0].pk, figures=_figures("5.00"))
    expected = list(Listing.objects.order_by("-catalog_score", "-pk").values_list("pk", flat=True))

    seen, url = [], LIST + "?page_size=5"
    while url:
        page = APIClient().get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]

    assert seen == expected and len(seen) == 12
    assert set(seen[:4]) == set(Listing.objects.filter(vendor=vendors[0]).values_list("pk", flat=True))


def test_the_api_shows_the_vendor_quality_object():
    rated = ListingFactory()
    vendor_quality_store(vendor_id=rated.vendor_id, figures=_figures("3.90", sold=40, contacted=30, won=8, disputed=2))
    unrated = ListingFactory()
    vendor_quality_store(vendor_id=unrated.vendor_id, figures=_figures(None, sold=3, contacted=3, won=1, disputed=0))

    rows = {row["id"]: row for row in APIClient().get(LIST).json()["results"]}
    detail = APIClient().get(f"{LIST}{rated.pk}/").json()

    assert rows[rated.pk]["vendor"]["quality"] == "3.90"
    assert rows[rated.pk]["vendor"]["quality_figures"] == {
        "score": "3.90",
        "rated": True,
        "sold": 40,
        "min_sample": 20,
        "contact_rate": "0.7500",
        "win_rate": "0.2000",
        "dispute_rate": "0.0500",
    }
    assert detail["vendor"]["quality_figures"] == rows[rated.pk]["vendor"]["quality_figures"]
    figures = rows[unrated.pk]["vendor"]["quality_figures"]
    assert (figures["score"], figures["rated"], figures["sold"], figures["contact_rate"]) == (None, False, 3, "1.0000")


def test_catalog_cards_and_the_listing_page_show_the_quality_and_its_rates(client):
    rated = ListingFactory(title="Rated vendor's lead")
    vendor_quality_store(vendor_id=rated.vendor_id, figures=_figures("3.90", sold=40, contacted=30, won=8, disputed=2))
    new_vendor = ListingFactory(title="New vendor's lead")
    vendor_quality_store(vendor_id=new_vendor.vendor_id, figures=_figures(None, sold=3, contacted=3, won=1, disputed=0))
    ListingFactory(title="Never sold")

    catalog = client.get(reverse("marketplace:catalog")).content.decode()
    page = client.get(reverse("marketplace:listing", args=[rated.pk])).content.decode()

    assert "quality 3.90 of 5" in catalog
    assert "Contacted 75%, won 20%, disputed 5% of 40 sold leads" in catalog
    assert "Not rated yet (3 of 20 sales)" in catalog and "Not rated yet (0 of 20 sales)" in catalog
    assert "3.90 of 5" in page and "Contacted 75%, won 20%, disputed 5% of 40 sold leads" in page
    assert "63.6 of 100" in page  # the listing score: 0.8 x 60 + 4 x 3.90


def test_vendors_see_their_own_figures_on_their_listings_page(client):
    seller = VendorUserFactory()
    ListingFactory(vendor=seller.organization, created_by=seller)
    vendor_quality_store(
        vendor_id=seller.organization_id, figures=_figures(None, sold=7, contacted=5, won=1, disputed=0)
    )
    client.login(email=seller.email, password=PASSWORD)

    page = client.get(reverse("marketplace:my-listings")).content.decode()

    assert "Not rated yet (7 of 20 sales)" in page and "Contacted 71%, won 14%, disputed 0% of 7 sold leads" in page


def test_the_catalog_list_costs_one_query_with_vendor_figures(settings):
    settings.CATALOG_CACHE_SECONDS = 0
    for _ in range(3):
        listing = ListingFactory()
        vendor_quality_store(vendor_id=listing.vendor_id, figures=_figures("2.00"))

    with CaptureQueriesContext(connection) as queries:
        APIClient().get(LIST)

    assert len(queries) == 1


def test_staff_read_vendor_quality_in_the_admin_and_cannot_change_it(client):
    listing = ListingFactory()
    quality = vendor_quality_store(vendor_id=listing.vendor_id, figures=_figures("2.00"))
    client.login(email=StaffUserFactory().email, password=PASSWORD)

    changelist = client.get(reverse("admin:marketplace_vendorquality_changelist"))
    change = client.get(reverse("admin:marketplace_vendorquality_change", args=[quality.pk]))

    assert changelist.status_code == 200 and listing.vendor.name in changelist.content.decode()
    assert change.status_code == 200 and 'name="score"' not in change.content.decode()
    assert client.get(reverse("admin:marketplace_vendorquality_add")).status_code == 403
