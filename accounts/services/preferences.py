"""What every signed-in user changes about their own account: their profile, their password,
their security settings and their app preferences. No role or permission flag narrows these;
each function acts on the actor's own rows only."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import Model

from accounts.models import SecuritySettings, User, UserPreferences, UserSession
from accounts.selectors import preferences_of, security_settings_of
from accounts.services.sessions import EndReason, sessions_end_all
from accounts.services.users import password_check
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from notifications.services import email_queue


def _require_choice(value, choices, *, field: str) -> None:
    if value not in choices.values:
        allowed = ", ".join(str(choice) for choice in choices.values)
        raise ValidationFailed(f"Choose one of: {allowed}.", details={field: [f"Choose one of: {allowed}."]})


def _save(current: Model, values: dict) -> tuple[Model, dict]:
    """Store `values` in the actor's row (created on the first change; `current` is the saved or
    default row); return the row and what actually changed, for the audit trail."""
    changed = {field: value for field, value in values.items() if getattr(current, field) != value}
    row, _ = type(current).objects.update_or_create(user_id=current.user_id, defaults=values)
    return row, changed


def _record(name: str, *, actor: User, row: Model, changed: dict) -> None:
    if changed:
        publish(name, actor=actor, org=actor.organization_id, subject=row, data=changed)


# --- Profile and password ---------------------------------------------------------


@transaction.atomic
def profile_update(*, actor: User, full_name: str | None = None) -> User:
    """Change the actor's own profile; a field given as None stays as it is. The email is
    their sign-in and is not changed here."""
    if full_name is None:
        return actor
    full_name = full_name.strip()
    if not full_name:
        raise ValidationFailed("Enter your name.", details={"full_name": ["Enter your name."]})
    previous = actor.full_name
    if full_name != previous:
        actor.full_name = full_name
        actor.save(update_fields=["full_name"])
        publish(
            "accounts.user.updated",
            actor=actor,
            org=actor.organization_id,
            subject=actor,
            data={"full_name": {"from": previous, "to": full_name}},
        )
    return actor


_WRONG_PASSWORD = "The current password is not correct."


@transaction.atomic
def password_change(
    *,
    actor: User,
    current_password: str,
    new_password: str,
    keep_session_id: int | None = None,
    rehash_page_session: Callable[[], str] | None = None,
) -> int:
    """Change the actor's password, proving the current one. Every other sign-in of the actor
    ends; `keep_session_id` is the sign-in asking (None for a personal API token, which has no
    sign-in session: then every session ends and the token keeps working). A page passes
    `rehash_page_session`, called once the password is set, to keep its browser signed in
    (Django's update_session_auth_hash); it returns the browser's new session key, which the
    kept sign-in records so that ending it later still signs that browser out. Returns how
    many sign-ins ended."""
    if not actor.check_password(current_password):
        raise ValidationFailed(_WRONG_PASSWORD, details={"current_password": [_WRONG_PASSWORD]})
    if current_password == new_password:
        message = "Choose a password different from the current one."
        raise ValidationFailed(message, details={"new_password": [message]})
    password_check(new_password, user=actor, field="new_password")
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    ended = sessions_end_all(user=actor, reason=EndReason.PASSWORD_CHANGED, keep_id=keep_session_id)
    if rehash_page_session is not None:
        session_key = rehash_page_session()
        if keep_session_id is not None and session_key:
            UserSession.objects.filter(pk=keep_session_id, user=actor, kind=UserSession.Kind.PAGE).update(
                session_key=session_key
            )
    publish(
        "accounts.user.password_changed",
        actor=actor,
        org=actor.organization_id,
        subject=actor,
        data={"sessions_ended": ended},
    )
    email_queue(to=actor.email, template="password_changed", context={"user": actor, "kept_this_device": True})
    return ended


# --- Security settings ------------------------------------------------------------


@transaction.atomic
def security_settings_update(
    *, actor: User, login_notifications: bool, session_timeout_minutes: int
) -> SecuritySettings:
    """Replace the actor's security settings: the email on each new sign-in, and how long a
    page sign-in may sit idle before it is signed out."""
    _require_choice(session_timeout_minutes, SecuritySettings.SessionTimeout, field="session_timeout_minutes")
    row, changed = _save(
        security_settings_of(user=actor),
        {"login_notifications": login_notifications, "session_timeout_minutes": session_timeout_minutes},
    )
    _record("accounts.security_settings.updated", actor=actor, row=row, changed=changed)
    return row


# --- App preferences --------------------------------------------------------------


@transaction.atomic
def preferences_update(
    *,
    actor: User,
    items_per_page: int,
    leads_view: str,
    compact_mode: bool,
    theme: str,
    export_format: str,
    export_include_notes: bool,
) -> UserPreferences:
    """Replace the actor's app preferences."""
    _require_choice(items_per_page, UserPreferences.ItemsPerPage, field="items_per_page")
    _require_choice(leads_view, UserPreferences.LeadsView, field="leads_view")
    _require_choice(theme, UserPreferences.Theme, field="theme")
    _require_choice(export_format, UserPreferences.ExportFormat, field="export_format")
    row, changed = _save(
        preferences_of(user=actor),
        {
            "items_per_page": items_per_page,
            "leads_view": leads_view,
            "compact_mode": compact_mode,
            "theme": theme,
            "export_format": export_format,
            "export_include_notes": export_include_notes,
        },
    )
    _record("accounts.preferences.updated", actor=actor, row=row, changed=changed)
    return row


@transaction.atomic
def theme_update(*, actor: User, theme: str) -> UserPreferences:
    """Remember the theme picked with the header's toggle, on every device of the actor."""
    _require_choice(theme, UserPreferences.Theme, field="theme")
    row, changed = _save(preferences_of(user=actor), {"theme": theme})
    _record("accounts.preferences.updated", actor=actor, row=row, changed=changed)
    return row
