"""The page cache served from its middleware: a hit is the miss, byte for byte.

Hits are answered before the session, CSRF, auth, messages, CSP and cookie
consent middleware run, so they must carry the headers those layers added to
the miss, and must still never reach staff, mix consent states, skip counting a
read or serve a Host the site does not answer to.
"""

import pickle
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.http import HttpResponse
from django.template import engines
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from pytest_django.asserts import assertContains

from briefings.models import Article, FigurePlace, StoryDay, cards
from briefings.web import pagecache
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    CorrectionFactory,
    FigureFactory,
    RelatedLinkFactory,
)

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"Origin": "http://testserver"}


def choose(client, choice):
    client.post(reverse("briefings:consent"), {"choice": choice}, headers=SAME_ORIGIN)


@pytest.fixture
def story():
    story = ArticleFactory(published=True, headline="Talks resume")
    BylineFactory(article=story)
    story.tags.add("Armenia")
    return story


def pages(story):
    tag = story.tags.get()
    return [
        reverse("briefings:home"),
        story.get_absolute_url(),
        reverse("briefings:tag-detail", args=[tag.slug]),
        reverse("briefings:tag-list"),
        story.byline_authors[0].get_absolute_url(),
    ]


def test_a_hit_is_the_same_response_as_the_miss(client, story):
    for url in pages(story):
        miss = client.get(url)
        hit = client.get(url)
        assert (miss["X-Page-Cache"], hit["X-Page-Cache"]) == ("miss", "hit"), url
        assert hit.content == miss.content
        headers = {k: v for k, v in miss.items() if k != "X-Page-Cache"}
        assert {k: v for k, v in hit.items() if k != "X-Page-Cache"} == headers
        # The security headers that middleware after the cache adds are there.
        assert "script-src 'self'" in hit["Content-Security-Policy"]
        assert hit["X-Frame-Options"] == "DENY"
        assert hit["Referrer-Policy"] == "same-origin"
        assert "Cookie" in hit["Vary"]
        assert hit["ETag"] == miss["ETag"]
        assert not hit.cookies


def test_a_hit_answers_a_conditional_request_with_304(client, story):
    url = story.get_absolute_url()
    etag = client.get(url)["ETag"]
    assert client.get(url)["X-Page-Cache"] == "hit"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_staff_are_never_served_nor_stored(story):
    url = story.get_absolute_url()
    staff = Client()
    staff.force_login(User.objects.create_superuser("ed", password="long-pass-1234"))
    first = staff.get(url)  # staff first: nothing of theirs may be stored
    assert "X-Page-Cache" not in first
    assert Client().get(url)["X-Page-Cache"] == "miss"
    assert Client().get(url)["X-Page-Cache"] == "hit"
    again = staff.get(url)
    assert "X-Page-Cache" not in again
    assert "private" in again["Cache-Control"] and "no-cache" in again["Cache-Control"]


def test_consent_states_never_share_a_stored_page(story):
    url = story.get_absolute_url()
    undecided, accepting, rejecting = Client(), Client(), Client()
    accepting.post(
        reverse("briefings:consent"), {"choice": "accept_all"}, headers=SAME_ORIGIN
    )
    rejecting.post(
        reverse("briefings:consent"), {"choice": "reject_all"}, headers=SAME_ORIGIN
    )
    assert undecided.get(url)["X-Page-Cache"] == "miss"
    # Each other state is a miss the first time, though a page is stored.
    accepting.get(url)  # sets the analytics id: private, not stored
    assert accepting.get(url)["X-Page-Cache"] == "miss"
    assert rejecting.get(url)["X-Page-Cache"] == "miss"
    assert 'id="consent-banner"' in undecided.get(url).content.decode()
    for reader in (accepting, rejecting):
        response = reader.get(url)
        assert response["X-Page-Cache"] == "hit"
        assert 'id="consent-banner"' not in response.content.decode()


def test_every_hit_counts_a_read(settings, story):
    settings.READS_FLUSH_SECONDS = 0
    url = story.get_absolute_url()
    for _ in range(3):
        Client().get(url)
    assert StoryDay.objects.get(article=story).views == 3


