"""The lead status workflow, in one place.

new → contacted → qualified; unqualified and lost from any open state; a closed lead
(unqualified or lost) can be reopened as new. `converted` is reached only through the
CRM's conversion, never by a plain status change.
"""

from leads.exceptions import LeadIllegalTransition
from leads.models import Lead

S = Lead.Status
OPEN = frozenset({S.NEW, S.CONTACTED, S.QUALIFIED})
_MOVES = {
    S.NEW: {S.CONTACTED, S.UNQUALIFIED, S.LOST},
    S.CONTACTED: {S.QUALIFIED, S.UNQUALIFIED, S.LOST},
    S.QUALIFIED: {S.UNQUALIFIED, S.LOST},
    S.UNQUALIFIED: {S.NEW},
    S.LOST: {S.NEW},
    S.CONVERTED: set(),
}


def allowed_moves(status: str) -> set[str]:
    return set(_MOVES[S(status)])


def check_move(current: str, target: str) -> None:
    if target == current:
        return
    if target == S.CONVERTED:
        raise LeadIllegalTransition("A lead becomes converted only by converting it to a contact.")
    if target not in _MOVES[S(current)]:
        raise LeadIllegalTransition(f"A {S(current).label.lower()} lead cannot move to {S(target).label.lower()}.")


def check_conversion(current: str) -> None:
    """The CRM's conversion: from an open state only."""
    if current not in OPEN:
        raise LeadIllegalTransition(f"A {S(current).label.lower()} lead cannot be converted.")
