from unittest import mock

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db


def test_healthz_answers_while_the_process_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_checks_database_and_cache(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok"}


def test_readyz_names_what_failed(client):
    with mock.patch.object(cache, "set", side_effect=ConnectionError("redis is down")):
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["cache"]
    assert "redis is down" in body["checks"]["cache"]


def test_readyz_checks_the_broker_when_one_is_configured(client):
    from leadnexus.core.testing import celery_eager

    with celery_eager(False), mock.patch("leadnexus.core.health._broker", side_effect=OSError("refused")):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]


def test_health_checks_answer_load_balancers_by_ip_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["leadnexus.example"]
    assert client.get("/healthz", headers={"Host": "10.0.0.7"}).status_code == 200
    assert client.get("/readyz", headers={"Host": "10.0.0.7"}).status_code == 200
    assert client.get("/login/", headers={"Host": "10.0.0.7"}).status_code == 400
    settings.ALLOWED_HOSTS = ["testserver"]
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/login/").status_code == 301
    assert client.get("/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
