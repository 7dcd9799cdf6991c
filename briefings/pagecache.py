"""Whole-page caching of public pages for anonymous readers.

A cached page is keyed on the URL, the reader's consent state (so readers who
decided differently never share a page, and nothing identifies a reader) and a
content version. Any save or delete of content bumps the version, and so does
the moment a scheduled story goes live: no page is ever served stale, and no
key is deleted one by one. Signed-in staff are never served, nor stored, from
this cache.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

from .consent import get_state

VERSION_KEY = "pages:version"
NEXT_LIVE_KEY = "pages:next-live"


def bump_version(**kwargs):
    """Make every cached page stale at once (on any content change).

    Two cache operations and no query, so saving content stays cheap even
    when thousands of rows arrive at once (loaddata, loadseed).
    """
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.add(VERSION_KEY, 1, None)
    cache.delete(NEXT_LIVE_KEY)


def _next_live():
    """When the next scheduled story goes live (0: none is scheduled)."""
    from .models import Article, ArticleStatus

    upcoming = Article.objects.filter(
        status=ArticleStatus.PUBLISHED, published_at__gt=timezone.now()
    ).aggregate(next_live=Min("published_at"))["next_live"]
    return upcoming.timestamp() if upcoming else 0


def current_version() -> int:
    values = cache.get_many([VERSION_KEY, NEXT_LIVE_KEY])
    if NEXT_LIVE_KEY not in values:
        # Asked once per content change, not once per page.
        cache.set(NEXT_LIVE_KEY, _next_live(), None)
    elif values[NEXT_LIVE_KEY] and timezone.now().timestamp() >= values[NEXT_LIVE_KEY]:
        # A scheduled story has just gone live: every page may show it.
        bump_version()
        return current_version()
    if VERSION_KEY not in values:
        cache.add(VERSION_KEY, 1, None)
        return cache.get(VERSION_KEY, 1)
    return values[VERSION_KEY]


def _public(response):
    """Readers' pages: shareable by browsers and a CDN keyed on the cookies."""
    patch_cache_control(response, **settings.PUBLIC_CACHE_CONTROL)
    response["CDN-Cache-Control"] = settings.CDN_CACHE_CONTROL
    patch_vary_headers(response, ["Cookie"])
    return response


def cache_public_page(view):
    """Serve anonymous GETs from the cache; store cacheable answers."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            # Staff: never from the cache, never into it, never kept by a CDN.
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True, no_cache=True)
            patch_vary_headers(response, ["Cookie"])
            return response
        timeout = settings.PAGE_CACHE_SECONDS
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"pages:{current_version()}:{get_state(request).cache_key}:{path}"
        hit = cache.get(key) if timeout else None
        if hit is not None:
            content, content_type, on_hit = hit
            response = HttpResponse(content, content_type=content_type)
            if on_hit:
                on_hit[0](request, response, *on_hit[1:])
            response["X-Page-Cache"] = "hit"
            if response.cookies:  # e.g. a new analytics id: this reader's alone
                patch_cache_control(response, private=True)
                return response
            return _public(response)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if response.status_code != 200 or response.cookies:
            # An error, or a cookie of this reader's: nothing to share.
            patch_cache_control(response, private=True)
            return response
        if timeout:
            on_hit = getattr(response, "on_cache_hit", None)
            cache.set(
                key, (response.content, response["Content-Type"], on_hit), timeout
            )
        response["X-Page-Cache"] = "miss"
        return _public(response)

    return wrapped


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
