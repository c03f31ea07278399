"""Fixtures of the fault tests: private Redis and PostgreSQL instances, the project's cache
and broker pointed at the private Redis, Celery workers in subprocesses, an SMTP server."""

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from django.db import connection
from kombu import pools

from leadnexus.celery import app as celery_app
from leadnexus.core.testing import celery_eager
from tests.faults.processes import PG_BIN, PrivatePostgres, PrivateRedis, SmtpServer, celery_worker, settings_env


def pytest_collection_modifyitems(config, items):
    """Every test here is marked `faults`: `-m faults` runs them alone, `-m "not faults"` skips them."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own, started; the test may `kill()` and `start()` it."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def private_postgres():
    """A PostgreSQL cluster of the module's own, started; a test may `kill()` and `start()` it."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL server binaries are not in {PG_BIN}")
    directory = Path(tempfile.mkdtemp(prefix="lnx-faults-pg-"))
    server = PrivatePostgres(directory)
    try:
        server.init()
        server.start()
        yield server
        server.kill()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _broker_use(url: str, transport_options: dict) -> None:
    """Point the Celery app at `url`, dropping the connections it pooled for the previous one."""
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = transport_options
    pools.reset()  # closes and forgets every pooled connection and producer
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def on_private_redis(private_redis, settings):
    """The cache, the rate limits and the Celery broker on the private Redis with the
    production options (REDIS_TIMEOUT included: a test may lower it first), tasks sent
    through the broker instead of run eagerly."""
    timeouts = {"socket_connect_timeout": settings.REDIS_TIMEOUT, "socket_timeout": settings.REDIS_TIMEOUT}
    settings.REDIS_URL = private_redis.url()
    settings.CACHES = {
        "default": {
            "BACKEND": "leadnexus.core.cache.RedisCache",
            "LOCATION": private_redis.url(),
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": timeouts,
        }
    }
    previous = celery_app.conf.broker_url, celery_app.conf.broker_transport_options
    _broker_use(private_redis.url(), {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, **timeouts})
    try:
        with celery_eager(False):
            yield private_redis
    finally:
        _broker_use(*previous)


def database_url() -> str:
    """The URL of the test database, for processes that must see what the test committed."""
    params = connection.settings_dict
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


@pytest.fixture
def smtp_server():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def workers(transactional_db, private_redis, smtp_server, tmp_path):
    """Start Celery workers in subprocesses on the test's committed data (PostgreSQL), the
    private Redis as broker and cache, the SMTP server for email: `workers.start(**env)`
    gives a worker the test can `kill()`; all are stopped at the end."""
    if connection.vendor != "postgresql":
        pytest.skip("a worker in another process needs the test's data in PostgreSQL (set DATABASE_URL)")

    class Workers:
        def __init__(self):
            self.started = []

        def start(self, **env: str):
            worker = celery_worker(
                settings_env(
                    DATABASE_URL=database_url(),
                    REDIS_URL=private_redis.url(),
                    EMAIL_URL=f"smtp://127.0.0.1:{smtp_server.port}",
                    SITE_URL="http://testserver",
                    **env,
                ),
                tmp_path,
            )
            self.started.append(worker)
            return worker

    pool = Workers()
    yield pool
    for worker in pool.started:
        worker.kill()
