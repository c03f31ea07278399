import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadnexus.celery import app as celery_app
from leadnexus.core.models import OutboxMessage
from leadnexus.core.tasks import outbox_resend
from leadnexus.core.testing import celery_eager, metric_value

pytestmark = pytest.mark.django_db

PUBLIC = "203.0.113.9"


@celery_app.task(name="leadnexus.core.tests.test_metrics.always_fails", autoretry_for=(RuntimeError,), max_retries=2)
def always_fails():
    raise RuntimeError("always")


def test_loopback_reads_the_metrics_without_a_session(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]
    assert not response.cookies
    body = response.content.decode()
    for family in ("leadnexus_outbox_unsent", "leadnexus_celery_tasks_total", "leadnexus_emails"):
        assert f"# TYPE {family}" in body


def test_a_public_address_gets_the_404_of_a_path_that_matches_nothing(client):
    refused = client.get("/metrics", REMOTE_ADDR=PUBLIC)
    unknown = client.get("/no-such-page", REMOTE_ADDR=PUBLIC)
    assert refused.status_code == unknown.status_code == 404
    assert refused["Content-Type"] == unknown["Content-Type"]
    assert b"leadnexus_" not in refused.content


def test_the_token_lets_any_address_in(client, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC).status_code == 404

    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_an_empty_network_list_leaves_the_token_only(client, settings):
    settings.METRICS_ALLOWED_IPS = []
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_behind_proxies_the_client_address_is_checked_as_rate_limits_read_it(client, settings):
    settings.NUM_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    assert client.get("/metrics", **proxy, HTTP_X_FORWARDED_FOR="10.20.0.5").status_code == 200
    assert client.get("/metrics", **proxy, HTTP_X_FORWARDED_FOR=PUBLIC).status_code == 404
    # The left of the header is the client's to forge.
    assert client.get("/metrics", **proxy, HTTP_X_FORWARDED_FOR=f"10.20.0.5, {PUBLIC}").status_code == 404
    # A forged header sent straight to the app: the socket's peer is public.
    assert client.get("/metrics", REMOTE_ADDR=PUBLIC, HTTP_X_FORWARDED_FOR="10.20.0.5").status_code == 404


def test_a_proxy_that_num_proxies_does_not_count_is_not_trusted(client, settings):
    settings.NUM_PROXIES = 0
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=PUBLIC).status_code == 404


def test_scrapers_are_answered_by_ip_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["leadnexus.example"]
    assert client.get("/metrics", headers={"Host": "10.0.0.7"}).status_code == 200
    assert client.get("/metrics", headers={"Host": "10.0.0.7"}, REMOTE_ADDR=PUBLIC).status_code == 400


def test_scrapes_are_neither_rate_limited_nor_counted(client):
    before = metric_value(client, "leadnexus_http_request_duration_seconds_count")
    assert all(client.get("/metrics").status_code == 200 for _ in range(30))
    assert metric_value(client, "leadnexus_http_request_duration_seconds_count") == before


def test_a_request_counts_for_its_view_with_its_latency_and_queries(client, auth_client):
    view = {"view": "api:lead-list", "method": "GET"}
    count = metric_value(client, "leadnexus_http_request_duration_seconds_count", **view, status="2xx")
    seconds = metric_value(client, "leadnexus_http_request_duration_seconds_sum", **view, status="2xx")
    requests = metric_value(client, "leadnexus_http_request_db_queries_count", **view)
    queries = metric_value(client, "leadnexus_http_request_db_queries_sum", **view)

    with CaptureQueriesContext(connection) as made:
        assert auth_client.get("/api/leads/").status_code == 200
    made = len(made)  # read now: the next request empties the connection's query log

    assert metric_value(client, "leadnexus_http_request_duration_seconds_count", **view, status="2xx") == count + 1
    assert metric_value(client, "leadnexus_http_request_duration_seconds_sum", **view, status="2xx") > seconds
    assert metric_value(client, "leadnexus_http_request_db_queries_count", **view) == requests + 1
    assert made > 0
    assert metric_value(client, "leadnexus_http_request_db_queries_sum", **view) == queries + made


def test_paths_that_match_nothing_share_one_label(client):
    unresolved = {"view": "unresolved", "method": "GET", "status": "4xx"}
    before = metric_value(client, "leadnexus_http_request_duration_seconds_count", **unresolved)
    assert client.get("/wp-login.php").status_code == 404
    assert client.get(f"/{uuid.uuid4().hex}").status_code == 404
    assert metric_value(client, "leadnexus_http_request_duration_seconds_count", **unresolved) == before + 2
    assert b"wp-login" not in client.get("/metrics").content


def test_task_outcomes_are_counted_by_task(client):
    def outcome(task, name):
        return metric_value(client, "leadnexus_celery_tasks_total", task=task, outcome=name)

    resend = "leadnexus.core.tasks.outbox_resend"
    failing = "leadnexus.core.tests.test_metrics.always_fails"
    before = {(task, name): outcome(task, name) for task in (resend, failing) for name in ("succeeded", "failed")}
    retried = outcome(failing, "retried")

    outbox_resend.delay()
    always_fails.delay()

    assert outcome(resend, "succeeded") == before[resend, "succeeded"] + 1
    assert outcome(resend, "failed") == before[resend, "failed"]
    assert outcome(failing, "failed") == before[failing, "failed"] + 1
    assert outcome(failing, "retried") == retried + 2
    assert outcome(failing, "succeeded") == before[failing, "succeeded"]


def test_the_outbox_backlog_is_the_unsent_rows(client):
    before = metric_value(client, "leadnexus_outbox_unsent")
    first, _ = (OutboxMessage.objects.create(task="leadnexus.core.tasks.outbox_resend") for _ in range(2))
    OutboxMessage.objects.create(task="leadnexus.core.tasks.outbox_resend", sent_at=timezone.now())
    assert metric_value(client, "leadnexus_outbox_unsent") == before + 2
    assert metric_value(client, "leadnexus_outbox_oldest_unsent_age_seconds") >= 0

    OutboxMessage.objects.filter(pk=first.pk).update(sent_at=timezone.now())
    assert metric_value(client, "leadnexus_outbox_unsent") == before + 1


def test_no_queue_length_while_tasks_run_eagerly(client):
    assert "leadnexus_celery_queue_length" not in client.get("/metrics").content.decode()


def test_the_broker_queue_length_is_reported(client):
    queue = f"test-{uuid.uuid4().hex}"
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    try:
        with celery_eager(False):
            assert metric_value(client, "leadnexus_celery_queue_length", queue=queue) == 0
            outbox_resend.apply_async(queue=queue)
            outbox_resend.apply_async(queue=queue)
            assert metric_value(client, "leadnexus_celery_queue_length", queue=queue) == 2
    finally:
        with celery_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)
        celery_app.conf.task_default_queue = previous_queue


def test_a_source_that_fails_is_left_out_and_logged(client, caplog):
    previous_broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        with celery_eager(False):
            response = client.get("/metrics")
    finally:
        celery_app.conf.broker_url = previous_broker
    assert response.status_code == 200
    body = response.content.decode()
    assert "leadnexus_celery_queue_length" not in body
    assert "# TYPE leadnexus_outbox_unsent" in body
    assert "Metrics source celery_queues failed" in caplog.text
