"""Production smoke test without Docker: `make prod-smoke`.

Runs the production processes (gunicorn, Celery worker, Celery beat) with DEBUG=false
against the local PostgreSQL and Redis, with a local SMTP sink, then walks the sign-up
journey through the API: register, the verification email sent by the worker, verify,
sign in, /api/auth/me. Every process it starts is stopped again; exit code 0 means PASS.

Environment (all optional):
  SMOKE_POSTGRES_URL  admin connection, default postgres://postgres@127.0.0.1:5432/postgres
  SMOKE_DATABASE      database to (re)create, default leadnexus_smoke
  SMOKE_REDIS_URL     a Redis database of its own (it is flushed), default redis://127.0.0.1:6379/5
  SMOKE_KEEP=1        keep the logs and the mailbox after a pass too (they are always kept on failure)
"""

import contextlib
import email
import email.policy
import http.client
import json
import mailbox
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

ADMIN_URL = os.environ.get("SMOKE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = os.environ.get("SMOKE_DATABASE", "leadnexus_smoke")
REDIS_URL = os.environ.get("SMOKE_REDIS_URL", "redis://127.0.0.1:6379/5")

READY_TIMEOUT = 90
EMAIL_TIMEOUT = 90
HTTPS = {"X-Forwarded-Proto": "https"}
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy")


class SmokeFailure(Exception):
    pass


def step(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def check(condition, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.2)
    return False


def database_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def settings_variables() -> set[str]:
    """Every environment variable settings.py reads."""
    source = (ROOT / "leadnexus" / "settings.py").read_text()
    return set(re.findall(r"\benv(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))


def recreate_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))


def drop_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))


def flush_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


