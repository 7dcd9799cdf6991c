"""Feeds, sitemaps, robots.txt and what search and social sites read on a story."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import FigurePlace
from briefings.web import sitemaps
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    CorrectionFactory,
    FigureFactory,
)

pytestmark = pytest.mark.django_db

SITE = "https://news.example.org"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]


def story(headline, *, author=None, tags=(), hours_ago=1, **kwargs):
    article = ArticleFactory(
        published=True,
        headline=headline,
        published_at=timezone.now() - timedelta(hours=hours_ago),
        **kwargs,
    )
    BylineFactory(article=article, author=author or AuthorFactory())
    if tags:
        article.tags.add(*tags)
    return article


def invisible_stories():
    """A draft, a story in review, a scheduled and a withdrawn one."""
    return [
        ArticleFactory(headline="Secret draft"),
        ArticleFactory(in_review=True, headline="Secret review"),
        ArticleFactory(scheduled=True, headline="Secret scheduled"),
        ArticleFactory(withdrawn=True, headline="Secret withdrawn"),
    ]


def xml(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return response, ET.fromstring(response.content)


# --- Feeds ---------------------------------------------------------------------


def test_rss_feed_lists_published_stories_newest_first_with_their_dates(client):
    old = story("Older story", hours_ago=5, standfirst="The older one.")
    new = story("Newer story", hours_ago=1, tags=["Armenia"])
    invisible_stories()
    response, feed = xml(client, reverse("briefings:feed-rss"))
    assert response["Content-Type"].startswith("application/rss+xml")
    items = feed.findall("./channel/item")
    assert [item.findtext("title") for item in items] == [new.headline, old.headline]
    first, second = items
    assert first.findtext("link") == SITE + new.get_absolute_url()
    assert parsedate_to_datetime(first.findtext("pubDate")) == (
        new.published_at.replace(microsecond=0)
    )
    assert first.findtext("category") == "Armenia"
    assert first.findtext("{http://purl.org/dc/elements/1.1/}creator") == (
        new.byline_authors[0].name
    )
    assert second.findtext("description") == "The older one."
    assertNotContains(response, "Secret")


def test_atom_feed_carries_updated_times(client):
    updated = timezone.now() - timedelta(minutes=10)
    article = story("Updated story", hours_ago=3, updated_at=updated)
    _response, feed = xml(client, reverse("briefings:feed-atom"))
    entry = feed.find("atom:entry", NS)
    assert entry.findtext("atom:title", namespaces=NS) == article.headline
    assert parse_datetime(entry.findtext("atom:updated", namespaces=NS)) == updated
    assert parse_datetime(entry.findtext("atom:published", namespaces=NS)) == (
        article.published_at
    )


def test_tag_and_author_feeds_hold_only_their_stories(client):
    louise = AuthorFactory(name="Louise Greenwood", slug="louise-greenwood")
    armenia = story("On Armenia", tags=["Armenia"], author=louise)
    story("On Georgia", tags=["Georgia"])
    hidden = ArticleFactory(withdrawn=True, headline="Withdrawn on Armenia")
    hidden.tags.add("Armenia")
    tag = armenia.tags.get()
    _r, tag_feed = xml(client, reverse("briefings:tag-feed-rss", args=[tag.slug]))
    assert [i.findtext("title") for i in tag_feed.findall("./channel/item")] == [
        "On Armenia"
    ]
    assert tag_feed.findtext("./channel/title") == "Briefings: Armenia"
    _r, author_feed = xml(
        client, reverse("briefings:author-feed-atom", args=["louise-greenwood"])
    )
    titles = [
        e.findtext("atom:title", namespaces=NS)
        for e in author_feed.findall("atom:entry", NS)
    ]
    assert titles == ["On Armenia"]
    assert client.get(reverse("briefings:tag-feed-rss", args=["nope"])).status_code == (
        404
    )


def test_feed_links_use_the_site_address_not_the_host_header(client):
    article = story("Host test")
    response, feed = xml(client, reverse("briefings:feed-rss"), Host="other.example")
    assert feed.findtext("./channel/item/link") == SITE + article.get_absolute_url()
    assertNotContains(response, "other.example")


def test_pages_link_their_feeds(client):
    article = story("Linked", tags=["Armenia"])
    author = article.byline_authors[0]
    tag = article.tags.get()
    home = client.get(reverse("briefings:home"))
    assertContains(home, 'type="application/rss+xml"')
    assertContains(home, f'href="{reverse("briefings:feed-atom")}"')
    assertContains(
        client.get(reverse("briefings:tag-detail", args=[tag.slug])),
        f'href="{reverse("briefings:tag-feed-rss", args=[tag.slug])}"',
    )
    assertContains(
        client.get(author.get_absolute_url()),
        f'href="{reverse("briefings:author-feed-atom", args=[author.slug])}"',
    )


# --- Sitemaps -----------------------------------------------------------------


def test_sitemap_index_and_story_sitemap_with_lastmod(client):
    updated = timezone.now() - timedelta(minutes=5)
    edited = story("Edited", updated_at=updated, tags=["Armenia"])
    plain = story("Plain", hours_ago=30)
    invisible_stories()
    response, index = xml(client, reverse("briefings:sitemap"), Host="other.example")
    locations = [loc.text for loc in index.findall("sm:sitemap/sm:loc", NS)]
    assert SITE + "/sitemap-stories.xml" in locations
    assert all(loc.startswith(SITE) for loc in locations)
    assertNotContains(response, "other.example")

    response, urlset = xml(client, "/sitemap-stories.xml")
    entries = {
        url.findtext("sm:loc", namespaces=NS): url.findtext("sm:lastmod", namespaces=NS)
        for url in urlset.findall("sm:url", NS)
    }
    assert set(entries) == {
        SITE + edited.get_absolute_url(),
        SITE + plain.get_absolute_url(),
    }
    assert parse_datetime(entries[SITE + edited.get_absolute_url()]) == updated
    assert parse_datetime(entries[SITE + plain.get_absolute_url()]) == (
        plain.published_at
    )
    tags = xml(client, "/sitemap-tags.xml")[1]
    assert [
        u.findtext("sm:loc", namespaces=NS) for u in tags.findall("sm:url", NS)
    ] == [SITE + reverse("briefings:tag-detail", args=["armenia"])]
    authors = xml(client, "/sitemap-authors.xml")[1]
    assert len(authors.findall("sm:url", NS)) == 2  # the secret stories' authors not
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_news_sitemap_holds_the_last_48_hours(client, monkeypatch):
    fresh = story("Fresh story", hours_ago=2)
    story("Two days old", hours_ago=49)
    invisible_stories()
    response, urlset = xml(client, reverse("briefings:news-sitemap"))
    urls = urlset.findall("sm:url", NS)
    assert [u.findtext("sm:loc", namespaces=NS) for u in urls] == [
        SITE + fresh.get_absolute_url()
    ]
    news = urls[0].find("news:news", NS)
    assert news.findtext("news:publication/news:name", namespaces=NS) == "Briefings"
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:title", namespaces=NS) == "Fresh story"
    assert parse_datetime(news.findtext("news:publication_date", namespaces=NS)) == (
        fresh.published_at
    )
    monkeypatch.setattr(sitemaps, "NEWS_LIMIT", 2)
    for n in range(3):
        story(f"Another {n}")
    # Another URL, so the page cached above does not answer.
    _r, urlset = xml(client, reverse("briefings:news-sitemap") + "?limit")
    assert len(urlset.findall("sm:url", NS)) == 2


def test_robots_txt_points_at_the_sitemaps(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert f"Sitemap: {SITE}/sitemap.xml" in text
    assert f"Sitemap: {SITE}/sitemap-news.xml" in text
    assert "admin" not in text  # the admin's address is not advertised
    assert "Disallow: /preview/" in text


# --- Story pages: canonical, Open Graph, JSON-LD ------------------------------------


def json_ld(response):
    html = response.content.decode()
    blocks = re.findall(
        r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL
    )
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_story_page_tells_search_and_social_sites_about_itself(client):
    louise = AuthorFactory(name="Louise Greenwood", slug="louise-greenwood")
    ani = AuthorFactory(name="Ani Avetisyan", slug="ani-avetisyan")
    article = story(
        "Armenia pivots west",
        author=louise,
        tags=["Armenia", "Russia"],
        standfirst="Yerevan reassesses its ties.",
        dateline="Yerevan",
        updated_at=timezone.now(),
    )
    BylineFactory(article=article, author=ani)
    correction = CorrectionFactory(article=article, text="The vote was on 3 May.")
    article.refresh_from_db()
    response = client.get(article.get_absolute_url(), headers={"Host": "other.example"})
    url = SITE + article.get_absolute_url()
    assertContains(response, f'<link rel="canonical" href="{url}">')
    assertContains(response, f'<meta property="og:url" content="{url}">')
    assertContains(response, '<meta property="og:title" content="Armenia pivots west">')
    assertContains(response, '<meta property="og:type" content="article">')
    assertContains(response, 'content="max-image-preview:large"')
    assertContains(response, '<meta name="twitter:card" content="summary">')
    assertContains(response, '<meta property="article:tag" content="Russia">')
    assertNotContains(response, "other.example")

    data = json_ld(response)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == "Armenia pivots west"
    assert data["description"] == "Yerevan reassesses its ties."
    assert data["author"] == [
        {
            "@type": "Person",
            "name": "Louise Greenwood",
            "url": SITE + "/authors/louise-greenwood/",
        },
        {
            "@type": "Person",
            "name": "Ani Avetisyan",
            "url": SITE + "/authors/ani-avetisyan/",
        },
    ]
    assert parse_datetime(data["datePublished"]) == article.published_at
    assert parse_datetime(data["dateModified"]) == article.updated_at
    assert data["locationCreated"] == {"@type": "Place", "name": "Yerevan"}
    assert sorted(data["keywords"]) == ["Armenia", "Russia"]
    assert data["correction"] == [
        {
            "@type": "CorrectionComment",
            "text": "The vote was on 3 May.",
            "datePublished": correction.made_at.isoformat(),
        }
    ]
    assert data["mainEntityOfPage"]["@id"] == url
    assert "image" not in data  # a scraped story has captions but no image


def test_json_ld_names_the_hero_image_when_there_is_one(client, settings, tmp_path):
    from io import BytesIO

    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = BytesIO()
    Image.new("RGB", (1200, 675), "navy").save(buffer, "PNG")
    article = story("With a picture")
    FigureFactory(
        article=article,
        place=FigurePlace.HERO,
        upload=SimpleUploadedFile("hero.png", buffer.getvalue(), "image/png"),
        alt_text="The parliament building",
        caption="The parliament in Yerevan.",
        credit="Jane Photographer/Agency",
    )
    response = client.get(article.get_absolute_url())
    # Served as any library picture: the social crop around its focal point.
    image = article.figures.get().library_image
    social = next(c for c in image.crops if c["kind"] == "social")
    url = SITE + default_storage.url(social["name"])
    assert json_ld(response)["image"] == [
        {
            "@type": "ImageObject",
            "url": url,
            "width": 1200,
            "height": 630,
            "caption": "The parliament in Yerevan.",
            "creditText": "Jane Photographer/Agency",
        }
    ]
    assertContains(response, f'<meta property="og:image" content="{url}">')
    assertContains(response, '<meta name="twitter:card" content="summary_large_image">')


def test_a_headline_cannot_end_the_json_ld_block(client):
    headline = 'Breaking </script><script>alert("x")</script> & more'
    article = story(headline)
    response = client.get(article.get_absolute_url())
    assertNotContains(response, '<script>alert("x")')
    assert json_ld(response)["headline"] == headline


def test_previews_are_not_offered_to_search_engines(client, django_user_model):
    article = ArticleFactory(headline="Draft")
    BylineFactory(article=article)
    admin = django_user_model.objects.create_superuser("boss", password="x" * 16)
    client.force_login(admin)
    response = client.get(reverse("briefings:article-preview", args=[article.pk]))
    assertContains(response, '<meta name="robots" content="noindex, nofollow">')
    assertNotContains(response, "max-image-preview")


def test_deploy_check_asks_for_the_public_https_address(settings):
    from briefings.core.seo import check_site_url

    assert check_site_url() == []  # https://news.example.org
    settings.SITE_URL = "http://127.0.0.1:8000"
    [warning] = check_site_url()
    assert warning.id == "briefings.W010"
    assert "BRIEFINGS_SITE_URL" in warning.hint


def test_feeds_name_each_author_on_their_own(client):
    article = ArticleFactory(published=True, headline="Two bylines")
    for position, name in enumerate(["Louise Greenwood", "Ani Avetisyan"]):
        author = AuthorFactory(name=name)
        BylineFactory(article=article, author=author, position=position)
    _r, rss = xml(client, reverse("briefings:feed-rss"))
    creators = rss.findall("./channel/item/{http://purl.org/dc/elements/1.1/}creator")
    assert [c.text for c in creators] == ["Louise Greenwood", "Ani Avetisyan"]
    _r, atom = xml(client, reverse("briefings:feed-atom"))
    authors = atom.findall("atom:entry/atom:author", NS)
    assert [a.findtext("atom:name", namespaces=NS) for a in authors] == [
        "Louise Greenwood",
        "Ani Avetisyan",
    ]
    assert authors[1].findtext("atom:uri", namespaces=NS) == (
        SITE + "/authors/ani-avetisyan/"
    )
