"""Test helpers shared by every app's tests (imported by the root conftest)."""

import logging
from contextlib import contextmanager

from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import Atomic


def _at_test_level(connection) -> bool:
    """Inside only the atomic blocks the test case itself opened: for the code under test
    this is autocommit, where Django runs an on-commit callback at once."""
    return connection.in_atomic_block and all(block._from_testcase for block in connection.atomic_blocks)


def _run(callbacks) -> None:
    for _, func, robust in callbacks:
        if robust:
            try:
                func()
            except Exception:
                logging.getLogger("django.db.backends.base").exception("Error in on_commit() callback")
        else:
            func()


def run_on_commit_like_production(monkeypatch) -> None:
    """Make `transaction.on_commit` behave in a test-case transaction as it does in
    production: callbacks run when the code's own outermost atomic block commits (or at
    once outside one), and are dropped when it rolls back."""
    original_on_commit = BaseDatabaseWrapper.on_commit
    original_exit = Atomic.__exit__

    def on_commit(self, func, robust=False):
        if _at_test_level(self):
            _run([(None, func, robust)])
        else:
            original_on_commit(self, func, robust)

    def exit_(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        connection = transaction.get_connection(self.using)
        if not self._from_testcase and _at_test_level(connection) and not connection.needs_rollback:
            callbacks, connection.run_on_commit = connection.run_on_commit, []
            _run(callbacks)
        return result

    monkeypatch.setattr(BaseDatabaseWrapper, "on_commit", on_commit)
    monkeypatch.setattr(Atomic, "__exit__", exit_)


def assert_error(response, status: int, code: str) -> dict:
    """The response is the error envelope with this status and code, carrying the request id."""
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}, error
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] and error["request_id"] == response["X-Request-ID"]
    return error


@contextmanager
def celery_eager(enabled: bool):
    """Switch eager task execution for a block (Celery's conf cannot be monkeypatched)."""
    from leadnexus.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = enabled
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def metric_value(client, name: str, **labels: str) -> float:
    """The sum of the samples named `name` at /metrics whose labels include `labels` (0 when
    there are none), read from the test client's loopback address as a scraper would."""
    from prometheus_client.parser import text_string_to_metric_families

    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
