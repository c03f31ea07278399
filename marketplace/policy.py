"""Who sees a listing's contacts unmasked: its vendor, staff, and an organization that bought
it. Everyone else (other buyers, anonymous visitors) sees the masked values."""

from accounts.models import User
from accounts.policy import permissions_of
from marketplace.models import Listing


def reveals_contacts(*, user: User, listing: Listing, bought: bool) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_staff or listing.vendor_id == user.organization_id or bought


def can_sell(user: User) -> bool:
    """List leads and upload files: a member of a vendor organization with `can_sell`."""
    return user.is_authenticated and user.organization.is_vendor and permissions_of(user)["can_sell"]


def can_buy(user: User) -> bool:
    """Put listings in a cart and pay for them: a member of a buyer organization with
    `can_buy`."""
    return user.is_authenticated and user.organization.is_buyer and permissions_of(user)["can_buy"]


def can_search_as_buyer(user: User) -> bool:
    """Goal search and saved searches are buying tools: for staff and for members of a buyer
    organization allowed to buy (a sub-user with `can_buy` off is not)."""
    if not user.is_authenticated:
        return False
    return user.is_staff or (user.organization.is_buyer and permissions_of(user)["can_buy"])
