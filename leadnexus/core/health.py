"""`/healthz`: the process answers. `/readyz`: it can serve traffic — database, cache and,
when a broker is configured, the broker are reachable; otherwise 503 naming what failed.
`/metrics`: Prometheus figures (`leadnexus.core.metrics`), for internal scrapers only.

All three are answered by `HealthCheckMiddleware`, ahead of host validation, the HTTPS
redirect, sessions and rate limits: load balancers and scrapers call by IP address over
plain HTTP. A caller not allowed to read /metrics goes on down the stack like any path that
matches nothing, to the same 404."""

import logging
import uuid

from celery import current_app
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from leadnexus.core import metrics

logger = logging.getLogger(__name__)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value it was given")
    cache.delete(key)


def _broker():
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)


def _checks():
    checks = {"database": _database, "cache": _cache}
    if not current_app.conf.task_always_eager:
        checks["broker"] = _broker
    return checks


@never_cache
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    results, failed = {}, []
    for name, check in _checks().items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            logger.error("Readiness check %s failed: %s", name, exc)
            results[name] = f"error: {exc}"
            failed.append(name)
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})


class HealthCheckMiddleware:
    _VIEWS = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            path = request.path_info.rstrip("/")
            view = self._VIEWS.get(path)
            if view is not None:
                return view(request)
            if path == "/metrics" and metrics.scrape_allowed(request):
                return metrics.scrape(request)
        return self.get_response(request)
