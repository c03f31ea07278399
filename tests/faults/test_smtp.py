"""The mail server refuses (451, 554) or hangs: every attempt is recorded on the email
(status, attempts, last error, the attempt log), the next one waits longer each time, and
the email is delivered exactly once when the server accepts, or marked failed after
EMAIL_MAX_ATTEMPTS and delivered once when staff requeue it."""

import time

import pytest

from accounts.tests.factories import UserFactory
from leadnexus.core.models import Event
from notifications.exceptions import EmailDeliveryError
from notifications.models import EmailMessage
from notifications.services import email_queue, email_requeue, email_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(smtp_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 1
    return smtp_server


def _queue(user) -> EmailMessage:
    return email_queue(
        to=user.email, template="notification", context={"user": user, "title": "Hello", "message": "", "link": ""}
    )


def _delivered_to(smtp, address: str) -> int:
    return sum(message["To"] == address for message in smtp.received)


def test_refusals_and_a_hang_are_retried_with_backoff_and_the_email_is_delivered_once(smtp, settings):
    user = UserFactory()
    smtp.script = ["refuse", "hang", "refuse"]
    with pytest.MonkeyPatch.context() as patch:  # the first attempt only: the broker holds the retries
        patch.setattr("leadnexus.core.outbox.outbox_dispatch", lambda **kwargs: False)
        email = _queue(user)

    delays = []
    for _ in range(3):
        started = time.monotonic()
        with pytest.raises(EmailDeliveryError) as failure:
            email_send(email_id=email.pk)
        assert failure.value.will_retry
        email.refresh_from_db()
        assert email.status == EmailMessage.Status.QUEUED
        delays.append(round((email.next_attempt_at.timestamp() - time.time()) / 10) * 10)
        assert time.monotonic() - started < settings.EMAIL_TIMEOUT + 2  # a hang costs the timeout, no more

    assert delays == [30, 60, 120]
    assert "451" in email.last_error
    sent = email_send(email_id=email.pk)

    assert sent.status == EmailMessage.Status.SENT and sent.attempts == 4 and sent.last_error == ""
    assert sent.next_attempt_at is None
    log = list(sent.attempt_log.values_list("succeeded", "error"))
    assert [ok for ok, _ in log] == [False, False, False, True]
    assert "451" in log[0][1] and "timed out" in log[1][1]
    assert smtp.answered == ["refuse", "hang", "refuse", "accept"]
    assert _delivered_to(smtp, user.email) == 1
    assert email_send(email_id=email.pk) is None and _delivered_to(smtp, user.email) == 1


def test_a_rejected_email_fails_after_the_last_attempt_and_staff_requeue_delivers_it_once(smtp, settings):
    user = UserFactory()
    settings.EMAIL_MAX_ATTEMPTS = 3
    smtp.script = ["reject"] * 3

    email = _queue(user)  # eager: the task retries at once

    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailMessage.Status.FAILED, 3)
    assert "554" in email.last_error and email.next_attempt_at is None
    assert email.attempt_log.filter(succeeded=False).count() == 3
    assert Event.objects.filter(name="notifications.email.failed", subject_id=email.pk).count() == 1
    assert _delivered_to(smtp, user.email) == 0

    assert email_requeue(email_id=email.pk) is True
    email.refresh_from_db()
    assert email.status == EmailMessage.Status.SENT and _delivered_to(smtp, user.email) == 1
    assert email_requeue(email_id=email.pk) is False and _delivered_to(smtp, user.email) == 1
