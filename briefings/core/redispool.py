"""Redis connections that rest after a failure.

The cache (django-redis, with IGNORE_EXCEPTIONS) treats a Redis that does not
answer as a miss; without a rest every cache call of every page would wait for
the socket timeout. After a failure a connection leaves Redis alone for
REST_SECONDS (settings: CACHES["default"]["OPTIONS"]["CONNECTION_POOL_CLASS"]).
"""

import logging
import time

import redis.connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
_FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


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
