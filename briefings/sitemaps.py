"""Sitemaps (django.contrib.sitemaps), a Google News sitemap and robots.txt.

Every URL is absolute on settings.SITE_URL: a request's Host header never
reaches a sitemap.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps.views import SitemapIndexItem, x_robots_tag
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from .models import Article, Author
from .seo import absolute, site_domain, site_protocol
from .textsafety import xml_safe

NEWS_HOURS = 48
NEWS_LIMIT = 1000


class SiteSitemap(Sitemap):
    """A sitemap on the configured site address, not the request's host."""

    def get_domain(self, site=None):
        return site_domain()

    def get_protocol(self, protocol=None):
        return site_protocol()


class StorySitemap(SiteSitemap):
    changefreq = "hourly"

    def items(self):
        return (
            Article.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at", "-pk")
        )

    def lastmod(self, story):
        return story.updated_at or story.published_at


class TagSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        return (
            Tag.objects.filter(
                briefings_taggedarticle_items__content_object__in=(
                    Article.objects.published().values("pk")
                )
            )
            .annotate(
                latest=Max(
                    "briefings_taggedarticle_items__content_object__published_at"
                )
            )
            .order_by("name", "pk")
        )

    def location(self, tag):
        return reverse("briefings:tag-detail", args=[tag.slug])

    def lastmod(self, tag):
        return tag.latest


class AuthorSitemap(SiteSitemap):
    changefreq = "daily"

    def items(self):
        return (
            Author.objects.filter(
                bylines__article__in=Article.objects.published().values("pk")
            )
            .annotate(latest=Max("bylines__article__published_at"))
            .order_by("name", "pk")
        )

    def lastmod(self, author):
        return author.latest


class PageSitemap(SiteSitemap):
    changefreq = "hourly"

    def items(self):
        return ["briefings:home", "briefings:corrections"]

    def location(self, name):
        return reverse(name)

    def lastmod(self, name):
        return Article.objects.published().aggregate(latest=Max("published_at"))[
            "latest"
        ]


SITEMAPS = {
    "pages": PageSitemap,
    "stories": StorySitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}


@x_robots_tag
def sitemap_index(request):
    """The index of every section's sitemap pages (a section holds 50,000 URLs)."""
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
    return render(
        request,
        "sitemap_index.xml",
        {"sitemaps": items},
        content_type="application/xml",
    )


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
