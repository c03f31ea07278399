"""Saved searches: catalog filters a buyer keeps, and the listings that match them later.

- The filters are the catalog's own (`marketplace.selectors_catalog.CatalogFilter`: industry,
  location, prices, score, exclusive, vendor quality, search, ordering), checked by it and
  stored as given, so a saved search shows exactly what the catalog showed.
- When a listing is approved, `saved_search_matches_record` (an asynchronous subscriber of
  `marketplace.listing.approved`) records a `SavedSearchMatch` for each saved search it
  matches, once ever per search and listing (a unique constraint). A vendor's own listings
  never match its organization's searches.
- `saved_searches_notify` (Celery beat, every few minutes) sends each user ONE notification
  per run listing the new matches of all their searches with alerts on, through
  `notification_send` (type `new_lead`, so the user's notification settings apply), and marks
  them announced. Matches of a search with alerts off are recorded (they show as new on its
  page) but marked announced at once: switching alerts on later announces only what comes next.
- Opening a saved search (`saved_search_open`) shows the matches since the previous visit.
"""

from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from django.db import transaction
from django.db.models import Value
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, ValidationFailed
from marketplace.goals.vocabulary import vocabulary_learn
from marketplace.models import CATALOG, Listing, SavedSearch, SavedSearchMatch
from marketplace.selectors import require_buyer, saved_search_get
from marketplace.selectors_catalog import CatalogFilter, TermsFilter
from marketplace.services.reveals import listings_disclose
from notifications.models import NotificationType
from notifications.services import notification_send

MAX_SAVED_SEARCHES = 50
MAX_NAME_LENGTH = 100
# Searches checked against a new listing in one query (a UNION of their filters).
MATCH_CHUNK = 100
# New matches shown on a saved search's page, and named in one notification.
NEW_MATCHES_SHOWN = 50
NOTIFICATION_TITLES = 5

# Query parameters that page through results rather than choose them.
_NOT_FILTERS = {"cursor", "page", "page_size", "format"}


def _multi_valued(name: str) -> bool:
    return isinstance(CatalogFilter.base_filters[name], TermsFilter)


def filters_from_query(params) -> dict:
    """The catalog filters of a query string or QueryDict (the catalog page's address), as a
    saved search stores them: lists for the filters that take several values, else text."""
    if isinstance(params, str):
        params = QueryDict(params)
    filters = {}
    for name in CatalogFilter.base_filters:
        values = [str(value).strip() for value in params.getlist(name) if str(value).strip()]
        if values:
            filters[name] = values if _multi_valued(name) else values[-1]
    return filters


def filters_query(filters: dict) -> QueryDict:
    """A saved search's filters as the catalog's query parameters, in the filter set's order
    (PostgreSQL's jsonb keeps keys in an order of its own)."""
    query = QueryDict(mutable=True)
    for name in CatalogFilter.base_filters:
        if name not in filters:
            continue
        value = filters[name]
        query.setlist(name, [str(item) for item in value] if isinstance(value, list) else [str(value)])
    return query


def filters_clean(filters) -> dict:
    """Only catalog filters, checked by the catalog's own filter set; ValidationFailed with
    the problems by filter otherwise."""
    if not isinstance(filters, dict):
        raise ValidationFailed("The filters are not valid.", details={"filters": ["An object of catalog filters."]})
    unknown = sorted(str(name) for name in filters if name not in CatalogFilter.base_filters or name in _NOT_FILTERS)
    if unknown:
        raise ValidationFailed(
            "Some filters are not catalog filters: " + ", ".join(unknown) + ".",
            details={"filters": [f"Unknown filter: {name}." for name in unknown]},
        )
    cleaned = {}
    for name, value in filters.items():
        values = value if isinstance(value, list) else [] if value is None else [value]
        values = [" ".join(str(item).replace("\x00", " ").split()) for item in values]
        values = [item for item in values if item]
        if values:
            cleaned[name] = values if _multi_valued(name) else values[-1]
    filterset = CatalogFilter(data=filters_query(cleaned), queryset=Listing.objects.none())
    if not filterset.is_valid():
        raise ValidationFailed(
            "Some filters are not valid.",
            details={name: [str(message) for message in messages] for name, messages in filterset.errors.items()},
        )
    return cleaned


def _name_clean(name) -> str:
    name = " ".join(str(name or "").replace("\x00", " ").split())
    if not name:
        raise ValidationFailed("Name the saved search.", details={"name": ["This field is required."]})
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed("The name is too long.", details={"name": [f"At most {MAX_NAME_LENGTH} characters."]})
    return name


