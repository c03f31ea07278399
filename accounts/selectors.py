from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import policy
from accounts.exceptions import InvalidToken
from accounts.managers import normalize_email
from accounts.models import ApiToken, Organization, SecuritySettings, User, UserPreferences, UserSession
from leadnexus.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from notifications.selectors import Channels, notification_settings_of


def user_list(*, user: User) -> QuerySet[User]:
    """The members of the viewer's organization, with whether each has two-factor sign-in on."""
    return (
        User.objects.filter(organization_id=user.organization_id)
        .select_related("organization", "sub_user_permissions")
        .annotate(has_mfa=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)))
    )


def user_get(*, user: User, user_id: int) -> User:
    member = user_list(user=user).filter(pk=user_id).first()
    if member is None:
        raise NotFound("User not found.")
    return member


def assignee_get(*, user: User, assignee_id: int) -> User:
    """A member of the user's organization who can be given work: not found outside it,
    refused when deactivated."""
    assignee = user_get(user=user, user_id=assignee_id)
    if not assignee.is_active:
        raise ValidationFailed(
            "Work can only be assigned to active members.", details={"assigned_to": ["This member is deactivated."]}
        )
    return assignee


def user_find_by_email(*, email: str) -> User | None:
    """For sign-in and recovery flows, before anyone is authenticated."""
    return User.objects.select_related("organization").filter(email=normalize_email(email)).first()


def security_settings_of(*, user: User) -> SecuritySettings:
    """The user's security settings; the defaults (unsaved) until they change one."""
    return SecuritySettings.objects.filter(user=user).first() or SecuritySettings(user=user)


def preferences_of(*, user: User) -> UserPreferences:
    """The user's app preferences; the defaults (unsaved) until they change one."""
    return UserPreferences.objects.filter(user=user).first() or UserPreferences(user=user)


def session_list(*, user: User) -> QuerySet[UserSession]:
    """The user's own open sign-ins, most recently active first."""
    return UserSession.objects.filter(user=user, revoked_at__isnull=True)


def session_get(*, user: User, session_id: int) -> UserSession:
    session = session_list(user=user).filter(pk=session_id).first()
    if session is None:
        raise NotFound("Session not found.")
    return session


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, revoked ones included (greyed out in lists)."""
    return ApiToken.objects.filter(user=user)


def api_token_get(*, user: User, token_id: int) -> ApiToken:
    token = api_token_list(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("API token not found.")
    return token


# --- Preferences that take effect where they apply --------------------------------


def items_per_page_of(*, user: User) -> int:
    """The default page size of the user's lists, pages and API alike: their choice once they
    saved preferences, else the site's PAGE_SIZE (`settings.PAGE_SIZE_FOR_USER` names this)."""
    saved = UserPreferences.objects.filter(user=user).values_list("items_per_page", flat=True).first()
    return saved or settings.PAGE_SIZE


def leads_view_of(*, user: User, requested: str | None = None) -> str:
    """How lead lists show: `requested` (a `?view=` the user picked) when valid, else their preference."""
    if requested in UserPreferences.LeadsView.values:
        return requested
    return preferences_of(user=user).leads_view


def export_format_of(*, user: User, requested: str | None = None) -> str:
    """The file format of an export: `requested` (`?format=`) when valid, else the user's preference."""
    if requested in UserPreferences.ExportFormat.values:
        return requested
    return preferences_of(user=user).export_format


def export_include_notes_of(*, user: User, requested: bool | None = None) -> bool:
    """Whether lead and contact exports carry notes: `requested` when given, else the preference."""
    if requested is not None:
        return requested
    return preferences_of(user=user).export_include_notes


@dataclass(frozen=True)
class AllPreferences:
    notifications: dict[str, Channels]
    security: SecuritySettings
    app: UserPreferences


def all_preferences_of(*, user: User) -> AllPreferences:
    """Every setting the user controls, saved or default: notifications, security and app."""
    return AllPreferences(
        notifications=notification_settings_of(user=user),
        security=security_settings_of(user=user),
        app=preferences_of(user=user),
    )


# --- Team and organization ------------------------------------------------------------


