"""Load and soak: the mixed workload of `bench/locustfile.py` (buyers, sales reps, managers; API
and pages) from Locust against the production processes on this host: gunicorn, PostgreSQL,
Redis, a Celery worker and beat, an SMTP sink. Not part of the test suite.

1. Data: the database `lnx_load` (`--database-url`) is made again (dropped, created, migrated,
   static files collected), then `seed_demo` (demo organizations, ~3,000 listings, the demo
   CRM), a vendor with `--listings` more approved listings (the demo's generator), and
   `--orgs` buyer organizations, each with a manager, `--reps` sales reps, the demo's leads
   and CRM (contacts, opportunities across the pipeline, tasks, a campaign), and its share of
   `--buyers` buying accounts (a cart is per user, so each simulated buyer has its own).
   Every account gets a JWT (API) and a page session, as signing in would make them; the
   rollups are rebuilt. The accounts go to `accounts.json` for Locust.
2. Serving, as `scripts/prod_smoke.py` starts it: gunicorn (`--workers`, default 2 x cores + 1,
   `--threads` 4, gthread, keep-alive 75 s so a user's connection outlives the think time, no
   access log, no --max-requests so that a leak shows in the soak), a Celery worker
   (`--concurrency`) and beat against Redis database 14 (`--redis-url`, emptied first), an
   SMTP sink; DEBUG=false, rate limits lifted (RATE_LIMIT_SCALE), JWTs valid for the run.
   Settings the caller exports (DASHBOARD_CACHE_SECONDS=0, say) reach the servers.
3. Step-up: Locust at a constant arrival rate (`--start-rps`, then `--step-rps` more each
   step, at most `--max-steps`), each step `--step-seconds` measured after a warm-up. A step
   passes with p95 <= 200 ms, no failed request (any unexpected status, any socket error;
   a 409 of two buyers wanting the same listing is a conflict, not a failure) and the rate
   actually delivered >= 90% of the target. The search stops at the first step that fails
   (`--keep-going` runs them all, for the curve); the highest rate held is the delivered rate
   of the last step that passed before it.
4. Soak at 70% of it (`--soak-rps` overrides) for `--soak-minutes` (default 30), sampling
   every `--sample-seconds` (30) the memory (RSS, and its private part RssAnon) of each
   process: gunicorn master and workers, Celery worker (and pool) and beat, the PostgreSQL
   backends of `lnx_load`, Redis, Locust. Written to `memory.csv`.
5. Checks, after the worker has drained its queue: no listing sold past its `max_sales` and
   each listing's `sold_count` equal to its purchases; no hold left; one charge per paid order;
   every ledger transaction and the whole ledger summing to zero (`bench/checkout.py`'s
   `verify`); no 5xx answer and no error in the servers' logs; each process's private memory
   flat over the soak (the mean of its last third within 10% + 5 MB of its first third).

Each step and the soak report the CPU of gunicorn, PostgreSQL, Celery and Locust per request,
Locust's share of the host (it runs on the same two cores), and how busy the other processes
kept the host. The summary (`summary.json`, `summary.md` in the run's folder, `--out`) ends
with the scale-out arithmetic filled in with the measured figures (see bench/RESULTS.md).

Locust lives in a virtualenv of its own, `.venv-load` (made from `bench/requirements.txt` on
first use), so the application's requirements stay as they are.

    .venv/bin/python bench/load.py [--soak-minutes 30] [--step-seconds 60] [--start-rps 20] \\
        [--step-rps 20] [--max-steps 15] [--orgs 40] [--buyers 1500] [--listings 6000] [--out DIR]

A harness check (a few minutes; `--keep-going` runs both steps even if the first fails):
`--start-rps 5 --step-rps 5 --max-steps 2 --keep-going --step-seconds 20 --soak-minutes 2`.
"""

import argparse
import csv
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.catalog import CLOCK_TICKS, SECRET_KEY, cpu_sample, redis_flush, server_env  # noqa: E402 - the path above first
from bench.checkout import verify  # noqa: E402
from bench.common import admin_connection, db_config, migrate  # noqa: E402
from scripts.prod_smoke import (  # noqa: E402
    PYTHON,
    Client,
    Processes,
    SmokeFailure,
    free_port,
    wait_for_port,
    wait_ready,
)

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/lnx_load"
REDIS_URL = "redis://127.0.0.1:6379/14"
LOAD_VENV = ROOT / ".venv-load"
LOCUSTFILE = ROOT / "bench" / "locustfile.py"
AIM_P95_MS = 200
DELIVERED = 0.9  # a step whose delivered rate is under this share of its target did not hold it
SOAK_SHARE = 0.7
FLAT_SHARE, FLAT_MB = 0.10, 5  # private memory growth allowed over the soak, first third to last
SEED = 20261205


