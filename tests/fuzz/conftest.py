"""Fixtures of the fuzz tests: requests through the real WSGI handler, and a small dataset
seeded once per module for every role to sign in as."""

import pytest
from django.core import signals
from django.db import close_old_connections, transaction
from django.test import override_settings

from accounts.tests.factories import bearer_token
from leadnexus.core.testing import run_on_commit_like_production
from tests.fuzz.dataset import seed


@pytest.fixture(autouse=True)
def _fuzz_runtime(settings):
    settings.RATE_LIMIT_SCALE = 10000
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # Requests go through the real WSGI handler, whose request signals would close the
    # connection holding the test transaction; Django's test client unhooks them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The users of `dataset.seed()` by role, written once for the module in a transaction
    that every test's own transaction nests in (as Django's `setUpTestData` does), and
    rolled back after the module."""
    runtime = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    with django_db_blocker.unblock(), runtime, pytest.MonkeyPatch.context() as monkeypatch:
        run_on_commit_like_production(monkeypatch)
        block = transaction.atomic()
        # Code under test sees this block as the test's own: on-commit callbacks run as in autocommit.
        block._from_testcase = True
        block.__enter__()
        try:
            users = seed()
            monkeypatch.undo()
            yield users
        finally:
            transaction.set_rollback(True)
            block.__exit__(None, None, None)


@pytest.fixture
def role_headers(seeded, role, db):
    """A fresh API sign-in of the user of `role`."""
    return {"Authorization": f"Bearer {bearer_token(seeded[role])}"}
