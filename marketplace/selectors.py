from django.db.models import QuerySet

from accounts.models import User
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from marketplace.models import Listing, Purchase


def listing_for_vendor(*, user: User, listing_id: int, lock: bool = False) -> Listing:
    """One of the vendor organization's own listings (any status)."""
    listings = Listing.objects.filter(vendor_id=user.organization_id)
    if lock:
        listings = listings.select_for_update()
    listing = listings.filter(pk=listing_id).first() if is_db_id(listing_id) else None
    if listing is None:
        raise NotFound("Listing not found.")
    return listing


def listing_for_review(*, listing_id: int, lock: bool = False) -> Listing:
    """Any listing, for staff reviewing the queue (callers check the staff policy)."""
    listings = Listing.objects.select_related("vendor", "created_by")
    if lock:
        listings = listings.select_for_update(of=("self",))
    listing = listings.filter(pk=listing_id).first() if is_db_id(listing_id) else None
    if listing is None:
        raise NotFound("Listing not found.")
    return listing


def review_queue(*, user: User) -> QuerySet[Listing]:
    """Listings waiting for approval, oldest first (staff only)."""
    if not user.is_staff:
        raise PermissionDenied("Only staff review listings.")
    return (
        Listing.objects.filter(approval_status=Listing.ApprovalStatus.PENDING)
        .select_related("vendor", "lead")
        .order_by("created_at", "id")
    )


def listings_bought(*, organization_id: int, listing_ids) -> set[int]:
    """Which of these listings the organization bought (their contacts are revealed to it)."""
    return set(
        Purchase.objects.filter(buyer_id=organization_id, listing_id__in=list(listing_ids)).values_list(
            "listing_id", flat=True
        )
    )
