"""Subscribers of this app to domain events."""

from leadnexus.core.events import subscribe
from leads.events import LEAD_MERGED
from marketplace.models import Dispute, Purchase
from marketplace.services.saved_searches import saved_search_matches_record
from marketplace.services.standing import vendor_standing_refresh


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


# A vendor's standing is recounted after each sale and dispute commits (in-process, after the
# commit: the checkout's transaction never waits on the vendor's standing row).


@subscribe("marketplace.purchase.completed")
def standing_after_sale(event) -> None:
    vendor_standing_refresh(vendor_id=event.data["vendor"])


@subscribe("marketplace.dispute.opened")
def standing_after_dispute(event) -> None:
    vendor_standing_refresh(vendor_id=Dispute.objects.get(pk=event.subject_id).vendor_id)


@subscribe("marketplace.dispute.resolved")
def standing_after_decision(event) -> None:
    vendor_standing_refresh(vendor_id=Dispute.objects.get(pk=event.subject_id).vendor_id)
