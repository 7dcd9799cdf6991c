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
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.utils.cache import (
    patch_cache_control,
    patch_vary_headers,
    set_response_etag,
)

from briefings.consent.cookies import CleanCookiesMiddleware, get_state
from briefings.core.freshness import (
    HotPages,
    hot_pages,
    version_and,
)

MARK = "X-Page-Cache"

#: Part of every page key: raise it whenever what an entry holds changes shape,
#: so a deploy never reads entries an older release wrote.
FORMAT_VERSION = 2

#: What may run when a cached page is served (e.g. count a read), by name: an
#: entry stores the name and its arguments, never a pickled callable, so
#: entries survive a deploy that moves or renames code.
HIT_HOOKS = {}


def register_hit_hook(name, function):
    """`function(request, response, *args)` runs on cache hits of pages that
    asked for `name` (see call_on_hit). Registered in briefings/signals.py."""
    HIT_HOOKS[name] = function


def call_on_hit(response, name, *args):
    """Ask that `HIT_HOOKS[name](request, response, *args)` runs when this
    page is served from the cache."""
    if name not in HIT_HOOKS:
        raise KeyError(f"No page-cache hit hook named {name!r}")
    response.on_cache_hit = (name, *args)


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
    return f"pages:{FORMAT_VERSION}:{get_state(request).cache_key}:{digest}"


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


def private_to_reader(response):
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
        version, entry = version_and(key, trusted)
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
                return private_to_reader(response)
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
            hook = HIT_HOOKS.get(on_hit[0])
            if hook is not None:  # a hook since removed: serve the page anyway
                hook(request, response, *on_hit[1:])
        _clean_cookies(request, response)
        if response.cookies:  # e.g. a new analytics id: this reader's alone
            return private_to_reader(response)
        return response
