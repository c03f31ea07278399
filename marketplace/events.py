"""Subscribers of this app to domain events."""

from leadnexus.core.events import subscribe
from marketplace.services.saved_searches import saved_search_matches_record


@subscribe("marketplace.listing.approved", run_async=True)
def saved_searches_match_approved_listing(event) -> None:
    """A listing entered the catalog: record the saved searches it matches (announced later,
    in batches, by `marketplace.tasks.saved_searches_notify`), and teach goal search its
    industry and place."""
    saved_search_matches_record(listing_id=int(event.subject_id))
