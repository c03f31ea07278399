from dataclasses import dataclass

from django.db.models import QuerySet

from leadnexus.core.exceptions import NotFound
from notifications.models import Notification, NotificationSettings, NotificationType

# Emailed unless the user turns it off; everything shows in the app unless turned off.
EMAILED_BY_DEFAULT = {
    NotificationType.NEW_LEAD,  # a capture-form submission: its chosen recipients want to know
    NotificationType.ASSIGNMENT,
    NotificationType.FOLLOW_UP_DUE,
    NotificationType.PURCHASE_SALE,
    NotificationType.DISPUTE,
    NotificationType.ACCOUNT,
    NotificationType.WEBHOOK,  # an endpoint was disabled: integrations stop until someone acts
    NotificationType.REPORT,  # a report the user ran in the background is ready to download
}


@dataclass(frozen=True)
class Channels:
    in_app: bool
    email: bool


def channels_default(type: str) -> Channels:
    """What a user who changed nothing gets for `type`."""
    return Channels(in_app=True, email=type in EMAILED_BY_DEFAULT)


def _stored_channels(user) -> dict:
    return NotificationSettings.objects.filter(user=user).values_list("channels", flat=True).first() or {}


def _effective(stored: dict, type: str) -> Channels:
    default = channels_default(type)
    chosen = stored.get(type) or {}
    return Channels(in_app=chosen.get("in_app", default.in_app), email=chosen.get("email", default.email))


def notification_channels(*, user, type: str) -> Channels:
    return _effective(_stored_channels(user), type)


def email_opted_in_user_ids(*, type: str) -> QuerySet:
    """The ids of the users who turned on emails of `type`, a type not emailed by default (the
    daily summary): only a stored choice turns it on."""
    if channels_default(type).email:
        raise ValueError(f"{type} is emailed by default: every user who did not turn it off gets it.")
    return NotificationSettings.objects.filter(**{f"channels__{type}__email": True}).values_list("user_id", flat=True)


def notification_settings_of(*, user) -> dict[str, Channels]:
    """The user's full matrix, every type in display order: what they chose, else the default."""
    stored = _stored_channels(user)
    return {type.value: _effective(stored, type.value) for type in NotificationType}


def notification_list(*, user, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread is not None:
        notifications = notifications.filter(is_read=not unread)
    return notifications


def notification_get(*, user, notification_id: int) -> Notification:
    notification = notification_list(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    return notification


def notification_unread_count(*, user) -> int:
    return notification_list(user=user, unread=True).count()
