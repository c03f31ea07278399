"""Domain events: `publish()` inside a service, `subscribe()` in an app's `events.py`.

Publishing stores an `Event` (the audit trail every timeline reads) and, once the
surrounding transaction commits, hands it to the subscribers of its name: quick
ones run in-process, slow ones (`run_async=True`) run as a Celery task enqueued
through the outbox. Nothing is delivered for a transaction that rolls back.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model

from leadnexus.core import outbox
from leadnexus.core.models import Event, EventDelivery
from leadnexus.core.retention import purge_in_batches, retention_cutoff

logger = logging.getLogger(__name__)

Handler = Callable[[Event], None]


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Handler
    run_async: bool


_subscribers: dict[str, list[Subscriber]] = defaultdict(list)
_by_name: dict[str, Subscriber] = {}


def subscribe(event_name: str, *, run_async: bool = False) -> Callable[[Handler], Handler]:
    """Register the decorated function for `event_name` (stacked, for several). Call at
    import time of an app's `events.py`, which its `AppConfig.ready()` imports."""

    def register(handler: Handler) -> Handler:
        subscriber = Subscriber(f"{handler.__module__}.{handler.__qualname__}", handler, run_async)
        if all(known.name != subscriber.name for known in _subscribers[event_name]):
            _by_name[subscriber.name] = subscriber
            _subscribers[event_name].append(subscriber)
        return handler

    return register


def subscribers_of(event_name: str) -> list[Subscriber]:
    return list(_subscribers.get(event_name, ()))


def _event(name: str, *, actor=None, org=None, subject: Model | None = None, data: dict | None = None) -> Event:
    return Event(
        name=name,
        actor=actor if actor is not None and actor.is_authenticated else None,
        org_id=getattr(org, "pk", org),
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        data=data or {},
    )


def _deliver_after_commit(event: Event) -> None:
    for subscriber in subscribers_of(event.name):
        if subscriber.run_async:
            outbox.enqueue("leadnexus.core.tasks.event_deliver", event_id=event.pk, subscriber=subscriber.name)
        else:
            transaction.on_commit(_run_in_process(subscriber, event), robust=True)


def publish(name: str, *, actor=None, org=None, subject: Model | None = None, data: dict | None = None) -> Event:
    event = _event(name, actor=actor, org=org, subject=subject, data=data)
    event.save()
    _deliver_after_commit(event)
    return event


def publish_many(name: str, items: list[dict]) -> list[Event]:
    """Many events of one name in one insert (a batch job touching thousands of records);
    each item takes `publish`'s keyword arguments. Delivered exactly as `publish` delivers."""
    events = Event.objects.bulk_create([_event(name, **item) for item in items], batch_size=1000)
    for event in events:
        _deliver_after_commit(event)
    return events


def _run_in_process(subscriber: Subscriber, event: Event):
    def run():
        subscriber.handler(event)

    run.__qualname__ = f"deliver {event.name} to {subscriber.name}"
    return run


def event_deliver(*, event_id: int, subscriber: str) -> bool:
    """Run one asynchronous subscriber for one event, at most once: the delivery row and
    the handler's writes commit together, so a re-delivered task finds the row and stops."""
    target = _by_name.get(subscriber)
    if target is None:
        logger.error("No subscriber named %s; event %s left undelivered", subscriber, event_id)
        return False
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return False
    try:
        with transaction.atomic():
            EventDelivery.objects.create(event=event, subscriber=subscriber)
            target.handler(event)
    except IntegrityError:
        if EventDelivery.objects.filter(event=event, subscriber=subscriber).exists():
            return False
        raise
    return True


def events_purge(*, now=None) -> int:
    """Delete the events past retention (`leadnexus.core.retention`), their deliveries with
    them, except those RETENTION_KEPT_EVENTS names; how many."""
    cutoff = retention_cutoff(now)
    if cutoff is None:
        return 0
    return purge_in_batches(
        Event.objects.filter(created_at__lt=cutoff).exclude(name__in=settings.RETENTION_KEPT_EVENTS)
    )
