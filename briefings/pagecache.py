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
"""

import hashlib
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.cache import (
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

from . import replicas
from .consent import CleanCookiesMiddleware, get_state

VERSION_KEY = "pages:version"
NEXT_LIVE_KEY = "pages:next-live"
MARK = "X-Page-Cache"


def bump_version(**kwargs):
    """Make every cached page stale at once (on any content change).

    Three cache operations and no query, so saving content stays cheap even
    when thousands of rows arrive at once (loaddata, loadseed).
    """
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 1, None)
    cache.delete(NEXT_LIVE_KEY)
    replicas.content_changed()


def _next_live():
    """When the next scheduled story goes live (0: none is scheduled)."""
    from .models import Article, ArticleStatus

    upcoming = Article.objects.filter(
        status=ArticleStatus.PUBLISHED, published_at__gt=timezone.now()
    ).aggregate(next_live=Min("published_at"))["next_live"]
    return upcoming.timestamp() if upcoming else 0


def _version_and(key=None):
    """The current content version, and the cached value of `key` (or None).

    One cache round trip in the common case: the version, the time the next
    scheduled story goes live and the page are asked for together.
    """
    keys = [VERSION_KEY, NEXT_LIVE_KEY]
    values = cache.get_many(keys if key is None else [*keys, key])
    if NEXT_LIVE_KEY not in values:
        # Asked once per content change, not once per page.
        cache.set(NEXT_LIVE_KEY, _next_live(), None)
    elif values[NEXT_LIVE_KEY] and timezone.now().timestamp() >= values[NEXT_LIVE_KEY]:
        # A scheduled story has just gone live: every page may show it.
        bump_version()
        return current_version(), None
    if VERSION_KEY not in values:
        cache.add(VERSION_KEY, 1, None)
        return cache.get(VERSION_KEY, 1), None
    return values[VERSION_KEY], values.get(key)


def current_version() -> int:
    return _version_and()[0]


# The query parameters a cached page reads (page numbers of listings and
# sitemaps). Any other (utm_source, fbclid...) neither changes the page nor
# makes a cache entry of its own.
PAGE_PARAMETERS = ("p", "page", "q")


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
        version, entry = _version_and(key)
        if entry is not None and entry[0] == version:
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
            cache.set(key, (version, response.content, headers, on_hit), timeout)
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
