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
