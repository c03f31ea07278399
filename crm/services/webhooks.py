"""Outbound webhooks: an organization's endpoints (register, change, delete, test), the
deliveries recorded when an event they subscribe to happens, and sending them.

A delivery is sent by a task once the event's transaction commits, signed with the
endpoint's secret (`LeadNexus-Signature`, as `leadnexus.core.crypto` makes it). A failed
attempt is tried again after WEBHOOK_RETRY_BASE_SECONDS, doubling each time, up to
WEBHOOK_MAX_ATTEMPTS; the next attempt's time is stored, and a beat job sends what is due,
so a worker restart loses no retry. WEBHOOK_DISABLE_AFTER_FAILURES deliveries failing for
good in a row disable the endpoint and tell its creator and the organization's managers.
"""

import json
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from crm.models import WebhookDelivery, WebhookEndpoint
from crm.policy import can_manage_webhooks, require_webhook_manager
from crm.selectors import webhook_endpoint_get
from crm.webhook_events import BY_NAME, EVENT_KEYS, PING, payload_of
from leadnexus.core import outbox
from leadnexus.core.crypto import SIGNATURE_HEADER, signature_make
from leadnexus.core.events import publish
from leadnexus.core.exceptions import Conflict, ValidationFailed
from leadnexus.core.models import Event
from leadnexus.core.outbound import OutboundError, destination_check, post
from notifications.models import NotificationType
from notifications.services import notification_send

S = WebhookDelivery.Status
DELIVER_TASK = "crm.tasks.webhook_deliver"
EXCERPT_CHARS = 1000
EVENTS_HELP = "Choose from: " + ", ".join(EVENT_KEYS) + "."


def _endpoint_clean(data: dict) -> dict:
    values, problems = {}, {}
    if "url" in data:
        values["url"] = url = str(data["url"] or "").strip()
        try:
            URLValidator(schemes=["http", "https"])(url)
            if len(url) > 1000:
                raise DjangoValidationError("Too long.")
            destination_check(url, allowed=settings.WEBHOOK_ALLOWED_HOSTS)
        except DjangoValidationError:
            problems["url"] = ["Give an http:// or https:// URL of at most 1000 characters."]
        except OutboundError as exc:
            problems["url"] = [str(exc)]
    if "events" in data:
        events = data["events"] if isinstance(data["events"], list) else []
        unknown = [str(key) for key in events if key not in EVENT_KEYS]
        if unknown or not events:
            problems["events"] = [f"Not an event: {', '.join(unknown)}. {EVENTS_HELP}" if unknown else EVENTS_HELP]
        values["events"] = [key for key in EVENT_KEYS if key in events]
    if "description" in data:
        values["description"] = " ".join(str(data["description"] or "").replace("\x00", "").split())[:200]
    if "secret" in data:
        values["secret"] = secret = str(data["secret"] or "")
        if not 16 <= len(secret) <= 200 or not secret.isprintable() or any(char.isspace() for char in secret):
            problems["secret"] = ["From 16 to 200 printable characters, without spaces."]
    if problems:
        raise ValidationFailed("Some fields are not valid: " + ", ".join(problems) + ".", details=problems)
    return values


def webhook_endpoint_create(
    *, actor: User, url: str, events: list[str], secret: str = "", description: str = ""
) -> WebhookEndpoint:
    """Register an endpoint of the actor's organization. Without a secret, one is made; the
    API shows it in full only in this answer."""
    require_webhook_manager(actor)
    values = _endpoint_clean(
        {"url": url, "events": events, "description": description, **({"secret": secret} if secret else {})}
    )
    values.setdefault("secret", f"whsec_{secrets.token_urlsafe(32)}")
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(organization_id=actor.organization_id, created_by=actor, **values)
        _publish("crm.webhook.created", endpoint, actor=actor, data={"url": endpoint.url, "events": endpoint.events})
    return endpoint


