"""Prometheus metrics at `/metrics`, for internal scrapers only.

Figures live where they can be counted correctly across processes:

- Request latency and database queries per request are counted by prometheus_client in the
  web process that served the request, labelled by the resolved view name (never the raw
  path). Production runs several gunicorn workers, so it sets PROMETHEUS_MULTIPROC_DIR (the
  Docker image does): each worker then writes its values to files in that directory, which
  must be emptied before gunicorn starts, and a scrape sums them all (multiprocess mode). The
  files of workers gunicorn recycled stay and are read too, until the next start.
- Everything else is shared state, read at each scrape by the sources that apps register with
  `@scrape_source`: the outbox backlog and the email log from the database, the broker's queue
  lengths from Redis, and Celery task outcomes, counted in the cache (Redis in production) by
  whichever worker process ran the task, possibly on another host. Every web instance reports
  the same values for these, so aggregate them with max(), not sum().
"""

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable
from contextlib import ExitStack

from celery import current_app
from celery.signals import task_failure, task_retry, task_success
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import Count, Min
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, disable_created_metrics, multiprocess
from prometheus_client.django import PrometheusDjangoView
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from leadnexus.core.models import OutboxMessage
from leadnexus.core.ratelimit import client_ip

logger = logging.getLogger(__name__)

# --- Per process: requests --------------------------------------------------------------------

# No `_created` series beside each counter and histogram: Prometheus does not need them.
disable_created_metrics()

REQUEST_DURATION = Histogram(
    "leadnexus_http_request_duration_seconds",
    "Time to answer a request, by resolved view name, method and status class.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_QUERIES = Histogram(
    "leadnexus_http_request_db_queries",
    "Database queries made while answering a request, by resolved view name and method.",
    ["view", "method"],
    buckets=(0, 1, 2, 5, 10, 20, 50, 100, 200, 500),
)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
# Requests no URL pattern answered: paths that match nothing, refused hosts.
_UNRESOLVED = "unresolved"


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestMetricsMiddleware:
    """Time each request and count its database queries, by the view it resolved to. Placed
    after the health checks, /metrics, the HTTPS redirect and static files: those are not counted."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        queries = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(queries))
            response = self.get_response(request)
        duration = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else _UNRESOLVED
        method = request.method if request.method in _METHODS else "other"
        REQUEST_DURATION.labels(view, method, f"{response.status_code // 100}xx").observe(duration)
        REQUEST_QUERIES.labels(view, method).observe(queries.count)
        return response


# --- Shared state, read at scrape time ----------------------------------------------------------

Source = Callable[[], list[Metric]]
_sources: list[Source] = []


def scrape_source(source: Source) -> Source:
    """Register `source`, called at each scrape for metric families read from shared state (the
    database, Redis). Apply at import time of an app's `metrics.py`, which its `AppConfig.ready()`
    imports. A source that fails is left out of that scrape, and the failure logged."""
    if source not in _sources:
        _sources.append(source)
    return source


class _SharedState:
    def collect(self):
        for source in _sources:
            try:
                families = source()
            except Exception as exc:
                logger.error("Metrics source %s failed: %s", source.__name__, exc)
                continue
            yield from families


@scrape_source
def outbox_backlog() -> list[Metric]:
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(count=Count("id"), oldest=Min("created_at"))
    age = (timezone.now() - unsent["oldest"]).total_seconds() if unsent["oldest"] else 0
    return [
        GaugeMetricFamily("leadnexus_outbox_unsent", "Outbox rows (tasks) not sent yet.", unsent["count"]),
        GaugeMetricFamily("leadnexus_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row.", age),
    ]


_OUTCOMES = ("succeeded", "failed", "retried")


def _task_key(task: str, outcome: str) -> str:
    return f"metrics:celery-task:{task}:{outcome}"


def _task_counted(outcome: str, sender) -> None:
    key = _task_key(sender.name, outcome)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception as exc:  # the cache is down or evicted the key: the task itself went on
        logger.warning("Task outcome %s of %s not counted: %s", outcome, sender.name, exc)


@task_success.connect
def _task_succeeded(sender=None, **kwargs):
    _task_counted("succeeded", sender)


@task_failure.connect
def _task_failed(sender=None, **kwargs):
    _task_counted("failed", sender)


@task_retry.connect
def _task_retried(sender=None, **kwargs):
    _task_counted("retried", sender)


@scrape_source
def celery_tasks() -> list[Metric]:
    names = sorted(name for name in current_app.tasks if not name.startswith("celery."))
    counts = cache.get_many([_task_key(name, outcome) for name in names for outcome in _OUTCOMES])
    family = CounterMetricFamily(
        "leadnexus_celery_tasks", "Celery tasks run, by task name and outcome.", labels=["task", "outcome"]
    )
    for name in names:
        for outcome in _OUTCOMES:
            family.add_metric([name, outcome], counts.get(_task_key(name, outcome), 0))
    return [family]


@scrape_source
def celery_queues() -> list[Metric]:
    """The broker's queue lengths; none when tasks run eagerly (the embedded default)."""
    app = current_app
    if app.conf.task_always_eager:
        return []
    names = {app.conf.task_default_queue, *(queue.name for queue in app.conf.task_queues or ())}
    family = GaugeMetricFamily("leadnexus_celery_queue_length", "Tasks waiting in a broker queue.", labels=["queue"])
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        channel = conn.default_channel
        for name in sorted(names):
            try:
                waiting = channel.queue_declare(queue=name, passive=True).message_count
            except conn.channel_errors:  # Redis drops an empty queue's key: nothing waits
                waiting = 0
            family.add_metric([name], waiting)
    return [family]


# --- The endpoint ---------------------------------------------------------------------------------


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        # A process started without the web's start script (a manage.py command, the worker)
        # still finds the directory.
        os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(_SharedState())
    return registry


scrape = never_cache(PrometheusDjangoView.as_view(registry=_registry()))


def _networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc


def _internal(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:10.0.0.1 is 10.0.0.1
    return any(ip in network for network in networks)


def scrape_allowed(request) -> bool:
    """Whether `request` may read /metrics: it carries the bearer METRICS_TOKEN, or it comes from
    METRICS_ALLOWED_IPS. The client address is the one rate limits use (`client_ip`, trusting
    NUM_PROXIES entries of X-Forwarded-For), and the socket's peer must be internal too, so a
    forged header sent straight to the app does not pass. A request relayed by a proxy while
    NUM_PROXIES is 0 is refused by address: the proxy's own address would pass for every client."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if request.META.get("HTTP_X_FORWARDED_FOR") and not settings.NUM_PROXIES:
        return False
    networks = _networks(settings.METRICS_ALLOWED_IPS)
    return _internal(request.META.get("REMOTE_ADDR", ""), networks) and _internal(client_ip(request), networks)
