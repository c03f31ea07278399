"""The marketplace's models, by sub-domain: the catalog, buying (cart, orders, payments,
purchases, disputes) and the double-entry ledger."""

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
    "VendorStanding",
]