def webhook_endpoint_update(*, actor: User, endpoint_id: int, data: dict) -> WebhookEndpoint:
    """Change an endpoint's URL, events, description or secret, or turn it off or on again
    (which forgets its failures)."""
    require_webhook_manager(actor)
    values = _endpoint_clean({name: data[name] for name in ("url", "events", "description", "secret") if name in data})
    with transaction.atomic():
        endpoint = _locked(actor, endpoint_id)
        changed = [name for name, value in values.items() if getattr(endpoint, name) != value]
        for name in changed:
            setattr(endpoint, name, values[name])
        if "is_active" in data and bool(data["is_active"]) != endpoint.is_active:
            changed.append("is_active")
            endpoint.is_active = bool(data["is_active"])
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None if endpoint.is_active else timezone.now()
            endpoint.disabled_reason = "" if endpoint.is_active else f"Turned off by {actor.get_full_name()}."[:500]
        if changed:
            endpoint.save()
            _publish("crm.webhook.updated", endpoint, actor=actor, data={"fields": sorted(changed)})
    return endpoint


def webhook_endpoint_delete(*, actor: User, endpoint_id: int) -> None:
    """Delete an endpoint and its delivery log; deliveries not yet sent are dropped."""
    with transaction.atomic():
        endpoint = _locked(actor, endpoint_id)
        _publish("crm.webhook.deleted", endpoint, actor=actor, data={"url": endpoint.url})
        endpoint.delete()


def webhook_endpoint_test(*, actor: User, endpoint_id: int) -> WebhookDelivery:
    """Send the endpoint a `ping`, to check the receiver and its signature check."""
    with transaction.atomic():
        endpoint = webhook_endpoint_get(user=actor, endpoint_id=endpoint_id)
        if not endpoint.is_active:
            raise Conflict("This endpoint is off: turn it on to test it.")
        event = _publish("crm.webhook.tested", endpoint, actor=actor)
        delivery = _delivery_add(endpoint, event, PING, payload_of(event, PING, {"webhook_id": endpoint.pk}))
    delivery.refresh_from_db()  # tasks that run in-process have sent it already
    return delivery


def webhook_endpoint_disable(*, endpoint_id: int, reason: str) -> WebhookEndpoint:
    """Stop sending to an endpoint (staff, from the admin); its creator and the organization's
    managers are told why."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        if endpoint.is_active:
            _disable(endpoint, reason)
    return endpoint


# --- Deliveries --------------------------------------------------------------------------------


def webhook_deliveries_record(
    *, event: Event, endpoints: list[WebhookEndpoint], payload: dict
) -> list[WebhookDelivery]:
    """The deliveries of a domain event to the endpoints subscribed to it
    (`crm.selectors.webhook_endpoints_subscribed`), each sent by a task once they commit."""
    key = BY_NAME[event.name].key
    with transaction.atomic():
        return [_delivery_add(endpoint, event, key, payload) for endpoint in endpoints]


def _delivery_add(endpoint: WebhookEndpoint, event: Event, event_type: str, payload: dict) -> WebhookDelivery:
    delivery, created = WebhookDelivery.objects.get_or_create(
        endpoint=endpoint,
        event=event,
        defaults={"event_type": event_type, "payload": payload, "next_attempt_at": timezone.now() + _lease()},
    )
    if created:
        outbox.enqueue(DELIVER_TASK, delivery_id=delivery.pk, attempt=1)
    return delivery


def _lease() -> timedelta:
    """How long an attempt may take before the retry job deems its worker lost."""
    return timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS + 60)


def webhook_deliver(*, delivery_id: int, attempt: int) -> WebhookDelivery | None:
    """Make attempt number `attempt` of a pending delivery. The attempt number is claimed
    first, so a task sent twice (a message re-delivered, the retry job meeting a slow worker)
    sends once; None when it was not this task's to make."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=S.PENDING, attempts=attempt - 1).update(
        attempts=attempt, last_attempt_at=now, next_attempt_at=now + _lease()
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return _outcome(delivery, code=None, excerpt="", error="The endpoint is off.", final=True)
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "LeadNexus-Webhooks/1.0",
        SIGNATURE_HEADER: signature_make(endpoint.secret.encode(), body),
        "LeadNexus-Event": delivery.event_type,
        "LeadNexus-Delivery": str(delivery.pk),
    }
    code, excerpt, error = None, "", ""
    try:
        destination = destination_check(endpoint.url, allowed=settings.WEBHOOK_ALLOWED_HOSTS)  # DNS can change
        answer = post(
            destination, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, excerpt=EXCERPT_CHARS
        )
    except OutboundError as exc:
        error = str(exc)
    else:
        code, excerpt = answer.status, answer.excerpt
        if not 200 <= code < 300:
            error = f"The endpoint answered {code}."
    return _outcome(delivery, code=code, excerpt=excerpt, error=error, final=attempt >= settings.WEBHOOK_MAX_ATTEMPTS)


