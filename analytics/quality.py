"""Vendor quality: what became of the leads a vendor sold, once they reached their buyers.

The sample is the vendor's **sold leads**: the purchases of its listings whose lead was
delivered into the buyer's organization (a purchase keeps counting when it is later refunded,
and when the buyer deletes the lead; a lead purged for good leaves the sample). Over it:

- **contact rate** = share of sold leads the buyer reached: the delivered lead has a first
  contact (`Lead.first_contacted_at`: a call, email or meeting logged, or its status moved on
  from `new`), or its status is no longer `new`;
- **win rate** = share of sold leads with a won opportunity (`closed_won`, not deleted) on the
  delivered lead itself or on a contact converted from it;
- **dispute rate** = share of sold leads disputed: a dispute that is open, answered by the
  vendor or refunded, or a refunded purchase. A dispute staff *rejected* does not count (the
  vendor was right); one still open counts until staff decide.

Shares are 0 to 1 (four places), None when nothing was sold.

**Score** (0 to 5, two places; null = "not rated"): only once the sample reaches
`VENDOR_QUALITY_MIN_SAMPLE` sold leads (20 by default),

    score = 5 x (0.3 x contact rate + 0.3 x win rate + 0.4 x (1 - dispute rate))

so a vendor whose every lead was contacted and won, and none disputed, scores 5; one whose
leads were all disputed and never reached scores 0. Disputes weigh most: they are the
buyers' own verdict on the data, where contact and win rates also depend on the buyer.

The figures are recomputed from the source tables (one aggregate query) whenever an event
says an outcome of a sold lead changed (`analytics.events`), and stored on the vendor and its
listings by `marketplace.services.quality.vendor_quality_store`; the catalog's listing score
blends the score in (`marketplace.models.catalog.CATALOG_SCORE`).
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q

from analytics.dashboard_cache import dashboards_changed
from crm.models import Opportunity
from leads.models import Lead
from marketplace.models import Dispute, Purchase, VendorQuality
from marketplace.services.quality import QualityFigures, vendor_quality_store

WEIGHTS = {"contact": Decimal("0.3"), "win": Decimal("0.3"), "no_dispute": Decimal("0.4")}
SCALE = Decimal(5)
RATE_PLACES = Decimal("0.0001")
SCORE_PLACES = Decimal("0.01")
# Disputes that count against the vendor: all but those staff rejected.
DISPUTED = Q(status=Purchase.Status.REFUNDED) | Q(
    dispute__status__in=[Dispute.Status.OPEN, Dispute.Status.RESPONDED, Dispute.Status.REFUNDED]
)
CONTACTED = Q(delivered_lead__first_contacted_at__isnull=False) | ~Q(delivered_lead__status=Lead.Status.NEW)


def _won() -> Q:
    """A won opportunity on the delivered lead, or on a contact converted from it. Two EXISTS,
    each answered by an index (the opportunity's lead; the contact's lead): one EXISTS with the
    OR inside, across the contact join, read every won opportunity for each sold lead."""
    won = Opportunity.objects.filter(stage=Opportunity.Stage.CLOSED_WON, deleted_at__isnull=True)
    lead = OuterRef("delivered_lead_id")
    return Q(Exists(won.filter(lead_id=lead))) | Q(Exists(won.filter(contact__lead_id=lead)))


def sold_leads(vendor_id: int):
    """The vendor's sold leads: purchases of its listings with a delivered lead."""
    return Purchase.objects.filter(listing__vendor_id=vendor_id, delivered_lead__isnull=False)


def _share(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / whole).quantize(RATE_PLACES, ROUND_HALF_UP) if whole else None


def quality_score(*, sold: int, contacted: int, won: int, disputed: int) -> Decimal | None:
    """The score of these counts (see the module's docstring), computed from the counts rather
    than the rounded shares; None below the minimum sample."""
    if sold < max(settings.VENDOR_QUALITY_MIN_SAMPLE, 1):
        return None
    points = WEIGHTS["contact"] * contacted + WEIGHTS["win"] * won + WEIGHTS["no_dispute"] * (sold - disputed)
    return (SCALE * points / sold).quantize(SCORE_PLACES, ROUND_HALF_UP)


def vendor_quality_figures(*, vendor_id: int) -> QualityFigures:
    """One vendor's figures, read from purchases, disputes, the delivered leads and their
    opportunities in one aggregate query."""
    counts = sold_leads(vendor_id).aggregate(
        sold=Count("pk"),
        contacted=Count("pk", filter=CONTACTED),
        won=Count("pk", filter=_won()),
        disputed=Count("pk", filter=DISPUTED),
    )
    sold = counts["sold"]
    return QualityFigures(
        **counts,
        contact_rate=_share(counts["contacted"], sold),
        win_rate=_share(counts["won"], sold),
        dispute_rate=_share(counts["disputed"], sold),
        score=quality_score(**counts),
    )


def vendor_quality_refresh(*, vendor_id: int):
    """Recompute one vendor's figures and store them on it and its listings (its dashboard
    shows them)."""
    stored = vendor_quality_store(vendor_id=vendor_id, figures=vendor_quality_figures(vendor_id=vendor_id))
    dashboards_changed(vendor_id)
    return stored


def vendor_quality_refresh_all() -> int:
    """Recompute every vendor that has sold or has figures already (the rollups' rebuild).
    Returns how many vendors were refreshed."""
    sellers = set(Purchase.objects.values_list("listing__vendor_id", flat=True).distinct())
    sellers |= set(VendorQuality.objects.values_list("vendor_id", flat=True))
    for vendor_id in sorted(sellers):
        vendor_quality_refresh(vendor_id=vendor_id)
    return len(sellers)


def vendors_of_leads(lead_ids: Iterable[int | None]) -> set[int]:
    """The vendors whose sold leads include any of these delivered leads."""
    ids = {lead_id for lead_id in lead_ids if lead_id is not None}
    if not ids:
        return set()
    return set(
        Purchase.objects.filter(delivered_lead_id__in=ids).values_list("listing__vendor_id", flat=True).distinct()
    )
