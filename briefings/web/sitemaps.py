"""Sitemaps (django.contrib.sitemaps), a Google News sitemap and robots.txt.

Every URL is absolute on settings.SITE_URL: a request's Host header never
reaches a sitemap.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.db.models import F, Max
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from briefings.core.seo import absolute, site_domain, site_protocol
from briefings.core.textsafety import xml_safe
from briefings.stories.models import Article, AuthorUsage, TagUsage

NEWS_HOURS = 48
NEWS_LIMIT = 1000
STORIES_PER_PAGE = 5000  # ids per page of /sitemap-stories.xml (at most 50,000)


class SiteSitemap(Sitemap):
    """A sitemap on the configured site address, not the request's host."""

    def get_domain(self, site=None):
        return site_domain()

    def get_protocol(self, protocol=None):
        return site_protocol()


def latest_story_change(now=None):
    """The newest publication or update time of a live story: one query that
    reads the first row of two indexes (published_at, updated_at)."""
    now = timezone.now() if now is None else now
    times = Article.objects.published(now).aggregate(
        published=Max("published_at"), updated=Max("updated_at")
    )
    moments = [t for t in times.values() if t is not None and t <= now]
    return max(moments, default=None)


class CountedSitemap(SiteSitemap):
    """Tags or authors with live stories, from their kept counts (Usage)."""

    changefreq = "daily"
    usage = None

    def items(self):
        self.now = timezone.now()
        target = self.usage._meta.pk.related_model
        return (
            self.usage.with_live(target.objects.all(), "live", self.now)
            .filter(live__gt=0)
            .annotate(latest=F("usage__latest"))
            .order_by("name", "pk")
        )

    def lastmod(self, item):
        # The newest story's time; never later than now (a scheduled story's).
        return min(item.latest, self.now) if item.latest else None


class TagSitemap(CountedSitemap):
    usage = TagUsage

    def location(self, tag):
        return reverse("briefings:tag-detail", args=[tag.slug])


class AuthorSitemap(CountedSitemap):
    usage = AuthorUsage


class PageSitemap(SiteSitemap):
    changefreq = "hourly"

    def items(self):
        return ["briefings:home", "briefings:corrections"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        if not hasattr(self, "_latest"):
            self._latest = latest_story_change()
        return self._latest


SITEMAPS = {
    "pages": PageSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}


def story_sitemap_pages():
    """How many pages /sitemap-stories.xml has: one per STORIES_PER_PAGE ids."""
    highest = Article.objects.aggregate(highest=Max("pk"))["highest"] or 0
    return max(1, -(-highest // STORIES_PER_PAGE))


@x_robots_tag
def sitemap_index(request):
    """The index of every section's sitemap pages."""
    items = []
    for section, sitemap_class in SITEMAPS.items():
        sitemap = sitemap_class()
        url = absolute(reverse("briefings:sitemap-section", args=[section]))
        lastmod = sitemap.get_latest_lastmod()
        items.append(SitemapIndexItem(url, lastmod))
        items.extend(
            SitemapIndexItem(f"{url}?p={page}", lastmod)
            for page in range(2, sitemap.paginator.num_pages + 1)
        )
    url = absolute(reverse("briefings:sitemap-stories"))
    lastmod = latest_story_change()
    items.append(SitemapIndexItem(url, lastmod))
    items.extend(
        SitemapIndexItem(f"{url}?p={page}", lastmod)
        for page in range(2, story_sitemap_pages() + 1)
    )
    return render(
        request,
        "sitemap_index.xml",
        {"sitemaps": items},
        content_type="application/xml",
    )


@x_robots_tag
def story_sitemap(request):
    """Live stories, page `?p=N` holding those with ids in the Nth block of
    STORIES_PER_PAGE: one range read of the primary key per page, however
    large the archive (a page may hold fewer, drafts being left out).

    Written without the template engine: at thousands of URLs a page, a
    template's per-URL work was most of the time.
    """
    try:
        page = int(request.GET.get("p", "1"))
    except ValueError:
        raise Http404("No such sitemap page.") from None
    if not 1 <= page <= story_sitemap_pages():
        raise Http404("No such sitemap page.")
    stories = (
        Article.objects.published()
        .filter(pk__gt=(page - 1) * STORIES_PER_PAGE, pk__lte=page * STORIES_PER_PAGE)
        .order_by("pk")
        .values_list("slug", "published_at", "updated_at")
    )
    placeholder = "0"
    prefix, suffix = absolute(
        reverse("briefings:article-detail", args=[placeholder])
    ).rsplit(placeholder, 1)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    ]
    localtime = timezone.localtime
    for slug, published_at, updated_at in stories:
        lastmod = localtime(updated_at or published_at).isoformat()
        parts.append(
            f"<url><loc>{escape(prefix + slug + suffix)}</loc>"
            f"<lastmod>{lastmod}</lastmod><changefreq>hourly</changefreq></url>\n"
        )
    parts.append("</urlset>\n")
    return HttpResponse("".join(parts), content_type="application/xml")


@x_robots_tag
def news_sitemap(request):
    """Google News: stories of the last 48 hours, at most 1,000."""
    since = timezone.now() - timedelta(hours=NEWS_HOURS)
    stories = (
        Article.objects.published()
        .filter(published_at__gte=since)
        .only("headline", "slug", "published_at")
        .order_by("-published_at", "-pk")[:NEWS_LIMIT]
    )
    return render(
        request,
        "briefings/news_sitemap.xml",
        {
            "stories": [
                (absolute(story.get_absolute_url()), xml_safe(story.headline), story)
                for story in stories
            ],
            "publication": xml_safe(settings.SITE_NAME),
            "language": settings.SITE_LANGUAGE,
        },
        content_type="application/xml",
    )


def robots_txt(request):
    """Crawlers may read everything public. The admin is not named here (its
    address may be a secret worth keeping); its pages say noindex themselves."""
    lines = [
        "User-agent: *",
        "Disallow: /preview/",
        "Disallow: /cookies/consent/",
        "",
        f"Sitemap: {absolute(reverse('briefings:sitemap'))}",
        f"Sitemap: {absolute(reverse('briefings:news-sitemap'))}",
        "",
    ]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