def test_a_hit_deletes_cookies_of_groups_the_reader_declined(story):
    """What the cookie-consent middleware does on a miss, a hit does too."""
    url = story.get_absolute_url()
    reader = Client()
    reader.post(
        reverse("briefings:consent"), {"choice": "reject_all"}, headers=SAME_ORIGIN
    )
    reader.get(url)
    assert reader.get(url)["X-Page-Cache"] == "hit"
    reader.cookies["vuid"] = "set-by-vimeo"  # an Embeds cookie, declined
    response = reader.get(url)
    assert response["X-Page-Cache"] == "hit"
    assert response.cookies["vuid"]["max-age"] == 0
    assert response["Cache-Control"] == "private"
    assert "CDN-Cache-Control" not in response


def test_pages_for_another_host_are_refused_not_served(client, settings, story):
    settings.ALLOWED_HOSTS = ["testserver", "www.example.org"]
    url = story.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    other = client.get(url, headers={"Host": "www.example.org"})
    assert other["X-Page-Cache"] == "miss"  # each host has its own copy
    # ...whose absolute links still name the configured site, not the Host.
    assertContains(other, f'<link rel="canonical" href="{settings.SITE_URL}/stories/')
    assert client.get(url, headers={"Host": "evil.example"}).status_code == 400


def test_a_page_stored_before_an_edit_is_never_served_after_it(client, story):
    url = story.get_absolute_url()
    client.get(url)
    Article.objects.filter(pk=story.pk).update(headline="Quietly changed")
    assert client.get(url)["X-Page-Cache"] == "hit"  # no signal: still cached
    AuthorFactory()  # any content save bumps the version
    response = client.get(url)
    assert response["X-Page-Cache"] == "miss"
    assertContains(response, "Quietly changed")


def test_pages_not_marked_cacheable_are_never_stored(client):
    for _ in range(2):
        response = client.get(reverse("briefings:privacy"))
        assert "X-Page-Cache" not in response


# --- The uncached render path -------------------------------------------------


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/London", "Asia/Kolkata", "America/St_Johns"]
)
def test_story_time_writes_what_the_date_filters_wrote(settings, zone):
    settings.TIME_ZONE = zone
    engine = engines["django"]
    before = engine.from_string(
        '<time datetime="{{ t|date:\'c\' }}">{{ t|date:"H:i, d-M-Y" }}</time>'
    )
    after = engine.from_string("{% load story_time %}{{ t|story_time }}")
    with timezone.override(zone):
        for moment in [
            datetime(2024, 1, 5, 0, 3, tzinfo=UTC),
            datetime(2023, 6, 30, 23, 59, 59, 123456, tzinfo=UTC),
            datetime(999, 12, 31, 12, 0, tzinfo=UTC),
        ]:
            assert after.render({"t": moment}) == before.render({"t": moment})
    assert after.render({"t": None}) == ""


def test_story_time_follows_the_language_of_each_request():
    """The month is translated once per language, and each language gets its own."""
    engine = engines["django"]
    before = engine.from_string('{{ t|date:"H:i, d-M-Y" }}')
    after = engine.from_string("{% load story_time %}{{ t|story_time }}")
    moment = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)
    for language in ["de", "en", "fr", "de"]:
        with translation.override(language):
            expected = before.render({"t": moment})
            assert f">{expected}</time>" in after.render({"t": moment})
    with translation.override("de"):
        assert "05-Mär-2024" in after.render({"t": moment})


def test_with_detail_loads_the_same_rows_as_the_relations(
    django_assert_num_queries, story
):
    BylineFactory(article=story, position=2)
    BylineFactory(article=story, position=1)
    FigureFactory(article=story, position=2)
    FigureFactory(article=story, position=1)
    RelatedLinkFactory(article=story, title="Background", url="https://example.org/")
    story.tags.add("Russia")
    CorrectionFactory(article=story)
    plain = Article.objects.get(pk=story.pk)  # its relations, queried one by one
    expected = {
        name: list(getattr(plain, name).all())
        for name in ["figures", "tags", "related_links", "corrections"]
    }
    authors = [byline.author for byline in plain.bylines.all()]
    assert authors
    with django_assert_num_queries(6):
        loaded = Article.objects.get(pk=story.pk).with_detail()
    with django_assert_num_queries(0):
        for name, rows in expected.items():
            assert list(getattr(loaded, name).all()) == rows, name
        assert [a.name for a in loaded.byline_authors] == [a.name for a in authors]


