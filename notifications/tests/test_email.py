import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone

from notifications.exceptions import EmailDeliveryError
from notifications.models import EmailMessage
from notifications.services import email_queue, email_requeue, email_retry_delay, email_send, emails_resume_stale

pytestmark = pytest.mark.django_db


def _queue(user):
    return email_queue(
        to=user.email, template="notification", context={"user": user, "title": "Hello", "message": "", "link": ""}
    )


def test_an_email_is_never_sent_twice(user):
    email = _queue(user)
    assert email_send(email_id=email.pk) is None  # already sent at commit
    assert len(mail.outbox) == 1
    assert [a.succeeded for a in EmailMessage.objects.get().attempt_log.all()] == [True]


def test_typed_text_is_as_typed_in_the_subject_and_text_and_escaped_in_the_html(user):
    title = "O'Brien <b>& Co</b>"

    email = email_queue(
        to=user.email, template="notification", context={"user": user, "title": title, "message": "", "link": ""}
    )

    assert email.subject == title
    assert title in email.text
    assert "O&#x27;Brien &lt;b&gt;&amp; Co&lt;/b&gt;" in email.html


def test_nothing_is_sent_when_the_transaction_rolls_back(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        _queue(user)
        raise RuntimeError
    assert not EmailMessage.objects.exists() and mail.outbox == []


def test_smtp_errors_are_retried_with_each_attempt_recorded(user, settings):
    settings.EMAIL_MAX_ATTEMPTS = 3
    failures = iter([smtplib.SMTPServerDisconnected("gone"), smtplib.SMTPDataError(451, "try later")])
    real_send = EmailBackend.send_messages

    def flaky(self, messages):
        error = next(failures, None)
        if error:
            raise error
        return real_send(self, messages)

    with mock.patch.object(EmailBackend, "send_messages", flaky):
        email = _queue(user)  # eager: the task retries at once

    email.refresh_from_db()
    assert email.status == EmailMessage.Status.SENT and email.attempts == 3
    log = list(email.attempt_log.values_list("succeeded", "error"))
    assert [ok for ok, _ in log] == [False, False, True]
    assert "SMTPServerDisconnected" in log[0][1]
    assert len(mail.outbox) == 1


def test_gives_up_after_the_last_attempt_and_staff_can_requeue(user, settings):
    settings.EMAIL_MAX_ATTEMPTS = 2
    with mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("refused")):
        email = _queue(user)
    email.refresh_from_db()
    assert email.status == EmailMessage.Status.FAILED and email.attempts == 2
    assert "refused" in email.last_error

    assert email_requeue(email_id=email.pk) is True
    email.refresh_from_db()
    assert email.status == EmailMessage.Status.SENT
    assert email_requeue(email_id=email.pk) is False


def _queue_unsent(user):
    """An email whose task the broker never delivered."""
    with mock.patch("leadnexus.core.outbox.outbox_dispatch"):
        return _queue(user)


def test_a_failed_attempt_records_when_the_next_one_is_due(user):
    email = _queue_unsent(user)

    refused = mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("refused"))
    with refused, pytest.raises(EmailDeliveryError):
        email_send(email_id=email.pk)

    email.refresh_from_db()
    assert email.status == EmailMessage.Status.QUEUED and email.attempts == 1
    assert abs((email.next_attempt_at - timezone.now()).total_seconds() - 30) < 5
    assert [email_retry_delay(n) for n in (1, 2, 3, 8, 9)] == [30, 60, 120, 3600, 3600]


def test_an_email_whose_task_was_lost_is_sent_again_once(user, settings):
    lost, killed, recent = _queue_unsent(user), _queue_unsent(user), _queue_unsent(user)
    long_ago = timezone.now() - settings.EMAIL_STALE_AFTER - timedelta(seconds=1)
    EmailMessage.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    # a worker killed in the middle of its attempt
    EmailMessage.objects.filter(pk=killed.pk).update(
        status=EmailMessage.Status.SENDING, attempts=1, next_attempt_at=long_ago
    )

    assert emails_resume_stale() == 2

    statuses = dict(EmailMessage.objects.values_list("pk", "status"))
    assert statuses == {lost.pk: "sent", killed.pk: "sent", recent.pk: "queued"}
    assert len(mail.outbox) == 2 and EmailMessage.objects.get(pk=killed.pk).attempts == 2
    assert emails_resume_stale() == 0
