"""Reader pages: what a reader sees, what they never see, and what it costs."""

import html
import re

import pytest
from django.core.cache import cache
from django.urls import reverse, set_script_prefix
from pytest_django.asserts import assertContains, assertNotContains
from taggit.models import Tag

from briefings.analytics.readership import most_read_for_page
from briefings.core import freshness
from briefings.models import FigurePlace
from briefings.search.engine import trending_terms
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    CorrectionFactory,
    FigureFactory,
    RelatedLinkFactory,
    hours_from_now,
)

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
HERO_CREDIT = "Armenian Prime Minister Press Service/Tigran Mehrabyan/PAN Photo/Reuters"


def seed_like_story(**kwargs):
    """A story shaped like the seed: hero caption, subheadings, body figures."""
    story = ArticleFactory(
        published=True,
        headline="Armenia looks to build security ties with the U.S. and its allies",
        slug="armenia-looks-to-build-security-ties",
        dateline="Yerevan",
        body=(
            "Nikol Pashinyan has claimed that his country needs to review ties.\n\n"
            '## "This cannot go on"\n\n'
            "Just ahead of the assault by Baku, Armenia's first lady visited Kyiv.\n\n"
            "[figure 1]\n\n"
            "## ICC Membership\n\n"
            "Moscow has noted a perceived drift by Yerevan towards the EU."
        ),
        **kwargs,
    )
    BylineFactory(article=story, author=AuthorFactory(name="Louise Greenwood"))
    FigureFactory(
        article=story,
        place=FigurePlace.HERO,
        caption="Armenia's prime minister says his country must reassess its ties.",
        credit=HERO_CREDIT,
    )
    FigureFactory(
        article=story,
        position=1,
        caption="Relations between Yerevan and Moscow have come under strain",
        credit="Sputnik/Mikhail Klimentyev/Kremlin/Reuters",
    )
    story.tags.add("Armenia", "Russia")
    return story


def test_article_page_shows_the_whole_story(client):
    story = seed_like_story()
    RelatedLinkFactory(article=story, title="France and China deepen space ties")
    target = ArticleFactory(
        published=True, headline="France and China deepen space ties"
    )
    response = client.get(story.get_absolute_url())
    assertContains(
        response, f'<h1 class="story__headline">{story.headline}</h1>', html=False
    )
    assertContains(
        response, 'href="/authors/louise-greenwood/" rel="author">Louise Greenwood</a>'
    )
    assertContains(response, "Yerevan")
    assertContains(response, f'<time datetime="{story.published_at.isoformat()}')
    assertContains(response, "<figcaption>", count=2)
    assertContains(response, HERO_CREDIT)
    assertContains(response, "<h2>&quot;This cannot go on&quot;</h2>")
    assertContains(response, "<h2>ICC Membership</h2>")
    body = response.content.decode()
    # The body figure sits between the paragraphs where the marker put it.
    assert body.index("first lady visited Kyiv") < body.index("come under strain")
    assert body.index("come under strain") < body.index("ICC Membership")
    assertContains(response, 'href="/tags/armenia/" rel="tag">Armenia</a>')
    assertContains(response, f'<a href="{target.get_absolute_url()}">France and China')
    assertNotContains(response, "[figure 1]")


def test_updated_time_is_shown_only_when_it_differs(client):
    story = seed_like_story()
    assertNotContains(client.get(story.get_absolute_url()), "Updated")
    story.updated_at = story.published_at.replace(year=story.published_at.year + 1)
    story.save()
    response = client.get(story.get_absolute_url())
    assertContains(response, "Updated <time datetime=")
    assertContains(response, story.updated_at.strftime("%H:%M, %d-%b-%Y"))


def test_a_figure_without_an_image_renders_as_a_captioned_note(client):
    story = seed_like_story()
    response = client.get(story.get_absolute_url())
    assertContains(response, '<figure class="figure figure--text figure--hero">')
    assertNotContains(response, "<img")


