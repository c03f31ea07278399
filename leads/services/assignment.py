from accounts.models import User


def assignee_pick(*, organization_id: int, source: str) -> User | None:
    """The member the organization's assignment rules give a new lead from `source` to."""
    return None
