"""The opportunity pipeline's rules, in one place: the stages in order, each one's default
probability, and the moves. An open opportunity moves to any stage, forward or back;
closing as won needs the amount won, as lost a reason; a closed one only reopens
(`crm.services.opportunities.opportunity_reopen`, managers only)."""

from decimal import Decimal

from crm.models import Opportunity
from leadnexus.core.exceptions import IllegalTransition, ValidationFailed

S = Opportunity.Stage
OPEN_STAGES = (S.PROSPECTING, S.QUALIFICATION, S.PROPOSAL, S.NEGOTIATION)
CLOSED_STAGES = (S.CLOSED_WON, S.CLOSED_LOST)
OPEN_STAGE_CHOICES = [(stage.value, stage.label) for stage in OPEN_STAGES]
DEFAULT_PROBABILITY = {
    S.PROSPECTING: 10,
    S.QUALIFICATION: 25,
    S.PROPOSAL: 50,
    S.NEGOTIATION: 75,
    S.CLOSED_WON: 100,
    S.CLOSED_LOST: 0,
}


def check_move(current: str, target: str, *, amount: Decimal | None, lost_reason: str) -> None:
    if target not in S.values:
        raise ValidationFailed("Unknown stage.", details={"stage": [f"Choose one of {', '.join(S.values)}."]})
    if current in CLOSED_STAGES:
        raise IllegalTransition(f"This opportunity is {S(current).label.lower()}: reopen it first.")
    if target == S.CLOSED_WON and (amount is None or amount <= 0):
        raise ValidationFailed("Closing as won needs the amount won.", details={"amount": ["Give the amount won."]})
    if target == S.CLOSED_LOST and not lost_reason.strip():
        raise ValidationFailed("Closing as lost needs a reason.", details={"lost_reason": ["Say why it was lost."]})
