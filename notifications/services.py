import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import timezone

from leadnexus.core import outbox
from leadnexus.core.events import publish
from leadnexus.core.exceptions import ValidationFailed
from leadnexus.core.retention import retention_cutoff
from notifications.events import EMAIL_FAILED
from notifications.exceptions import EmailDeliveryError
from notifications.models import EmailAttempt, EmailMessage, Notification, NotificationSettings, NotificationType
from notifications.selectors import (
    Channels,
    channels_default,
    notification_channels,
    notification_get,
    notification_list,
    notification_settings_of,
)

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.tasks.email_send"


def _render_plain(template_name: str, context: dict) -> str:
    """A subject or plain-text part: names and titles as they were typed (`O'Brien`, `<b>`),
    since nothing reads it as HTML."""
    return get_template(template_name).template.render(Context(context, autoescape=False))


def email_queue(*, to: str, template: str, context: dict) -> EmailMessage:
    """Render `templates/emails/<template>{_subject.txt,.txt,.html}` into the outbox (only
    the HTML part escaped); a Celery task sends it once the caller's transaction commits."""
    context = {"site_url": settings.SITE_URL, **context}
    return email_queue_rendered(
        to=to,
        template=template,
        subject=_render_plain(f"emails/{template}_subject.txt", context),
        text=_render_plain(f"emails/{template}.txt", context),
        html=render_to_string(f"emails/{template}.html", context),
    )


