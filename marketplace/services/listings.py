"""Listings: a vendor offers a lead, staff approve or reject it, the vendor edits its price
and description while unsold, or withdraws it.

Each listing owns an inventory lead of the vendor (`is_inventory`, source `listing`), made
from the listing's own contact data or copied from one of the vendor's CRM leads; what the
catalog filters and sorts on is copied onto the listing and kept current here.
"""

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, IllegalTransition, PermissionDenied, ValidationFailed
from leads.cleaning import LEAD_FIELDS, apply_clean, lead_clean
from leads.models import Lead
from leads.scoring import score_lead
from leads.selectors import lead_get
from marketplace.catalog_cache import catalog_changed
from marketplace.models import Listing
from marketplace.policy import can_sell
from marketplace.selectors import listing_for_review, listing_for_vendor
from marketplace.services.inventory import live_twin_find
from marketplace.services.quality import vendor_quality_score
from notifications.models import NotificationType
from notifications.services import notification_send

SEARCH_CONFIG = "english"
MAX_PRICE = Decimal("100000.00")
MAX_SALES = 1000
LISTING_FIELDS = ("title", "description", "industry", "price", "exclusive", "max_sales")
_YES = ("1", "true", "yes", "y", "on", "x", "exclusive")
_NO = ("", "0", "false", "no", "n", "off", "none")
# "$1,200.00", "1 200", "120 USD": what people type around an amount.
_AMOUNT_NOISE = re.compile(r"[\s,$_]|usd$", re.IGNORECASE)


def _require_seller(actor: User) -> None:
    if not can_sell(actor):
        raise PermissionDenied("Only members of a vendor organization allowed to sell may list leads.")


def _require_staff(actor: User) -> None:
    if not actor.is_staff:
        raise PermissionDenied("Only staff review listings.")


def listing_terms_clean(data: dict, *, partial: bool = False) -> tuple[dict, dict]:
    """Title, description, industry, price and sale terms from raw values: (values, problems)."""
    values, problems = {}, {}

    def problem(name, message):
        problems.setdefault(name, []).append(message)

    for name, limit in (("title", 200), ("industry", 100)):
        if name in data:
            values[name] = " ".join(str(data[name] or "").split())[:limit]
    if "description" in data:
        values["description"] = str(data["description"] or "").replace("\x00", "")[:5000]
    if not partial and not values.get("title"):
        problem("title", "Give the listing a title.")
    if "price" in data or not partial:
        text = _AMOUNT_NOISE.sub("", str(data.get("price") if data.get("price") is not None else ""))
        try:
            price = Decimal(text)
            # NaN and infinities are Decimals too, but not prices.
            price = price.quantize(Decimal("0.01")) if price.is_finite() else None
        except (InvalidOperation, ValueError):
            price = None
        if price is None:
            problem("price", "Not an amount." if text else "Give the listing a price.")
        elif not Decimal("0.01") <= price <= MAX_PRICE:
            problem("price", f"The price must be between 0.01 and {MAX_PRICE}.")
        else:
            values["price"] = price
    if "exclusive" in data or not partial:
        answer = str(data.get("exclusive", True)).strip().lower()
        if answer not in _YES + _NO:
            problem("exclusive", "Say yes or no.")
        values["exclusive"] = answer in _YES
    if "max_sales" in data or not partial:
        raw = data.get("max_sales") or 1
        try:
            max_sales = int(str(raw).strip())
        except ValueError:
            problem("max_sales", "Not a whole number.")
            max_sales = 1
        if values.get("exclusive", True) and max_sales != 1:
            problem("max_sales", "An exclusive listing sells once.")
        elif not 1 <= max_sales <= MAX_SALES:
            problem("max_sales", f"Between 1 and {MAX_SALES}.")
        values["max_sales"] = 1 if values.get("exclusive", True) else max_sales
    return values, problems


def lead_facts_copy(listing: Listing, lead: Lead) -> None:
    """What the catalog filters and sorts on, kept on the listing itself."""
    listing.industry = listing.industry or lead.industry
    listing.location = lead.location
    listing.employee_count = lead.employee_count
    listing.lead_score = lead.score
    listing.validation_status = lead.validation_status


def _inventory_lead(actor: User, clean, *, source_lead: Lead | None = None) -> Lead:
    lead = Lead(organization_id=actor.organization_id, created_by=actor, source=Lead.Source.LISTING, is_inventory=True)
    if source_lead is not None:
        for name in LEAD_FIELDS:
            setattr(lead, name, getattr(source_lead, name))
        lead.extra = dict(source_lead.extra)
    apply_clean(lead, clean)
    lead.score, lead.score_breakdown = score_lead(lead)
    lead.save()
    return lead


