"""Storing a vendor's quality figures (computed by `analytics.quality`) on the vendor
(`VendorQuality`) and its score on each of its listings (`Listing.vendor_quality`, which the
catalog filters on and its listing score blends in); the catalog's cached pages are dropped
once the change commits."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from marketplace.catalog_cache import catalog_changed
from marketplace.models import Listing, VendorQuality


@dataclass(frozen=True)
class QualityFigures:
    """One vendor's figures: the counts over its sold leads, their shares (0 to 1, None with
    no sale) and the score (0 to 5, None until the sample is large enough)."""

    sold: int
    contacted: int
    won: int
    disputed: int
    contact_rate: Decimal | None
    win_rate: Decimal | None
    dispute_rate: Decimal | None
    score: Decimal | None


FIGURES = ("sold", "contacted", "won", "disputed", "contact_rate", "win_rate", "dispute_rate", "score")


def vendor_quality_store(*, vendor_id: int, figures: QualityFigures) -> VendorQuality:
    """Keep `figures` as the vendor's quality and copy its score onto the listings that do not
    carry it yet (one update); cached catalog pages go when any listing changed."""
    values = {name: getattr(figures, name) for name in FIGURES}
    with transaction.atomic():
        before = VendorQuality.objects.select_for_update().filter(vendor_id=vendor_id).values(*FIGURES).first()
        quality, _ = VendorQuality.objects.update_or_create(
            vendor_id=vendor_id, defaults={**values, "computed_at": timezone.now()}
        )
        # (On a nullable column, `exclude` keeps the nulls: a listing not rated yet is stale
        # when the vendor now has a score.)
        relisted = (
            Listing.objects.filter(vendor_id=vendor_id)
            .exclude(vendor_quality=figures.score)
            .update(vendor_quality=figures.score)
        )
        if relisted or before != values:
            # Cards show the figures too, not only the score.
            catalog_changed()
    return quality


def vendor_quality_score(*, vendor_id: int) -> Decimal | None:
    """The vendor's current score, for a listing it adds (null: not rated)."""
    return VendorQuality.objects.filter(vendor_id=vendor_id).values_list("score", flat=True).first()