@pytest.mark.parametrize("state", ["draft", "in_review", "withdrawn", "scheduled"])
def test_non_public_stories_answer_404_and_stay_out_of_lists(client, state):
    author = AuthorFactory()
    story = ArticleFactory(
        headline="Unpublishedword scoop", **{state: True} if state != "draft" else {}
    )
    BylineFactory(article=story, author=author)
    story.tags.add("Secret")
    assert client.get(story.get_absolute_url()).status_code == 404
    assertNotContains(client.get(reverse("briefings:home")), "Unpublishedword")
    tag = Tag.objects.get(name="Secret")
    assertNotContains(
        client.get(reverse("briefings:tag-detail", args=[tag.slug])), "Unpublishedword"
    )
    assertNotContains(client.get(author.get_absolute_url()), "Unpublishedword")
    assertNotContains(client.get(reverse("briefings:tag-list")), "Secret")


def test_related_links_show_only_when_they_go_somewhere(client):
    story = seed_like_story()
    RelatedLinkFactory(article=story, title="A story not yet written")
    RelatedLinkFactory(article=story, title="Background", url="https://example.org/bg")
    draft = ArticleFactory(headline="Draft follow-up")
    RelatedLinkFactory(article=story, title="Draft follow-up")
    response = client.get(story.get_absolute_url())
    assertNotContains(response, "A story not yet written")
    assertContains(response, '<a href="https://example.org/bg">Background</a>')
    assertNotContains(response, "Draft follow-up")
    # The moment the follow-up is published, the waiting link works.
    draft.status, draft.published_at = "published", story.published_at
    draft.save()
    assertContains(
        client.get(story.get_absolute_url()),
        f'<a href="{draft.get_absolute_url()}">Draft follow-up</a>',
    )


