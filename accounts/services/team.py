"""The team: management users add members (sub-users) to their organization, invite them to
set a password, edit their role and permission flags, deactivate, reactivate and remove them.

Every write locks the organization row first, so seat counts and the "keep one active
management user" rule hold when two managers act at the same moment.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import policy
from accounts.exceptions import SeatLimitReached
from accounts.models import Organization, SubUserPermissions, User
from accounts.selectors import organization_seats, plan_in_effect, sub_user_get, sub_user_invitation_get
from accounts.services.sessions import EndReason, sessions_end_all
from accounts.services.users import password_check, user_create
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from notifications.services import email_queue

EDITABLE = ("full_name", "role", "is_active")


def _require_team_manager(actor: User) -> None:
    if not policy.can_manage_team(actor):
        raise PermissionDenied("Only management users can manage the team.")


def _lock_organization(actor: User) -> Organization:
    return Organization.objects.select_for_update().get(pk=actor.organization_id)


def _seat_check(organization: Organization) -> None:
    """Refuse one more active member when every seat of the plan is taken (the caller holds
    the organization's row lock, so two requests cannot both take the last seat)."""
    seats = organization_seats(organization=organization)
    if not seats.full:
        return
    effective = Organization.Plan(plan_in_effect(organization=organization)).label
    count = f"{seats.limit} seat{'s' if seats.limit != 1 else ''}"
    if organization.plan_status == Organization.PlanStatus.CANCELED:
        message = (
            f"Your {Organization.Plan(organization.plan).label} plan is canceled, so the {effective} plan's "
            f"{count} apply and all are in use. Renew the plan or deactivate a member."
        )
    else:
        message = f"Your {effective} plan includes {count} and all are in use. Upgrade the plan or deactivate a member."
    raise SeatLimitReached(message, details={"seats": {"limit": seats.limit, "used": seats.used}})


def _is_last_active_manager(member: User) -> bool:
    if member.role != User.Role.MANAGEMENT or not member.is_active:
        return False
    return not (
        User.objects.filter(organization_id=member.organization_id, role=User.Role.MANAGEMENT, is_active=True)
        .exclude(pk=member.pk)
        .exists()
    )


def _keep_management(*, actor: User, member: User, doing: str) -> None:
    """Nobody deactivates or removes themselves, and the organization keeps one active
    management user (someone must be able to manage the team and the plan)."""
    if member.pk == actor.pk:
        raise Conflict(f"You cannot {doing} your own account. Ask another management user.")
    if _is_last_active_manager(member):
        raise Conflict(
            f"You cannot {doing} {member.get_full_name()}: they are the organization's last active "
            "management user. Give another member the management role first."
        )


def _flags_clean(flags: dict) -> dict:
    unknown = sorted(set(flags) - set(SubUserPermissions.FLAGS))
    if unknown:
        raise ValidationFailed(
            "Unknown permission flags.", details={flag: ["Not a permission flag."] for flag in unknown}
        )
    return {flag: bool(value) for flag, value in flags.items()}


def _invitation_link(member: User) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    return f"{settings.SITE_URL}{reverse('accounts:invite', args=[uidb64, token])}"


def _invite(*, actor: User, member: User) -> None:
    email_queue(
        to=member.email,
        template="sub_user_invite",
        context={
            "user": member,
            "invited_by": actor,
            "organization": actor.organization,
            "link": _invitation_link(member),
            "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
    )
    publish("accounts.sub_user.invited", actor=actor, org=member.organization_id, subject=member)


# --- Create and invite -----------------------------------------------------------------


@transaction.atomic
def sub_user_create(
    *,
    actor: User,
    email: str,
    full_name: str = "",
    role: str = User.Role.SALES_REP,
    permissions: dict | None = None,
) -> User:
    """Add a member to the actor's organization, with the permission flags chosen (the
    model's defaults for the rest), and email them a link to set their password."""
    _require_team_manager(actor)
    if role not in User.Role.values:
        raise ValidationFailed("Choose a role.", details={"role": [f"Choose one of {', '.join(User.Role.values)}."]})
    flags = _flags_clean(permissions or {})
    organization = _lock_organization(actor)
    _seat_check(organization)
    member = user_create(
        email=email,
        password=None,
        organization=organization,
        full_name=full_name,
        role=role,
        parent=actor,
        email_verified=False,
    )
    stored = SubUserPermissions.objects.create(user=member, **flags)
    publish(
        "accounts.sub_user.created",
        actor=actor,
        org=organization,
        subject=member,
        data={
            "email": member.email,
            "role": member.role,
            "permissions": {flag: getattr(stored, flag) for flag in SubUserPermissions.FLAGS},
        },
    )
    _invite(actor=actor, member=member)
    return member


@transaction.atomic
def sub_user_invitation_resend(*, actor: User, member_id: int) -> User:
    """Send a fresh set-password link to a member who has not set a password yet."""
    _require_team_manager(actor)
    _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    if member.has_usable_password():
        raise Conflict(f"{member.get_full_name()} has already set a password and can sign in.")
    if not member.is_active:
        raise Conflict(f"{member.get_full_name()} is deactivated. Reactivate them before inviting them again.")
    _invite(actor=actor, member=member)
    return member


@transaction.atomic
def sub_user_invitation_accept(*, uidb64: str, token: str, password: str) -> User:
    """The invited member sets their password through the emailed link; that proves their
    address too. The link stops working once used (the token covers the password)."""
    member = sub_user_invitation_get(uidb64=uidb64, token=token)
    # Two submissions of the same link: the second waits here, then finds the password set.
    User.objects.select_for_update().filter(pk=member.pk).first()
    member = sub_user_invitation_get(uidb64=uidb64, token=token)
    password_check(password, user=member, field="new_password")
    member.set_password(password)
    member.email_verified = True
    member.save(update_fields=["password", "email_verified"])
    publish("accounts.sub_user.invitation_accepted", actor=member, org=member.organization_id, subject=member)
    return member


# --- Edit, deactivate, reactivate -----------------------------------------------------------


def _deactivate(*, actor: User, member: User) -> None:
    _keep_management(actor=actor, member=member, doing="deactivate")
    member.is_active = False
    member.save(update_fields=["is_active"])
    # Pages and JWTs stop at their next request; API tokens because their owner is inactive.
    ended = sessions_end_all(user=member, reason=EndReason.DEACTIVATED)
    publish(
        "accounts.sub_user.deactivated",
        actor=actor,
        org=member.organization_id,
        subject=member,
        data={"sessions_ended": ended},
    )


def _reactivate(*, actor: User, member: User, organization: Organization) -> None:
    _seat_check(organization)
    member.is_active = True
    member.save(update_fields=["is_active"])
    publish("accounts.sub_user.reactivated", actor=actor, org=member.organization_id, subject=member)


@transaction.atomic
def sub_user_update(*, actor: User, member_id: int, changes: dict) -> User:
    """Change a member's name or role, or (`is_active`) deactivate or reactivate them."""
    _require_team_manager(actor)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(
            "These fields cannot be changed here.", details={f: ["This field cannot be changed here."] for f in unknown}
        )
    organization = _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    diff = {}
    if "full_name" in changes:
        full_name = str(changes["full_name"] or "").strip()
        if len(full_name) > 200:
            raise ValidationFailed(
                "Use at most 200 characters.", details={"full_name": ["Use at most 200 characters."]}
            )
        if full_name != member.full_name:
            diff["full_name"] = {"from": member.full_name, "to": full_name}
            member.full_name = full_name
    if "role" in changes and changes["role"] != member.role:
        role = changes["role"]
        if role not in User.Role.values:
            raise ValidationFailed(
                "Choose a role.", details={"role": [f"Choose one of {', '.join(User.Role.values)}."]}
            )
        if member.pk == actor.pk:
            raise Conflict("You cannot change your own role. Ask another management user.")
        if _is_last_active_manager(member):
            raise Conflict(
                f"{member.get_full_name()} is the organization's last active management user. "
                "Give another member the management role first."
            )
        diff["role"] = {"from": member.role, "to": role}
        member.role = role
    if diff:
        member.save(update_fields=list(diff))
        publish("accounts.sub_user.updated", actor=actor, org=organization, subject=member, data={"changes": diff})
    if "is_active" in changes and bool(changes["is_active"]) != member.is_active:
        if changes["is_active"]:
            _reactivate(actor=actor, member=member, organization=organization)
        else:
            _deactivate(actor=actor, member=member)
    return member


@transaction.atomic
def sub_user_deactivate(*, actor: User, member_id: int) -> User:
    """Switch a member off: they keep their records but every sign-in of theirs ends now."""
    _require_team_manager(actor)
    _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    if member.is_active:
        _deactivate(actor=actor, member=member)
    return member


@transaction.atomic
def sub_user_reactivate(*, actor: User, member_id: int) -> User:
    _require_team_manager(actor)
    organization = _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    if not member.is_active:
        _reactivate(actor=actor, member=member, organization=organization)
    return member


@transaction.atomic
def sub_user_permissions_update(*, actor: User, member_id: int, flags: dict) -> User:
    """Set some of a sub-user's permission flags (the others stay as they are)."""
    _require_team_manager(actor)
    flags = _flags_clean(flags)
    _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    if member.pk == actor.pk:
        raise Conflict("You cannot change your own permissions. Ask another management user.")
    if not member.parent_id:
        raise Conflict(
            f"{member.get_full_name()} is not a sub-user: their rights come from their role alone. "
            "Permission flags apply to members added from the team page."
        )
    stored, _ = SubUserPermissions.objects.select_for_update().get_or_create(user=member)
    diff = {}
    for flag, value in flags.items():
        if getattr(stored, flag) != value:
            diff[flag] = {"from": getattr(stored, flag), "to": value}
            setattr(stored, flag, value)
    if diff:
        stored.save(update_fields=list(diff))
        publish(
            "accounts.sub_user.permissions_changed",
            actor=actor,
            org=member.organization_id,
            subject=member,
            data={"changes": diff},
        )
    member.sub_user_permissions = stored
    return member


@transaction.atomic
def sub_user_budget_set(*, actor: User, member_id: int, monthly_budget: Decimal | None) -> User:
    """Set what a sub-user may spend on the marketplace per calendar month (None: no limit)."""
    _require_team_manager(actor)
    if monthly_budget is not None and monthly_budget < 0:
        raise ValidationFailed("A budget cannot be negative.", details={"monthly_budget": ["Zero or more."]})
    _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    if not member.parent_id:
        raise Conflict(
            f"{member.get_full_name()} is not a sub-user: budgets apply to members added from the team page."
        )
    stored, _ = SubUserPermissions.objects.select_for_update().get_or_create(user=member)
    if stored.monthly_budget != monthly_budget:
        publish(
            "accounts.sub_user.budget_changed",
            actor=actor,
            org=member.organization_id,
            subject=member,
            data={"from": _amount(stored.monthly_budget), "to": _amount(monthly_budget)},
        )
        stored.monthly_budget = monthly_budget
        stored.save(update_fields=["monthly_budget"])
    member.sub_user_permissions = stored
    return member


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --- Remove ------------------------------------------------------------------------------


@transaction.atomic
def sub_user_delete(*, actor: User, member_id: int) -> User:
    """Remove a member for good. Their sign-ins end first; events they caused keep no actor;
    sub-users they had added move to the actor (their flags keep applying). Returns the removed
    member, unsaved, for the caller to name."""
    _require_team_manager(actor)
    _lock_organization(actor)
    member = sub_user_get(user=actor, member_id=member_id)
    _keep_management(actor=actor, member=member, doing="remove")
    sessions_end_all(user=member, reason=EndReason.DEACTIVATED)
    moved = User.objects.filter(parent=member).exclude(pk=actor.pk).update(parent=actor)
    if actor.parent_id == member.pk:
        User.objects.filter(pk=actor.pk).update(parent=member.parent_id)
        actor.parent_id = member.parent_id
    publish(
        "accounts.sub_user.deleted",
        actor=actor,
        org=member.organization_id,
        subject=member,
        data={"email": member.email, "full_name": member.full_name, "role": member.role, "sub_users_moved": moved},
    )
    try:
        with transaction.atomic():
            member.delete()
    except (ProtectedError, RestrictedError, IntegrityError) as exc:
        raise Conflict(
            f"{member.get_full_name()} still owns records that must be kept. Deactivate them instead."
        ) from exc
    return member
