"""PostgreSQL connections cut under load, then PostgreSQL down altogether, under a real web
server (gunicorn, production settings) on a private PostgreSQL. Every request either
succeeds or fails cleanly, a 503 `service_unavailable` carrying the request id (the error
envelope for the API, the error page for pages), never a 500; the same web processes
serve normally again as soon as the database answers: nothing is restarted."""

import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.faults.processes import HttpClient, Subprocess, database_prepare, wait_for, web_env, web_server

APP_NAME = "lnx-faults-web"
PASSWORD = "correct-horse-battery"
SEED = f"""
import django
django.setup()
from accounts.tests.factories import UserFactory
from leads.tests.factories import LeadFactory
user = UserFactory(email="faults@example.com", password={PASSWORD!r})
LeadFactory.create_batch(5, organization=user.organization, created_by=user)
"""


@pytest.fixture(scope="module")
def web(private_postgres, tmp_path_factory):
    """gunicorn on a migrated database of the private PostgreSQL, its connections named
    APP_NAME; a user with leads to read."""
    directory = tmp_path_factory.mktemp("web")
    database = private_postgres.create_database("lnx_web")
    env = web_env(f"{database}?application_name={APP_NAME}")
    database_prepare(env, SEED)
    server, port = web_server(env, directory)
    yield server, port
    server.stop()


def _web_workers(server: Subprocess) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    return {int(pid) for pid in children}


def _cut(private_postgres) -> int:
    with psycopg.connect(private_postgres.url(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        ).fetchall()
    return len(rows)


def _assert_clean_failure(answer, *, page: bool) -> None:
    """A 503 with Retry-After and the request id: the envelope, or the error page."""
    request_id = answer.headers["X-Request-ID"]
    assert answer.status == 503, (answer.status, answer.body[:300])
    assert answer.headers["Retry-After"]
    if page:
        assert not answer.is_json and request_id.encode() in answer.body and b"service_unavailable" in answer.body
    else:
        error = answer.json()["error"]
        assert error["code"] == "service_unavailable" and error["request_id"] == request_id


def _client(port) -> tuple[HttpClient, HttpClient]:
    page = HttpClient(port)
    page.sign_in("faults@example.com", PASSWORD)
    credentials = {"email": "faults@example.com", "password": PASSWORD}
    login = HttpClient(port).request("POST", "/api/auth/login", data=credentials)
    return page, HttpClient(port, authorization=f"Bearer {login.json()['access']}")


def test_cut_connections_fail_cleanly_and_the_same_processes_recover(web, private_postgres):
    server, port = web
    page, api = _client(port)
    workers = _web_workers(server)
    outcomes: list[tuple[str, int]] = []
    unclean: list[str] = []
    stop = threading.Event()

    def load(page, api, n):
        while not stop.is_set():
            lead = {"first_name": f"L{n}", "email": f"lead-{n}-{len(outcomes)}@cut.example"}
            for kind, answer in (
                ("api", api.request("GET", "/api/leads/")),
                ("api", api.request("POST", "/api/leads/", data=lead)),
                ("api", api.request("GET", "/api/dashboard/client/")),
                ("page", page.request("GET", "/leads/")),
            ):
                outcomes.append((kind, answer.status))
                if answer.status >= 300:
                    try:
                        _assert_clean_failure(answer, page=kind == "page")
                    except (AssertionError, KeyError, ValueError) as exc:
                        unclean.append(f"{kind} {answer.status} {exc!r}: {answer.body[:200]!r}")

    threads = [threading.Thread(target=load, args=(*_client(port), n)) for n in range(3)]
    for thread in threads:
        thread.start()
    cuts = 0
    for _ in range(15):  # connections cut every 0.2 s for 3 s
        time.sleep(0.2)
        cuts += _cut(private_postgres)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert unclean == []
    assert cuts >= 10 and len(outcomes) > 40
    assert {status for _, status in outcomes} <= {200, 201, 503}
    # then, without restarting anything, every request succeeds
    assert [api.request("GET", "/api/leads/").status for _ in range(10)] == [200] * 10
    assert page.request("GET", "/leads/").status == 200
    assert _web_workers(server) == workers and server.alive()


def test_postgresql_down_answers_503_and_its_return_is_served_at_once(web, private_postgres):
    server, port = web
    page, api = _client(port)
    workers = _web_workers(server)

    private_postgres.kill()
    try:
        _assert_clean_failure(api.request("GET", "/api/leads/"), page=False)
        lead = {"first_name": "Down", "email": "down@cut.example"}
        _assert_clean_failure(api.request("POST", "/api/leads/", data=lead), page=False)
        _assert_clean_failure(page.request("GET", "/leads/"), page=True)
        readiness = HttpClient(port).request("GET", "/readyz")
        assert readiness.status == 503 and readiness.json()["failed"] == ["database"]
        assert HttpClient(port).request("GET", "/healthz").status == 200
    finally:
        private_postgres.start()

    assert api.request("GET", "/api/leads/").status == 200  # the first request after: no error left over
    assert page.request("GET", "/leads/").status == 200
    wait_for(lambda: HttpClient(port).request("GET", "/readyz").status == 200, timeout=10, what="readiness")
    assert _web_workers(server) == workers and server.alive()
