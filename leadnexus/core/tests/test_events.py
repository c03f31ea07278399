from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings

from leadnexus.celery import app
from leadnexus.core import outbox
from leadnexus.core.events import event_deliver, publish, publish_many, subscribe
from leadnexus.core.models import Event, EventDelivery, OutboxMessage
from leadnexus.core.testing import celery_eager

pytestmark = pytest.mark.django_db

received: list[tuple[str, int]] = []


@subscribe("test.widget.shipped")
def record_in_process(event):
    received.append(("in_process", event.pk))


@subscribe("test.widget.shipped", run_async=True)
def record_async(event):
    received.append(("async", event.pk))


@subscribe("test.widget.broken", run_async=True)
def explode(event):
    raise RuntimeError("subscriber failed")


@subscribe("test.gadget.sold")
@subscribe("test.gadget.returned")
def record_either(event):
    received.append((event.name, event.pk))


@pytest.fixture(autouse=True)
def _clear():
    received.clear()


def test_event_published_in_a_committed_transaction_is_stored_and_delivered_once(user):
    with transaction.atomic():
        event = publish("test.widget.shipped", actor=user, org=user.organization, subject=user, data={"n": 1})
        assert received == []  # nothing before commit

    assert sorted(received) == [("async", event.pk), ("in_process", event.pk)]
    stored = Event.objects.get(pk=event.pk)
    assert (stored.actor, stored.org_id, stored.subject_type, stored.subject_id) == (
        user,
        user.organization_id,
        "accounts.user",
        str(user.pk),
    )
    assert OutboxMessage.objects.get().sent_at is not None


def test_event_published_in_a_rolled_back_transaction_is_never_delivered(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish("test.widget.shipped", actor=user, org=user.organization)
        raise RuntimeError("the service failed after publishing")

    assert received == []
    assert not Event.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_rolled_back_savepoint_drops_only_its_own_events(user):
    with transaction.atomic():
        kept = publish("test.widget.shipped", org=user.organization)
        with pytest.raises(RuntimeError), transaction.atomic():
            publish("test.widget.shipped", org=user.organization)
            raise RuntimeError

    assert sorted(received) == [("async", kept.pk), ("in_process", kept.pk)]


def test_a_redelivered_async_event_is_handled_once(user):
    event = publish("test.widget.shipped", org=user.organization)
    received.clear()
    name = f"{record_async.__module__}.{record_async.__qualname__}"

    assert event_deliver(event_id=event.pk, subscriber=name) is False  # already delivered at commit
    assert received == []
    assert EventDelivery.objects.filter(event=event, subscriber=name).count() == 1


def test_a_failing_subscriber_does_not_record_a_delivery(user, caplog):
    event = publish("test.widget.broken", org=user.organization)
    assert not EventDelivery.objects.filter(event=event).exists()
    assert "subscriber failed" in caplog.text


def test_broker_outage_keeps_the_message_and_the_resend_job_sends_it(user, monkeypatch):
    # given the broker refuses the task at commit time
    calls = []

    def refuse(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(app.tasks["leadnexus.core.tasks.event_deliver"], "apply_async", refuse)
    with celery_eager(False):
        publish("test.widget.shipped", org=user.organization)
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and "unreachable" in message.last_error

    # the resend job leaves a fresh row alone, and sends it once it is old enough
    monkeypatch.setattr(
        app.tasks["leadnexus.core.tasks.event_deliver"], "apply_async", lambda **kwargs: calls.append(kwargs)
    )
    with celery_eager(False):
        assert outbox.outbox_resend() == 0
        with override_settings(OUTBOX_RESEND_AFTER=timedelta(0)):
            assert outbox.outbox_resend() == 1
            assert outbox.outbox_resend() == 0  # sent rows are never sent again
    assert calls == [{"kwargs": message.kwargs, "retry": False}]
    assert OutboxMessage.objects.get().sent_at is not None


def test_publish_many_stores_in_one_insert_and_delivers_each(user):
    with transaction.atomic():
        events = publish_many("test.widget.shipped", [{"org": user.organization, "data": {"n": n}} for n in range(3)])
    assert [e.data["n"] for e in events] == [0, 1, 2]
    assert sorted(received) == sorted([("in_process", e.pk) for e in events] + [("async", e.pk) for e in events])


def test_one_handler_subscribes_to_several_events(user):
    sold = publish("test.gadget.sold", org=user.organization)
    returned = publish("test.gadget.returned", org=user.organization)

    assert received == [("test.gadget.sold", sold.pk), ("test.gadget.returned", returned.pk)]
