"""Who may do what. Pages, API, admin and services ask here, never decide themselves."""

from accounts.models import SubUserPermissions, User


def permissions_of(user: User) -> dict[str, bool]:
    """The permission flags in effect for `user`: a sub-user's stored flags narrow their role;
    anyone else has every right of their role (only reps are limited to their own records)."""
    stored = getattr(user, "sub_user_permissions", None) if user.parent_id else None
    if stored is not None:
        return {flag: getattr(stored, flag) for flag in SubUserPermissions.FLAGS}
    flags = dict.fromkeys(SubUserPermissions.FLAGS, True)
    flags["can_view_all_org_leads"] = user.role != User.Role.SALES_REP
    return flags


def can_manage_team(user: User) -> bool:
    """Create, edit, deactivate and delete sub-users; edit their permission flags."""
    return user.is_authenticated and user.is_active and user.role == User.Role.MANAGEMENT


def can_manage_organization(user: User) -> bool:
    """Edit the organization's settings and require two-factor sign-in for its members."""
    return user.is_authenticated and user.is_active and user.role == User.Role.MANAGEMENT


def can_administer_organizations(user: User) -> bool:
    """Staff: see any organization, change its plan and verification (from the admin)."""
    return user.is_authenticated and user.is_active and user.is_staff


def can_export_personal_data(user: User) -> bool:
    """Download everything the organization holds on one person (a data access request):
    management users allowed to export; staff for every organization."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or (user.role == User.Role.MANAGEMENT and permissions_of(user)["can_export"])


def can_erase_personal_data(user: User) -> bool:
    """Erase one person's data from the organization (an erasure request): management users
    allowed to edit leads; staff for every organization."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_staff or (user.role == User.Role.MANAGEMENT and permissions_of(user)["can_edit_leads"])
