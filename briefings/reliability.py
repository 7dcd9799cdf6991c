"""Keeping the site up when what it stands on falls over.

- The database down: readers get our plain 503 page with Retry-After, not a
  traceback; the next request after it returns is served normally (Django opens
  a new connection per request, with health checks on persistent ones).
- The cache (Redis) down: every cache call is a miss and pages are rendered
  from the database.
- /healthz tells a load balancer whether the database and the cache answer.
"""

import logging
import sys
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.defaults import server_error

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 120


def _database_unavailable(exc) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(exc, (OperationalError, InterfaceError))


def server_error_or_unavailable(request):
    """handler500: a database that does not answer is a 503, not our bug."""
    exc = sys.exc_info()[1]
    if exc is not None and _database_unavailable(exc):
        log.error("database unavailable: %s", exc.__class__.__name__)
        return unavailable(request)
    return server_error(request)


def unavailable(request):
    """Our 503 page: static HTML, no database, no context processors."""
    content = loader.get_template("503.html").render()
    response = HttpResponse(content, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def healthz(request):
    """Database and cache state for load balancers: 200 when the database answers."""
    state = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        state["database"] = "down"
    probe = "healthz:probe"
    try:
        cache.set(probe, "1", 10)
        if cache.get(probe) != "1":
            state["cache"] = "down"
    except Exception:  # noqa: BLE001 - any cache failure is "down"
        state["cache"] = "down"
    status = 200 if state["database"] == "ok" else 503
    response = JsonResponse(state, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, with one redis.Redis per connection pool.

    Django's makes a new redis.Redis for every cache operation, and each one
    builds a table of some 170 response callbacks: 0.15 ms, a third of the
    time of a page served from the cache. The client holds no state of its
    own beyond its pool, so one per pool serves every operation.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        try:
            return self._clients[pool]
        except KeyError:
            client = self._clients[pool] = self._client(connection_pool=pool)
            return client


class ForgivingRedisCache(RedisCache):
    """Django's Redis cache, where a Redis that does not answer is a cache miss.

    Reads return the default, writes are dropped, counters start again; each
    failure is logged. Pages then render from the database, a little slower.
    After a failure Redis is left alone for REST_SECONDS: a Redis that stops
    answering (rather than refusing) costs a socket timeout per call, and a page
    makes several.
    """

    REST_SECONDS = 5

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._resting_until = 0.0

    def _forgive(self, method, default, *args, **kwargs):
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        if time.time() < self._resting_until:
            return default
        try:
            return method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            self._resting_until = time.time() + self.REST_SECONDS
            log.warning("cache unavailable: %s", exc.__class__.__name__)
            return default

    def get(self, key, default=None, version=None):
        return self._forgive(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._forgive(super().get_many, {}, keys, version)

    def set(self, key, value, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._forgive(super().set, None, key, value, version=version, **kwargs)

    def add(self, key, value, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._forgive(super().add, False, key, value, version=version, **kwargs)

    def set_many(self, data, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._forgive(super().set_many, [], data, version=version, **kwargs)

    def delete(self, key, version=None):
        return self._forgive(super().delete, False, key, version)

    def delete_many(self, keys, version=None):
        return self._forgive(super().delete_many, None, keys, version)

    def incr(self, key, delta=1, version=None):
        return self._forgive(super().incr, 1, key, delta, version)

    def touch(self, key, timeout=..., version=None):
        kwargs = {} if timeout is ... else {"timeout": timeout}
        return self._forgive(super().touch, False, key, version=version, **kwargs)

    def has_key(self, key, version=None):
        return self._forgive(super().has_key, False, key, version)

    def clear(self):
        return self._forgive(super().clear, None)


class PermissionsPolicyMiddleware:
    """Switch off browser features no page of ours uses."""

    POLICY = (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), "
        "magnetometer=(), microphone=(), payment=(), usb=(), "
        "interest-cohort=(), browsing-topics=()"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", self.POLICY)
        return response