def test_hostile_text_stays_text_everywhere(client):
    author = AuthorFactory(name=f"Eve {SCRIPT}", slug="eve")
    story = ArticleFactory(
        published=True,
        headline=f'"><img src=x onerror=alert(1)> {SCRIPT}',
        slug="hostile",
        standfirst=SCRIPT,
        dateline=SCRIPT,
        body=f"{SCRIPT}\n\n## {SCRIPT}\n\n[figure 1]",
    )
    BylineFactory(article=story, author=author)
    FigureFactory(article=story, place=FigurePlace.HERO, caption=SCRIPT, credit=SCRIPT)
    FigureFactory(article=story, position=1, caption=SCRIPT, credit=SCRIPT)
    RelatedLinkFactory(article=story, title=SCRIPT, url="https://example.org/")
    story.tags.add(f"tag {SCRIPT}")
    CorrectionFactory(article=story, text=SCRIPT)
    tag = story.tags.get()
    pages = [
        story.get_absolute_url(),
        reverse("briefings:home"),
        reverse("briefings:tag-detail", args=[tag.slug]),
        reverse("briefings:tag-list"),
        author.get_absolute_url(),
        reverse("briefings:corrections"),
        reverse("briefings:feed-rss"),
        reverse("briefings:feed-atom"),
        reverse("briefings:tag-feed-rss", args=[tag.slug]),
        reverse("briefings:author-feed-atom", args=[author.slug]),
        reverse("briefings:news-sitemap"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assertNotContains(response, SCRIPT)
        assertNotContains(response, "<img src=x onerror")
        assertContains(response, ESCAPED)
    # Headline, standfirst, author, dateline, captions, credits, body, related
    # title, tag and correction: in the page, its meta tags and "Most read".
    assertContains(client.get(story.get_absolute_url()), ESCAPED, count=21)


def test_listing_pages_show_story_cards(client):
    story = seed_like_story(standfirst="Armenia reassesses its military ties.")
    author = story.byline_authors[0]
    tag = story.tags.get(name="Armenia")
    for url in [
        reverse("briefings:home"),
        reverse("briefings:tag-detail", args=[tag.slug]),
        author.get_absolute_url(),
    ]:
        response = client.get(url)
        assertContains(
            response, f'<a href="{story.get_absolute_url()}">{story.headline}</a>'
        )
        assertContains(response, "Armenia reassesses its military ties.")
        assertContains(response, "Louise Greenwood")


def page_link(response, rel):
    """The address of the newer (rel="prev") or older (rel="next") page, or None."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.content.decode())
    return found and html.unescape(found[1])


def card_links(response):
    return re.findall(
        r'<h2 class="card__headline"><a href="([^"]+)"', response.content.decode()
    )


def test_home_pages_through_older_and_newer_stories_and_rejects_silly_cursors(client):
    stories = [
        ArticleFactory(published=True, published_at=hours_from_now(-hours))
        for hours in range(1, 22)
    ]
    home = reverse("briefings:home")
    first = client.get(home)
    assert card_links(first) == [s.get_absolute_url() for s in stories[:20]]
    assertContains(first, '<nav class="pagination" aria-label="Pages">')
    assert page_link(first, "prev") is None
    older = client.get(home + page_link(first, "next"))
    assert card_links(older) == [stories[20].get_absolute_url()]
    assert page_link(older, "next") is None
    # The newer page of the second page is the first page itself.
    assert client.get(home + page_link(older, "prev")).url == home
    for cursor in ["3", "999999999", "-1", "abc", "1e9", "1-1"]:
        assert client.get(home, {"before": cursor}).status_code == 404


def test_pages_of_stories_published_in_the_same_second_neither_skip_nor_repeat(
    client,
):
    """Stories imported together share a time: the id breaks the tie."""
    moment = hours_from_now(-1)
    stories = ArticleFactory.create_batch(45, published=True, published_at=moment)
    home = reverse("briefings:home")
    seen, response, pages = [], client.get(home), []
    while True:
        pages.append(response)
        seen += card_links(response)
        if page_link(response, "next") is None:
            break
        response = client.get(home + page_link(response, "next"))
    assert seen == [s.get_absolute_url() for s in sorted(stories, key=lambda s: -s.pk)]
    assert [len(card_links(page)) for page in pages] == [20, 20, 5]
    # And back again: the newer page of the last is the middle one.
    middle = client.get(home + page_link(pages[2], "prev"))
    assert card_links(middle) == card_links(pages[1])


def test_tag_and_author_pages_page_through_their_own_stories_newest_first(client):
    author = AuthorFactory(name="Ani Hovhannisyan")
    tagged = []
    for hours in range(1, 24):
        story = ArticleFactory(published=True, published_at=hours_from_now(-hours))
        story.tags.add("Armenia")
        BylineFactory(article=story, author=author)
        tagged.append(story)
    ArticleFactory.create_batch(20, published=True)  # neither tagged nor by her
    hidden = ArticleFactory(scheduled=True)
    hidden.tags.add("Armenia")
    BylineFactory(article=hidden, author=author)
    tag = Tag.objects.get(name="Armenia")
    for url in [
        reverse("briefings:tag-detail", args=[tag.slug]),
        author.get_absolute_url(),
    ]:
        first = client.get(url)
        second = client.get(url + page_link(first, "next"))
        shown = [card_links(page) for page in (first, second)]
        assert shown[0] + shown[1] == [s.get_absolute_url() for s in tagged]
        assert len(shown[1]) == 3
        assert page_link(second, "next") is None


def test_unknown_tag_and_author_are_404(client):
    assert client.get(reverse("briefings:tag-detail", args=["nope"])).status_code == 404
    assert (
        client.get(reverse("briefings:author-detail", args=["nope"])).status_code == 404
    )


def test_custom_404_page_keeps_the_site_navigation(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assertContains(response, "Page not found", status_code=404)
    assertContains(response, "Cookie settings", status_code=404)


def test_base_template_links_privacy_and_cookie_pages(client):
    response = client.get(reverse("briefings:home"))
    assertContains(response, f'href="{reverse("briefings:privacy")}"')
    assertContains(response, f'href="{reverse("briefings:cookie-settings")}"')
    for name in ["briefings:privacy", "briefings:cookie-settings"]:
        assert client.get(reverse(name)).status_code == 200


def test_pages_request_nothing_from_other_hosts(client):
    story = seed_like_story()
    body = client.get(story.get_absolute_url()).content.decode()
    for attribute in ['src="http', 'src="//', 'href="//']:
        assert attribute not in body
    assert '<link rel="stylesheet" href="/static/' in body


# --- Query ceilings: the cost of a page does not grow with its content -------


@pytest.mark.parametrize("size", [1, 30])
def test_article_page_query_ceiling(
    client, django_assert_max_num_queries, settings, size
):
    settings.READS_FLUSH_SECONDS = 3600  # reads are written in batches, as live
    story = ArticleFactory(published=True, body="Text.\n\n[figure 1]")
    for n in range(size):
        BylineFactory(article=story)
        FigureFactory(article=story, position=n + 1)
        RelatedLinkFactory(article=story, title=f"Related {n}")
        ArticleFactory(published=True, headline=f"Related {n}")
    story.tags.add(*[f"tag {n}" for n in range(size)])
    client.get(reverse("briefings:home"))  # steady state: cookie groups cached
    with django_assert_max_num_queries(8):
        response = client.get(story.get_absolute_url())
    assert response["X-Page-Cache"] == "miss"
    assertContains(response, "Related 0")
    assertContains(response, "<figure", count=size)


@pytest.mark.parametrize("size", [1, 30])
def test_listing_query_ceilings(client, django_assert_max_num_queries, size):
    author = AuthorFactory()
    for _ in range(size):
        story = ArticleFactory(published=True)
        BylineFactory(article=story, author=author)
        BylineFactory(article=story)
        FigureFactory(article=story, place=FigurePlace.HERO)
        story.tags.add("Armenia", "Russia")
    tag = Tag.objects.get(name="Armenia")
    client.get(reverse("briefings:privacy"))  # steady state: cookie groups cached
    # Cold, a page also fills the "Most read" and "Search Trends" boxes' caches
    # (one query each, then shared by every page for a minute).
    with django_assert_max_num_queries(8):
        assert client.get(reverse("briefings:home")).status_code == 200
    cache.clear()  # the page cache too; the boxes' lists are refilled below
    freshness.hot_pages.forget()  # and the pages a process keeps (with Redis)
    most_read_for_page()
    trending_terms()
    for url in [
        reverse("briefings:home"),
        reverse("briefings:tag-detail", args=[tag.slug]),
        reverse("briefings:tag-list"),
        author.get_absolute_url(),
    ]:
        with django_assert_max_num_queries(6):
            response = client.get(url)
        assert response.status_code == 200
        assert response["X-Page-Cache"] == "miss"


def test_server_error_page_is_plain_and_friendly(client, monkeypatch):
    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr("briefings.web.views.HomeView.get_listing", broken)
    client.raise_request_exception = False
    response = client.get(reverse("briefings:home"))
    assert response.status_code == 500
    assertContains(response, "Something went wrong", status_code=500)
    assertNotContains(response, "boom", status_code=500)
    assertNotContains(response, "Traceback", status_code=500)


def test_an_unknown_host_is_refused(client):
    response = client.get(reverse("briefings:home"), headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_links_follow_the_address_the_site_is_served_under(client, settings):
    """Addresses are remembered per script prefix: a site under /news/ links there.

    (Django's WSGI handler sets the prefix from SCRIPT_NAME; the test client
    does not, so the test sets it as the handler would.)
    """
    settings.PAGE_CACHE_SECONDS = 0
    story = ArticleFactory(published=True)
    story.tags.add("Armenia")
    path = story.get_absolute_url()
    plain = client.get(path).content.decode()
    assert 'href="/tags/armenia/"' in plain
    set_script_prefix("/news/")
    try:
        prefixed = client.get(path).content.decode()
        home = client.get("/").content.decode()
    finally:
        set_script_prefix("/")
    assert 'href="/news/tags/armenia/"' in prefixed
    assert f'href="/news/stories/{story.slug}/"' in home
    assert 'href="/news/tags/"' in home


def test_cards_list_every_author_in_byline_order(client):
    story = ArticleFactory(published=True)
    for position, name in enumerate(["Ann Lee", "Bo <b>Chan</b>", "Cy Diaz"]):
        BylineFactory(article=story, position=position, author=AuthorFactory(name=name))
    duo = ArticleFactory(published=True)
    BylineFactory(article=duo, author=AuthorFactory(name="Di Roy"), position=2)
    ann = story.byline_authors[0]
    BylineFactory(article=duo, author=ann, position=1)  # Ann writes both stories
    response = client.get(reverse("briefings:home"))
    assertContains(response, "Ann Lee, Bo &lt;b&gt;Chan&lt;/b&gt; and Cy Diaz &middot;")
    assertContains(response, "Ann Lee and Di Roy &middot;")