def _listed_already(actor: User, clean) -> None:
    """The same person in another live listing of the vendor (withdrawn ones do not count)."""
    twin = live_twin_find(organization_id=actor.organization_id, keys=clean.keys)
    if twin is not None and twin.certain:
        raise Conflict(
            f"This person is already in one of your live listings (listing {twin.listing_id}).",
            details={"duplicate_of": twin.listing_id},
        )


def listing_create(*, actor: User, data: dict, upload=None) -> Listing:
    """A listing from a form or the API: the lead's columns plus the listing's terms. It waits
    for approval, unless it qualifies for automatic approval."""
    _require_seller(actor)
    terms, problems = listing_terms_clean(data)
    clean = lead_clean({name: data[name] for name in LEAD_FIELDS if name in data})
    if not clean.check.reachable:
        problems.setdefault("email", []).append("A listing needs a valid email address or phone number.")
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    with transaction.atomic():
        _listed_already(actor, clean)
        lead = _inventory_lead(actor, clean)
        return _listing_save(actor, lead, terms, upload=upload)


def listing_create_from_lead(*, actor: User, lead_id: int, data: dict) -> Listing:
    """List one of the vendor's own CRM leads: it is copied into a new inventory lead, so the
    CRM record stays the vendor's and the sold copy is the buyer's."""
    _require_seller(actor)
    source_lead = lead_get(user=actor, lead_id=lead_id)
    terms, problems = listing_terms_clean(data)
    clean = lead_clean({name: getattr(source_lead, name) for name in LEAD_FIELDS})
    if not clean.check.reachable:
        problems.setdefault("lead_id", []).append("The lead has no valid email address or phone number.")
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    with transaction.atomic():
        _listed_already(actor, clean)
        lead = _inventory_lead(actor, clean, source_lead=source_lead)
        return _listing_save(actor, lead, {**terms, "industry": terms.get("industry") or source_lead.industry})


def _listing_save(actor: User, lead: Lead, terms: dict, *, upload=None) -> Listing:
    listing = Listing(vendor_id=actor.organization_id, lead=lead, created_by=actor, upload=upload, **terms)
    listing.vendor_quality = vendor_quality_score(vendor_id=actor.organization_id)
    lead_facts_copy(listing, lead)
    listing.save()
    publish("marketplace.listing.created", actor=actor, org=actor.organization_id, subject=listing)
    if auto_approvable(listing):
        _review(listing, approved=True, reviewer=None, reason="")
    return listing


def auto_approvable(listing: Listing) -> bool:
    """Valid leads scoring at least LISTING_AUTO_APPROVE_SCORE from verified vendors skip the
    queue (off when the setting is None)."""
    threshold = settings.LISTING_AUTO_APPROVE_SCORE
    return (
        threshold is not None
        and listing.validation_status == Lead.ValidationStatus.VALID
        and listing.lead_score >= threshold
        and listing.vendor.verified
    )


def listing_update(*, actor: User, listing_id: int, changes: dict) -> Listing:
    """The vendor edits title, description, industry and price while nothing is sold or reserved.
    A rejected listing that is edited goes back to the review queue."""
    _require_seller(actor)
    editable = {name: changes[name] for name in ("title", "description", "industry", "price") if name in changes}
    values, problems = listing_terms_clean(editable, partial=True)
    if "title" in values and not values["title"]:
        problems.setdefault("title", []).append("Give the listing a title.")
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    with transaction.atomic():
        listing = listing_for_vendor(user=actor, listing_id=listing_id, lock=True)
        if listing.sold_count or listing.reserved_count:
            raise Conflict("A listing that has sold (or is being bought) can no longer be edited.")
        if listing.status == Listing.Status.WITHDRAWN:
            raise Conflict("This listing was withdrawn.")
        changed = {
            name: [str(getattr(listing, name)), str(value)]
            for name, value in values.items()
            if getattr(listing, name) != value
        }
        if not changed:
            return listing
        for name, value in values.items():
            setattr(listing, name, value)
        fields = [*values, "updated_at"]
        if listing.approval_status == Listing.ApprovalStatus.REJECTED:
            # Edited after a rejection: staff look at it again (never approved automatically).
            changed["approval_status"] = [listing.approval_status, Listing.ApprovalStatus.PENDING]
            listing.approval_status = Listing.ApprovalStatus.PENDING
            fields.append("approval_status")
        listing.save(update_fields=fields)
        publish("marketplace.listing.updated", actor=actor, org=listing.vendor_id, subject=listing, data=changed)
        if listing.approval_status == Listing.ApprovalStatus.APPROVED:
            listings_search_index([listing.pk])
            catalog_changed()
    return listing


