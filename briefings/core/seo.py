"""What search engines and social sites read: absolute URLs and structured data.

Absolute URLs are built from settings.SITE_URL, never from the request's Host
header, so a forged Host cannot end up in a feed, a sitemap or a JSON-LD block.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


def absolute(path: str) -> str:
    """An absolute URL on this site for a path ('/stories/x/')."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL + "/" + path.lstrip("/")


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).netloc


def site_protocol() -> str:
    return urlsplit(settings.SITE_URL).scheme or "https"


def hero_image_url(article) -> str | None:
    """The picture for Open Graph and X cards (the story's social image, else
    its hero): at least 1,200 px wide when it can be."""
    hero = article.promo_image
    if hero is None or not hero.has_picture:
        return None
    return absolute(hero.large_rendition()["url"])


def hero_image_object(article) -> dict | None:
    """schema.org ImageObject for the lead picture, with its caption and credit."""
    hero = article.hero
    if hero is None or not hero.has_picture:
        return None
    large = hero.large_rendition()
    data = {
        "@type": "ImageObject",
        "url": absolute(large["url"]),
        "width": large["width"],
        "height": large["height"],
        "caption": hero.shown_caption or None,
        "creditText": hero.shown_credit or None,
    }
    return {key: value for key, value in data.items() if value is not None}


def news_article(article) -> dict:
    """schema.org NewsArticle for a story page (every author, corrections...)."""
    url = absolute(article.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": article.headline,
        "datePublished": article.published_at.isoformat()
        if article.published_at
        else None,
        "dateModified": (article.updated_at or article.published_at).isoformat()
        if (article.updated_at or article.published_at)
        else None,
        "author": [
            {
                "@type": "Person",
                "name": author.name,
                "url": absolute(author.get_absolute_url()),
            }
            for author in article.byline_authors
        ],
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": absolute("/"),
        },
        "inLanguage": settings.SITE_LANGUAGE,
    }
    if article.standfirst:
        data["description"] = article.standfirst
    if article.dateline:
        data["locationCreated"] = {"@type": "Place", "name": article.dateline}
    image = hero_image_object(article)
    if image:
        data["image"] = [image]
    tags = [tag.name for tag in article.tags.all()]
    if tags:
        data["keywords"] = tags
    corrections = list(article.corrections.all())
    if corrections:
        data["correction"] = [
            {
                "@type": "CorrectionComment",
                "text": correction.text,
                "datePublished": correction.made_at.isoformat(),
            }
            for correction in corrections
        ]
    return {key: value for key, value in data.items() if value is not None}


def check_site_url(app_configs=None, **kwargs):
    """In production the public address must be set, and be HTTPS."""
    parts = urlsplit(settings.SITE_URL)
    if parts.scheme != "https" or parts.hostname in ("127.0.0.1", "localhost"):
        return [
            checks.Warning(
                f"BRIEFINGS_SITE_URL is {settings.SITE_URL!r}.",
                hint="Set BRIEFINGS_SITE_URL to the site's public https:// address: "
                "feeds, sitemaps, canonical links and emails are built on it.",
                id="briefings.W010",
            )
        ]
    return []