def saved_search_create(*, actor: User, name: str, filters: dict, notify: bool = True) -> SavedSearch:
    require_buyer(actor)
    name = _name_clean(name)
    filters = filters_clean(filters)
    with transaction.atomic():
        # Lock the user's row so two saves at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=actor.pk).first()
        if SavedSearch.objects.filter(user_id=actor.pk).count() >= MAX_SAVED_SEARCHES:
            raise Conflict(f"You have {MAX_SAVED_SEARCHES} saved searches; delete one to save another.")
        saved_search = SavedSearch.objects.create(
            user=actor, organization_id=actor.organization_id, name=name, filters=filters, notify=notify
        )
        publish(
            "marketplace.saved_search.created",
            actor=actor,
            org=actor.organization_id,
            subject=saved_search,
            data={"name": name, "filters": filters, "notify": notify},
        )
    return saved_search_get(user=actor, saved_search_id=saved_search.pk)


def saved_search_update(*, actor: User, saved_search_id: int, changes: dict) -> SavedSearch:
    """Rename it, change its filters, or switch its alerts on or off."""
    values = {}
    if "name" in changes:
        values["name"] = _name_clean(changes["name"])
    if "filters" in changes:
        values["filters"] = filters_clean(changes["filters"])
    if "notify" in changes:
        values["notify"] = bool(changes["notify"])
    with transaction.atomic():
        saved_search = saved_search_get(user=actor, saved_search_id=saved_search_id, lock=True)
        changed = {
            name: {"from": getattr(saved_search, name), "to": value}
            for name, value in values.items()
            if getattr(saved_search, name) != value
        }
        if changed:
            for name, change in changed.items():
                setattr(saved_search, name, change["to"])
            saved_search.save(update_fields=list(changed))
            publish(
                "marketplace.saved_search.updated",
                actor=actor,
                org=saved_search.organization_id,
                subject=saved_search,
                data=changed,
            )
    return saved_search_get(user=actor, saved_search_id=saved_search_id)


def saved_search_delete(*, actor: User, saved_search_id: int) -> SavedSearch:
    with transaction.atomic():
        saved_search = saved_search_get(user=actor, saved_search_id=saved_search_id, lock=True)
        publish(
            "marketplace.saved_search.deleted",
            actor=actor,
            org=saved_search.organization_id,
            subject=saved_search,
            data={"name": saved_search.name, "filters": saved_search.filters},
        )
        saved_search.delete()
    return saved_search


def saved_search_viewed(*, actor: User, saved_search_id: int) -> SavedSearch:
    """Mark it visited now: its matches so far are no longer new."""
    with transaction.atomic():
        saved_search = saved_search_get(user=actor, saved_search_id=saved_search_id, lock=True)
        SavedSearch.objects.filter(pk=saved_search.pk).update(last_viewed_at=timezone.now())
    return saved_search_get(user=actor, saved_search_id=saved_search_id)


@dataclass(frozen=True)
class SavedSearchVisit:
    saved_search: SavedSearch
    since: datetime | None  # the previous visit; None: never opened before
    new_count: int
    new_listings: list  # the newest NEW_MATCHES_SHOWN, disclosed for the viewer


def saved_search_open(*, actor: User, saved_search_id: int, context: str = "page") -> SavedSearchVisit:
    """Open a saved search: its new matches since the previous visit (those still in the
    catalog, newest first, shown as the catalog shows them), and this visit recorded."""
    saved_search = saved_search_get(user=actor, saved_search_id=saved_search_id)
    since = saved_search.last_viewed_at
    newest = list(
        saved_search_new_matches(saved_search)
        .order_by("-matched_at", "-pk")
        .values_list("listing_id", flat=True)[:NEW_MATCHES_SHOWN]
    )
    by_id = Listing.objects.select_related("vendor", "lead").in_bulk(newest)
    listings = [by_id[pk] for pk in newest if pk in by_id]
    with transaction.atomic():
        SavedSearch.objects.filter(pk=saved_search.pk).update(last_viewed_at=timezone.now())
        listings = listings_disclose(actor=actor, listings=listings, context=context)
    return SavedSearchVisit(
        saved_search=saved_search, since=since, new_count=saved_search.new_matches, new_listings=listings
    )


def saved_search_new_matches(saved_search: SavedSearch):
    """The matches of `saved_search` since its last visit whose listing is still in the catalog
    (what `new_matches` counts)."""
    matches = SavedSearchMatch.objects.filter(
        saved_search_id=saved_search.pk,
        listing__approval_status=Listing.ApprovalStatus.APPROVED,
        listing__status=Listing.Status.AVAILABLE,
    )
    if saved_search.last_viewed_at is not None:
        matches = matches.filter(matched_at__gt=saved_search.last_viewed_at)
    return matches