@dataclass(frozen=True)
class Seats:
    """The seats of an organization's plan: `limit` None is unlimited; `used` counts its
    active members (management users and pending invitations included)."""

    limit: int | None
    used: int

    @property
    def full(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def plan_in_effect(*, organization: Organization) -> str:
    """The plan whose limits apply: a canceled subscription falls back to Free."""
    if organization.plan_status == Organization.PlanStatus.CANCELED:
        return Organization.Plan.FREE
    return organization.plan


def organization_seats(*, organization: Organization) -> Seats:
    limit = settings.PLAN_LIMITS[plan_in_effect(organization=organization)]["seats"]
    used = User.objects.filter(organization_id=organization.pk, is_active=True).count()
    return Seats(limit=limit, used=used)


def organization_get(*, user: User, organization_id: int) -> Organization:
    """The viewer's own organization (any member may read it); staff reach every one."""
    organizations = Organization.objects.all()
    if not policy.can_administer_organizations(user):
        organizations = organizations.filter(pk=user.organization_id)
    organization = organizations.filter(pk=organization_id).first() if 0 < organization_id < 2**63 else None
    if organization is None:
        raise NotFound("Organization not found.")
    return organization


def monthly_budget_of(*, user: User):
    """What `user` may spend on the marketplace per calendar month (a Decimal), or None: only
    sub-users have budgets, set by management."""
    stored = getattr(user, "sub_user_permissions", None) if user.parent_id else None
    return stored.monthly_budget if stored is not None else None


def sub_user_list(*, user: User) -> QuerySet[User]:
    """The members of the viewer's organization, for its management users to manage."""
    if not policy.can_manage_team(user):
        raise PermissionDenied("Only management users can manage the team.")
    return User.objects.filter(organization_id=user.organization_id).select_related("sub_user_permissions")


def sub_user_get(*, user: User, member_id: int) -> User:
    members = sub_user_list(user=user)
    # An id past the database's integer range is simply no one (SQLite would overflow).
    member = members.filter(pk=member_id).first() if 0 < member_id < 2**63 else None
    if member is None:
        raise NotFound("Team member not found.")
    return member


@dataclass(frozen=True)
class Team:
    members: QuerySet[User]
    seats: Seats
    plan: str


def team_overview(*, user: User) -> Team:
    """What the team page shows: the members (active first), the seats and the plan in effect."""
    members = sub_user_list(user=user).order_by("-is_active", "full_name", "email")
    organization = user.organization
    return Team(
        members=members,
        seats=organization_seats(organization=organization),
        plan=plan_in_effect(organization=organization),
    )


_INVITATION_USED = "This invitation has already been used. Sign in with your password."
_INVITATION_INVALID = "This invitation link is not valid or has expired. Ask your administrator to send a new one."


def sub_user_invitation_get(*, uidb64: str, token: str) -> User:
    """The invited member a set-password link names, while the link is valid: the member is
    active, has not set a password yet, and the token is theirs and unexpired."""
    try:
        member_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError):
        member_id = None
    member = None
    if member_id is not None and 0 < member_id < 2**63:
        member = User.objects.select_related("organization").filter(pk=member_id, is_active=True).first()
    if member is None:
        raise InvalidToken(_INVITATION_INVALID, details={"token": [_INVITATION_INVALID]})
    if member.has_usable_password():
        raise InvalidToken(_INVITATION_USED, details={"token": [_INVITATION_USED]})
    if not default_token_generator.check_token(member, token):
        raise InvalidToken(_INVITATION_INVALID, details={"token": [_INVITATION_INVALID]})
    return member


# --- Two-factor sign-in ---------------------------------------------------------------


def totp_device_of(*, user: User, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator app: the one in use, or (confirmed=False) one waiting for its first code."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()


def mfa_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_setup_pending(*, user: User) -> bool:
    """The user's organization requires two-factor sign-in and they have not turned it on yet."""
    return user.organization.require_mfa and not mfa_enabled(user=user)


@dataclass(frozen=True)
class MfaStatus:
    enabled: bool
    enabled_at: datetime | None
    recovery_codes_left: int
    required_by_organization: bool
    # Set up but not confirmed with a first code yet.
    pending_device: TOTPDevice | None


def mfa_status_of(*, user: User) -> MfaStatus:
    devices = list(TOTPDevice.objects.filter(user=user).order_by("-pk"))
    device = next((d for d in devices if d.confirmed), None)
    pending = next((d for d in devices if not d.confirmed), None)
    codes_left = (
        StaticToken.objects.filter(device__user=user, device__confirmed=True).count() if device is not None else 0
    )
    return MfaStatus(
        enabled=device is not None,
        enabled_at=device.created_at if device is not None else None,
        recovery_codes_left=codes_left,
        required_by_organization=Organization.objects.filter(pk=user.organization_id, require_mfa=True).exists(),
        pending_device=None if device is not None else pending,
    )


@dataclass(frozen=True)
class OrganizationOverview:
    organization: Organization
    seats: Seats
    plan: str  # the plan in effect (a canceled one counts as Free)


def organization_overview(*, user: User) -> OrganizationOverview:
    """What the organization page shows any member: the settings, the plan and its seats."""
    organization = organization_get(user=user, organization_id=user.organization_id)
    return OrganizationOverview(
        organization=organization,
        seats=organization_seats(organization=organization),
        plan=plan_in_effect(organization=organization),
    )
