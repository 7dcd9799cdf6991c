"""Rate limits that every worker process shares, and that fail closed.

A count kept in one process's memory is a count per worker: with four workers
a limit of five is twenty. So counts live where all workers see them: in Redis
when `REDIS_URL` is set (the `limits` cache, which, unlike the page cache,
reports a failure instead of forgiving it), in the database otherwise (one
upsert per counted event). When the store cannot count, the event is refused:
a limit that lets everything through while Redis is down is no limit.

Windows are fixed: `window` seconds from the epoch (an hour limit counts per
clock hour). Keys hold the window's number and a keyed hash of what is
limited (an address, a mailbox), never the value.
"""

import logging
import math
import time
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import caches
from django.db import connection, models
from django.utils import timezone
from django.utils.crypto import salted_hmac

log = logging.getLogger(__name__)

PRUNE_SECONDS = 60  # how often a process deletes ended windows
_last_prune = 0.0


class RateLimit(models.Model):
    """Events counted under one key until `expires_at` (the database store)."""

    key = models.CharField(max_length=120, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "briefings"

    def __str__(self):
        return f"{self.key}: {self.count} until {self.expires_at}"


def _key(scope: str, value: str, number: int) -> str:
    digest = salted_hmac(f"briefings.core.limits.{scope}", value, algorithm="sha256")
    return f"limit:{scope}:{number}:{digest.hexdigest()[:40]}"


def _count_in_cache(key: str, seconds_left: int) -> int:
    store = caches[settings.RATE_LIMIT_CACHE]
    store.add(key, 0, seconds_left)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr: a new window
        store.add(key, 1, seconds_left)
        return 1


def _count_in_database(key: str, ends_at) -> int:
    """One statement, atomic by itself."""
    global _last_prune
    table = RateLimit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + 1 "
            "RETURNING count",
            [key, connection.ops.adapt_datetimefield_value(ends_at)],
        )
        count = cursor.fetchone()[0]
    if time.monotonic() - _last_prune >= PRUNE_SECONDS:
        _last_prune = time.monotonic()
        RateLimit.objects.filter(expires_at__lt=timezone.now()).delete()
    return count


def hit(scope: str, value: str, *, limit: int, window: int) -> bool:
    """Count one event of `scope` for `value`; True when it is over `limit`
    in this window, or when it could not be counted (fail closed)."""
    now = timezone.now().timestamp()
    number = int(now // window)
    key = _key(scope, value, number)
    ends = (number + 1) * window
    try:
        if settings.RATE_LIMIT_CACHE:
            count = _count_in_cache(key, max(1, math.ceil(ends - now)))
        else:
            count = _count_in_database(key, datetime.fromtimestamp(ends, UTC))
    except Exception:  # noqa: BLE001 - any failure of the store refuses
        log.warning("rate limit store unavailable: %s refused", scope, exc_info=True)
        return True
    return count > limit


def seconds_left(window: int) -> int:
    """Seconds until the current window ends (for Retry-After)."""
    return window - int(timezone.now().timestamp()) % window


def client_address(request) -> str:
    """Who a limit counts: the connecting address (REMOTE_ADDR: behind a
    proxy, make sure it is the reader's)."""
    return request.META.get("REMOTE_ADDR", "")
