from unittest import mock

import pytest
from django.core.mail.backends.locmem import EmailBackend

from leadnexus.core.testing import metric_value
from notifications.services import email_queue

pytestmark = pytest.mark.django_db


def _queue(user):
    return email_queue(
        to=user.email, template="notification", context={"user": user, "title": "Hello", "message": "", "link": ""}
    )


def _emails(client):
    return {status: metric_value(client, "leadnexus_emails", status=status) for status in ("queued", "sent", "failed")}


def test_emails_sent_and_failed_are_reported_from_the_email_log(client, user, settings):
    settings.EMAIL_MAX_ATTEMPTS = 1
    before = _emails(client)
    runs = metric_value(client, "leadnexus_celery_tasks_total", task="notifications.tasks.email_send")

    _queue(user)
    with mock.patch.object(EmailBackend, "send_messages", side_effect=OSError("refused")):
        _queue(user)

    assert _emails(client) == {
        "queued": before["queued"],
        "sent": before["sent"] + 1,
        "failed": before["failed"] + 1,
    }
    assert metric_value(client, "leadnexus_celery_tasks_total", task="notifications.tasks.email_send") == runs + 2
