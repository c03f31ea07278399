"""A vendor's live stock: which of its inventory leads are already offered in a listing that
is not withdrawn, so the same person is not listed twice.

The rules are those of `leads.dedupe` (a match on the email or phone key is a duplicate, on
name + company alone a possible one), applied only to inventory leads behind a live
listing: a person whose listing was withdrawn may be listed again.
"""

from dataclasses import dataclass

from django.db.models import F

from leads.dedupe import DedupeKeys, duplicates_best
from leads.models import Lead
from marketplace.models import Listing

LIVE_STATUSES = (Listing.Status.AVAILABLE, Listing.Status.SOLD_OUT)
ON_LABELS = {"email": "email", "phone": "phone", "name_company": "name and company"}


@dataclass(frozen=True)
class LiveTwin:
    """The live listing whose lead a new row or form repeats."""

    listing_id: int
    lead_id: int
    certain: bool  # False: a possible duplicate (same name and company only)
    on: str  # "email", "phone" or "name_company"

    def describe(self) -> str:
        kind = "Already listed" if self.certain else "Possibly already listed"
        return f"{kind} in listing {self.listing_id} (same {ON_LABELS[self.on]})."


def live_twins_find(*, organization_id: int, keys: list[DedupeKeys]) -> list[LiveTwin | None]:
    """For each set of keys, the best match among the organization's live listings: a certain
    duplicate (on the email, then the phone) before a possible one. One query for the whole list."""
    candidates = (
        Lead.objects.filter(
            organization_id=organization_id,
            is_inventory=True,
            deleted_at__isnull=True,
            listing__status__in=LIVE_STATUSES,
        )
        .annotate(listing_pk=F("listing__pk"))
        .order_by("pk")
    )
    return [_twin(best) for best in duplicates_best(candidates=candidates, keys=keys)]


def _twin(best) -> LiveTwin | None:
    if best is None:
        return None
    match, lead = best
    return LiveTwin(listing_id=lead.listing_pk, lead_id=lead.pk, certain=match.certain, on=match.on)


def live_twin_find(*, organization_id: int, keys: DedupeKeys) -> LiveTwin | None:
    return live_twins_find(organization_id=organization_id, keys=[keys])[0]
