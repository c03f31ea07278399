"""Private services and processes for the fault tests: a Redis and a PostgreSQL of their
own on free ports of FAULTS_PORTS (a test may kill or restart them without touching the
machine's shared services), Celery workers and a web server in subprocesses that a test
can SIGKILL mid-task, and an SMTP server that accepts, refuses or hangs on demand."""

import asyncio
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path

import psycopg
import redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
FAULTS_PORTS = range(16300, 16400)
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    """A port of FAULTS_PORTS nothing listens on (a random start spreads concurrent runs)."""
    ports = list(FAULTS_PORTS)
    start = int.from_bytes(os.urandom(2), "big") % len(ports)
    for port in ports[start:] + ports[:start]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {FAULTS_PORTS.start}-{FAULTS_PORTS.stop - 1}")


def wait_for(check: Callable[[], object], *, timeout: float, what: str, interval: float = 0.05):
    """Poll `check` until it returns something truthy (exceptions count as not yet); fail
    naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        error = None
        try:
            result = check()
        except Exception as exc:
            result, error = None, exc
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout}s" + (f" ({error})" if error else ""))
        time.sleep(interval)


class PrivateRedis:
    """`redis-server` on a free port without persistence: `kill()` loses what it held, as a
    crashed Redis without an append-only file does; `start()` brings back an empty one."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_timeout=1)
        try:
            wait_for(client.ping, timeout=10, what=f"redis-server on port {self.port}")
        finally:
            client.close()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel and never answered, as with a
        Redis that hangs or a network that drops packets."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


class PrivatePostgres:
    """A PostgreSQL cluster of its own on a free port, trust authentication on 127.0.0.1.
    Run as root, its files belong to the postgres OS user and its commands run as that user.
    `kill()` is an immediate shutdown (no checkpoint, every connection cut); `start()`
    brings the same cluster back."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()

    def _run(self, *command: str) -> None:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        options += " -c fsync=off"  # an immediate stop keeps every commit: the machine does not crash
        log = str(self.directory / "postgres.log")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "60", "start")

    def kill(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def settings_env(**overrides: str) -> dict[str, str]:
    """The environment of a subprocess running the project: this one's, with `overrides`."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadnexus.settings", "PYTHONUNBUFFERED": "1"}
    env.update(overrides)
    return env


def web_env(database_url: str, *, redis_url: str = "", **overrides: str) -> dict[str, str]:
    """A web process's environment: production settings (DEBUG off) on 127.0.0.1 over plain
    HTTP, static files from the source folders, rate limits scaled out of the way of a load."""
    return settings_env(
        DJANGO_SETTINGS_MODULE="tests.faults.web_settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DEBUG="false",
        SECRET_KEY="fault-injection-only-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        RATE_LIMIT_SCALE="1000",
        EMAIL_URL="consolemail://",
        **overrides,
    )


def database_prepare(env: dict[str, str], seed: str) -> None:
    """Migrate the database of `env`, then run the Python `seed` (it calls django.setup())."""
    for command in (["manage.py", "migrate", "--noinput", "-v0"], ["-c", seed]):
        subprocess.run([sys.executable, *command], env=env, cwd=ROOT, check=True, timeout=300)


class Subprocess:
    """A project process in a session of its own, its output in a log file; `kill()` is
    SIGKILL to the whole group (a machine or container dying), `stop()` a clean shutdown."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], directory: Path):
        self.name = name
        self.log_path = directory / f"{name}-{uuid.uuid4().hex[:8]}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def _signal(self, sig: int, timeout: float) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()

    def kill(self) -> None:
        self._signal(signal.SIGKILL, 10)

    def stop(self) -> None:
        self._signal(signal.SIGTERM, 15)


def celery_worker(env: dict[str, str], directory: Path, *, name: str = "worker") -> Subprocess:
    """`celery worker`, one task at a time; ready once it consumes (its log says so)."""
    command = [sys.executable, "-m", "celery", "-A", "leadnexus", "worker", "--pool", "solo", "-l", "INFO"]
    command += ["--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle"]
    command += ["--without-heartbeat"]
    worker = Subprocess(name, command, env, directory)
    wait_for(lambda: "ready." in worker.log() or not worker.alive(), timeout=60, what="the Celery worker")
    assert worker.alive(), worker.log()
    return worker


def web_server(env: dict[str, str], directory: Path, *, threads: int = 4) -> tuple[Subprocess, int]:
    """gunicorn with one worker process serving `threads` requests at once, on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "leadnexus.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", "1", "--threads", str(threads), "--timeout", "60", "--no-control-socket"]
    server = Subprocess("web", command, env, directory)

    def listening():
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    try:
        wait_for(lambda: not server.alive() or listening(), timeout=60, what="gunicorn")
    finally:
        assert server.alive(), server.log()
    return server, port


class SmtpServer:
    """An SMTP server on a free port. Each message's DATA gets the next answer of `script`
    ("refuse": 451 try later, "reject": 554, "hang": no answer for `hang_seconds`, then 451),
    then "accept" once the script is used up: the message is kept in `received`."""

    def __init__(self, *, hang_seconds: float = 3):
        self.script: list[str] = []
        self.hang_seconds = hang_seconds
        self.received: list = []
        self.answered: list[str] = []
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    async def handle_DATA(self, server, session, envelope):
        answer = self.script.pop(0) if self.script else "accept"
        self.answered.append(answer)
        if answer == "hang":
            await asyncio.sleep(self.hang_seconds)
            return "451 4.4.2 timed out"
        if answer == "refuse":
            return "451 4.3.0 try again later"
        if answer == "reject":
            return "554 5.7.1 rejected"
        self.received.append(message_from_bytes(envelope.content))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc_info):
        self.controller.stop()


class Answer:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    @property
    def is_json(self) -> bool:
        return (self.headers.get("Content-Type") or "").startswith("application/json")


class HttpClient:
    """A browser-like client of a web server on 127.0.0.1: keeps cookies, follows redirects."""

    def __init__(self, port: int, *, authorization: str = ""):
        self.base = f"http://127.0.0.1:{port}"
        self.authorization = authorization
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def request(self, method: str, path: str, *, data: dict | None = None, form: bool = False) -> Answer:
        headers = {"Authorization": self.authorization} if self.authorization else {}
        body = None
        if data is not None and form:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data is not None:
            body, headers["Content-Type"] = json.dumps(data).encode(), "application/json"
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers, error.read())

    def sign_in(self, email: str, password: str) -> None:
        """The sign-in page's form, as a browser posts it."""
        page = self.request("GET", "/login/").body.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = self.request(
            "POST", "/login/", data={"email": email, "password": password, "csrfmiddlewaretoken": token}, form=True
        )
        assert answer.status == 200 and "/login/" not in answer.headers.get("Content-Location", ""), answer.status
