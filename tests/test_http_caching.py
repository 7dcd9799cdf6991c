"""HTTP caching: validators, what browsers and CDNs may keep, static files."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import ArticleFactory, BylineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    story = ArticleFactory(published=True)
    BylineFactory(article=story)
    return story


def test_a_matching_etag_gets_304_not_modified(client, story):
    first = client.get(story.get_absolute_url())
    etag = first["ETag"]
    again = client.get(story.get_absolute_url(), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    story.headline = "A new headline"
    story.save()
    changed = client.get(story.get_absolute_url(), headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_browsers_revalidate_and_a_cdn_may_keep_pages_briefly(client, story):
    for url in [reverse("briefings:home"), story.get_absolute_url()]:
        response = client.get(url)
        cache_control = response["Cache-Control"]
        # Browsers revalidate every time (so new stories show at once) ...
        assert "public" in cache_control and "max-age=0" in cache_control
        assert "must-revalidate" in cache_control
        # ... while a CDN may keep the page a minute and serve it stale a while.
        assert "s-maxage=60" in cache_control
        cdn = response["CDN-Cache-Control"]
        assert cdn == "max-age=60, stale-while-revalidate=300"
        assert "Cookie" in response["Vary"]


def test_staff_pages_are_private_and_never_cached(story):
    client = Client()
    client.force_login(User.objects.create_superuser("ed", password="long-enough-pw-1"))
    response = client.get(story.get_absolute_url())
    assert "private" in response["Cache-Control"]
    assert "no-cache" in response["Cache-Control"]
    assert "X-Page-Cache" not in response


def test_not_found_is_not_marked_public(client):
    response = client.get(reverse("briefings:article-detail", args=["nope"]))
    assert response.status_code == 404
    assert "public" not in response.get("Cache-Control", "")


def test_static_files_are_hashed_immutable_and_precompressed(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
    }
    settings.WHITENOISE_AUTOREFRESH = False
    settings.WHITENOISE_USE_FINDERS = False
    call_command("collectstatic", "--no-input", verbosity=0)
    css = sorted(tmp_path.glob("css/site.*.css"))
    hashed = next(p for p in css if p.suffix == ".css")
    assert (tmp_path / "css" / f"{hashed.name}.gz").exists()
    assert (tmp_path / "css" / f"{hashed.name}.br").exists()
    client = Client()
    response = client.get(
        f"/static/css/{hashed.name}", headers={"Accept-Encoding": "br"}
    )
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert response["Content-Encoding"] == "br"


def test_a_page_that_sets_a_readers_cookie_is_never_public(story):
    """A cached page served with a new analytics id is private to that reader."""
    Client().get(story.get_absolute_url())  # fills the cache for undecided readers
    reader = Client()
    reader.post(
        reverse("briefings:consent"),
        {"choice": "accept_all"},
        headers={"Origin": "http://testserver"},
    )
    first = reader.get(story.get_absolute_url())
    assert "briefings_reader" in first.cookies
    assert "public" not in first["Cache-Control"]
    assert reader.get(story.get_absolute_url())["X-Page-Cache"] == "miss"  # stored
    other = Client()
    other.cookies = reader.cookies  # the same consent state, cookie-less otherwise
    del other.cookies["briefings_reader"]
    second = other.get(story.get_absolute_url())
    assert second["X-Page-Cache"] == "hit"
    assert "briefings_reader" in second.cookies
    assert "private" in second["Cache-Control"]