# --- Matching new listings ---------------------------------------------------------------------


def _chunks(iterable, size: int):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def saved_search_matches_record(*, listing_id: int) -> int:
    """Record which saved searches a newly approved listing matches (run by the system, once
    per approval), and add its industry and place to goal search's vocabulary. Each search's
    filters are applied by the catalog's own filter set to this one listing, a hundred
    searches per query. Returns how many matches were recorded."""
    listing = Listing.objects.filter(CATALOG, pk=listing_id).only("pk", "vendor_id", "industry", "location").first()
    if listing is None:  # withdrawn or sold out before this ran
        return 0
    vocabulary_learn(industry=listing.industry, location=listing.location)
    searches = (
        SavedSearch.objects.filter(user__is_active=True)
        .exclude(organization_id=listing.vendor_id)
        .only("pk", "filters", "notify")
        .order_by("pk")
    )
    notify = {}
    matched: list[int] = []
    for chunk in _chunks(searches.iterator(chunk_size=1000), MATCH_CHUNK):
        queries = []
        for saved_search in chunk:
            notify[saved_search.pk] = saved_search.notify
            filterset = CatalogFilter(
                data=filters_query(saved_search.filters), queryset=Listing.objects.filter(CATALOG, pk=listing.pk)
            )
            if not filterset.is_valid():  # stored before a rule changed: it matches nothing
                continue
            queries.append(filterset.qs.order_by().annotate(search=Value(saved_search.pk)).values_list("search"))
        if queries:
            matched += [row[0] for row in queries[0].union(*queries[1:], all=True)]
    if not matched:
        return 0
    now = timezone.now()
    with transaction.atomic():
        known = set(
            SavedSearchMatch.objects.filter(listing_id=listing.pk, saved_search_id__in=matched).values_list(
                "saved_search_id", flat=True
            )
        )
        fresh = [search_id for search_id in matched if search_id not in known]
        # A concurrent run may still insert the same pair: the unique constraint keeps one.
        SavedSearchMatch.objects.bulk_create(
            [
                SavedSearchMatch(
                    saved_search_id=search_id,
                    listing_id=listing.pk,
                    # Alerts off: nothing to announce, now or later.
                    notified_at=None if notify[search_id] else now,
                )
                for search_id in fresh
            ],
            ignore_conflicts=True,
        )
    return len(fresh)


# --- Announcing them ---------------------------------------------------------------------------


def _message(matches: list[SavedSearchMatch]) -> str:
    by_search: dict[int, list[SavedSearchMatch]] = {}
    for match in matches:
        by_search.setdefault(match.saved_search_id, []).append(match)
    lines = []
    for group in by_search.values():
        titles = [match.listing.title for match in group[:NOTIFICATION_TITLES]]
        more = len(group) - len(titles)
        lines.append(
            f"“{group[0].saved_search.name}”: " + "; ".join(titles) + (f" and {more} more" if more > 0 else "")
        )
    return "\n".join(lines)


def _in_catalog(listing: Listing) -> bool:
    return listing.approval_status == Listing.ApprovalStatus.APPROVED and listing.status == Listing.Status.AVAILABLE


def saved_searches_notify() -> int:
    """Announce every match not announced yet: one notification per user, naming the new
    listings of each of their searches (still in the catalog), marked announced in the same
    transaction. Safe to run twice at once: each user's matches are locked (skipping rows
    another run holds). Returns how many users were told."""
    pending = SavedSearchMatch.objects.filter(notified_at__isnull=True)
    told = 0
    for user_id in pending.values_list("saved_search__user_id", flat=True).distinct().order_by():
        with transaction.atomic():
            matches = list(
                pending.filter(saved_search__user_id=user_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("saved_search__user", "listing")
                .order_by("saved_search__name", "saved_search_id", "-matched_at", "-pk")
            )
            if not matches:
                continue
            now = timezone.now()
            SavedSearchMatch.objects.filter(pk__in=[match.pk for match in matches]).update(notified_at=now)
            live = [match for match in matches if _in_catalog(match.listing)]
            user = matches[0].saved_search.user
            if not live or not user.is_active:
                continue
            searches = {match.saved_search_id for match in live}
            link = (
                reverse("marketplace:saved-search", args=[live[0].saved_search_id])
                if len(searches) == 1
                else reverse("marketplace:saved-searches")
            )
            count = len(live)
            notification_send(
                user=user,
                type=NotificationType.NEW_LEAD,
                title=f"{count} new listing{'s' if count != 1 else ''} match your saved search"
                f"{'es' if len(searches) != 1 else ''}",
                message=_message(live),
                link=link,
            )
            told += 1
    return told
