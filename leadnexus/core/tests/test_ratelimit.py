import threading
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.core.cache import cache

from leadnexus.core.exceptions import RateLimited
from leadnexus.core.ratelimit import parse_rate, rate_limit
from leadnexus.core.testing import assert_error

pytestmark = pytest.mark.django_db


def test_rates_are_scaled(settings):
    settings.RATE_LIMIT_SCALE = 2.5
    assert parse_rate("20/minute") == (50, 60)
    settings.RATE_LIMIT_SCALE = 0.01
    assert parse_rate("20/minute") == (1, 60)


def test_concurrent_hits_cannot_slip_past_the_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "25/hour"}
    barrier = threading.Barrier(10)

    def hit(_):
        barrier.wait()
        allowed = 0
        for _ in range(10):
            try:
                rate_limit("login", "203.0.113.9")
                allowed += 1
            except RateLimited:
                pass
        return allowed

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert sum(pool.map(hit, range(10))) == 25


def test_api_answers_429_with_retry_after(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/minute"}
    payload = {"email": "nobody@example.com", "password": "wrong-password"}
    statuses = [api_client.post("/api/auth/login", payload, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]

    response = api_client.post("/api/auth/login", payload, format="json")
    assert_error(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_same_limit_holds_on_the_sign_in_page(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/minute"}
    form = {"email": "nobody@example.com", "password": "wrong-password"}
    assert client.post("/login/", form).status_code == 401
    response = client.post("/login/", form)
    assert response.status_code == 429
    assert "Retry-After" in response
    assert b"Too many requests" in response.content


def test_forgot_password_is_limited_per_email(api_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "forgot_password": "2/hour"}
    for _ in range(2):
        assert (
            api_client.post("/api/auth/forgot-password", {"email": "a@example.com"}, format="json").status_code == 202
        )
    assert_error(
        api_client.post("/api/auth/forgot-password", {"email": "A@example.com"}, format="json"), 429, "throttled"
    )
    assert api_client.post("/api/auth/forgot-password", {"email": "b@example.com"}, format="json").status_code == 202


def test_limits_fail_open_when_the_cache_is_down(api_client, settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/minute"}
    payload = {"email": "nobody@example.com", "password": "wrong-password"}
    with mock.patch.object(cache, "add", side_effect=ConnectionError("cache down")):
        statuses = [api_client.post("/api/auth/login", payload, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    assert "not enforced" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_get_429_with_retry_after(settings):
    from django.db import connection
    from rest_framework.test import APIClient

    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "5/hour"}
    barrier = threading.Barrier(8)
    payload = {"email": "nobody@example.com", "password": "wrong-password"}

    def attempt(_):
        barrier.wait()
        try:
            return [APIClient().post("/api/auth/login", payload, format="json") for _ in range(2)]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = [r for batch in pool.map(attempt, range(8)) for r in batch]

    limited = [r for r in responses if r.status_code == 429]
    assert len(responses) - len(limited) == 5
    for response in limited:
        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) >= 1
