"""Subscribers of this app to domain events."""

from leadnexus.core.events import subscribe
from leads.events import LEAD_MERGED
from marketplace.models import Purchase
from marketplace.services.saved_searches import saved_search_matches_record


@subscribe("marketplace.listing.approved", run_async=True)
def saved_searches_match_approved_listing(event) -> None:
    """A listing entered the catalog: record the saved searches it matches (announced later,
    in batches, by `marketplace.tasks.saved_searches_notify`), and teach goal search its
    industry and place."""
    saved_search_matches_record(listing_id=int(event.subject_id))


@subscribe(LEAD_MERGED)
def purchases_follow_merge(event) -> None:
    """A delivered lead was merged into another of the buyer's leads: its purchase now points
    at the survivor."""
    Purchase.objects.filter(delivered_lead_id=event.data["other_id"]).update(delivered_lead_id=int(event.subject_id))
