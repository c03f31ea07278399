"""Who may change CRM records: the leads' permission flags (`can_add_leads` to create,
`can_edit_leads` to change), and managers and management to reopen a closed opportunity,
to manage the organization's outbound webhooks and to send its email campaigns."""

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import PermissionDenied


def require(actor: User, flag: str, message: str) -> None:
    if not permissions_of(actor)[flag]:
        raise PermissionDenied(message)


def can_reopen(user: User) -> bool:
    return user.is_authenticated and user.role in (User.Role.MANAGEMENT, User.Role.SALES_MANAGER)


def can_manage_webhooks(user: User) -> bool:
    """Webhooks send the organization's records out of LeadNexus, as an export does: for
    managers and management, unless `can_export` is taken from them."""
    return (
        user.is_authenticated
        and user.is_active
        and user.role in (User.Role.MANAGEMENT, User.Role.SALES_MANAGER)
        and permissions_of(user)["can_export"]
    )


def require_webhook_manager(user: User) -> None:
    if not can_manage_webhooks(user):
        raise PermissionDenied("Only managers and management manage webhooks.")


def can_manage_campaigns(user: User) -> bool:
    """Write, test, send, pause and cancel the organization's email campaigns: they email its
    people in its name, so managers and management who may view and edit leads. Every member
    who may view leads sees the campaigns and their figures."""
    if not (user.is_authenticated and user.is_active and user.role in (User.Role.MANAGEMENT, User.Role.SALES_MANAGER)):
        return False
    flags = permissions_of(user)
    return flags["can_view_leads"] and flags["can_edit_leads"]


def require_campaign_manager(user: User) -> None:
    if not can_manage_campaigns(user):
        raise PermissionDenied("Only managers and management write and send campaigns.")
