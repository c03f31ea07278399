"""Redis stops in the middle of a run (a private redis-server, killed; it comes back empty,
as one without persistence does). Pages and the API keep serving: sessions live in the
database, rate limits fail open, the token denylist is in the database, the catalog,
dashboard and search caches fall back to the database, and tasks wait in the outbox. Once
Redis is back, the resend job sends what waited and a worker delivers it: nothing lost,
nothing twice."""

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory, bearer_client
from leadnexus.celery import app as celery_app
from leadnexus.core import outbox
from leadnexus.core.models import OutboxMessage
from leadnexus.core.testing import assert_error
from marketplace.tests.factories import ListingFactory
from notifications.models import EmailMessage
from notifications.services import emails_resume_stale


def _login_api(email: str) -> dict:
    response = APIClient().post("/api/auth/login", {"email": email, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker thread needs the test's data in PostgreSQL")
def test_everything_keeps_serving_without_redis_and_what_waited_is_sent_once_it_is_back(on_private_redis, settings):
    user = UserFactory()
    ListingFactory()
    page = Client()
    assert page.post("/login/", {"email": user.email, "password": PASSWORD}).status_code == 302
    tokens = _login_api(user.email)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert api.get("/api/marketplace/listings/").status_code == 200  # the catalog cached in Redis

    on_private_redis.kill()

    # pages: the session is in the database
    assert page.get("/dashboard/").status_code == 200
    assert page.get("/leads/").status_code == 200
    assert page.get("/marketplace/").status_code == 200
    # the API: reads, writes, cached reads, the search vocabulary
    assert api.get("/api/auth/me").status_code == 200
    created = api.post("/api/leads/", {"first_name": "Ada", "email": "ada@example.org"}, format="json")
    assert created.status_code == 201, created.content
    assert api.get("/api/marketplace/listings/").status_code == 200
    assert api.get("/api/dashboard/client/").status_code == 200
    goal = api.post("/api/search/goals/", {"goal": "CTOs of fintech companies in Berlin"}, format="json")
    assert goal.status_code == 201, goal.content
    # rate-limited sign-in fails open; the denylist of refresh tokens still holds
    again = _login_api(user.email)
    assert api.post("/api/auth/logout", {"refresh": again["refresh"]}, format="json").status_code == 204
    assert_error(api.post("/api/auth/refresh", {"refresh": again["refresh"]}, format="json"), 401, "not_authenticated")
    # an email asked for meanwhile waits in the outbox
    assert APIClient().post("/api/auth/forgot-password", {"email": user.email}, format="json").status_code == 202
    readiness = Client().get("/readyz")
    assert readiness.status_code == 503 and "cache" in readiness.json()["failed"]

    # emails asked for before the outage were handed to the broker that lost them; those
    # asked for during it wait in the outbox
    emails = EmailMessage.objects.all()
    assert emails.filter(template="password_reset_code").exists() and mail.outbox == []
    assert set(emails.values_list("status", flat=True)) == {EmailMessage.Status.QUEUED}
    waiting = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert waiting.filter(task="notifications.tasks.email_send").exists()
    assert all(message.last_error for message in waiting)

    # Redis comes back, empty: the beat jobs send what waited or was lost, a worker delivers it
    on_private_redis.start()
    assert Client().get("/readyz").status_code == 200
    settings.OUTBOX_RESEND_AFTER = timedelta(0)
    settings.EMAIL_STALE_AFTER = timedelta(0)
    with start_worker(celery_app, perform_ping_check=False):
        assert outbox.outbox_resend() == waiting.count() > 0
        assert emails_resume_stale() > 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and emails.exclude(status=EmailMessage.Status.SENT).exists():
            time.sleep(0.05)

    assert set(emails.values_list("status", flat=True)) == {EmailMessage.Status.SENT}
    delivered = sorted((message.to[0], message.subject) for message in mail.outbox)
    assert delivered == sorted(emails.values_list("to", "subject"))  # each once
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    assert outbox.outbox_resend() == 0 and emails_resume_stale() == 0


@pytest.fixture
def quick_redis_timeout(settings):
    """REDIS_TIMEOUT_SECONDS lowered, before the private Redis is configured with it."""
    settings.REDIS_TIMEOUT = 0.5


def _timed(call) -> tuple[object, float]:
    """(`call()`'s response, seconds taken); a hang is stopped by the suite's test timeout."""
    started = time.monotonic()
    return call(), time.monotonic() - started


@pytest.mark.django_db
def test_a_redis_that_stops_answering_costs_requests_its_timeout_and_never_hangs_them(
    quick_redis_timeout, on_private_redis
):
    user = UserFactory()
    ListingFactory()
    api = bearer_client(user)
    assert api.get("/api/marketplace/listings/").status_code == 200

    on_private_redis.freeze()  # connections stay open, nothing answers
    try:
        calls = {
            "catalog": lambda: api.get("/api/marketplace/listings/"),
            "lead": lambda: api.post(
                "/api/leads/", {"first_name": "Ada", "email": "ada@frozen.example"}, format="json"
            ),
            "login": lambda: APIClient().post(
                "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
            ),
            "readyz": lambda: Client().get("/readyz"),
        }
        answers = {name: _timed(call) for name, call in calls.items()}
    finally:
        on_private_redis.thaw()

    assert {name: getattr(response, "status_code", None) for name, (response, _) in answers.items()} == {
        "catalog": 200,
        "lead": 201,
        "login": 200,
        "readyz": 503,
    }
    # a few Redis commands, each given REDIS_TIMEOUT (0.5 s here), per request
    assert max(seconds for _, seconds in answers.values()) < 5, answers
    assert answers["readyz"][0].json()["failed"] == ["cache", "broker"]
