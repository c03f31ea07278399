from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When

from accounts.models import User
from leadnexus.core.exceptions import NotAuthenticated, NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leads.imports.selectors import (
    ImportPreview,
    RejectedRows,
    import_job_get,
    import_job_list,
    import_preview,
    import_rejected,
)
from leads.models import ImportJob
from marketplace.models import Listing, Purchase, SavedSearch, SavedSearchMatch, SearchGoal
from marketplace.policy import can_search_as_buyer, can_sell


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
        .select_related("vendor__quality", "lead", "created_by")
        .order_by("created_at", "id")
    )


def listings_bought(*, organization_id: int, listing_ids) -> set[int]:
    """Which of these listings the organization bought (their contacts are revealed to it)."""
    return set(
        Purchase.objects.filter(buyer_id=organization_id, listing_id__in=list(listing_ids)).values_list(
            "listing_id", flat=True
        )
    )


# --- Selling: the vendor's own listings and uploads -------------------------------------------


def _require_seller(user: User) -> None:
    if not can_sell(user):
        raise PermissionDenied("Only members of a vendor organization allowed to sell see its listings and uploads.")


def vendor_listing_list(
    *,
    user: User,
    approval_status: str | None = None,
    status: str | None = None,
    sold: bool | None = None,
    upload_id: int | None = None,
) -> QuerySet[Listing]:
    """The vendor organization's listings, any status unless filtered, newest first, with their
    leads (`sold`: True, sold at least once; False, never sold)."""
    _require_seller(user)
    listings = Listing.objects.filter(vendor_id=user.organization_id)
    if approval_status:
        listings = listings.filter(approval_status=approval_status)
    if status:
        listings = listings.filter(status=status)
    if sold is not None:
        listings = listings.filter(sold_count__gt=0) if sold else listings.filter(sold_count=0)
    if upload_id is not None:
        listings = listings.filter(upload_id=upload_id)
    return listings.select_related("lead").order_by("-created_at", "-pk")


def upload_list(*, user: User) -> QuerySet[ImportJob]:
    """The vendor's uploads (a sales rep: their own), newest first; another org's are not there."""
    _require_seller(user)
    return import_job_list(user=user, kind=ImportJob.Kind.LISTINGS)


def upload_get(*, user: User, upload_id: int) -> ImportJob:
    _require_seller(user)
    return import_job_get(user=user, kind=ImportJob.Kind.LISTINGS, job_id=upload_id)


def upload_preview(*, user: User, upload_id: int) -> ImportPreview:
    _require_seller(user)
    return import_preview(user=user, kind=ImportJob.Kind.LISTINGS, job_id=upload_id)


def upload_rejected(*, user: User, upload_id: int) -> RejectedRows:
    _require_seller(user)
    return import_rejected(user=user, kind=ImportJob.Kind.LISTINGS, job_id=upload_id)


# --- Goal search and saved searches: each member's own ---------------------------------------


def require_buyer(user: User) -> None:
    if not user.is_authenticated:
        raise NotAuthenticated()
    if not can_search_as_buyer(user):
        raise PermissionDenied("Goal search and saved searches are for members of a buyer organization who may buy.")


def search_goal_list(*, user: User) -> QuerySet[SearchGoal]:
    """The user's own goals, newest first (their search history)."""
    require_buyer(user)
    return SearchGoal.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


def search_goal_get(*, user: User, goal_id: int, lock: bool = False) -> SearchGoal:
    goals = search_goal_list(user=user)
    if lock:
        goals = goals.select_for_update()
    goal = goals.filter(pk=goal_id).first() if is_db_id(goal_id) else None
    if goal is None:
        raise NotFound("Search goal not found.")
    return goal


def saved_search_list(*, user: User) -> QuerySet[SavedSearch]:
    """The user's own saved searches, each with `new_matches`: listings approved since its
    last visit that matched it and are still in the catalog (one query for the whole list)."""
    require_buyer(user)
    new = Q(last_viewed_at__isnull=True) | Q(matches__matched_at__gt=F("last_viewed_at"))
    live = Q(matches__listing__approval_status=Listing.ApprovalStatus.APPROVED) & Q(
        matches__listing__status=Listing.Status.AVAILABLE
    )
    return (
        SavedSearch.objects.filter(user_id=user.pk)
        .annotate(new_matches=Count("matches", filter=new & live))
        .order_by("name", "pk")
    )


def saved_search_get(*, user: User, saved_search_id: int, lock: bool = False) -> SavedSearch:
    """One of the user's saved searches (another member's, or another organization's, is not
    found). Locked for an update: then without the match count."""
    if lock:
        require_buyer(user)
        searches = SavedSearch.objects.filter(user_id=user.pk).select_for_update()
    else:
        searches = saved_search_list(user=user)
    saved_search = searches.filter(pk=saved_search_id).first() if is_db_id(saved_search_id) else None
    if saved_search is None:
        raise NotFound("Saved search not found.")
    return saved_search


def saved_search_match_list(*, user: User, saved_search_id: int, new: bool = False) -> QuerySet[SavedSearchMatch]:
    """The listings that matched one of the user's saved searches and are still in the
    catalog, newest first, each with `is_new` (since the search's last visit); `new`: only
    those. The listings come with their vendor and lead, for the catalog payload."""
    saved_search = saved_search_get(user=user, saved_search_id=saved_search_id)
    since = saved_search.last_viewed_at
    matches = SavedSearchMatch.objects.filter(
        saved_search_id=saved_search.pk,
        listing__approval_status=Listing.ApprovalStatus.APPROVED,
        listing__status=Listing.Status.AVAILABLE,
    )
    is_new = Q(matched_at__gt=since) if since is not None else Q(pk__isnull=False)
    if new:
        matches = matches.filter(is_new)
    return (
        matches.select_related("listing__vendor__quality", "listing__lead")
        .annotate(is_new=Case(When(is_new, then=Value(True)), default=Value(False), output_field=BooleanField()))
        .order_by("-matched_at", "-pk")
    )
