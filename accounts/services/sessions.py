"""Sign-in sessions: one `UserSession` per sign-in, on a page or through the API.

API sign-ins get a JWT pair whose tokens carry the session id (`sid`); every request
checks that the session is still open, so ending a session (sign-out, revocation, a
password change, deactivation) stops its tokens at once rather than at their expiry.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.devices import Device, describe_device
from accounts.models import User, UserSession
from accounts.selectors import security_settings_of, session_get
from leadnexus.core.events import publish
from leadnexus.core.exceptions import NotAuthenticated
from notifications.services import email_queue

# last_seen_at is written at most this often: one UPDATE per active minute, not per request.
_TOUCH_EVERY = timedelta(seconds=60)


class SessionEnded(NotAuthenticated):
    default_message = "This sign-in has ended. Sign in again."


class EndReason:
    SIGNED_OUT = "signed_out"
    REVOKED = "revoked"
    PASSWORD_CHANGED = "password_changed"
    DEACTIVATED = "deactivated"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def session_start(*, user: User, kind: str, device: Device, session_key: str = "", notify: bool = True) -> UserSession:
    """Record a sign-in; email the user about it when their security settings ask for it."""
    now = timezone.now()
    session = UserSession.objects.create(
        user=user, kind=kind, session_key=session_key, ip=device.ip, user_agent=device.user_agent, last_seen_at=now
    )
    User.objects.filter(pk=user.pk).update(last_login=now)
    publish(
        "accounts.session.started",
        actor=user,
        org=user.organization_id,
        subject=session,
        data={"kind": kind, "ip": device.ip, "device": describe_device(device.user_agent)},
    )
    if notify and security_settings_of(user=user).login_notifications:
        email_queue(
            to=user.email,
            template="new_sign_in",
            context={
                "user": user,
                "device": describe_device(device.user_agent),
                "ip": device.ip or "unknown",
                "at": now,
                "kind": "the API" if kind == UserSession.Kind.API else "the web app",
            },
        )
    return session


def session_check(*, session: UserSession) -> UserSession:
    """Refuse a session that has ended, outlived SESSION_MAX_AGE or (pages) sat idle past the
    user's timeout; otherwise note the activity."""
    now = timezone.now()
    if session.revoked_at is not None:
        raise SessionEnded()
    if now - session.created_at > settings.SESSION_MAX_AGE:
        session_end(session=session, reason=EndReason.TIMED_OUT)
        raise SessionEnded("This sign-in is too old. Sign in again.")
    if session.kind == UserSession.Kind.PAGE:
        timeout = timedelta(minutes=security_settings_of(user=session.user).session_timeout_minutes)
        if now - session.last_seen_at > timeout:
            session_end(session=session, reason=EndReason.TIMED_OUT)
            raise SessionEnded("You were signed out after a period without activity.")
    if now - session.last_seen_at > _TOUCH_EVERY:
        UserSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def session_end(*, session: UserSession, reason: str) -> bool:
    ended = UserSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoke_reason=reason
    )
    if session.session_key:
        Session.objects.filter(session_key=session.session_key).delete()
    return bool(ended)


def session_revoke(*, actor: User, session_id: int) -> UserSession:
    """A user ends one of their own sign-ins (another device, say)."""
    session = session_get(user=actor, session_id=session_id)
    session_end(session=session, reason=EndReason.REVOKED)
    publish("accounts.session.revoked", actor=actor, org=actor.organization_id, subject=session)
    session.refresh_from_db()
    return session


def sessions_end_all(*, user: User, reason: str, keep_id: int | None = None) -> int:
    """End every open sign-in of `user`, except `keep_id` (the one asking, after a password change)."""
    open_sessions = UserSession.objects.filter(user=user, revoked_at__isnull=True).exclude(pk=keep_id)
    with transaction.atomic():
        keys = [key for key in open_sessions.values_list("session_key", flat=True) if key]
        ended = open_sessions.update(revoked_at=timezone.now(), revoke_reason=reason)
        Session.objects.filter(session_key__in=keys).delete()
    return ended


# --- API sign-ins: JWTs bound to their session --------------------------------------------


def jwt_issue(*, session: UserSession) -> TokenPair:
    refresh = RefreshToken.for_user(session.user)
    refresh["sid"] = session.pk  # copied into every access token made from it
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def api_sign_in(*, user: User, device: Device) -> TokenPair:
    return jwt_issue(session=session_start(user=user, kind=UserSession.Kind.API, device=device))


def _session_of_refresh(refresh: str) -> UserSession:
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise NotAuthenticated("The refresh token is not valid or has expired. Sign in again.") from exc
    session = UserSession.objects.select_related("user").filter(pk=token.get("sid")).first()
    if session is None or not session.user.is_active:
        raise SessionEnded()
    return session


def jwt_refresh(*, refresh: str) -> TokenPair:
    """Rotate: a new pair for a valid refresh token of an open session; the old token is
    blacklisted, and no rotation outlives the session's maximum age."""
    session_check(session=_session_of_refresh(refresh))
    serializer = TokenRefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise NotAuthenticated("The refresh token is not valid or has expired. Sign in again.") from exc
    return TokenPair(access=serializer.validated_data["access"], refresh=serializer.validated_data["refresh"])


def api_sign_out(*, refresh: str) -> None:
    """Sign out an API client: its session ends and its refresh token can never be used again."""
    session = _session_of_refresh(refresh)
    RefreshToken(refresh).blacklist()
    session_end(session=session, reason=EndReason.SIGNED_OUT)


def sessions_end_by_staff(*, actor: User, session_ids: list[int]) -> int:
    """Staff end sign-ins from the admin; each is recorded."""
    sessions = list(UserSession.objects.select_related("user").filter(pk__in=session_ids, revoked_at__isnull=True))
    for session in sessions:
        session_end(session=session, reason=EndReason.REVOKED)
        publish("accounts.session.revoked", actor=actor, org=session.user.organization_id, subject=session)
    return len(sessions)
