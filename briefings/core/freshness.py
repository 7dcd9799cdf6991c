"""The content-version clock: what makes every cached page stale at once.

Any save or delete of content bumps one version number in the cache (through
signals connected in `briefings/signals.py`; no package below the web layer
imports the page cache), and so does the moment a scheduled story goes live.
Pages, "Most read" and Search Trends key what they keep on the version.

With the cache in Redis, each process also keeps its most recently served pages
in memory (`HotPages`) and learns of every bump through Redis pub/sub.

When the next scheduled story goes live is asked of the finder registered with
`next_live_from()` (the stories package registers its own, in `ready()`).
"""

import os
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone
from django_redis.cache import RedisCache
from redis.exceptions import RedisError

from briefings.core import replicas

VERSION_KEY = "pages:version"
NEXT_LIVE_KEY = "pages:next-live"


class HotPages:
    """This process's most recently served pages, valid while it hears every bump.

    Only with the cache in Redis (elsewhere the cache is in process memory
    already). The process subscribes to the version channel; before each
    lookup it reads whatever arrived, without waiting, so a bump published
    before the request arrived is seen. A page from memory is served only
    while the subscription is known to be alive (an answer to a PING sent every
    second, or a bump, within the last few seconds) and only for the current
    version; any doubt (no subscription yet, a lost connection, a scheduled
    story due) sends the request to Redis as before.
    """

    PING_SECONDS = 1.0
    ALIVE_SECONDS = 3.0  # a subscription not heard from for longer is in doubt
    RETRY_SECONDS = 5.0  # after a failed subscription

    def __init__(self, size):
        self.size = size
        self.lock = threading.Lock()
        self.owner = None
        self.generation = 0  # one per subscription, so stale reads are told apart
        self._reset()

    def _reset(self):
        self.pubsub = None
        self.subscribed = False
        self.version = None  # the current version, as far as this process knows
        self.next_live = None  # when the next scheduled story goes live (0: none)
        self.heard_at = self.pinged_at = self.retry_at = 0.0
        self.pages = OrderedDict()  # key -> (version, expires_at, entry)

    @staticmethod
    def enabled():
        return settings.PAGE_CACHE_HOT_PAGES > 0 and isinstance(
            caches["default"], RedisCache
        )

    @staticmethod
    def channel(client):
        db = client.connection_pool.connection_kwargs.get("db", 0)
        return f"{cache.key_prefix}:{db}:{VERSION_KEY}"

    def lookup(self, key):
        """(page entry or None, the subscription it may be trusted under or None)."""
        with self.lock:
            now = time.monotonic()
            if not self._listen(now):
                return None, None
            if self.version is None or self.next_live is None:
                return None, self.generation
            if self.next_live and time.time() >= self.next_live:
                return None, self.generation  # the slow path bumps the version
            found = self.pages.get(key)
            if found is None or found[0] != self.version or found[1] <= now:
                return None, self.generation
            self.pages.move_to_end(key)
            return found[2], self.generation

    def learned(self, generation, version, next_live):
        """What the cache in Redis said, read while subscribed under `generation`."""
        with self.lock:
            if generation is None or generation != self.generation:
                return
            if self.version is None or version > self.version:
                self.version, self.next_live = version, next_live
            elif version == self.version:
                self.next_live = next_live

    def bumped(self, version):
        """This process bumped the version itself (it will hear it too)."""
        with self.lock:
            if self.version is None or version > self.version:
                self._heard_version(version)

    def keep(self, key, version, entry, timeout):
        with self.lock:
            if self.version != version or not self.subscribed:
                return
            self.pages[key] = (version, time.monotonic() + timeout, entry)
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)

    def _heard_version(self, version):
        # Bumps are published in the order of their versions (one script
        # does both), so the last one heard is the current version, even
        # after Redis lost its keys and counts from 1 again.
        self.version = version
        self.next_live = None  # a bump forgets it: asked again from Redis

    def forget(self):
        """Drop every page kept (as emptying the cache does; for tests)."""
        with self.lock:
            self.pages.clear()
            self.version = self.next_live = None

    @staticmethod
    def _owner():
        return os.getpid(), settings.CACHES["default"]["LOCATION"], cache.key_prefix

    def _listen(self, now):
        """Read what the subscription received; whether it can be trusted now."""
        if self.owner != self._owner():
            # A new (forked) worker, or another cache: a subscription of its own.
            self._drop(now, retry=False)
        if self.pubsub is None and not self._subscribe(now):
            return False
        try:
            while message := self.pubsub.get_message(timeout=0):
                self._handle(message, now)
            if now - self.pinged_at >= self.PING_SECONDS:
                self.pubsub.ping()
                self.pinged_at = now
        except (RedisError, OSError, ValueError):
            self._drop(now)
            return False
        return self.subscribed and now - self.heard_at < self.ALIVE_SECONDS

    def _handle(self, message, now):
        kind = message["type"]
        if kind == "message":
            self._heard_version(int(message["data"]))
        elif kind == "subscribe":
            # Bumps from now on reach this process; what it knew before may
            # have missed some, so it starts again from Redis.
            self.subscribed = True
            self.generation += 1
            self.version = self.next_live = None
            self.pages.clear()
        self.heard_at = now

    def _subscribe(self, now):
        if now < self.retry_at:
            return False
        try:
            client = cache.client.get_client()
            self.pubsub = client.pubsub()
            self.pubsub.subscribe(self.channel(client))
        except (RedisError, OSError):
            self._drop(now)
            return False
        self.pinged_at = now
        return True

    def _drop(self, now, retry=True):
        pubsub = self.pubsub
        self._reset()
        self.owner = self._owner()
        if retry:
            self.retry_at = now + self.RETRY_SECONDS
        if pubsub is not None:  # (redis-py leaves a parent process's socket alone)
            try:
                pubsub.close()
            except (RedisError, OSError):
                pass


