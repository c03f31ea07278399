"""Staff review of many listings at once (the queue page and the admin): each listing goes
through the same service as a single approval or rejection, in its own transaction, and what
cannot be done (already reviewed, one's own organization's, gone) is reported per listing."""

from dataclasses import dataclass

from accounts.models import User
from leadnexus.core.exceptions import ApplicationError, PermissionDenied, ValidationFailed
from marketplace.services.listings import listing_approve, listing_reject

APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)
BULK_MAX = 500


@dataclass(frozen=True)
class ReviewResult:
    done: list[int]
    skipped: dict[int, str]  # listing id → why it was left alone


def listings_review(*, actor: User, listing_ids: list[int], decision: str, reason: str = "") -> ReviewResult:
    if not actor.is_staff:
        raise PermissionDenied("Only staff review listings.")
    if decision not in DECISIONS:
        raise ValidationFailed("Unknown decision.", details={"decision": ["Choose approve or reject."]})
    if decision == REJECT and not (reason or "").strip():
        raise ValidationFailed("Say why the listings are rejected.", details={"reason": ["This field is required."]})
    ids = list(dict.fromkeys(listing_ids))
    if not ids:
        raise ValidationFailed("Choose some listings.", details={"ids": ["Choose at least one listing."]})
    if len(ids) > BULK_MAX:
        raise ValidationFailed(f"Review at most {BULK_MAX} listings at once.", details={"ids": ["Too many."]})
    done: list[int] = []
    skipped: dict[int, str] = {}
    for listing_id in ids:
        try:
            if decision == APPROVE:
                listing_approve(actor=actor, listing_id=listing_id)
            else:
                listing_reject(actor=actor, listing_id=listing_id, reason=reason)
        except ApplicationError as exc:
            skipped[listing_id] = exc.message
            continue
        done.append(listing_id)
    return ReviewResult(done=done, skipped=skipped)
