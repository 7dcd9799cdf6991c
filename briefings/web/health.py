"""Keeping the site up when what it stands on falls over.

- The database down: readers get our plain 503 page with Retry-After, not a
  traceback; the next request after it returns is served normally (Django opens
  a new connection per request, with health checks on persistent ones).
- The cache (Redis) down: every cache call is a miss (django-redis with
  IGNORE_EXCEPTIONS) and pages are rendered from the database; after a failure
  Redis is left alone for a few seconds (RestingConnectionPool).
- /healthz tells a load balancer whether the database and the cache answer.
"""

import logging
import sys
import time

import redis.connection
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.defaults import server_error
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)

RETRY_AFTER_SECONDS = 120


def _database_unavailable(exc) -> bool:
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


class RestingRedisConnection(redis.connection.Connection):
    """A Redis connection that leaves a failing server alone for REST_SECONDS.

    The cache is django-redis with IGNORE_EXCEPTIONS, so a Redis that does not
    answer is a cache miss. But a Redis that stops answering (rather than
    refusing) costs a socket timeout per cache call, and a page makes several:
    after a failure every connection to that server refuses at once, without
    touching the network, until the rest is over. Every process keeps its own
    rest, per server.
    """

    REST_SECONDS = 5
    _resting_until: dict = {}  # (host, port) -> time.time() at which to try again

    def _check_rest(self):
        if time.time() < self._resting_until.get((self.host, self.port), 0.0):
            raise RedisConnectionError("Redis failed a moment ago; not asked again yet")

    def _rest(self, exc):
        until = time.time() + self.REST_SECONDS
        self._resting_until[(self.host, self.port)] = until
        log.warning(
            "cache unavailable (%s); Redis left alone for %s s",
            exc.__class__.__name__,
            self.REST_SECONDS,
        )

    def connect_check_health(self, *args, **kwargs):
        self._check_rest()
        try:
            return super().connect_check_health(*args, **kwargs)
        except _FAILURES as exc:
            self._rest(exc)
            raise

    def send_packed_command(self, *args, **kwargs):
        self._check_rest()
        try:
            return super().send_packed_command(*args, **kwargs)
        except _FAILURES as exc:
            self._rest(exc)
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except _FAILURES as exc:
            self._rest(exc)
            raise


class RestingSSLRedisConnection(RestingRedisConnection, redis.connection.SSLConnection):
    """The same, over TLS (rediss:// addresses)."""


class RestingConnectionPool(redis.connection.ConnectionPool):
    """django-redis's CONNECTION_POOL_CLASS: connections that rest after a failure."""

    RESTING = {
        redis.connection.Connection: RestingRedisConnection,
        redis.connection.SSLConnection: RestingSSLRedisConnection,
    }

    def __init__(self, connection_class=redis.connection.Connection, **kwargs):
        resting = self.RESTING.get(connection_class, connection_class)
        super().__init__(connection_class=resting, **kwargs)


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