def listing_withdraw(*, actor: User, listing_id: int) -> Listing:
    """Take a listing off the market (any approval status); withdrawing twice changes nothing."""
    _require_seller(actor)
    with transaction.atomic():
        listing = listing_for_vendor(user=actor, listing_id=listing_id, lock=True)
        if listing.status == Listing.Status.WITHDRAWN:
            return listing
        if listing.reserved_count:
            raise Conflict("A buyer is paying for this listing right now. Try again in a few minutes.")
        before = listing.status
        listing.status = Listing.Status.WITHDRAWN
        listing.save(update_fields=["status", "updated_at"])
        catalog_changed()
        publish(
            "marketplace.listing.withdrawn",
            actor=actor,
            org=listing.vendor_id,
            subject=listing,
            data={"from": before, "to": listing.status},
        )
    return listing


def _not_own(actor: User, listing: Listing) -> None:
    if listing.vendor_id == actor.organization_id:
        raise PermissionDenied("Nobody reviews their own organization's listings.")


def listing_approve(*, actor: User, listing_id: int) -> Listing:
    _require_staff(actor)
    with transaction.atomic():
        listing = listing_for_review(listing_id=listing_id, lock=True)
        _not_own(actor, listing)
        return _review(listing, approved=True, reviewer=actor, reason="")


def listing_reject(*, actor: User, listing_id: int, reason: str) -> Listing:
    _require_staff(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the listing is rejected.", details={"reason": ["This field is required."]})
    with transaction.atomic():
        listing = listing_for_review(listing_id=listing_id, lock=True)
        _not_own(actor, listing)
        return _review(listing, approved=False, reviewer=actor, reason=reason[:2000])


def _review(listing: Listing, *, approved: bool, reviewer: User | None, reason: str) -> Listing:
    """The approval state machine: pending → approved | rejected (an edit sends a rejected
    listing back to pending, see `listing_update`); anything else is an illegal transition."""
    if listing.approval_status != Listing.ApprovalStatus.PENDING:
        raise IllegalTransition(f"This listing was already {listing.approval_status}.")
    before = listing.approval_status
    listing.approval_status = Listing.ApprovalStatus.APPROVED if approved else Listing.ApprovalStatus.REJECTED
    listing.rejection_reason = reason
    listing.reviewed_at = timezone.now()
    listing.reviewed_by = reviewer
    listing.save(update_fields=["approval_status", "rejection_reason", "reviewed_at", "reviewed_by", "updated_at"])
    name = "marketplace.listing.approved" if approved else "marketplace.listing.rejected"
    data = {"from": before, "to": listing.approval_status, **({"reason": reason} if reason else {})}
    if reviewer is None:
        data["automatic"] = True
    publish(name, actor=reviewer, org=listing.vendor_id, subject=listing, data=data)
    if approved:
        listings_search_index([listing.pk])
        catalog_changed()
    _tell_vendor(listing, approved=approved)
    return listing


def _tell_vendor(listing: Listing, *, approved: bool) -> None:
    title = f"Listing approved: {listing.title}" if approved else f"Listing rejected: {listing.title}"
    message = "It is now in the catalog." if approved else f"Reason: {listing.rejection_reason}"
    recipient = listing.created_by
    if recipient is not None and recipient.is_active:
        notification_send(
            user=recipient,
            type=NotificationType.PURCHASE_SALE,
            title=title[:200],
            message=message,
            link=(
                reverse("marketplace:listing", args=[listing.pk])
                if approved
                else f"{reverse('marketplace:my-listings')}?approval_status={listing.approval_status}"
            ),
        )


def listings_search_index(listing_ids: list[int]) -> None:
    """Refresh the stored full-text vectors (PostgreSQL; elsewhere the catalog matches plainly).
    Title weighs most; the company comes from the listing's lead."""
    if connection.vendor != "postgresql" or not listing_ids:
        return
    company = Subquery(Lead.objects.filter(pk=OuterRef("lead_id")).values("company")[:1])
    Listing.objects.filter(pk__in=listing_ids).update(
        search_vector=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("industry", "location", company, weight="B", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG)
    )
