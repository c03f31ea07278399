"""Who may change CRM records: the leads' permission flags (`can_add_leads` to create,
`can_edit_leads` to change), and managers and management to reopen a closed opportunity."""

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import PermissionDenied


def require(actor: User, flag: str, message: str) -> None:
    if not permissions_of(actor)[flag]:
        raise PermissionDenied(message)


def can_reopen(user: User) -> bool:
    return user.is_authenticated and user.role in (User.Role.MANAGEMENT, User.Role.SALES_MANAGER)
