"""Attack tests (issue 14): control characters in editor text, operator soup
in searches on PostgreSQL, a story too wordy for tag suggestions, and tracking
parameters bloating the page cache."""

import random
import string
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.asserts import assertContains
from taggit.models import Tag

from briefings.core.textsafety import clean_line, clean_text, xml_safe
from briefings.models import Article, Author, TagAlias
from briefings.search.engine import clean_query, search_articles
from briefings.web.pagecache import FORMAT_VERSION as FORMAT
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    CorrectionFactory,
    FigureFactory,
    RelatedLinkFactory,
)
from tests.test_admin import form_values, staff

pytestmark = pytest.mark.django_db

# Every control character the issue names, one of each kind.
CONTROLS = "\x0b\x0c\x01\x1b\x7f\x85\x9b\u202a\u202e\u2066\u2069"


# --- 3. Control characters and bidi overrides in editor text -----------------------


def test_clean_line_and_text_drop_controls_and_keep_what_makes_sense():
    # \x0b, \x0c and \x85 (next line) become spaces, the rest goes.
    assert clean_line(f"Ash{CONTROLS}cloud") == "Ash   cloud"
    assert clean_line("Two\r\nlines\tand a tab") == "Two lines and a tab"
    assert clean_text("Para one.\r\n\r\nPara\ttwo.\x0cThree") == (
        "Para one.\r\n\r\nPara\ttwo.\nThree"
    )
    assert clean_text("\u202eevil\u202c") == "evil"
    assert xml_safe("a\x00b\x0bc\ufffed\u202ee") == "abcde"


def feed_and_sitemap_urls(story, author, tag):
    return [
        reverse("briefings:feed-rss"),
        reverse("briefings:feed-atom"),
        reverse("briefings:tag-feed-rss", args=[tag.slug]),
        reverse("briefings:tag-feed-atom", args=[tag.slug]),
        reverse("briefings:author-feed-rss", args=[author.slug]),
        reverse("briefings:author-feed-atom", args=[author.slug]),
        reverse("briefings:sitemap"),
        reverse("briefings:news-sitemap"),
        *(
            reverse("briefings:sitemap-section", args=[section])
            for section in ("pages", "stories", "tags", "authors")
        ),
    ]


def test_feeds_and_sitemaps_stay_valid_xml_whatever_is_stored(client):
    """Values stored before the save-time cleaning (raw SQL, an old row) are
    filtered on the way out: every feed and sitemap answers 200 and parses."""
    story = ArticleFactory(published=True, headline="Ash cloud", standfirst="Ash")
    author = AuthorFactory(name="Louise Greenwood")
    BylineFactory(article=story, author=author)
    story.tags.add("Volcanoes")
    tag = Tag.objects.get(name="Volcanoes")
    # Behind the models' back, as an old row or a raw write would be.
    Article.objects.filter(pk=story.pk).update(
        headline=f"Ash{CONTROLS}cloud", standfirst=f"Ash{CONTROLS}"
    )
    Author.objects.filter(pk=author.pk).update(name="Louise\x0cGreenwood\x0b")
    Tag.objects.filter(pk=tag.pk).update(name="Volcanoes\x0b\u202e")
    cache.clear()
    for url in feed_and_sitemap_urls(story, author, tag):
        response = client.get(url)
        assert response.status_code == 200, url
        ET.fromstring(response.content)  # raises on invalid XML
    rss = ET.fromstring(client.get(reverse("briefings:feed-rss")).content)
    assert rss.find("channel/item/title").text == "Ashcloud"
    news = client.get(reverse("briefings:news-sitemap")).content.decode()
    assert "<news:title>Ashcloud</news:title>" in news


