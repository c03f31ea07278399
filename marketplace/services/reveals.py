"""Who sees a listing's contacts in full, and the audit of each time they were shown.

Every place that shows listings (the API, the pages, the export, emails) hands the listings
it is about to show to `listings_disclose` first: it marks each one `is_purchased` (the
viewer's organization bought it) and `contacts_revealed` (the viewer sees the contacts in
full: `marketplace.policy.reveals_contacts`), with one query for the whole page, and writes
one `RevealLog` row per listing shown in full to a buyer who bought it or to staff, in one
insert. A vendor looking at their own listings is not logged: the data is theirs. The log
rows are themselves the audit trail, so no event is published for them.

`catalog_export` streams the catalog as the viewer sees it (same filters, same masking) and
discloses it chunk by chunk the same way.
"""

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import transaction

from accounts.models import User
from accounts.policy import permissions_of
from accounts.selectors import export_format_of
from leadnexus.core.exceptions import NotAuthenticated, PermissionDenied, ValidationFailed
from leads.imports.export import FORMATS, cell_safe, spreadsheet_response
from marketplace.models import Listing, RevealLog
from marketplace.policy import reveals_contacts
from marketplace.selectors import listings_bought
from marketplace.selectors_buying import purchase_list
from marketplace.selectors_catalog import Catalog, catalog_rows, catalog_search, listing_contacts, listing_values

EXPORT_CHUNK = 1000


def listings_disclose(*, actor: User, listings: Iterable[Listing], context: str) -> list[Listing]:
    """Mark what `actor` may see of each listing and log the reveals (`context`: one of
    RevealLog.Context). Returns the listings, marked."""
    listings = list(listings)
    if not listings:
        return listings
    signed_in = actor.is_authenticated
    organization_id = actor.organization_id if signed_in else None
    bought: set[int] = set()
    if signed_in:
        # An organization never buys its own listings: ask only about the others.
        others = [listing.pk for listing in listings if listing.vendor_id != organization_id]
        if others:
            bought = listings_bought(organization_id=organization_id, listing_ids=others)
    reveals = []
    for listing in listings:
        listing.is_purchased = listing.pk in bought
        listing.contacts_revealed = reveals_contacts(user=actor, listing=listing, bought=listing.is_purchased)
        if listing.contacts_revealed and listing.vendor_id != organization_id:
            reveals.append(
                RevealLog(listing_id=listing.pk, user=actor, organization_id=organization_id, context=context)
            )
    if reveals:
        with transaction.atomic():
            RevealLog.objects.bulk_create(reveals)
    return listings


# --- Export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "title",
    "description",
    "industry",
    "location",
    "employee_count",
    "price",
    "currency",
    "exclusive",
    "max_sales",
    "remaining",
    "lead_score",
    "validation_status",
    "approval_status",
    "status",
    "vendor",
    "vendor_quality",
    "company_name",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "is_masked",
    "is_purchased",
    "created_at",
)


def _export_row(listing) -> list:
    values = listing_values(listing)
    return [cell_safe(values[name]) for name in EXPORT_COLUMNS]


def _export_rows(actor: User, catalog: Catalog) -> Iterator[list]:
    yield list(EXPORT_COLUMNS)
    rows = catalog_rows(catalog, chunk_size=EXPORT_CHUNK)
    while chunk := list(islice(rows, EXPORT_CHUNK)):
        yield from map(_export_row, listings_disclose(actor=actor, listings=chunk, context="export"))


def catalog_export(*, actor: User, params, format: str | None = None, mine: bool = False):
    """A download of the catalog (or, `mine`, the vendor's own listings) as `actor` sees it
    for these filters, in the list's order: masked like everywhere else, formula cells
    neutralised, streamed. Needs a signed-in member with the export permission; reveals are
    logged as `export`."""
    if not actor.is_authenticated:
        raise NotAuthenticated()
    if not permissions_of(actor)["can_export"]:
        raise PermissionDenied("You do not have permission to export.")
    if format and format not in FORMATS:
        raise ValidationFailed("Unknown export format.", details={"format": ["Choose csv or xlsx."]})
    catalog = catalog_search(user=actor, params=params, mine=mine)
    format = export_format_of(user=actor, requested=format)
    return spreadsheet_response(_export_rows(actor, catalog), format=format, basename="listings", title="Listings")


# --- Purchases ----------------------------------------------------------------------------------

PURCHASE_COLUMNS = (
    "purchase_id",
    "purchased_at",
    "listing",
    "vendor",
    "price",
    "currency",
    "status",
    "dispute_deadline",
    "contact_name",
    "company_name",
    "contact_email",
    "contact_phone",
    "website",
    "job_title",
    "location",
    "industry",
    "your_lead_id",
)


def _purchase_rows(actor: User, purchases) -> Iterator[list]:
    yield list(PURCHASE_COLUMNS)
    rows = purchases.iterator(chunk_size=EXPORT_CHUNK)
    while chunk := list(islice(rows, EXPORT_CHUNK)):
        listings_disclose(actor=actor, listings=[purchase.listing for purchase in chunk], context="export")
        for purchase in chunk:
            values = {
                "purchase_id": purchase.pk,
                "purchased_at": purchase.purchased_at,
                "listing": purchase.listing.title,
                "vendor": purchase.listing.vendor.name,
                "price": purchase.price,
                "currency": purchase.currency,
                "status": purchase.status,
                "dispute_deadline": purchase.dispute_deadline,
                **listing_contacts(purchase.listing, revealed=True),
                "job_title": purchase.listing.lead.job_title,
                "location": purchase.listing.lead.location,
                "industry": purchase.listing.industry,
                "your_lead_id": purchase.delivered_lead_id,
            }
            yield [cell_safe(values[name]) for name in PURCHASE_COLUMNS]


def purchases_export(*, actor: User, format: str | None = None):
    """The organization's purchases as a file, each with the contacts bought, in full (each
    reveal logged as `export`). Needs a member allowed to buy and to export."""
    purchases = purchase_list(user=actor).select_related("listing__lead").order_by("-purchased_at", "-id")
    if not permissions_of(actor)["can_export"]:
        raise PermissionDenied("You do not have permission to export.")
    if format and format not in FORMATS:
        raise ValidationFailed("Unknown export format.", details={"format": ["Choose csv or xlsx."]})
    format = export_format_of(user=actor, requested=format)
    return spreadsheet_response(
        _purchase_rows(actor, purchases), format=format, basename="purchases", title="Purchases"
    )
