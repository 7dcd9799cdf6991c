"""Whole-page caching of public pages for anonymous readers.

A cached page is keyed on the page's address (scheme, host, path and query) and
the reader's consent state (so readers who decided differently never share a
page, and nothing identifies a reader), and stored with the content version it
was made from. Any save or delete of content bumps the version, and so does the
moment a scheduled story goes live: a page of an older version is never served,
and no key is deleted one by one. Signed-in staff are never served, nor stored,
from this cache.

Two parts work together:

- `cache_public_page`, on a view, marks its answers as shareable (public
  Cache-Control, Vary: Cookie) and, for staff, as private. Only pages so marked
  are ever stored.
- `PageCacheMiddleware`, placed right after ConditionalGetMiddleware, serves hits
  before the session, CSRF, auth, messages, CSP and cookie-consent middleware run,
  and stores misses after they have run, with every header they added (CSP,
  X-Frame-Options, Vary, Cache-Control, ETag...). A hit is the stored response:
  same body, same headers; only X-Page-Cache says "hit" instead of "miss".

With the cache in Redis, each process also keeps its most recently served pages
in memory (`HotPages`) and serves them without asking Redis anything: it learns
of every version bump through Redis pub/sub, reading what its subscription
received (without waiting) before each hit, so a bump published before a
request arrived is always seen by it.
"""

import hashlib
import os
import threading
import time
from collections import OrderedDict
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache, caches
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.cache import (
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)
from django_redis.cache import RedisCache
from redis.exceptions import RedisError

from . import replicas
from .consent import CleanCookiesMiddleware, get_state

VERSION_KEY = "pages:version"
NEXT_LIVE_KEY = "pages:next-live"
MARK = "X-Page-Cache"


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


def _next_live():
    """When the next scheduled story goes live (0: none is scheduled)."""
    from .models import Article, ArticleStatus

    upcoming = Article.objects.filter(
        status=ArticleStatus.PUBLISHED, published_at__gt=timezone.now()
    ).aggregate(next_live=Min("published_at"))["next_live"]
    return upcoming.timestamp() if upcoming else 0


def _version_and(key=None, trusted=None):
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
    return _version_and()[0]


# The query parameters a cached page reads (listings' keyset positions, page
# numbers of sitemaps, search). Any other (utm_source, fbclid...) neither
# changes the page nor makes a cache entry of its own.
PAGE_PARAMETERS = ("after", "before", "p", "page", "q")


def _page_query(request) -> str:
    """The part of the query string a cached page may depend on, in order."""
    return urlencode(
        [
            (name, value)
            for name in PAGE_PARAMETERS
            for value in request.GET.getlist(name)
        ]
    )


def page_key(request) -> str:
    """Where a page is kept: its address and the reader's consent state.

    Of the query string only PAGE_PARAMETERS count: 1,000 addresses that
    differ by a tracking parameter are one page, kept once. `get_host()` also
    refuses a Host header not in ALLOWED_HOSTS (400), as CommonMiddleware
    would, before anything is served.
    """
    url = (
        f"{request.scheme}://{request.get_host()}{request.path}?{_page_query(request)}"
    )
    digest = hashlib.sha256(url.encode()).hexdigest()  # any URL makes a valid key
    return f"pages:{get_state(request).cache_key}:{digest}"


def _without_other_parameters(request):
    """Make the request's query string only PAGE_PARAMETERS, so that the page
    rendered (pagination links, the consent form's return address) is the
    same page a cache hit for its key serves."""
    query = _page_query(request)
    if query != request.META.get("QUERY_STRING", ""):
        request.META["QUERY_STRING"] = query
        request.GET = QueryDict(query)


def _public(response):
    """Readers' pages: shareable by browsers and a CDN keyed on the cookies."""
    patch_cache_control(response, **settings.PUBLIC_CACHE_CONTROL)
    response["CDN-Cache-Control"] = settings.CDN_CACHE_CONTROL
    patch_vary_headers(response, ["Cookie"])
    return response


def _private(response):
    """A response carrying one reader's cookie: no browser or CDN shares it."""
    response.headers.pop("CDN-Cache-Control", None)
    response["Cache-Control"] = "private"
    return response


def _is_staff(request):
    # Staff sign in, so they carry a session cookie; readers never get one.
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def cache_public_page(view):
    """Mark a view's answers to anonymous readers as public and cacheable.

    PageCacheMiddleware stores only responses so marked. Staff get a private,
    never-cached page; an error, or a page that sets a cookie of this reader's,
    is private too.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method in ("GET", "HEAD"):
            _without_other_parameters(request)
        response = view(request, *args, **kwargs)
        if request.method not in ("GET", "HEAD"):
            return response
        if _is_staff(request):
            # Staff: never from the cache, never into it, never kept by a CDN.
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
            return response
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code != 200 or response.cookies:
            # An error, or a cookie of this reader's: nothing to share.
            patch_cache_control(response, private=True)
            return response
        response.page_cacheable = True
        response[MARK] = "miss"
        return _public(response)

    return wrapped


def _clean_cookies(request, response):
    """What the site's cookie-cleaning middleware does, for a hit that skipped it."""
    if request.COOKIES:  # none to delete otherwise
        CleanCookiesMiddleware(lambda request: response)(request)


class PageCacheMiddleware:
    """Serve cached public pages early; store the pages views marked cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        timeout = settings.PAGE_CACHE_SECONDS
        if not timeout or request.method not in ("GET", "HEAD") or _is_staff(request):
            return self.get_response(request)
        key = page_key(request)
        hot = HotPages.enabled()
        if hot:
            entry, trusted = hot_pages.lookup(key)
            if entry is not None:
                return self._hit(request, entry)
        else:
            trusted = None
        version, entry = _version_and(key, trusted)
        if entry is not None and entry[0] == version:
            if hot:
                hot_pages.keep(key, version, entry, timeout)
            return self._hit(request, entry)
        response = self.get_response(request)
        if (
            getattr(response, "page_cacheable", False)
            and request.method == "GET"
            and response.status_code == 200
        ):
            if response.cookies:  # e.g. one set by a middleware: this reader's
                return _private(response)
            if not response.has_header("ETag"):
                set_response_etag(response)  # stored, so a hit need not hash again
            headers = [(k, v) for k, v in response.items() if k != MARK]
            on_hit = getattr(response, "on_cache_hit", None)
            entry = (version, response.content, headers, on_hit)
            cache.set(key, entry, timeout)
            if hot:
                hot_pages.keep(key, version, entry, timeout)
        return response

    def _hit(self, request, entry):
        _, content, headers, on_hit = entry
        response = HttpResponse(content)
        for name, value in headers:
            response[name] = value
        response[MARK] = "hit"
        if on_hit:
            on_hit[0](request, response, *on_hit[1:])
        _clean_cookies(request, response)
        if response.cookies:  # e.g. a new analytics id: this reader's alone
            return _private(response)
        return response


def _connect():
    from cookie_consent.models import Cookie, CookieGroup
    from taggit.models import Tag

    from . import models

    for model in (
        models.Article,
        models.Author,
        models.Byline,
        models.Correction,
        models.Figure,
        models.Image,
        models.RelatedLink,
        models.TaggedArticle,
        Tag,
        Cookie,
        CookieGroup,
    ):
        post_save.connect(bump_version, sender=model, dispatch_uid=f"pages-{model}")
        post_delete.connect(bump_version, sender=model, dispatch_uid=f"pages-d-{model}")
    m2m_changed.connect(bump_version, dispatch_uid="pages-m2m")


_connect()
