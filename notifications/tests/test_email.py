import smtplib
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction

from notifications.models import EmailMessage
from notifications.services import email_queue, email_requeue, email_send

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
