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
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "marketplace:catalog:version"
PAGE_KEY = "marketplace:catalog:page:{}"

Page = TypeVar("Page")


# Pages this process holds, ready to serve: page key → (expiry, page). A page key names the
# catalog's version, so a page held here is never served after a change; past
# `LOCAL_PAGES`, the least recently served go. Unpickling a page from the cache costs more
# than the rest of the request, and the same pages are asked for again and again.
LOCAL_PAGES = 512
_local: OrderedDict[str, tuple[float, object]] = OrderedDict()
_local_lock = threading.Lock()


def _version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _page_key(version: str, key: tuple) -> str:
    return PAGE_KEY.format(hashlib.sha256(json.dumps([version, *key], default=str).encode()).hexdigest())


def _local_get(page_key: str):
    with _local_lock:
        held = _local.get(page_key)
        if held is None or held[0] <= time.monotonic():
            return None
        _local.move_to_end(page_key)
        return held[1]


def _local_put(page_key: str, expires: float, page) -> None:
    with _local_lock:
        _local[page_key] = (expires, page)
        _local.move_to_end(page_key)
        while len(_local) > LOCAL_PAGES:
            _local.popitem(last=False)


def catalog_cached(key: tuple, read: Callable[[], Page]) -> Page:
    """The page `read()` returns, from the cache when this version of the catalog was read
    with the same `key` (JSON-able: filters, ordering, cursor, size) in the last
    `CATALOG_CACHE_SECONDS`. The page may be served to other viewers too: copy what you
    change."""
    seconds = settings.CATALOG_CACHE_SECONDS
    if not seconds:
        return read()
    try:
        # The version is read before the page is: a page read meanwhile is stored under the
        # version it may predate, never under a newer one.
        page_key = _page_key(_version(), key)
        page = _local_get(page_key)
        if page is not None:
            return page
        held = cache.get(page_key)
    except Exception as exc:
        logger.warning("Catalog pages not cached, cache unavailable: %s", exc)
        return read()
    if held is None:
        # The expiry travels with the page: a process holding it keeps it no longer than
        # the shared cache does.
        held = (time.time() + seconds, read())
        try:
            cache.set(page_key, held, timeout=seconds)
        except Exception as exc:
            logger.warning("Catalog page not cached, cache unavailable: %s", exc)
    expires_at, page = held
    _local_put(page_key, time.monotonic() + (expires_at - time.time()), page)
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
