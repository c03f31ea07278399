"""Who may manage the leads app's settings. Reads are scoped in `leads.selectors`."""

from accounts.models import User
from accounts.policy import permissions_of
from leadnexus.core.exceptions import PermissionDenied


def can_manage_capture_forms(user: User) -> bool:
    flags = permissions_of(user)
    return (
        user.is_authenticated
        and user.is_active
        and user.role == User.Role.MANAGEMENT
        and flags["can_view_leads"]
        and flags["can_edit_leads"]
    )


def require_capture_form_manager(user: User) -> None:
    if not can_manage_capture_forms(user):
        raise PermissionDenied("Only management users can change lead forms.")


def can_manage_assignment_rules(user: User) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and user.role in (User.Role.MANAGEMENT, User.Role.SALES_MANAGER)
        and all(permissions_of(user)[flag] for flag in ("can_view_leads", "can_edit_leads"))
    )


def require_assignment_rule_manager(user: User) -> None:
    if not can_manage_assignment_rules(user):
        raise PermissionDenied("Only management and sales managers can change assignment rules.")
