"""The Redis cache backend shares one redis-py client per connection pool."""

import pytest
from django.conf import settings
from django.core.cache import caches

from leadnexus.core.cache import RedisCache

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: the Redis cache backend")


def test_the_configured_cache_is_the_shared_client_backend():
    assert isinstance(caches["default"], RedisCache)


def test_every_call_uses_the_same_client_and_still_reads_and_writes():
    cache = caches["default"]
    client = cache._cache.get_client()

    cache.set("shared-client", {"a": 1}, timeout=30)
    cache.set_many({"one": 1, "two": "2"}, timeout=30)

    assert cache.get("shared-client") == {"a": 1}
    assert cache.get_many(["one", "two", "missing"]) == {"one": 1, "two": "2"}
    assert cache.incr("one") == 2
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client() is client