class Processes:
    """Long-running processes, each in its own process group, logging to a file."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.running: dict[str, tuple[subprocess.Popen, Path]] = {}

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - fixed argument lists
                args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running[name] = (process, log)
        return process

    def assert_alive(self) -> None:
        for name, (process, _) in self.running.items():
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited early with code {process.returncode}")

    def stop_all(self) -> None:
        for process, _ in self.running.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, (process, _) in self.running.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                step(f"{name} ignored SIGTERM, killing it")
            # Whatever is left in the group (gunicorn workers, celery children) goes too.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)

    def print_logs(self, lines: int = 150) -> None:
        for name, (_, log) in self.running.items():
            text = log.read_text(errors="replace").splitlines() if log.exists() else []
            print(f"\n----- {name} ({log}), last {min(lines, len(text))} of {len(text)} lines -----")
            print("\n".join(text[-lines:]))


class Client:
    def __init__(self, port: int):
        self.port = port

    def request(self, method: str, path: str, body=None, headers=None, https: bool = True):
        all_headers = {"Accept": "application/json", **(HTTPS if https else {}), **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            content = response.read()
            return response.status, response.headers, content
        finally:
            conn.close()

    @staticmethod
    def json(content: bytes):
        try:
            return json.loads(content)
        except ValueError:
            return None


def run_command(args: list[str], env: dict, what: str) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    if result.returncode != 0:
        print(result.stdout[-5000:])
        print(result.stderr[-5000:])
        raise SmokeFailure(f"{what} failed with exit code {result.returncode}")


def wait_ready(client: Client, processes: Processes) -> dict:
    deadline = time.monotonic() + READY_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        processes.assert_alive()
        try:
            status, _, content = client.request("GET", "/readyz", https=False)
        except OSError as exc:
            last = f"no answer ({exc})"
        else:
            last = f"{status} {content[:300]!r}"
            if status == 200:
                return client.json(content)
        time.sleep(0.5)
    raise SmokeFailure(f"/readyz did not answer 200 within {READY_TIMEOUT}s; last: {last}")


def wait_for_email(maildir: Path, to: str, processes: Processes) -> email.message.EmailMessage:
    deadline = time.monotonic() + EMAIL_TIMEOUT
    while time.monotonic() < deadline:
        processes.assert_alive()
        if (maildir / "new").is_dir():
            box = mailbox.Maildir(maildir, create=False)
            for key in box.iterkeys():
                message = email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
                if to in str(message.get("To", "")).lower():
                    return message
        time.sleep(0.5)
    raise SmokeFailure(f"no email to {to} reached the SMTP sink within {EMAIL_TIMEOUT}s")


def email_text(message: email.message.EmailMessage) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(part.get_content() for part in parts if part.get_content_type() in ("text/plain", "text/html"))


def journey(client: Client, maildir: Path, processes: Processes) -> None:
    # Health checks answer over plain HTTP (the load balancer's view) ...
    readiness = wait_ready(client, processes)
    status, _, content = client.request("GET", "/healthz", https=False)
    check(status == 200, f"/healthz answered {status}: {content[:300]!r}")
    checks = (readiness or {}).get("checks", {})
    for name in ("database", "cache", "broker"):
        check(checks.get(name) == "ok", f"/readyz check {name!r} is not ok: {readiness}")
    step(f"/readyz: {checks}")

    # ... everything else is redirected to HTTPS unless the proxy says it already is.
    status, headers, _ = client.request("GET", "/", https=False)
    check(status == 301 and headers.get("Location", "").startswith("https://"), f"plain HTTP gave {status}")

    status, headers, content = client.request("GET", "/", headers={"Accept": "text/html"})
    check(status == 200, f"landing page answered {status}: {content[:300]!r}")
    check(headers.get("X-Request-ID"), "no X-Request-ID header on the landing page")
    missing = [name for name in SECURITY_HEADERS if not headers.get(name)]
    check(not missing, f"security headers missing: {missing}")
    step("landing page: 200 with X-Request-ID, HSTS, nosniff and CSP")

    # Static files come from collectstatic's manifest, served by WhiteNoise.
    asset = re.search(rb"""(?:href|src)=["'](/static/[^"'?#]+)""", content)
    if asset:
        path = asset.group(1).decode()
        status, _, _ = client.request("GET", path, headers={"Accept": "*/*"})
        check(status == 200, f"static file {path} answered {status}")
        step(f"static file {path}: 200")

    # Sign-up through the API; the verification email goes out through the outbox and the worker.
    address = f"smoke-{secrets.token_hex(4)}@example.com"
    password = "smoke-" + secrets.token_urlsafe(12)
    status, headers, content = client.request(
        "POST",
        "/api/auth/register",
        {
            "email": address,
            "password": password,
            "full_name": "Smoke Test",
            "organization_name": "Smoke Test Buyers",
            "account_type": "buyer",
        },
    )
    check(status == 201, f"register answered {status}: {content[:500]!r}")
    check(headers.get("X-Request-ID"), "no X-Request-ID header on the API response")
    step(f"registered {address}: 201")

    message = wait_for_email(maildir, address, processes)
    match = re.search(r"/verify\?token=([\w-]+)", email_text(message))
    check(match, f"no verification link in the email: {message.get('Subject')!r}")
    step(f"verification email arrived: {message.get('Subject')!r}")

    status, _, content = client.request("POST", "/api/auth/verify", {"token": match.group(1)})
    check(status == 200, f"verify answered {status}: {content[:500]!r}")
    step("verified: 200")

    status, _, content = client.request("POST", "/api/auth/login", {"email": address, "password": password})
    body = client.json(content) or {}
    check(status == 200 and body.get("access"), f"login answered {status}: {content[:500]!r}")
    step("login: 200 with an access token")

    status, _, content = client.request("GET", "/api/auth/me", headers={"Authorization": f"Bearer {body['access']}"})
    me = client.json(content) or {}
    check(status == 200 and me.get("email") == address, f"/api/auth/me answered {status}: {content[:500]!r}")
    step("/api/auth/me: 200, the new user")


def main() -> int:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="leadnexus-smoke-"))
    maildir = work / "mail"
    processes = Processes(work)
    web_port, smtp_port = free_port(), free_port()
    passed = False

    # The caller's settings (and test-only switches) stay out: production defaults apply.
    ignored = settings_variables() | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {key: value for key, value in os.environ.items() if key not in ignored}
    env.update(
        DJANGO_SETTINGS_MODULE="leadnexus.settings",
        PYTHONUNBUFFERED="1",
        DEBUG="false",
        SECRET_KEY="".join(secrets.choice(string.ascii_letters + string.digits + "!@%^*-_=+") for _ in range(50)),
        DATABASE_URL=database_url(DATABASE),
        REDIS_URL=REDIS_URL,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL=f"http://127.0.0.1:{web_port}",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
    )

    def terminate(signum, frame):
        raise SystemExit(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, terminate)
    if (ROOT / ".env").exists():
        step("note: .env exists; values it sets that are not set here apply to this run too")

    try:
        recreate_database()
        flush_redis()
        step(f"database {DATABASE} (re)created, Redis {REDIS_URL} flushed")

        run_command([PYTHON, "manage.py", "migrate", "--noinput"], env, "migrate")
        step("migrate: done")
        run_command([PYTHON, "manage.py", "collectstatic", "--noinput"], env, "collectstatic")
        step("collectstatic: done")

        mailbox_handler = ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)]
        processes.start("smtp", [PYTHON, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}", *mailbox_handler], env)
        check(wait_for_port(smtp_port, 20), "the SMTP sink did not start listening")

        gunicorn = ["gunicorn", "leadnexus.wsgi:application", "--bind", f"127.0.0.1:{web_port}", "--workers", "2"]
        gunicorn += ["--threads", "2", "--timeout", "60", "--access-logfile", "-", "--no-control-socket"]
        processes.start("gunicorn", [PYTHON, "-m", *gunicorn], env)

        worker = ["celery", "-A", "leadnexus", "worker", "-l", "info", "--concurrency", "1"]
        worker += ["--hostname", f"smoke-{os.getpid()}@%h", "--without-gossip", "--without-mingle"]
        processes.start("worker", [PYTHON, "-m", *worker], env)

        beat = ["celery", "-A", "leadnexus", "beat", "-l", "info", "--schedule", str(work / "beat")]
        processes.start("beat", [PYTHON, "-m", *beat], env)
        step(f"started SMTP sink :{smtp_port}, gunicorn :{web_port}, Celery worker and beat")

        journey(Client(web_port), maildir, processes)
        processes.assert_alive()
        passed = True
    except SmokeFailure as exc:
        print(f"\n[smoke] FAILED: {exc}", flush=True)
    except BaseException as exc:  # anything else, including Ctrl+C: still stop everything and report
        print(f"\n[smoke] FAILED: {type(exc).__name__}: {exc}", flush=True)
    finally:
        processes.stop_all()

    elapsed = time.monotonic() - started
    if passed:
        with contextlib.suppress(Exception):
            drop_database()
        with contextlib.suppress(Exception):
            flush_redis()
        if os.environ.get("SMOKE_KEEP"):
            print(f"\nLogs and mailbox kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print(f"\nPROD SMOKE: PASS ({elapsed:.0f}s)")
        return 0
    processes.print_logs()
    print(f"\nPROD SMOKE: FAIL ({elapsed:.0f}s). Logs and mailbox kept in {work}; database {DATABASE} kept.")
    return 1


if __name__ == "__main__":
    sys.exit(main())