hot_pages = HotPages(settings.PAGE_CACHE_HOT_PAGES)


def _first_version():
    """Where versions start when the cache has none (new, emptied or restarted).

    The time in milliseconds, not 1: a page kept from before, in a process's
    memory or the cache, never carries a version that comes again.
    """
    return int(time.time() * 1000)


# With Redis: the new version, forgetting when the next story goes live, and
# telling every process, in one round trip and in the order of the versions.
BUMP_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[2]) end
local version = redis.call('INCR', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[1], version)
return version
"""


def bump_version(**kwargs):
    """Make every cached page stale at once (on any content change).

    A few cache operations (with Redis, one script) and no query, so saving
    content stays cheap even when thousands of rows arrive at once (loaddata,
    loadseed). With Redis the new version is published to every process that
    keeps pages in memory.
    """
    if HotPages.enabled():
        try:
            client = cache.client.get_client()
            keys = [cache.make_key(VERSION_KEY), cache.make_key(NEXT_LIVE_KEY)]
            channel = HotPages.channel(client)
            version = client.eval(BUMP_SCRIPT, 2, *keys, channel, _first_version())
        except (RedisError, OSError):
            pass  # Redis failing: so does every process's subscription
        else:
            hot_pages.bumped(int(version))
    else:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.add(VERSION_KEY, _first_version(), None)
        cache.delete(NEXT_LIVE_KEY)
    replicas.content_changed()


_next_live_finder = None


def next_live_from(finder):
    """Register `finder()`: when the next scheduled story goes live, in epoch
    seconds (0: none is scheduled). Called once, from AppConfig.ready()."""
    global _next_live_finder
    _next_live_finder = finder


def _next_live():
    return _next_live_finder() if _next_live_finder is not None else 0


def version_and(key=None, trusted=None):
    """The current content version, and the cached value of `key` (or None).

    One cache round trip in the common case: the version, the time the next
    scheduled story goes live and the page are asked for together. What Redis
    said is passed on to this process's hot pages (under the subscription
    `trusted`, which was listening before the question was asked).
    """
    keys = [VERSION_KEY, NEXT_LIVE_KEY]
    values = cache.get_many(keys if key is None else [*keys, key])
    next_live = values.get(NEXT_LIVE_KEY)
    if NEXT_LIVE_KEY not in values:
        # Asked once per content change, not once per page.
        next_live = _next_live()
        cache.set(NEXT_LIVE_KEY, next_live, None)
    elif next_live and timezone.now().timestamp() >= next_live:
        # A scheduled story has just gone live: every page may show it.
        bump_version()
        return current_version(), None
    if VERSION_KEY not in values:
        cache.add(VERSION_KEY, _first_version(), None)
        return cache.get(VERSION_KEY, 0), None
    if trusted is not None:
        hot_pages.learned(trusted, values[VERSION_KEY], next_live)
    return values[VERSION_KEY], values.get(key)


def current_version() -> int:
    return version_and()[0]
