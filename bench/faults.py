"""Fault injection at length, beside the tests in tests/faults: a gunicorn (production
settings, 1 process x 4 threads) on a private PostgreSQL cluster and a private Redis, then
  1. CUT_SECONDS of load (4 clients: lead list, lead create, dashboard, leads page) while every
     database connection of the web process is terminated every CUT_INTERVAL seconds;
  2. the time a catalog read, a lead create and a sign-in take with Redis up, killed
     (connections refused) and frozen (SIGSTOP: connections open, nothing answers), at the
     default REDIS_TIMEOUT_SECONDS.
Prints a Markdown summary for bench/RESULTS.md. Needs redis-server and PostgreSQL's server
binaries (PG_BIN, default /usr/lib/postgresql/15/bin); ports 16300-16399.

    .venv/bin/python bench/faults.py
"""

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.processes import (  # noqa: E402
    HttpClient,
    PrivatePostgres,
    PrivateRedis,
    database_prepare,
    web_env,
    web_server,
)

CUT_SECONDS = float(os.environ.get("CUT_SECONDS", 30))
CUT_INTERVAL = float(os.environ.get("CUT_INTERVAL", 0.5))
APP_NAME = "lnx-bench-faults"
EMAIL, PASSWORD = "bench@example.com", "correct-horse-battery"
SEED = f"""
import django
django.setup()
from accounts.tests.factories import UserFactory
from leads.tests.factories import LeadFactory
from marketplace.tests.factories import ListingFactory
user = UserFactory(email={EMAIL!r}, password={PASSWORD!r})
LeadFactory.create_batch(50, organization=user.organization, created_by=user)
ListingFactory.create_batch(30)
"""


def clients(port) -> tuple[HttpClient, HttpClient]:
    page = HttpClient(port)
    page.sign_in(EMAIL, PASSWORD)
    login = HttpClient(port).request("POST", "/api/auth/login", data={"email": EMAIL, "password": PASSWORD})
    return page, HttpClient(port, authorization=f"Bearer {login.json()['access']}")


def clean(answer, page: bool) -> bool:
    if answer.status != 503 or not answer.headers.get("Retry-After"):
        return False
    request_id = answer.headers["X-Request-ID"]
    if page:
        return request_id.encode() in answer.body and b"service_unavailable" in answer.body
    error = answer.json()["error"]
    return error["code"] == "service_unavailable" and error["request_id"] == request_id


def cut_under_load(port, postgres) -> str:
    import psycopg

    statuses, unclean, latencies = Counter(), [], []
    stop = threading.Event()

    def load(page, api, n):
        i = 0
        while not stop.is_set():
            i += 1
            for kind, method, path, data in (
                ("api", "GET", "/api/leads/", None),
                ("api", "POST", "/api/leads/", {"first_name": "B", "email": f"b{n}-{i}@cut.example"}),
                ("api", "GET", "/api/dashboard/client/", None),
                ("page", "GET", "/leads/", None),
            ):
                started = time.monotonic()
                answer = (page if kind == "page" else api).request(method, path, data=data)
                latencies.append(time.monotonic() - started)
                statuses[answer.status] += 1
                if answer.status >= 300 and not clean(answer, kind == "page"):
                    unclean.append((kind, path, answer.status))

    threads = [threading.Thread(target=load, args=(*clients(port), n)) for n in range(4)]
    for thread in threads:
        thread.start()
    cuts = rounds = 0
    deadline = time.monotonic() + CUT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(CUT_INTERVAL)
        with psycopg.connect(postgres.url(), autocommit=True) as conn:
            cuts += len(
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
                ).fetchall()
            )
        rounds += 1
    stop.set()
    for thread in threads:
        thread.join()
    after = [clients(port)[1].request("GET", "/api/leads/").status for _ in range(20)]
    total = sum(statuses.values())
    quantiles = statistics.quantiles(latencies, n=100)
    return "\n".join(
        [
            f"- {rounds} rounds of cuts, {cuts} connections terminated, {total} requests in {CUT_SECONDS:.0f} s",
            f"- answers: {dict(sorted(statuses.items()))}; unclean (not 2xx, not a 503 envelope/page): {len(unclean)}",
            f"- latency p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms",
            f"- the 20 requests right after: {dict(Counter(after))}",
        ]
    )


def redis_states(port, redis) -> str:
    _, api = clients(port)
    calls = {
        "catalog read": lambda n: api.request("GET", f"/api/marketplace/listings/?page_size={10 + n}"),
        "lead create": lambda n: api.request(
            "POST", "/api/leads/", data={"first_name": "R", "email": f"r{n}@r.example"}
        ),
        "sign-in (API)": lambda n: HttpClient(port).request(
            "POST", "/api/auth/login", data={"email": EMAIL, "password": PASSWORD}
        ),
    }
    rows = ["| request | Redis up | Redis killed (refused) | Redis frozen (SIGSTOP) |", "|---|---|---|---|"]
    results = {name: [] for name in calls}
    counter = iter(range(10**6))
    for state in ("up", "killed", "frozen"):
        if state == "killed":
            redis.kill()
        if state == "frozen":
            redis.start()
            redis.freeze()
        for name, call in calls.items():
            times, codes = [], Counter()
            for _ in range(3):
                started = time.monotonic()
                codes[call(next(counter)).status] += 1
                times.append(time.monotonic() - started)
            results[name].append(f"{statistics.median(times) * 1000:.0f} ms ({', '.join(map(str, codes))})")
    redis.thaw()
    for name, cells in results.items():
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    directory = Path(tempfile.mkdtemp(prefix="lnx-bench-faults-"))
    postgres = PrivatePostgres(Path(tempfile.mkdtemp(prefix="lnx-bench-faults-pg-")))
    redis = PrivateRedis(directory)
    server = None
    postgres.init()
    postgres.start()
    try:
        redis.start()
        env = web_env(f"{postgres.create_database('lnx_bench')}?application_name={APP_NAME}", redis_url=redis.url())
        database_prepare(env, SEED)
        server, port = web_server(env, directory)
        print("## Connections cut under load\n")
        print(cut_under_load(port, postgres))
        print("\n## Redis up, killed, frozen (median of 3, REDIS_TIMEOUT_SECONDS=2)\n")
        print(redis_states(port, redis))
    finally:
        if server is not None:
            server.stop()
        if redis.process is not None:
            redis.thaw()
            redis.kill()
        postgres.kill()
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(postgres.directory, ignore_errors=True)


if __name__ == "__main__":
    main()
