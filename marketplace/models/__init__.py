"""The marketplace's models, by sub-domain: the catalog, buying (cart, orders, payments,
purchases, disputes), the double-entry ledger and vendor quality."""

from marketplace.models.buying import (
    Cart,
    CartItem,
    Dispute,
    MockProcessorIntent,
    Order,
    OrderItem,
    Payment,
    ProviderEvent,
    Purchase,
    VendorStanding,
)
from marketplace.models.catalog import CATALOG, Listing, RevealLog, SavedSearch, SavedSearchMatch, SearchGoal
from marketplace.models.ledger import LedgerEntry, LedgerTransaction
from marketplace.models.quality import VendorQuality

__all__ = [
    "CATALOG",
    "Cart",
    "CartItem",
    "Dispute",
    "LedgerEntry",
    "LedgerTransaction",
    "Listing",
    "MockProcessorIntent",
    "Order",
    "OrderItem",
    "Payment",
    "ProviderEvent",
    "Purchase",
    "RevealLog",
    "SavedSearch",
    "SavedSearchMatch",
    "SearchGoal",
    "VendorQuality",
    "VendorStanding",
]
