import time

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import EmailMessage
from notifications.services import email_queue


@pytest.mark.real_worker
def test_email_round_trip_through_a_real_worker(real_worker, user):
    with transaction.atomic():
        email = email_queue(
            to=user.email,
            template="notification",
            context={"user": user, "title": "Round trip", "message": "", "link": ""},
        )

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == EmailMessage.Status.SENT:
            break
        time.sleep(0.1)

    assert email.status == EmailMessage.Status.SENT
    assert [m.subject for m in mail.outbox] == ["Round trip"]
