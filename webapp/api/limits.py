"""Per-user rate limits on expensive endpoints, counted in Django's cache (fixed one-minute windows)."""

import time

from django.conf import settings
from django.core.cache import cache

from webapp.api.errors import ApiError

WINDOW_S = 60


def per_minute(bucket: str) -> int:
    limits = getattr(settings, "OFFSIDE_API_RATE_LIMITS", {})
    return int(limits.get(bucket, 10))


def check_rate(user, bucket: str) -> None:
    """Count one request of ``user`` against ``bucket``; ``ApiError(429)`` once over the minute's limit."""
    limit = per_minute(bucket)
    window = int(time.time() // WINDOW_S)
    key = f"api-rate:{bucket}:{user.pk}:{window}"
    cache.add(key, 0, timeout=WINDOW_S * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW_S * 2)
        count = 1
    if count > limit:
        raise ApiError(429, f"At most {limit} '{bucket}' requests per minute; try again shortly.")
