import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import UserFactory, bearer_client
from leadnexus.core.idempotency import idempotency_purge
from leadnexus.core.models import Event, IdempotencyRecord
from leadnexus.core.testing import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.urls("leadnexus.core.tests.urls")]

URL = "/api/test/charge/"


def _charge(client, key, amount="10.00"):
    return client.post(URL, {"amount": amount}, format="json", headers={"Idempotency-Key": key} if key else {})


def test_same_key_and_body_replays_the_first_answer_byte_for_byte(auth_client):
    first = _charge(auth_client, "key-1")
    second = _charge(auth_client, "key-1")

    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Event.objects.filter(name="test.charge.made").count() == 1


def test_same_key_with_another_body_is_refused(auth_client):
    _charge(auth_client, "key-2", amount="10.00")
    assert_error(_charge(auth_client, "key-2", amount="99.00"), 409, "idempotency_key_reused")
    assert Event.objects.filter(name="test.charge.made").count() == 1


def test_missing_key_is_a_validation_error(auth_client):
    error = assert_error(_charge(auth_client, None), 400, "validation_error")
    assert "Idempotency-Key" in error["details"]


def test_duplicate_while_the_first_still_runs_is_a_conflict(auth_client, user):
    IdempotencyRecord.objects.create(
        org_id=user.organization_id,
        key="key-3",
        endpoint=f"POST {URL}",
        request_hash="unused",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    with mock.patch("leadnexus.core.idempotency.request_fingerprint", return_value="unused"):
        assert_error(_charge(auth_client, "key-3"), 409, "conflict")


def test_keys_are_scoped_to_the_organization(auth_client):
    other = bearer_client(UserFactory())
    assert _charge(auth_client, "shared-key").status_code == 201
    assert _charge(other, "shared-key").status_code == 201
    assert Event.objects.filter(name="test.charge.made").count() == 2


def test_client_errors_are_replayed_but_server_errors_and_refusals_let_a_retry_run(auth_client):
    bad = _charge(auth_client, "key-4", amount="bad")
    assert_error(bad, 400, "validation_error")
    assert _charge(auth_client, "key-4", amount="bad").content == bad.content

    assert_error(_charge(auth_client, "key-5", amount="fail"), 500, "server_error")
    assert not IdempotencyRecord.objects.filter(key="key-5").exists()

    # A refusal of the caller is not the request's answer either: a permission granted since
    # lets the retry run.
    assert_error(_charge(auth_client, "key-7", amount="forbidden"), 403, "permission_denied")
    assert not IdempotencyRecord.objects.filter(key="key-7").exists()


def test_expired_records_are_purged_and_the_key_reusable(auth_client):
    _charge(auth_client, "key-6")
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert idempotency_purge() == 1
    assert _charge(auth_client, "key-6", amount="20.00").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_run_once():
    """Two requests with one key at the same moment: one runs, the other is a 409."""
    if connection.vendor == "sqlite":
        pytest.skip("needs concurrent writers: runs on PostgreSQL")
    client = bearer_client(UserFactory())
    entered, release = threading.Event(), threading.Event()
    from leadnexus.core.tests import urls

    original = urls.publish

    def slow_publish(*args, **kwargs):
        entered.set()
        release.wait(10)
        return original(*args, **kwargs)

    results = {}

    def first():
        results["first"] = _charge(client, "race")
        connection.close()

    with mock.patch.object(urls, "publish", slow_publish):
        thread = threading.Thread(target=first)
        thread.start()
        assert entered.wait(10)
        results["second"] = _charge(client, "race")
        release.set()
        thread.join(10)

    assert results["first"].status_code == 201
    assert_error(results["second"], 409, "conflict")
    assert Event.objects.filter(name="test.charge.made").count() == 1
