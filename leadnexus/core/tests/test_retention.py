"""Retention: events and email bodies past RETENTION_DAYS are purged, the rest kept; 0 keeps
everything; the email log keeps who was sent what subject."""

from datetime import timedelta

import pytest
from django.utils import timezone

from leadnexus.core.events import events_purge, publish
from leadnexus.core.models import Event
from notifications.models import EmailMessage
from notifications.services import email_bodies_purge

pytestmark = pytest.mark.django_db


def _aged(record, days: int) -> None:
    type(record).objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=days))


def _email(status: str, days: int) -> EmailMessage:
    email = EmailMessage.objects.create(to="a@example.com", template="t", subject="Hello", text="Body",
                                        html="<p>Body</p>", status=status)  # fmt: skip
    _aged(email, days)
    return email


@pytest.mark.parametrize(
    ("aged", "kept"),
    [
        ({"test.old": 31, "test.recent": 29}, ["test.recent"]),
        # The proof of a data-protection request outlives retention.
        ({"accounts.person.erased": 400, "test.old": 400}, ["accounts.person.erased"]),
    ],
)
def test_events_past_retention_are_purged(settings, aged, kept):
    settings.RETENTION_DAYS = 30
    for name, days in aged.items():
        _aged(publish(name), days)

    assert events_purge() == 1

    assert list(Event.objects.values_list("name", flat=True)) == kept


def test_email_bodies_past_retention_are_blanked_and_the_log_kept(settings):
    settings.RETENTION_DAYS = 30
    old, failed, recent, waiting = (
        _email("sent", 31), _email("failed", 40), _email("sent", 5), _email("queued", 31),
    )  # fmt: skip

    assert email_bodies_purge() == 2

    for email in (old, failed):
        email.refresh_from_db()
        assert (email.text, email.html, email.subject, email.to) == ("", "", "Hello", "a@example.com")
    for email in (recent, waiting):  # too recent, or not sent yet
        email.refresh_from_db()
        assert email.text == "Body"
    assert email_bodies_purge() == 0


def test_zero_keeps_everything(settings):
    settings.RETENTION_DAYS = 0
    _aged(publish("test.ancient"), 5000)
    _email("sent", 5000)

    assert events_purge() == 0 and email_bodies_purge() == 0
    assert Event.objects.exists() and EmailMessage.objects.get().text == "Body"