def _outcome(delivery: WebhookDelivery, *, code: int | None, excerpt: str, error: str, final: bool) -> WebhookDelivery:
    now = timezone.now()
    delivery.response_code, delivery.response_excerpt, delivery.error = code, excerpt, error
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = S.SUCCEEDED, now, None
    elif final:
        delivery.status, delivery.next_attempt_at = S.FAILED, None
    else:
        delivery.next_attempt_at = now + timedelta(
            seconds=settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (delivery.attempts - 1)
        )
    with transaction.atomic():
        delivery.save(
            update_fields=["status", "response_code", "response_excerpt", "error", "next_attempt_at", "delivered_at"]
        )
        if delivery.status == S.SUCCEEDED:
            WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
        elif delivery.status == S.FAILED and delivery.endpoint.is_active:
            _failure_count(delivery.endpoint_id, error)
    return delivery


def _failure_count(endpoint_id: int, error: str) -> None:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.consecutive_failures += 1
    endpoint.save(update_fields=["consecutive_failures", "updated_at"])
    if endpoint.is_active and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        _disable(endpoint, f"{endpoint.consecutive_failures} deliveries in a row failed. The last: {error}")


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason = False, timezone.now(), reason[:500]
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    _publish("crm.webhook.disabled", endpoint, data={"reason": endpoint.disabled_reason})
    managers = User.objects.filter(
        organization_id=endpoint.organization_id,
        is_active=True,
        role__in=[User.Role.MANAGEMENT, User.Role.SALES_MANAGER],
    ).select_related("sub_user_permissions")
    told = {user for user in managers if can_manage_webhooks(user)}
    if endpoint.created_by is not None and endpoint.created_by.is_active:
        told.add(endpoint.created_by)
    for user in sorted(told, key=lambda user: user.pk):
        notification_send(
            user=user,
            type=NotificationType.WEBHOOK,
            title=f"Webhook turned off: {endpoint.url}"[:200],
            message=f"{endpoint.disabled_reason} Fix the receiver, then turn the webhook back on.",
            link=reverse("crm:webhook", args=[endpoint.pk]),
        )


def webhook_deliveries_retry(*, limit: int = 500) -> int:
    """Beat: send the pending deliveries whose next attempt is due (retries, and attempts
    whose worker was lost). Each is pushed a lease ahead, so a busy queue is not sent the
    same attempt again on the next run."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=S.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("pk", "attempts")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in due]).update(next_attempt_at=now + _lease())
        for pk, attempts in due:
            outbox.enqueue(DELIVER_TASK, delivery_id=pk, attempt=attempts + 1)
    return len(due)


def _locked(actor: User, endpoint_id: int) -> WebhookEndpoint:
    endpoint = webhook_endpoint_get(user=actor, endpoint_id=endpoint_id)
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


def _publish(name: str, endpoint: WebhookEndpoint, *, actor: User | None = None, data: dict | None = None) -> Event:
    return publish(name, actor=actor, org=endpoint.organization_id, subject=endpoint, data=data)
