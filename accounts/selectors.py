from django.db.models import QuerySet

from accounts.managers import normalize_email
from accounts.models import ApiToken, SecuritySettings, User, UserPreferences, UserSession
from leadnexus.core.exceptions import NotFound


def user_list(*, user: User) -> QuerySet[User]:
    """The members of the viewer's organization."""
    return User.objects.filter(organization_id=user.organization_id).select_related(
        "organization", "sub_user_permissions"
    )


def user_get(*, user: User, user_id: int) -> User:
    member = user_list(user=user).filter(pk=user_id).first()
    if member is None:
        raise NotFound("User not found.")
    return member


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
