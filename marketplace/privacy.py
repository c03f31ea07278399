"""The personal data the marketplace holds (`leadnexus.core.privacy`): a vendor's listed
inventory leads and a buyer's delivered leads, both pointed at by sales that must keep their
numbers. Erasing keeps those leads with the person's fields replaced
(`leads.privacy.lead_anonymise`), takes the listing off the market (waiting, as a withdrawal
does, while a buyer is paying for it), and blanks mentions of the person in listings, order
lines and disputes; orders, payments, purchases and the ledger keep every amount. Runs
before leads, which then deletes what is left of the person's leads."""

from django.db.models import Q, QuerySet

from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict
from leadnexus.core.privacy import Erasure, Holder, Person, holder_register, records, redact_rows
from leads.privacy import lead_anonymise, person_leads
from marketplace.catalog_cache import catalog_changed
from marketplace.models import Dispute, Listing, OrderItem, Purchase
from marketplace.services.listings import listings_search_index


def _listings(person: Person, organization_id: int | None) -> QuerySet[Listing]:
    listings = Listing.objects.filter(lead__in=person_leads(person, organization_id))
    return listings if organization_id is None else listings.filter(vendor_id=organization_id)


def _bought(person: Person, organization_id: int | None) -> QuerySet[Purchase]:
    purchases = Purchase.objects.filter(delivered_lead__in=person_leads(person, organization_id))
    return purchases if organization_id is None else purchases.filter(buyer_id=organization_id)


def _purchases(person: Person, organization_id: int | None) -> QuerySet[Purchase]:
    """What the scope bought of the person, and sold of them."""
    return Purchase.objects.filter(
        Q(pk__in=_bought(person, organization_id)) | Q(listing__in=_listings(person, organization_id))
    )


def _export(person: Person, organization_id: int | None) -> dict[str, list[dict]]:
    purchases = _purchases(person, organization_id)
    return {
        "marketplace.listing": records(_listings(person, organization_id).order_by("pk"), exclude=["search_vector"]),
        "marketplace.purchase": records(purchases.order_by("pk")),
        "marketplace.dispute": records(Dispute.objects.filter(purchase__in=purchases).order_by("pk")),
    }


def _erase(person: Person, organization_id: int | None, erasure: Erasure) -> None:
    purchases = list(_purchases(person, organization_id).values_list("pk", flat=True))
    erasure.count("marketplace.dispute", anonymised=redact_rows(
        Dispute.objects.filter(purchase__in=purchases), person, "details", "vendor_response", "resolution_note"
    ))  # fmt: skip
    listings = list(_listings(person, organization_id).select_related("lead").select_for_update(of=("self",)))
    if any(listing.reserved_count for listing in listings):
        raise Conflict("A buyer is paying for a listing of this person right now. Try again in a few minutes.")
    for listing in listings:
        if listing.status == Listing.Status.AVAILABLE:
            listing.status = Listing.Status.WITHDRAWN
            listing.save(update_fields=["status", "updated_at"])
            publish("marketplace.listing.withdrawn", org=listing.vendor_id, subject=listing,
                    data={"from": Listing.Status.AVAILABLE, "to": listing.status})  # fmt: skip
        lead_anonymise(listing.lead)
        erasure.subjects["leads.lead"].add(listing.lead_id)
        erasure.organization_ids.add(listing.vendor_id)
    by_listing = Listing.objects.filter(pk__in=[listing.pk for listing in listings])
    redact_rows(by_listing, person, "title", "description")
    erasure.count("marketplace.listing", anonymised=len(listings))
    erasure.count("marketplace.orderitem", anonymised=redact_rows(
        OrderItem.objects.filter(listing__in=by_listing), person, "title"
    ))  # fmt: skip
    listings_search_index([listing.pk for listing in listings])
    if listings:
        catalog_changed()
    bought = list(_bought(person, organization_id).select_related("delivered_lead"))
    for purchase in bought:
        lead_anonymise(purchase.delivered_lead)
        erasure.subjects["leads.lead"].add(purchase.delivered_lead_id)
        erasure.organization_ids.add(purchase.buyer_id)
    erasure.count("leads.lead", anonymised=len(listings) + len(bought))


holder_register(Holder(name="marketplace", order=20, export=_export, erase=_erase))
