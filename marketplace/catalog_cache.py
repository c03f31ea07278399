"""Catalog pages shared by every viewer through the cache.

The catalog is what the product serves most, and it is the same for every viewer until the
contacts are disclosed, which happens per viewer after a page is read
(`marketplace.services.reveals.listings_disclose`). So one page of the catalog (its rows
and cursors for one set of filters, ordering, cursor and size) is cached under the
catalog's current *version*, and every committed change to what the catalog shows (a
listing approved, edited, withdrawn or sold) starts a new version: no viewer is shown a
page older than the last change. `CATALOG_CACHE_SECONDS` bounds the age of what no change
announces (a vendor's new name). When the cache cannot be reached, pages are read from the
database as if nothing were cached.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "marketplace:catalog:version"
PAGE_KEY = "marketplace:catalog:page:{}"

Page = TypeVar("Page")


# The version this process saw last: asked for together with the version, its page costs
# one round trip to the cache instead of two while the catalog does not change.
_last_seen: str | None = None


def _page_key(version: str | None, key: tuple) -> str:
    return PAGE_KEY.format(hashlib.sha256(json.dumps([version, *key], default=str).encode()).hexdigest())


def _cached(key: tuple) -> tuple[str, object]:
    """The page key of the catalog's current version, and its page if cached (else None)."""
    global _last_seen
    guess = _page_key(_last_seen, key)
    found = cache.get_many([VERSION_KEY, guess])
    version = found.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    if version == _last_seen:
        return guess, found.get(guess)
    _last_seen = version
    page_key = _page_key(version, key)
    return page_key, cache.get(page_key)


def catalog_cached(key: tuple, read: Callable[[], Page]) -> Page:
    """The page `read()` returns, from the cache when this version of the catalog was read
    with the same `key` (JSON-able: filters, ordering, cursor, size) in the last
    `CATALOG_CACHE_SECONDS`."""
    if not settings.CATALOG_CACHE_SECONDS:
        return read()
    try:
        # The version is read before the page is: a page read meanwhile is stored under the
        # version it may predate, never under a newer one.
        page_key, page = _cached(key)
    except Exception as exc:
        logger.warning("Catalog pages not cached, cache unavailable: %s", exc)
        return read()
    if page is None:
        page = read()
        try:
            cache.set(page_key, page, timeout=settings.CATALOG_CACHE_SECONDS)
        except Exception as exc:
            logger.warning("Catalog page not cached, cache unavailable: %s", exc)
    return page


def catalog_changed() -> None:
    """What the catalog shows changes in the current transaction: once it commits, every
    cached page is out of date."""
    transaction.on_commit(_new_version, robust=True)


def _new_version() -> None:
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        # Nothing cached can be read either while the cache is down; pages cached before
        # the outage expire within CATALOG_CACHE_SECONDS.
        logger.warning("Catalog cache not told of a change, cache unavailable: %s", exc)
