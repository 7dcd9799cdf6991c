"""Rate limits that every worker process shares, and that fail closed.

A count kept in one process's memory is a count per worker: with four workers
a limit of five is twenty. So counts live where all workers see them: in Redis
when `REDIS_URL` is set (the `limits` cache, which, unlike the page cache,
reports a failure instead of forgiving it), in the database otherwise (one
upsert per counted event). When the store cannot count, the event is refused:
a limit that lets everything through while Redis is down is no limit.

A window starts at the first event counted under a key and lasts `window`
seconds; callers that want clock hours put the hour into the key. Keys hold a
keyed hash of what is limited (an address, a mailbox), never the value.
"""

import logging
import time
from datetime import timedelta

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


def _key(scope: str, value: str) -> str:
    digest = salted_hmac(f"briefings.limits.{scope}", value, algorithm="sha256")
    return f"limit:{scope}:{digest.hexdigest()[:40]}"


def _count_in_cache(key: str, window: int) -> int:
    store = caches[settings.RATE_LIMIT_CACHE]
    store.add(key, 0, window)
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr: a new window
        store.add(key, 1, window)
        return 1


def _count_in_database(key: str, window: int) -> int:
    """One statement, atomic by itself: count the event, or start a window."""
    global _last_prune
    ops = connection.ops
    now = timezone.now()
    table = RateLimit._meta.db_table
    expired = f"{table}.expires_at <= %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, count, expires_at) VALUES (%s, 1, %s) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"count = CASE WHEN {expired} THEN 1 ELSE {table}.count + 1 END, "
            f"expires_at = CASE WHEN {expired} "
            f"THEN EXCLUDED.expires_at ELSE {table}.expires_at END "
            "RETURNING count",
            [
                key,
                ops.adapt_datetimefield_value(now + timedelta(seconds=window)),
                ops.adapt_datetimefield_value(now),
                ops.adapt_datetimefield_value(now),
            ],
        )
        count = cursor.fetchone()[0]
    if time.monotonic() - _last_prune >= PRUNE_SECONDS:
        _last_prune = time.monotonic()
        RateLimit.objects.filter(expires_at__lt=now).delete()
    return count


def hit(scope: str, value: str, *, limit: int, window: int) -> bool:
    """Count one event of `scope` for `value`; True when it is over `limit`
    in the window, or when it could not be counted (fail closed)."""
    key = _key(scope, value)
    try:
        if settings.RATE_LIMIT_CACHE:
            count = _count_in_cache(key, window)
        else:
            count = _count_in_database(key, window)
    except Exception:  # noqa: BLE001 - any failure of the store refuses
        log.warning("rate limit store unavailable: %s refused", scope, exc_info=True)
        return True
    return count > limit


def client_address(request) -> str:
    """Who a limit counts: the connecting address (REMOTE_ADDR: behind a
    proxy, make sure it is the reader's)."""
    return request.META.get("REMOTE_ADDR", "")
