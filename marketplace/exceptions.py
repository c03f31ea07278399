"""The marketplace's domain errors, with the codes of the API contract (DESIGN §5)."""

from leadnexus.core.exceptions import ApplicationError, Conflict


class ListingUnavailable(Conflict):
    code = "listing_unavailable"
    default_message = "This listing is no longer available."


class OwnListing(Conflict):
    code = "own_listing"
    default_message = "This is your organization's own listing."


class AlreadyPurchased(Conflict):
    code = "already_purchased"
    default_message = "Your organization already bought this listing."


class BudgetExceeded(Conflict):
    code = "budget_exceeded"
    default_message = "This purchase would go over your monthly budget."


class DisputeWindowClosed(Conflict):
    code = "dispute_window_closed"
    default_message = "The time to dispute this purchase has passed."


class DisputeLimitReached(Conflict):
    code = "dispute_limit_reached"
    default_message = "Your organization has opened as many disputes as it may this month."


class PaymentFailed(ApplicationError):
    """The card was refused: the payment can be confirmed again with another card."""

    status = 402
    code = "card_declined"
    default_message = "The card was declined."


class LedgerUnbalanced(ApplicationError):
    """A programming error: a transaction whose entries do not sum to zero is never posted."""

    status = 500
    code = "server_error"
    default_message = "A ledger transaction did not balance."
