"""The cart: listings a buyer means to buy. Adding refuses what cannot be bought (the
organization's own listing, one it already bought, one no longer available); the cart's
view flags items that went stale since, and warns when a listing's person is already among
the organization's own leads (by the leads app's dedupe keys, without unmasking anything)."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.models import User
from leadnexus.core.exceptions import NotFound, PermissionDenied
from leadnexus.core.ids import is_db_id
from leads.dedupe import DuplicateMatch, duplicates_find_many, keys_of
from marketplace.exceptions import AlreadyPurchased, ListingUnavailable, OwnListing
from marketplace.models import Cart, CartItem, Listing
from marketplace.policy import can_buy
from marketplace.selectors import listings_bought


def require_buyer(actor: User) -> None:
    if not can_buy(actor):
        raise PermissionDenied("Buying needs a buyer organization and the permission to buy.")


def listing_problem(actor: User, listing: Listing, *, bought: bool) -> Exception | None:
    """Why `actor` cannot buy `listing` now (the error to raise), or None."""
    if listing.vendor_id == actor.organization_id:
        return OwnListing(f"“{listing.title}” is your organization's own listing.", details={"listing_id": listing.pk})
    if bought:
        return AlreadyPurchased(
            f"Your organization already bought “{listing.title}”.", details={"listing_id": listing.pk}
        )
    if not (
        listing.approval_status == Listing.ApprovalStatus.APPROVED
        and listing.status == Listing.Status.AVAILABLE
        and listing.remaining > 0
    ):
        return ListingUnavailable(f"“{listing.title}” is no longer available.", details={"listing_id": listing.pk})
    return None


def _listing_to_buy(listing_id) -> Listing:
    # Listings that left the catalog after being in it can still be named (to be refused
    # with a reason); ones that never entered it are not found.
    listing = (
        Listing.objects.filter(pk=listing_id).exclude(approval_status=Listing.ApprovalStatus.PENDING).first()
        if is_db_id(listing_id)
        else None
    )
    if listing is None or listing.approval_status == Listing.ApprovalStatus.REJECTED:
        raise NotFound("Listing not found.")
    return listing


@transaction.atomic
def cart_add(*, actor: User, listing_id: int) -> CartItem:
    """Put a listing in the actor's cart (adding it again changes nothing)."""
    require_buyer(actor)
    listing = _listing_to_buy(listing_id)
    bought = listing.pk in listings_bought(organization_id=actor.organization_id, listing_ids=[listing.pk])
    problem = listing_problem(actor, listing, bought=bought)
    if problem is not None:
        raise problem
    cart, _ = Cart.objects.get_or_create(user=actor)
    try:
        with transaction.atomic():
            item = CartItem.objects.create(cart=cart, listing=listing)
    except IntegrityError:
        item = CartItem.objects.get(cart=cart, listing=listing)
    item.listing = listing
    return item


def cart_remove(*, actor: User, item_id: int) -> None:
    """Take an item out of the actor's cart; another user's item is not found."""
    require_buyer(actor)
    deleted = CartItem.objects.filter(cart__user=actor, pk=item_id).delete()[0] if is_db_id(item_id) else 0
    if not deleted:
        raise NotFound("Cart item not found.")


def cart_clear(*, user: User, listing_ids: list[int]) -> None:
    """Take these listings out of the user's cart (they were just bought)."""
    CartItem.objects.filter(cart__user=user, listing_id__in=listing_ids).delete()


# --- Reading the cart ------------------------------------------------------------------------


def listing_in_cart(*, user: User, listing_id: int) -> bool:
    return CartItem.objects.filter(cart__user=user, listing_id=listing_id).exists()


def listing_in_your_leads(*, user: User, listing: Listing) -> DuplicateMatch | None:
    """The user's organization's live lead with the same person as the listing, if any (by
    the dedupe keys: nothing of the masked contacts is shown)."""
    match = duplicates_find_many(organization_id=user.organization_id, keys=[keys_of(listing.lead)])[0]
    return match if match is not None and not match.deleted else None


@dataclass(frozen=True)
class CartLine:
    item: CartItem
    listing: Listing
    stale: str  # why it cannot be bought now ("" when it can)
    in_your_leads: DuplicateMatch | None


@dataclass(frozen=True)
class CartView:
    lines: list[CartLine]
    currency: str

    @property
    def total(self) -> Decimal:
        return sum((line.listing.price for line in self.lines if not line.stale), Decimal("0.00"))

    @property
    def buyable(self) -> list[CartLine]:
        return [line for line in self.lines if not line.stale]


def cart_view(*, user: User) -> CartView:
    """The user's cart: each item with its listing, why it went stale if it did, and whether
    its person is already one of the organization's leads. Three queries whatever its size."""
    require_buyer(user)
    items = list(
        CartItem.objects.filter(cart__user=user).select_related("listing", "listing__vendor__quality", "listing__lead")
    )
    listings = [item.listing for item in items]
    bought = listings_bought(organization_id=user.organization_id, listing_ids=[x.pk for x in listings])
    duplicates = duplicates_find_many(
        organization_id=user.organization_id, keys=[keys_of(listing.lead) for listing in listings]
    )
    lines = []
    for item, listing, duplicate in zip(items, listings, duplicates, strict=True):
        problem = listing_problem(user, listing, bought=listing.pk in bought)
        live = duplicate if duplicate is not None and not duplicate.deleted else None
        lines.append(CartLine(item=item, listing=listing, stale=problem.message if problem else "", in_your_leads=live))
    return CartView(lines=lines, currency=settings.CURRENCY)
