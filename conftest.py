"""Fixtures shared by every test. App factories live in `<app>/tests/factories.py`."""

import uuid

import pytest
from rest_framework.test import APIClient

from leadnexus.celery import app as celery_app
from leadnexus.core.testing import celery_eager, run_on_commit_like_production


def pytest_configure(config):
    # Tasks run eagerly in tests even when REDIS_URL is set; `real_worker` tests switch it off.
    celery_app.conf.task_always_eager = True


@pytest.fixture(autouse=True)
def _production_like_runtime(settings, monkeypatch):
    """Every test: on-commit callbacks fire when the code commits, rate limits and cached
    values start empty (a fresh key prefix even on a shared Redis), passwords hash fast,
    and nothing is looked up in DNS."""
    run_on_commit_like_production(monkeypatch)
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"} for alias, config in settings.CACHES.items()
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # No test reaches DNS: a host name in a webhook URL resolves only where a test says so.
    monkeypatch.setattr("leadnexus.core.outbound.resolve", _no_dns)


def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"no DNS in tests ({host})")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request, tmp_path_factory):
    """A real worker is another thread with a connection of its own. SQLite's in-memory test
    database is shared between connections through table locks that fail at once ("database
    table is locked") instead of waiting; when a selected test starts a worker, the test
    database is a file, where connections wait for each other as they do in production."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if (
        database["ENGINE"] == "django.db.backends.sqlite3"
        and settings.REDIS_URL
        and any(item.get_closest_marker("real_worker") for item in request.session.items)
    ):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture
def real_worker(transactional_db, settings):
    """A Celery worker in a thread, consuming a queue of its own on the configured Redis.
    Tasks sent while it runs go through the real broker; the test's data must be committed."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: a real Celery worker runs against Redis")
    from celery.contrib.testing.worker import start_worker

    queue = f"test-{uuid.uuid4().hex}"
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        with celery_eager(False), start_worker(celery_app, queues=[queue], perform_ping_check=False) as worker:
            yield worker
    finally:
        celery_app.conf.task_default_queue = previous_queue
        # Starting the worker selected its queue on the app itself: a later worker would
        # consume only from it.
        celery_app.amqp.queues.select(previous_queue)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_org_user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff_user(db):
    from accounts.tests.factories import StaffUserFactory

    return StaffUserFactory()


@pytest.fixture
def auth_client(user):
    """An API client signed in as `user` with a JWT, as an integrator would be."""
    from accounts.tests.factories import bearer_client

    return bearer_client(user)


@pytest.fixture
def private_files(tmp_path, monkeypatch):
    """Form submissions' attachments stored in a fresh folder of the test's own."""
    from django.core.files.storage import FileSystemStorage

    from leads.models import Submission

    storage = FileSystemStorage(location=tmp_path)
    monkeypatch.setattr(Submission._meta.get_field("attachment"), "storage", storage)
    return storage
