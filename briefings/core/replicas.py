"""Readers' pages from a PostgreSQL read replica (optional: DATABASE_REPLICA_URL).

With a replica configured, an anonymous reader's GET or HEAD reads from it and
everything else uses the primary: editors (anyone with a session cookie), every
write, and every request within BRIEFINGS_REPLICA_LAG_SECONDS of a content
change. That last rule matters: a change bumps the page cache's version at
once, and a page rendered from a replica that has not caught up yet would be
cached as current (a withdrawn story still showing for minutes). The moment
of the last change comes from the shared cache, so every app server knows it.
"""

import contextvars
import time

from django.conf import settings
from django.core.cache import cache

REPLICA = "replica"
CHANGED_AT_KEY = "pages:changed-at"

_reader_request = contextvars.ContextVar("briefings_reader_request", default=False)


def content_changed():
    """Remember when content last changed (called with every page-cache bump).

    Kept whether or not this server has a replica: the servers that do may
    not be the ones where editors save.
    """
    cache.set(CHANGED_AT_KEY, time.time(), None)


class ReplicaRouter:
    """Reads inside a reader's request go to the replica; nothing else does."""

    def db_for_read(self, model, **hints):
        return settings.REPLICA_DATABASE if _reader_request.get() else None

    def db_for_write(self, model, **hints):
        return None

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != settings.REPLICA_DATABASE


class ReplicaReadsMiddleware:
    """Mark anonymous readers' GET and HEAD requests as replica reads."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._may_use_replica(request):
            return self.get_response(request)
        token = _reader_request.set(True)
        try:
            return self.get_response(request)
        finally:
            _reader_request.reset(token)

    def _may_use_replica(self, request):
        if not settings.REPLICA_DATABASE or request.method not in ("GET", "HEAD"):
            return False
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            return False  # staff: they must see what they just saved
        changed = cache.get(CHANGED_AT_KEY, 0)
        return time.time() - changed >= settings.REPLICA_LAG_SECONDS