def test_every_model_save_strips_controls_from_editor_text():
    """Whatever writes the row (a form, a revert, a shell), text is clean."""
    story = ArticleFactory(
        headline=f"Ash{CONTROLS}cloud",
        standfirst="Line\x0bbreak",
        body=f"One.\n\nTwo\x0c{CONTROLS}",
        dateline="Reykjavik\u202e",
    )
    author = AuthorFactory(name="Louise\x0cGreenwood", bio="Bio\x0bhere\u2066")
    figure = FigureFactory(article=story, caption="Cap\x0btion", credit="Ag\x9bency")
    link = RelatedLinkFactory(article=story, title="Earlier\x0c\u202ecoverage")
    correction = CorrectionFactory(article=story, text="Fixed\x0bit.")
    story.tags.add("Iceland\x0b\u202e")
    alias = TagAlias.objects.create(
        name="Ice\x0cland", key="ice land", tag=Tag.objects.get()
    )
    for obj in (story, author, figure, link, correction, alias):
        obj.refresh_from_db()
    assert story.headline == "Ash   cloud"
    assert story.standfirst == "Line\nbreak"
    assert story.body == "One.\n\nTwo\n\n\n\n"
    assert story.dateline == "Reykjavik"
    assert (author.name, author.bio) == ("Louise Greenwood", "Bio\nhere")
    assert (figure.caption, figure.credit) == ("Cap\ntion", "Agency")
    assert link.title == "Earlier coverage"
    assert correction.text == "Fixed\nit."
    assert Tag.objects.get().name == "Iceland "
    assert alias.name == "Ice land"


def test_admin_forms_store_no_control_characters(client):
    """The story form with its inlines, the author form and the tag form."""
    client.force_login(staff("editor", "Editors"))
    response = client.post(
        reverse("admin:briefings_author_add"),
        {"name": "Louise\x0bGreenwood\u202e", "slug": "louise", "bio": "A\x0cB"},
    )
    assert response.status_code == 302
    author = Author.objects.get(slug="louise")
    assert (author.name, author.bio) == ("Louise Greenwood", "A\nB")
    story = ArticleFactory(published=True, headline="Ash cloud")
    change = reverse("admin:briefings_article_change", args=[story.pk])
    data = form_values(client, change)
    data.update(
        {
            "headline": "Ash\x0bcloud\u202e",
            "standfirst": "Flights\x0cgrounded",
            "body": "First.\r\n\r\nSecond\x0b\u2067para.",
            "dateline": "Reykjavik\x9b",
            "tags": "Iceland\x0c,",
            "bylines-TOTAL_FORMS": "1",
            "bylines-0-author": str(author.pk),
            "bylines-0-position": "0",
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": "body",
            "figures-0-position": "1",
            "figures-0-caption": "Ash\x0bover the town.",
            "figures-0-credit": "Agency\u202e",
            "related_links-TOTAL_FORMS": "1",
            "related_links-0-position": "0",
            "related_links-0-title": "Back\x0cground",
            "related_links-0-url": "https://example.org/background",
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": "We\x0bfixed it.",
            "corrections-0-made_at_0": data["corrections-__prefix__-made_at_0"],
            "corrections-0-made_at_1": data["corrections-__prefix__-made_at_1"],
        }
    )
    response = client.post(change, data, follow=True)
    assertContains(response, "was changed successfully")
    story.refresh_from_db()
    assert story.headline == "Ash cloud"
    assert story.standfirst == "Flights\ngrounded"
    assert story.body == "First.\r\n\r\nSecond\npara."
    assert story.dateline == "Reykjavik"
    assert story.figures.get().caption == "Ash\nover the town."
    assert story.figures.get().credit == "Agency"
    assert story.related_links.get().title == "Back ground"
    assert story.corrections.get().text == "We\nfixed it."
    tag = story.tags.get()
    assert tag.name == "Iceland"
    response = client.post(
        reverse("admin:taggit_tag_change", args=[tag.pk]),
        {
            **form_values(client, reverse("admin:taggit_tag_change", args=[tag.pk])),
            "name": "Ice\x0bland\u2069",
        },
    )
    assert response.status_code == 302
    assert Tag.objects.get(pk=tag.pk).name == "Ice land"
    client.logout()
    for url in feed_and_sitemap_urls(story, author, Tag.objects.get(pk=tag.pk)):
        response = client.get(url)
        assert response.status_code == 200, url
        ET.fromstring(response.content)


# --- 4. Operator soup never breaks search on PostgreSQL ------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="websearch_to_tsquery is PostgreSQL's"
)


