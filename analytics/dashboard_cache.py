"""Dashboard answers shared through the cache.

A dashboard is read far more often than its figures change, and one answer costs tens of
milliseconds of SQL over a large organization's rollups and live pipeline. So an answer (for
one dashboard, scope, range and interval) is cached under its organization's current
*version*, and every committed change the dashboards show (a rollup day recomputed, an event
about a lead, deal, activity, purchase, dispute or listing, a vendor's quality stored) starts
a new version for that organization and for the staff overview. `DASHBOARD_CACHE_SECONDS`
bounds the age of what no event announces (earnings released by the beat job, a task falling
overdue). When the cache cannot be reached, answers are computed as if nothing were cached.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

VERSION_KEY = "analytics:dashboards:version:{}"
ANSWER_KEY = "analytics:dashboards:answer:{}"
EVERYONE = "all"  # the version of the staff overview, which every organization's changes move


def dashboards_changed(organization_id: int) -> None:
    """Once the caller's transaction commits, the organization's answers and the overview's
    are no longer served."""

    def bump():
        try:
            cache.set_many({VERSION_KEY.format(scope): uuid.uuid4().hex for scope in (organization_id, EVERYONE)}, None)
        except Exception:
            logger.warning("The dashboard cache could not be told of a change", exc_info=True)

    transaction.on_commit(bump, robust=True)


def _version(scope) -> str:
    key = VERSION_KEY.format(scope)
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key)
    return version


def dashboard_cached(*, versioned_by, key: tuple, compute: Callable[[], dict]) -> dict:
    """The answer `compute` gives for `key`, from the cache while the version of
    `versioned_by` (an organization id, or EVERYONE) holds."""
    if settings.DASHBOARD_CACHE_SECONDS <= 0:
        return compute()
    try:
        digest = hashlib.sha256(json.dumps([_version(versioned_by), *key], default=str).encode()).hexdigest()
        answer = cache.get(ANSWER_KEY.format(digest))
    except Exception:
        logger.warning("The dashboard cache could not be read", exc_info=True)
        return compute()
    if answer is None:
        answer = compute()
        try:
            cache.set(ANSWER_KEY.format(digest), answer, settings.DASHBOARD_CACHE_SECONDS)
        except Exception:
            logger.warning("The dashboard cache could not be written", exc_info=True)
    return answer