def email_queue_rendered(
    *,
    to: str,
    template: str,
    subject: str,
    text: str,
    html: str = "",
    from_email: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Put an email its caller rendered into the outbox (`template` names its kind in the
    log), with extra headers; sent like `email_queue`'s once the transaction commits."""
    email = EmailMessage.objects.create(
        to=to,
        template=template,
        from_email=from_email,
        subject=" ".join(subject.split())[:255],
        text=text,
        html=html,
        headers=headers or {},
        next_attempt_at=timezone.now(),
    )
    outbox.enqueue(SEND_TASK, email_id=email.pk)
    return email


def email_retry_delay(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 30, 60, 120… up to an hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


def email_send(*, email_id: int) -> EmailMessage | None:
    """Make one delivery attempt. The row is claimed first (queued → sending) so two workers
    handed the same id cannot both send it; a claimed or sent email is left alone."""
    claimed = EmailMessage.objects.filter(pk=email_id, status=EmailMessage.Status.QUEUED).update(
        status=EmailMessage.Status.SENDING, attempts=F("attempts") + 1, next_attempt_at=timezone.now()
    )
    if not claimed:
        return None
    email = EmailMessage.objects.get(pk=email_id)
    message = EmailMultiAlternatives(
        email.subject, email.text, email.from_email or settings.DEFAULT_FROM_EMAIL, [email.to], headers=email.headers
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    try:
        message.send()
    except Exception as exc:  # SMTP and socket errors alike: record, then let the task retry
        will_retry = email.attempts < settings.EMAIL_MAX_ATTEMPTS
        email.status = EmailMessage.Status.QUEUED if will_retry else EmailMessage.Status.FAILED
        email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        email.next_attempt_at = (
            timezone.now() + timedelta(seconds=email_retry_delay(email.attempts)) if will_retry else None
        )
        email.save(update_fields=["status", "last_error", "next_attempt_at"])
        EmailAttempt.objects.create(email=email, succeeded=False, error=email.last_error)
        if not will_retry:
            publish(EMAIL_FAILED, subject=email, data={"email_id": email.pk, "error": email.last_error})
        raise EmailDeliveryError(f"Sending email {email.pk} failed: {email.last_error}", will_retry=will_retry) from exc
    email.status = EmailMessage.Status.SENT
    email.sent_at = timezone.now()
    email.last_error = ""
    email.next_attempt_at = None
    email.save(update_fields=["status", "sent_at", "last_error", "next_attempt_at"])
    EmailAttempt.objects.create(email=email, succeeded=True)
    return email


def email_requeue(*, email_id: int) -> bool:
    """Give a failed email another round of attempts (staff, from the admin)."""
    with transaction.atomic():
        requeued = EmailMessage.objects.filter(pk=email_id, status=EmailMessage.Status.FAILED).update(
            status=EmailMessage.Status.QUEUED, attempts=0, next_attempt_at=timezone.now()
        )
        if requeued:
            outbox.enqueue(SEND_TASK, email_id=email_id)
    return bool(requeued)


def emails_resume_stale(*, now=None, limit: int = 500) -> int:
    """Beat: send again the emails whose task was lost, those still queued EMAIL_STALE_AFTER
    past their due attempt (a broker that restarted empty) or still sending that long after
    their attempt began (a worker killed mid-attempt). Each goes back to queued first, so
    the send task's claim keeps a late original task and this one from both sending it.
    A worker killed after the mail server took the message but before it was marked sent is
    the one case that sends it twice. How many were sent again."""
    now = now or timezone.now()
    cutoff = now - settings.EMAIL_STALE_AFTER
    stale = Q(status__in=[EmailMessage.Status.QUEUED, EmailMessage.Status.SENDING]) & (
        Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)
    )
    resumed = 0
    for email_id in EmailMessage.objects.filter(stale).order_by("id").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            if EmailMessage.objects.filter(stale, pk=email_id).update(
                status=EmailMessage.Status.QUEUED, next_attempt_at=now
            ):
                outbox.enqueue(SEND_TASK, email_id=email_id)
                resumed += 1
    return resumed


def notification_send(*, user, type: str, title: str, message: str = "", link: str = "") -> Notification | None:
    """Tell a user something: in the app and by email, as their settings for `type` ask."""
    channels = notification_channels(user=user, type=type)
    notification = None
    with transaction.atomic():
        if channels.in_app:
            notification = Notification.objects.create(user=user, type=type, title=title, message=message, link=link)
        if channels.email and user.is_active:
            email_queue(
                to=user.email,
                template="notification",
                context={"user": user, "title": title, "message": message, "link": link},
            )
    return notification


def notification_mark_read(*, actor, notification_id: int) -> Notification:
    notification = notification_get(user=actor, notification_id=notification_id)
    if not notification.is_read:
        notification.is_read = True
        notification.save(update_fields=["is_read"])
    return notification


def notification_mark_all_read(*, actor) -> int:
    return notification_list(user=actor, unread=True).update(is_read=True)


_CHANNELS = ("in_app", "email")


def notification_settings_update(*, actor, channels: dict[str, dict[str, bool]]) -> dict[str, Channels]:
    """Replace the actor's notification settings: per type, shown in the app and emailed or not.
    A type left out goes back to its defaults. Only choices that differ from the defaults are
    stored, so a default changed later still reaches whoever never touched that type."""
    problems = {}
    for type, chosen in channels.items():
        if type not in NotificationType.values:
            problems[type] = ["Not a notification type."]
        elif not isinstance(chosen, dict) or set(chosen) != set(_CHANNELS):
            problems[type] = ["Give both channels: in_app and email."]
        elif not all(isinstance(chosen[channel], bool) for channel in _CHANNELS):
            problems[type] = ["Each channel is true or false."]
    if problems:
        raise ValidationFailed("Some notification settings are not valid.", details=problems)
    stored = {}
    for type, chosen in channels.items():
        default = channels_default(type)
        differs = {channel: chosen[channel] for channel in _CHANNELS if chosen[channel] != getattr(default, channel)}
        if differs:
            stored[str(type)] = differs
    with transaction.atomic():
        before = notification_settings_of(user=actor)
        row, _ = NotificationSettings.objects.update_or_create(user=actor, defaults={"channels": stored})
        after = notification_settings_of(user=actor)
        changed = {
            type: {"in_app": now.in_app, "email": now.email} for type, now in after.items() if now != before[type]
        }
        if changed:
            publish(
                "notifications.settings.updated",
                actor=actor,
                org=actor.organization_id,
                subject=row,
                data={"changed": changed},
            )
    return after


def email_bodies_purge(*, now=None) -> int:
    """Blank the text and HTML of emails past retention (`leadnexus.core.retention`); who
    was sent what subject, when and how it went stays in the log. How many were blanked."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    finished = [EmailMessage.Status.SENT, EmailMessage.Status.FAILED]
    old = EmailMessage.objects.filter(created_at__lt=cutoff, status__in=finished)
    return old.exclude(text="", html="").update(text="", html="")
