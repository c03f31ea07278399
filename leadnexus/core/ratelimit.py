"""Fixed-window rate limits counted atomically in the cache (Redis in production), so
they hold across processes. Each limit is a setting in `RATE_LIMITS`, scaled by
`RATE_LIMIT_SCALE`. When the cache is unreachable the limit fails open and says so in
the log: a cache outage must not lock everyone out."""

import hashlib
import logging
import math
import re
import time

from django.conf import settings
from django.core.cache import cache

from leadnexus.core.exceptions import RateLimited

logger = logging.getLogger(__name__)

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)(second|minute|hour|day)$")


def parse_rate(rate: str) -> tuple[int, int]:
    """`20/minute` gives (20, 60), `10/15minute` (10, 900); counts scaled by RATE_LIMIT_SCALE."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"Not a rate: {rate!r} (expected e.g. 20/minute or 10/15minute)")
    count, multiple, period = match.groups()
    window = int(multiple or 1) * _PERIODS[period]
    return max(1, math.floor(int(count) * settings.RATE_LIMIT_SCALE)), window


def rate_limit(scope: str, ident: str) -> None:
    """Count one hit of `ident` (an IP, an email) against the limit named `scope`;
    raise `RateLimited` with the seconds until the window resets when it is exceeded."""
    count_hit(f"ratelimit:{scope}", ident, settings.RATE_LIMITS[scope])


def count_hit(scope: str, ident: str, rate: str, *, amount: int = 1, message: str | None = None) -> None:
    """The counter behind rate limits and quotas: a fixed window per `rate`, one atomic
    increment of `amount` per hit. `message` (with `{limit}` and `{retry_after}`) explains a refusal."""
    limit, window = parse_rate(rate)
    now = time.time()
    digest = hashlib.sha256(ident.lower().encode()).hexdigest()[:32]
    key = f"{scope}:{digest}:{int(now // window)}"
    try:
        cache.add(key, 0, timeout=window + 1)
        count = cache.incr(key, amount)
    except ValueError:  # the window expired between add and incr: this hit opens a new one
        cache.set(key, amount, timeout=window + 1)
        count = amount
    except Exception as exc:
        logger.warning("Rate limit %s not enforced, cache unavailable: %s", scope, exc)
        return
    if count > limit:
        retry_after = max(1, math.ceil(window - now % window))
        text = message.format(limit=limit, retry_after=retry_after) if message else None
        raise RateLimited(text, retry_after=retry_after)


def client_ip(request) -> str:
    """The caller's address. Behind `NUM_PROXIES` trusted proxies, the address the
    outermost of them saw, read from the right of X-Forwarded-For (the left is the client's to forge)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if forwarded and settings.NUM_PROXIES:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(settings.NUM_PROXIES, len(hops))]
    return request.META.get("REMOTE_ADDR", "")