@pytest.mark.parametrize("unit", ["-(", "-!", "-&", "-)", "-<", "-|", "(-", "!-"])
def test_operator_runs_answer_a_search_page(client, unit):
    """`-(` forty times made PostgreSQL fail with "tsquery stack too small"."""
    ArticleFactory(published=True, headline="Ministers meet for talks")
    response = client.get(reverse("briefings:search"), {"q": unit * 40})
    assert response.status_code == 200
    response = client.get(reverse("briefings:search"), {"q": f"talks {unit * 40}"})
    assert response.status_code == 200
    assertContains(response, "Ministers meet for ")


OPERATORS = st.sampled_from(list("-()!&|<>:*\"' ") + ["or", "OR", "<->", "<2>"])
NESTING = st.sampled_from(["-(", "-!", "-&", "-)", "-<", "-|", "!", "-", "!(", "(-"])
soup = st.one_of(
    st.lists(OPERATORS, max_size=200).map("".join),
    st.lists(
        st.one_of(OPERATORS, NESTING, st.sampled_from(["talks", "x", "-talks"])),
        max_size=120,
    ).map("".join),
    st.builds(lambda unit, n: unit * n, NESTING, st.integers(1, 100)),
    st.builds(
        lambda unit, n: unit * n,
        st.lists(OPERATORS, min_size=1, max_size=3).map("".join),
        st.integers(1, 200),
    ),
)


@pytest.fixture
def a_story():
    return ArticleFactory(published=True, headline="Ministers meet for talks")


@postgres_only
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(soup)
def test_any_operator_soup_is_a_valid_search_on_postgresql(a_story, raw):
    # With no row to test, PostgreSQL never parses the query: a story is needed.
    query = clean_query(raw)
    if query:
        list(search_articles(Article.objects.published(), query)[:20])
        assert connection.vendor == "postgresql"


# --- 5. A story too wordy for tag suggestions ------------------------------------


def test_a_story_of_49000_characters_of_short_words_opens_in_the_admin(client):
    """Each 2-4 letter word starts up to six phrases: more than 65,535 query
    parameters once, and a 503 on the story's admin page for everyone."""
    rng = random.Random(14)
    words, length = [], 0
    while length < 49_000:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 4)))
        words.append(word)
        length += len(word) + 1
    story = ArticleFactory(body=" ".join(words))
    Tag.objects.create(name=" ".join(words[:2]), slug="first-words")
    client.force_login(staff("editor", "Editors"))
    response = client.get(reverse("admin:briefings_article_change", args=[story.pk]))
    assert response.status_code == 200
    assertContains(response, 'value="' + " ".join(words[:2]) + '"')


# --- 9. Tracking parameters do not bloat the page cache ---------------------------


@pytest.fixture
def stored_pages(monkeypatch):
    """The keys of the pages the page cache stores (any cache backend)."""
    keys, real_set = set(), cache.set

    def spy(key, *args, **kwargs):
        if key.startswith((f"pages:{FORMAT}:decided", f"pages:{FORMAT}:undecided")):
            keys.add(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", spy)
    return keys


def test_a_thousand_tracking_parameters_store_one_page(client, stored_pages):
    ArticleFactory(published=True, headline="Ash cloud")
    cache.clear()
    for n in range(1000):
        response = client.get("/", {"utm_source": str(n)})
        assert response.status_code == 200
    assert len(stored_pages) == 1
    assert response["X-Page-Cache"] == "hit"
    # The page served holds nobody's tracking parameter.
    assert b"utm_source" not in response.content


def test_the_listing_position_still_makes_its_own_page(client, stored_pages):
    ArticleFactory.create_batch(21, published=True)
    first = client.get("/", {"utm_source": "x"})
    older = first.context["page_obj"].older
    second = client.get("/", {"before": older, "utm_source": "y"})
    assert first.context["page_obj"].older is not None
    assert second.context["page_obj"].newer is not None  # the second page
    assert len(second.context["page_obj"]) == 1
    assert len(stored_pages) == 2
    # Its link back names the position only, not the tracking parameter.
    assertContains(second, f'href="?after={second.context["page_obj"].newer}"')