def log(message: str) -> None:
    print(f"[load {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- 1. Data -------------------------------------------------------------------------------------


def database_recreate(url: str) -> None:
    config = db_config(url)
    with admin_connection(config) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{config["NAME"]}"')
    migrate(url)


def prepare(args, work: Path) -> Path:
    """The data set and the accounts' credentials (written to accounts.json)."""
    started = time.monotonic()
    database_recreate(args.database_url)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadnexus.settings"}
    subprocess.run(  # noqa: S603 - manage.py of this project
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    log(f"migrated, static files collected, seed_demo done ({time.monotonic() - started:.0f} s)")
    accounts = population(args)
    call_command("rollups_rebuild", verbosity=0)
    path = work / "accounts.json"
    path.write_text(json.dumps(accounts))
    counts = ", ".join(f"{len(value)} {key}" for key, value in accounts.items())
    log(f"data ready: {counts} ({time.monotonic() - started:.0f} s)")
    from django.db import connections

    connections.close_all()
    return path


def population(args) -> dict:
    """The load's organizations, listings and accounts, made through the demo's generators and
    the services."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction

    from accounts.devices import Device
    from accounts.middleware import SESSION_ID_KEY
    from accounts.models import User
    from accounts.services.sessions import jwt_issue, session_start
    from accounts.services.users import organization_create, user_create
    from crm import demo as crm_demo
    from leads import demo as leads_demo
    from leads.models import Lead
    from marketplace import demo as marketplace_demo
    from marketplace.catalog_cache import catalog_changed
    from marketplace.services.listings import listings_search_index

    device = Device(ip="127.0.0.1", user_agent="bench/load.py")

    def credentials(user: User) -> dict:
        access = jwt_issue(session=session_start(user=user, kind="api", device=device, notify=False)).access
        store = SessionStore()
        store.update({
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        })  # fmt: skip
        store.create()
        page = session_start(user=user, kind="page", device=device, session_key=store.session_key, notify=False)
        store[SESSION_ID_KEY] = page.pk
        store.save()
        return {"id": user.pk, "org": user.organization_id, "access": access, "sessionid": store.session_key}

    def organization(name: str, **kinds):
        org = organization_create(name=name, **kinds)
        org.verified = True
        org.save(update_fields=["verified"])
        return org

    def member(email: str, org, role: str, parent=None) -> User:
        return user_create(
            email=email, password=None, organization=org, role=role, parent=parent, email_verified=True,
            full_name=email.split("@")[0].replace(".", " ").title(),
        )  # fmt: skip

    accounts = {"buyers": [], "reps": [], "managers": [], "vendors": []}
    started = time.monotonic()
    with transaction.atomic():
        vendor_org = organization("Load Vendor", is_buyer=False, is_vendor=True)
        vendor = member("vendor@load.example", vendor_org, User.Role.MANAGEMENT)
        listed = marketplace_demo._listings(vendor, approved=args.listings, pending=0, seed_value=SEED)
        listings_search_index(listed)
        catalog_changed()
        accounts["vendors"] += [credentials(vendor), credentials(User.objects.get(email="vendor@leadnexus.example"))]
    log(f"{len(listed):,} more listings ({time.monotonic() - started:.0f} s)")

    for n in range(args.orgs):
        with transaction.atomic():
            org = organization(f"Load Buyer {n}", is_buyer=True, is_vendor=False)
            manager = member(f"manager.{n}@load.example", org, User.Role.MANAGEMENT)
            reps = [member(f"rep.{n}.{k}@load.example", org, User.Role.SALES_REP, manager) for k in range(args.reps)]
            Lead.objects.bulk_create(leads_demo._rows(org, [manager, *reps], SEED + n), batch_size=500)
            crm_demo.seed({"buyer": manager, "rep": reps[0]})
            accounts["managers"].append(credentials(manager))
            accounts["reps"] += [credentials(rep) for rep in reps]
        if n == 0:
            log(f"one buyer organization with its CRM: {time.monotonic() - started:.1f} s")
    orgs = list(User.objects.filter(email__startswith="manager.", email__endswith="@load.example").order_by("pk"))
    for n in range(args.buyers):
        with transaction.atomic():
            manager = orgs[n % len(orgs)]
            buyer = member(f"buyer.{n}@load.example", manager.organization, User.Role.MANAGEMENT)
            accounts["buyers"].append(credentials(buyer))
    log(f"{args.orgs} buyer organizations, {args.buyers} buyers ({time.monotonic() - started:.0f} s)")
    return accounts


# --- 2. Serving ----------------------------------------------------------------------------------


def stack_start(args, work: Path) -> tuple[Processes, int]:
    """SMTP sink, gunicorn, Celery worker and beat, as deployed; (processes, gunicorn's port)."""
    redis_flush(args.redis_url)
    web_port, smtp_port = free_port(), free_port()
    env = server_env(
        args.database_url, "leadnexus.settings", args.redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        JWT_ACCESS_MINUTES=str(24 * 60),  # the tokens made beforehand last the run
        CELERY_BEAT_SCHEDULE_FILENAME=str(work / "beat-schedule"),
        PYTHONUNBUFFERED="1",
    )  # fmt: skip
    env["SECRET_KEY"] = os.environ["SECRET_KEY"]  # the one the accounts' tokens were signed with
    processes = Processes(work)
    processes.start(
        "smtp", [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", "-c", "aiosmtpd.handlers.Sink"], env
    )
    if not wait_for_port(smtp_port, 20):
        raise SmokeFailure("the SMTP sink did not start listening")
    processes.start("gunicorn", [
        PYTHON, "-m", "gunicorn", "leadnexus.wsgi:application", "--bind", f"127.0.0.1:{web_port}",
        "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", "gthread",
        "--timeout", "60", "--graceful-timeout", "30", "--keep-alive", "75", "--worker-tmp-dir", "/dev/shm",  # noqa: S108
        "--no-control-socket",
    ], env)  # fmt: skip
    processes.start("worker", [
        PYTHON, "-m", "celery", "-A", "leadnexus", "worker", "-l", "warning", "--concurrency", str(args.concurrency),
        "--hostname", f"load-{os.getpid()}@%h", "--without-gossip", "--without-mingle",
    ], env)  # fmt: skip
    processes.start("beat", [
        PYTHON, "-m", "celery", "-A", "leadnexus", "beat", "-l", "warning", "--schedule", str(work / "beat-schedule"),
    ], env)  # fmt: skip
    readiness = wait_ready(Client(web_port), processes)
    log(f"serving on :{web_port}: gunicorn {args.workers} x {args.threads} threads, Celery worker "
        f"(concurrency {args.concurrency}) and beat, SMTP sink; /readyz {readiness.get('checks')}")  # fmt: skip
    return processes, web_port


# --- Processes: CPU and memory -------------------------------------------------------------------


def proc_stat(pid: int | str) -> tuple[str, list[str]] | None:
    """A process's name and the fields of /proc/PID/stat after it (None once it has ended)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()


def pid_ticks(pid: int) -> int | None:
    """CPU ticks (user + system) a process has used so far."""
    stat = proc_stat(pid)
    return int(stat[1][11]) + int(stat[1][12]) if stat else None


def proc_table() -> dict[int, dict]:
    """Every process: parent, name, CPU ticks (user + system) and memory (kB)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = proc_stat(entry.name)
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        if stat is None:
            continue
        (comm, rest), lines = stat, status.splitlines()
        memory = dict(line.split(":", 1) for line in lines if line.startswith(("VmRSS", "RssAnon")))
        table[int(entry.name)] = {
            "ppid": int(rest[1]),
            "comm": comm,
            "ticks": int(rest[11]) + int(rest[12]),
            "rss_kb": int(memory.get("VmRSS", "0 kB").split()[0]),
            "anon_kb": int(memory.get("RssAnon", "0 kB").split()[0]),
        }
    return table


class Roles:
    """Which processes are which: the started ones with their children, PostgreSQL's backends
    of the bench database, Redis."""

    def __init__(self, processes: Processes, args):
        self.roots = {name: process.pid for name, (process, _) in processes.running.items()}
        self.args = args
        self.locust_pid = None
        import redis

        self.redis = redis.Redis.from_url(args.redis_url, socket_timeout=5)
        self.redis_pid = int(self.redis.info("server")["process_id"])

    def postgres_backends(self) -> set[int]:
        import psycopg

        name = db_config(self.args.database_url)["NAME"]
        with psycopg.connect(self.args.database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
            ).fetchall()
        return {row[0] for row in rows}

    def assign(self, table: dict) -> dict[int, str]:
        """pid -> role (gunicorn master / gunicorn worker / celery worker / ...)."""
        roles = {}
        for pid, info in table.items():
            for name, root in self.roots.items():
                if pid == root:
                    roles[pid] = "gunicorn master" if name == "gunicorn" else f"{name}"
                elif info["ppid"] == root:
                    roles[pid] = "gunicorn worker" if name == "gunicorn" else f"{name} child"
        if self.redis_pid in table:
            roles[self.redis_pid] = "redis"
        if self.locust_pid in table:
            roles[self.locust_pid] = "locust"
        for pid in self.postgres_backends():
            if pid in table:
                roles[pid] = "postgres backend"
        return roles

    def celery_ticks(self, table: dict) -> int:
        roots = {self.roots["worker"], self.roots["beat"]}
        return sum(info["ticks"] for pid, info in table.items() if pid in roots or info["ppid"] in roots)


class BackendCpu(threading.Thread):
    """CPU of the bench database's PostgreSQL backends alone (the host's PostgreSQL may serve
    others), polled every `seconds`: backends come and go (CONN_MAX_AGE), and one that ends
    loses at most its last interval. PostgreSQL's own background processes are not counted."""

    def __init__(self, roles: Roles, seconds: float = 2.0):
        super().__init__(daemon=True)
        self.roles, self.seconds, self.stopped = roles, seconds, threading.Event()
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.poll(baseline=True)

    def poll(self, baseline: bool = False) -> None:
        for pid in self.roles.postgres_backends():
            ticks = pid_ticks(pid)
            if ticks is not None:
                self.first.setdefault(pid, ticks if baseline else 0)
                self.last[pid] = ticks

    def run(self) -> None:
        while not self.stopped.wait(self.seconds):
            self.poll()

    def seconds_used(self) -> float:
        self.stopped.set()
        self.join(timeout=30)
        self.poll()
        return sum(self.last[pid] - self.first[pid] for pid in self.last) / CLOCK_TICKS


class MemorySampler(threading.Thread):
    """Every `seconds`, one row per process of interest into `path` (CSV)."""

    FIELDS = ["sample", "at", "elapsed_s", "role", "pid", "rss_kb", "anon_kb"]

    def __init__(self, roles: Roles, path: Path, seconds: float, delay: float):
        super().__init__(daemon=True)
        self.roles, self.path, self.seconds, self.delay = roles, path, seconds, delay
        self.stopped = threading.Event()
        self.rows: list[dict] = []
        self.started, self.count = time.monotonic(), 0

    def sample(self) -> None:
        table = proc_table()
        at, elapsed = datetime.now(UTC).isoformat(timespec="seconds"), round(time.monotonic() - self.started)
        self.count += 1
        for pid, role in sorted(self.roles.assign(table).items(), key=lambda item: (item[1], item[0])):
            info = table[pid]
            self.rows.append({"sample": self.count, "at": at, "elapsed_s": elapsed, "role": role, "pid": pid,
                              "rss_kb": info["rss_kb"], "anon_kb": info["anon_kb"]})  # fmt: skip

    def run(self) -> None:
        if self.stopped.wait(self.delay):  # from the end of the warm-up
            return
        self.started = time.monotonic()
        while True:
            try:
                self.sample()
            except Exception as exc:  # a process that ended between two reads: the next sample
                log(f"memory sample skipped: {exc}")
            if self.stopped.wait(self.seconds):
                break
        self.sample()
        with self.path.open("w", newline="") as out:
            writer = csv.DictWriter(out, self.FIELDS)
            writer.writeheader()
            writer.writerows(self.rows)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=60)


def memory_trend(rows: list[dict]) -> dict:
    """Per role (its processes summed) and per long-lived process: private memory in the first
    and the last third of the samples, and whether it stayed flat. PostgreSQL's backends come
    and go (CONN_MAX_AGE): their role is judged by the mean of a backend, not the sum."""
    series: dict[str, dict[int, list[int]]] = {}
    for row in rows:
        for key in (row["role"], f"{row['role']} {row['pid']}"):
            series.setdefault(key, {}).setdefault(int(row["sample"]), []).append(int(row["anon_kb"]))
    times = {row["sample"] for row in rows}
    trend = {}
    for key, by_time in sorted(series.items()):
        if key.split()[-1].isdigit() and (len(by_time) < len(times) or key.startswith("postgres")):
            continue  # a process that came or went: judged in its role
        mean = key == "postgres backend"
        points = [sum(values) / (len(values) if mean else 1) for at, values in sorted(by_time.items())]
        third = max(1, len(points) // 3)
        first, last = sum(points[:third]) / third / 1024, sum(points[-third:]) / third / 1024
        trend[key + (" (mean of one)" if mean else "")] = {
            "samples": len(points),
            "first_third_mb": round(first, 1),
            "last_third_mb": round(last, 1),
            "peak_mb": round(max(points) / 1024, 1),
            # Locust is the load tool: its memory is shown, not judged.
            "flat": last <= first * (1 + FLAT_SHARE) + FLAT_MB or key.startswith("locust"),
        }
    return trend


# --- 3, 4. Load ----------------------------------------------------------------------------------


def load_venv() -> Path:
    locust = LOAD_VENV / "bin" / "locust"
    if not locust.exists():
        log(f"making {LOAD_VENV} with Locust (bench/requirements.txt)")
        subprocess.run([sys._base_executable, "-m", "venv", str(LOAD_VENV)], check=True)  # noqa: S603
        pip = [
            str(LOAD_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "-r",
            str(ROOT / "bench" / "requirements.txt"),
        ]
        subprocess.run(pip, check=True)  # noqa: S603
    return locust


def locust_run(args, port: int, work: Path, accounts: Path, roles: Roles, name: str, rps: float, seconds: float,
               sampler: MemorySampler | None = None) -> dict:  # fmt: skip
    """One Locust run at `rps` for a warm-up and `seconds` measured; its figures with the CPU
    each part of the stack spent meanwhile."""
    out = work / f"{name}.json"
    out.unlink(missing_ok=True)  # a --reuse run's folder holds the last run's
    warmup = warmup_seconds(args)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "VIRTUAL_ENV"))},
        "LOAD_ACCOUNTS": str(accounts), "LOAD_RPS": str(rps), "LOAD_SECONDS": str(warmup + seconds),
        "LOAD_PACING": str(args.pacing), "LOAD_SPAWN_SECONDS": str(args.spawn_seconds),
        "LOAD_WARMUP_SECONDS": str(warmup), "LOAD_OUT": str(out),
    }  # fmt: skip
    command = [
        str(load_venv()), "-f", str(LOCUSTFILE), "--headless", "--host", f"http://127.0.0.1:{port}",
        "--stop-timeout", "30", "--csv", str(work / name), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    outbox_before, redis_before = outbox_last(), roles.redis.info("stats")["total_commands_processed"]
    before, table_before, started = cpu_sample(roles.roots["gunicorn"]), proc_table(), time.monotonic()
    backends = BackendCpu(roles)
    backends.start()
    with (work / f"{name}-locust.log").open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        roles.locust_pid = process.pid
        if sampler is not None:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if sampler is not None:
        sampler.stop()
    wall = time.monotonic() - started
    after, table_after, database_cpu = cpu_sample(roles.roots["gunicorn"]), proc_table(), backends.seconds_used()
    if not out.exists():
        sys.exit(f"Locust ({name}) wrote no result (exit {process.returncode}); see {work / f'{name}-locust.log'}")
    result = json.loads(out.read_text())
    requests = max(result["requests"] + result["warmup"]["requests"], 1)  # the CPU covers the warm-up too
    ticks = {key: (after[key] - before.get(key, 0)) / CLOCK_TICKS for key in ("host", "app", "postgres")}
    ticks["database"] = database_cpu  # the part of "postgres" (every PostgreSQL process) spent on this load
    ticks["celery"] = (roles.celery_ticks(table_after) - roles.celery_ticks(table_before)) / CLOCK_TICKS
    ticks["locust"] = usage.ru_utime + usage.ru_stime
    cores = os.cpu_count()
    commands = roles.redis.info("stats")["total_commands_processed"] - redis_before
    gets = sum(value["requests"] for key, value in result["by_name"].items() if key.startswith("GET "))
    others = ticks["host"] - ticks["app"] - ticks["postgres"] - ticks["celery"] - ticks["locust"]
    result.update(
        name=name,
        wall_s=round(wall, 1),
        cpu_ms_per_request={key: round(ticks[key] / requests * 1000, 3) for key in ticks if key != "host"},
        locust_share_of_host=round(ticks["locust"] / (wall * cores), 3),
        locust_share_of_one_core=round(ticks["locust"] / wall, 3),
        host_busy=round(ticks["host"] / (wall * cores), 3),
        other_processes_share=round(max(others, 0) / (wall * cores), 3),
        redis_commands_per_request=round(commands / requests, 2),
        tasks_per_request=round((outbox_last() - outbox_before) / requests, 3),
        get_share=round(gets / max(result["requests"], 1), 3),
        locust_exit=process.returncode,
    )  # fmt: skip
    result["passed"] = (
        result["failures"] == 0
        and result["p95_ms"] <= AIM_P95_MS
        and result["rps"] >= DELIVERED * rps
        and result["warmup"]["failures"] == 0
    )
    return result


def failures(runs: list[dict]) -> list[str]:
    """Each run's failed requests, grouped by request and error."""
    lines = []
    for run in runs:
        for error, count in [*run["warmup"]["errors"].items(), *run["errors"].items()]:
            lines.append(f"- {run['name']}: {count} x {error}")
    return lines or ["- none"]


def warmup_seconds(args) -> float:
    return args.warmup_seconds if args.warmup_seconds is not None else args.spawn_seconds + args.pacing


def outbox_last() -> int:
    """The newest outbox row's id: tasks enqueued since are the difference."""
    from django.db import connection

    from leadnexus.core.models import OutboxMessage

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {OutboxMessage._meta.db_table}")  # noqa: S608 - our table
        return cursor.fetchone()[0]


def line(result: dict) -> str:
    cpu = result["cpu_ms_per_request"]
    return (
        f"{result['name']}: target {result['target_rps']:g} req/s, delivered {result['rps']:.1f} req/s "
        f"({result['users']} users), p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
        f"p99 {result['p99_ms']:.0f} ms, {result['requests']:,} requests, {result['failures']} failed, "
        f"{result['server_errors']} 5xx, {sum(result['conflicts'].values())} conflicts, {result['purchases']} "
        f"purchases; CPU ms/request: gunicorn {cpu['app']:.2f}, PostgreSQL {cpu['database']:.2f} (all of "
        f"the host's {cpu['postgres']:.2f}), Celery "
        f"{cpu['celery']:.2f}, Locust {cpu['locust']:.2f}; Locust {result['locust_share_of_host']:.0%} of the host "
        f"({result['locust_share_of_one_core']:.0%} of a core), host busy {result['host_busy']:.0%}, other "
        f"processes {result['other_processes_share']:.0%} -> {'PASS' if result['passed'] else 'FAIL'}"
    )


def drain(roles: Roles, timeout: float = 120) -> bool:
    """Wait for the worker to empty its queue and the outbox to be sent."""
    from django.db import connection

    from leadnexus.core.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = roles.redis.llen("celery")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {OutboxMessage._meta.db_table} WHERE sent_at IS NULL")  # noqa: S608
            unsent = cursor.fetchone()[0]
        if not queued and not unsent:
            return True
        time.sleep(2)
    return False


ERROR_MARKS = ('"level": "ERROR"', '"level": "CRITICAL"', "[ERROR]", "[CRITICAL]", "Traceback (most recent call last)")


def log_errors(processes: Processes) -> dict[str, int]:
    """Lines at ERROR level or worse (the application's JSON lines, gunicorn's own), or
    tracebacks, in each server's log."""
    counts = {}
    for name, (_, path) in processes.running.items():
        with path.open(errors="replace") as lines:
            counts[name] = sum(1 for row in lines if any(mark in row for mark in ERROR_MARKS))
    return counts


# --- 5. Scale-out arithmetic ---------------------------------------------------------------------


def scale_out(best: dict, args, *, held: bool, utilisation: float = 0.6) -> list[str]:
    """The method of bench/RESULTS.md ("Load and soak"), filled in with `best`'s figures."""
    cpu, e, p, users = best["cpu_ms_per_request"], best["requests_per_task"], args.scale_pacing, args.scale_users
    rate = users * e / p
    web_cores = rate * cpu["app"] / 1000 / utilisation
    per_core = args.workers / os.cpu_count()  # gunicorn processes per core, as measured
    web_processes = math.ceil(web_cores * per_core)
    pg_cores = rate * cpu["database"] / 1000 / utilisation
    reads = best["get_share"]
    primary_cores, replica_cores = pg_cores * (1 - reads), pg_cores * reads
    transaction_s = 2 * cpu["database"] / 1000  # a request holds its connection ~2x its PostgreSQL CPU
    pool = max(20, math.ceil(2 * rate * transaction_s))
    direct = web_processes * args.threads + args.concurrency
    celery_cores = rate * cpu["celery"] / 1000 / utilisation
    return [
        f"Figures of {best['name']} ({best['rps']:.1f} req/s delivered, p95 {best['p95_ms']:.0f} ms, "
        f"{'the highest rate held' if held else 'NOT held: no step held the aim, the last step'}; the whole stack "
        f"on {os.cpu_count()} cores)",
        f"Users -> rate: {users:,} users x {e:.2f} requests a task / {p:g} s between tasks = {rate:,.0f} req/s",
        f"Web: {rate:,.0f} req/s x {cpu['app']:.2f} ms / {utilisation:.0%} utilisation = {web_cores:.1f} cores "
        f"({1000 / cpu['app'] * utilisation:,.0f} req/s per web core) -> {web_processes} gunicorn processes "
        f"({per_core:g} per core, as measured) x {args.threads} threads",
        f"PostgreSQL: {rate:,.0f} x {cpu['database']:.2f} ms / {utilisation:.0%} = {pg_cores:.1f} cores; "
        f"{reads:.0%} of requests are reads -> primary {primary_cores:.1f} cores, replicas {replica_cores:.1f} "
        f"cores (catalog, dashboards, lists)",
        f"Connections: direct {web_processes} x {args.threads} + {args.concurrency} = {direct}; with PgBouncer "
        f"(transaction pooling) 2 x {rate:,.0f} req/s x {transaction_s * 1000:.1f} ms held = {pool} server "
        f"connections (20 at least)",
        f"Redis: {rate:,.0f} x {best['redis_commands_per_request']:.1f} commands = "
        f"{rate * best['redis_commands_per_request']:,.0f} commands/s (one Redis core: ~50,000-100,000/s)",
        f"Celery: {rate:,.0f} x {best['tasks_per_request']:.3f} tasks = {rate * best['tasks_per_request']:,.1f} "
        f"tasks/s, {rate:,.0f} x {cpu['celery']:.2f} ms / {utilisation:.0%} = {celery_cores:.1f} worker cores",
        f"Load generation: {rate:,.0f} x {cpu['locust']:.2f} ms = {rate * cpu['locust'] / 1000:.1f} cores of "
        f"Locust (distributed, --processes), kept off the servers' hosts",
    ]


# --- Main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--out", type=Path, help="folder for the run's files (default: a new one under /tmp)")
    parser.add_argument("--reuse", action="store_true", help="keep the database and --out's accounts.json")
    parser.add_argument("--orgs", type=int, default=40, help="buyer organizations with a CRM")
    parser.add_argument("--reps", type=int, default=3, help="sales reps in each")
    parser.add_argument("--buyers", type=int, default=1500, help="buying accounts (one per simulated buyer)")
    parser.add_argument("--listings", type=int, default=6000, help="approved listings beside the demo's")
    parser.add_argument("--workers", type=int, default=2 * os.cpu_count() + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--pacing", type=float, default=10, help="seconds between a user's tasks, on average")
    parser.add_argument("--spawn-seconds", type=float, default=5)
    parser.add_argument("--warmup-seconds", type=float, help="before each measurement (default spawn + pacing)")
    parser.add_argument("--start-rps", type=float, default=20)
    parser.add_argument("--step-rps", type=float, default=20)
    parser.add_argument("--max-steps", type=int, default=15)
    parser.add_argument("--step-seconds", type=float, default=60)
    parser.add_argument("--keep-going", action="store_true", help="run every step, past the first that fails")
    parser.add_argument("--soak-minutes", type=float, default=30)
    parser.add_argument("--soak-rps", type=float, help="instead of 70%% of the highest rate held")
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--scale-users", type=int, default=10_000, help="concurrent users of the scale-out arithmetic")
    parser.add_argument("--scale-pacing", type=float, default=10, help="their seconds between tasks, on average")
    args = parser.parse_args()

    work = args.out or Path(f"/tmp/leadnexus-load-{datetime.now(UTC):%Y%m%d-%H%M%S}")  # noqa: S108
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        DATABASE_URL=args.database_url, REDIS_URL="", DEBUG="false", DJANGO_SETTINGS_MODULE="leadnexus.settings",
        JWT_ACCESS_MINUTES=str(24 * 60), RATE_LIMIT_SCALE="1000000", LOG_LEVEL="WARNING", EMAIL_URL="dummymail://",
    )  # fmt: skip
    secret = work / "secret-key"  # the accounts' tokens and sessions are signed with it: --reuse needs it
    if not secret.exists():
        secret.write_text(SECRET_KEY)
    os.environ["SECRET_KEY"] = secret.read_text()
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    load_venv()
    revision = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)  # noqa: S603, S607
    summary = {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "code": revision.stdout.strip(),
        "host": f"{os.cpu_count()} CPUs, load average before the run {os.getloadavg()[0]:.2f}",
        "args": {key: str(value) for key, value in vars(args).items()},
        "folder": str(work),
    }  # fmt: skip
    if args.reuse:
        import django

        django.setup()
        accounts = work / "accounts.json"
        log(f"--reuse: the data of {accounts} as a previous run left it")
    else:
        accounts = prepare(args, work)
    processes, port = stack_start(args, work)
    roles = Roles(processes, args)
    steps, problems = [], []
    try:
        for number in range(args.max_steps):
            rps = args.start_rps + number * args.step_rps
            result = locust_run(args, port, work, accounts, roles, f"step-{number + 1}", rps, args.step_seconds)
            steps.append(result)
            log(line(result))
            processes.assert_alive()
            if not result["passed"] and not args.keep_going:
                break
        # The highest rate held: the last step that passed before the first that failed.
        held = list(itertools.takewhile(lambda step: step["passed"], steps))
        best = held[-1] if held else None
        if args.soak_rps:
            soak_rps = args.soak_rps
        elif best:
            soak_rps = round(SOAK_SHARE * best["rps"], 1)
        else:
            soak_rps = round(SOAK_SHARE * steps[0]["rps"], 1)
            problems.append("no step held p95 <= 200 ms with no error: the soak ran at 70% of the first step")
        log(f"highest rate held: {best['rps']:.1f} req/s" if best else "no step held the aim")
        log(f"soak: {soak_rps:g} req/s for {args.soak_minutes:g} min, memory sampled every {args.sample_seconds:g} s")
        sampler = MemorySampler(roles, work / "memory.csv", args.sample_seconds, delay=warmup_seconds(args))
        soak = locust_run(args, port, work, accounts, roles, "soak", soak_rps, args.soak_minutes * 60, sampler=sampler)
        log(line(soak))
        processes.assert_alive()
        drained = drain(roles)
        errors = log_errors(processes)
    finally:
        processes.stop_all()

    facts = verify(args.database_url)
    trend = memory_trend(sampler.rows)
    if not drained:
        problems.append("the worker did not drain its queue within 120 s")
    if facts["oversold listings"]:
        problems.append(f"oversold: {facts['oversold listings']} listings")
    if facts["unbalanced ledger transactions"] or facts["ledger total"] != 0:
        problems.append("ledger not balanced")
    if facts["charges at the processor"] != facts["paid orders"]:
        problems.append("charges at the processor differ from paid orders")
    if facts["listings still holding a reservation"] or facts["payments stuck processing"]:
        problems.append("holds or payments left after the run")
    server_errors = sum(run["warmup"]["server_errors_whole_run"] for run in [*steps, soak])
    if server_errors:
        problems.append(f"{server_errors} 5xx answers")
    if any(errors.values()):
        problems.append(f"errors in the servers' logs: {errors}")
    if soak["failures"] or soak["warmup"]["failures"]:
        problems.append(f"{soak['failures'] + soak['warmup']['failures']} failed requests in the soak")
    shared = sorted({kind for run in [*steps, soak] for kind in run.get("accounts_shared", [])})
    if shared:
        problems.append(f"more simulated {', '.join(shared)} than accounts (--buyers)")
    leaking = [key for key, value in trend.items() if not value["flat"]]
    if leaking:
        problems.append(f"memory not flat: {', '.join(leaking)}")
    summary.update(
        steps=steps, highest_rate_held=best["rps"] if best else None, soak=soak, checks=facts,
        log_errors=errors, memory=trend, problems=problems,
        scale_out=scale_out(best or steps[-1], args, held=best is not None),
    )  # fmt: skip
    (work / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    report = [
        f"# Load and soak, {summary['date']}, code at {summary['code']}", "",
        f"Host: {summary['host']}", "", "## Step-up", "", *[f"- {line(step)}" for step in steps], "",
        f"Highest rate held (p95 <= {AIM_P95_MS} ms, no error): "
        + (f"{best['rps']:.1f} req/s" if best else "none"), "", "## Soak", "", f"- {line(soak)}", "",
        "Memory (private, MB: first third -> last third of the samples, peak):", "",
        *[f"- {key}: {v['first_third_mb']} -> {v['last_third_mb']} (peak {v['peak_mb']}, {v['samples']} samples)"
          f"{'' if v['flat'] else ' NOT FLAT'}" for key, v in trend.items()], "",
        "## Failed requests (warm-ups included)", "", *failures([*steps, soak]), "",
        "## Checks", "", *[f"- {key}: {value}" for key, value in facts.items()],
        f"- errors in the logs: {errors}", f"- 5xx answers: {server_errors}", "",
        f"## Scale-out arithmetic ({args.scale_users:,} concurrent users)", "",
        *[f"- {text}" for text in summary["scale_out"]], "",
        f"Result: {'PASS' if not problems else 'FAIL: ' + '; '.join(problems)}",
    ]  # fmt: skip
    (work / "summary.md").write_text("\n".join(report) + "\n")
    print("\n".join(report))
    print(f"\nFiles: {work}")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