def test_a_related_link_to_a_story_follows_that_story(client, story):
    live = ArticleFactory(published=True, headline="Ceasefire holds")
    draft = ArticleFactory(headline="Not out yet")
    namesake = ArticleFactory(published=True, headline="Earlier talks")
    RelatedLinkFactory(article=story, title="Read: the ceasefire", story=live)
    RelatedLinkFactory(
        article=story, title="Draft with a web page", story=draft, url="https://e.org/"
    )
    RelatedLinkFactory(article=story, title="Earlier talks", story=draft)
    RelatedLinkFactory(article=story, title="Nowhere", story=draft)
    RelatedLinkFactory(article=story, title="This story itself", story=story)
    response = client.get(story.get_absolute_url())
    assertContains(response, f'<a href="{live.get_absolute_url()}">Read: the ceasefire')
    assertContains(response, '<a href="https://e.org/">Draft with a web page</a>')
    assertContains(response, f'<a href="{namesake.get_absolute_url()}">Earlier talks')
    assertContains(response, f'<a href="{story.get_absolute_url()}">This story itself')
    assert "Nowhere" not in response.content.decode()


def test_cards_load_what_for_listing_loads(django_assert_num_queries):
    for n in range(3):
        story = ArticleFactory(published=True)
        for _ in range(n):
            BylineFactory(article=story)
        if n:
            FigureFactory(article=story, place=FigurePlace.HERO)
        FigureFactory(article=story, place=FigurePlace.BODY)
    expected = list(Article.objects.published().for_listing())
    with django_assert_num_queries(3):
        loaded = cards(list(Article.objects.published()))
    with django_assert_num_queries(0):
        assert [c.pk for c in loaded] == [e.pk for e in expected]
        for card, story in zip(loaded, expected, strict=True):
            assert card.byline_authors == story.byline_authors
            assert card.hero == story.hero
            assert card.hero is None or card.hero.place == FigurePlace.HERO
    assert cards([]) == []


def test_a_figure_is_sized_from_the_database_not_its_file(client, settings, tmp_path):
    from tests.test_models import _png

    settings.MEDIA_ROOT = tmp_path
    story = ArticleFactory(published=True, body="Text.")
    figure = FigureFactory(article=story, upload=_png(), alt_text="A pixel")
    image = figure.library_image
    assert (image.width, image.height) == (1, 1)
    image.file.storage.delete(image.file.name)  # a page must not need it
    response = client.get(story.get_absolute_url())
    assertContains(response, 'alt="A pixel" width="1" height="1"')


def test_a_stored_page_names_its_hit_hook_instead_of_pickling_code(
    monkeypatch, settings, story
):
    """An entry survives a deploy that moves code: it holds plain data only."""
    settings.READS_FLUSH_SECONDS = 0
    stored, real_set = [], cache.set

    def spy(key, value, *args, **kwargs):
        if key.startswith(f"pages:{pagecache.FORMAT_VERSION}:"):
            stored.append(value)
        return real_set(key, value, *args, **kwargs)

    monkeypatch.setattr(cache, "set", spy)
    url = story.get_absolute_url()
    Client().get(url)
    [entry] = stored
    assert entry[-1] == ("record-read", story.pk)
    assert b"briefings" not in pickle.dumps(entry)  # no module path of ours
    assert Client().get(url)[pagecache.MARK] == "hit"
    assert StoryDay.objects.get(article=story).views == 2


def test_a_hit_hook_since_removed_still_serves_the_page(monkeypatch, story):
    url = story.get_absolute_url()
    Client().get(url)
    monkeypatch.setattr(pagecache, "HIT_HOOKS", {})
    response = Client().get(url)
    assert response.status_code == 200
    assert response[pagecache.MARK] == "hit"
    assert "Talks resume" in response.content.decode()


def test_entries_of_an_older_format_are_never_read(monkeypatch, story):
    url = story.get_absolute_url()
    assert Client().get(url)[pagecache.MARK] == "miss"
    monkeypatch.setattr(pagecache, "FORMAT_VERSION", pagecache.FORMAT_VERSION + 1)
    assert Client().get(url)[pagecache.MARK] == "miss"


def test_asking_for_an_unknown_hit_hook_fails_at_once():
    with pytest.raises(KeyError, match="no-such-hook"):
        pagecache.call_on_hit(HttpResponse(), "no-such-hook")
