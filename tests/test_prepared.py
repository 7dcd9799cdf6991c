"""Prepared queries: compiled once, they return what the queryset returns.

The story page runs its queries through briefings.core.prepared; these tests pin
that a prepared query gives the same rows as the plain queryset for every new
set of values, and that what cannot be prepared safely is refused instead of
answering with the wrong rows.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from briefings.core.prepared import prepared
from briefings.models import Article, Byline, Figure, Image, published_story
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    FigureFactory,
)

pytestmark = pytest.mark.django_db


@prepared
def published_by_slug(slug, now):
    return Article.objects.published(now).filter(slug=slug)


@prepared
def stories_by_ids_or_headline(ids, headline):
    return Article.objects.filter(Q(pk__in=ids) | Q(headline=headline)).order_by("pk")


def test_each_call_uses_its_own_values():
    first = ArticleFactory(published=True, slug="first")
    second = ArticleFactory(published=True, slug="second")
    now = timezone.now()
    assert published_by_slug(slug="first", now=now) == [first]
    assert published_by_slug(slug="second", now=now) == [second]
    assert published_by_slug(slug="missing", now=now) == []


def test_the_time_is_a_value_too_so_a_scheduled_story_appears_on_time():
    scheduled = ArticleFactory(scheduled=True, slug="later")
    now = timezone.now()
    assert published_by_slug(slug="later", now=now) == []
    later = scheduled.published_at + timedelta(seconds=1)
    assert published_by_slug(slug="later", now=later) == [scheduled]


def test_rows_are_full_model_instances():
    story = ArticleFactory(published=True, slug="full", headline="Full story")
    (loaded,) = published_by_slug(slug="full", now=timezone.now())
    assert loaded.headline == "Full story"
    assert loaded.published_at == story.published_at  # converted, timezone-aware
    assert loaded.get_absolute_url() == "/stories/full/"
    loaded.headline = "Saved again"
    loaded.save()  # a real instance: saving it works as usual
    assert Article.objects.get(pk=story.pk).headline == "Saved again"


def test_lists_of_any_length_match_the_queryset():
    stories = [ArticleFactory() for _ in range(4)]
    ids = [s.pk for s in stories]
    for chosen in ([ids[0]], ids[1:3], ids, [ids[2], ids[2], ids[0]]):
        expected = list(
            Article.objects.filter(Q(pk__in=chosen) | Q(headline="none")).order_by("pk")
        )
        assert stories_by_ids_or_headline(ids=chosen, headline="none") == expected
    by_headline = stories_by_ids_or_headline(ids=[], headline=stories[3].headline)
    assert by_headline == [stories[3]]


def test_an_empty_list_that_empties_the_query_runs_no_query(django_assert_num_queries):
    @prepared
    def by_ids(ids):
        return Article.objects.filter(pk__in=ids)

    with django_assert_num_queries(0):
        assert by_ids(ids=[]) == []


def test_the_story_pages_author_order_is_the_byline_order():
    story = ArticleFactory(published=True)
    second = BylineFactory(article=story, position=2, author=AuthorFactory(name="B"))
    first = BylineFactory(article=story, position=1, author=AuthorFactory(name="A"))
    loaded = published_story(story.slug).with_detail()
    assert loaded.byline_authors == [first.author, second.author]


def test_a_value_that_django_rewrites_is_refused():
    @prepared
    def headline_contains(text):
        return Article.objects.filter(headline__icontains=text)

    with pytest.raises(ImproperlyConfigured, match="'text' does not reach"):
        headline_contains(text="talks")


def test_a_value_inlined_into_the_sql_is_refused():
    @prepared
    def first_n(n):
        return Article.objects.order_by("pk")[:n]

    with pytest.raises(ImproperlyConfigured, match="'n'"):
        first_n(n=3)


def test_select_related_is_refused():
    @prepared
    def bylines(pk):
        return Byline.objects.filter(article=pk).select_related("author")

    with pytest.raises(ImproperlyConfigured, match="select_related"):
        bylines(pk=1)


@pytest.mark.parametrize("value", [None, True])
def test_values_that_change_the_sql_itself_are_refused(value):
    with pytest.raises(ImproperlyConfigured, match="changes the SQL itself"):
        published_by_slug(slug=value, now=timezone.now())


def test_pages_and_counts_match_the_queryset():
    stories = [ArticleFactory(published=True) for _ in range(7)]
    stories[0].tags.add("Armenia")
    stories[3].tags.add("Armenia")
    now = timezone.now()

    @prepared
    def listed(now, **filters):
        return Article.objects.published(now).filter(**filters)

    newest_first = list(Article.objects.published(now))
    assert listed.count(now=now) == 7
    assert listed.page(0, 5, now=now) == newest_first[:5]
    assert listed.page(5, 10, now=now) == newest_first[5:]
    tag = stories[0].tags.get().pk
    assert listed.count(now=now, tags=tag) == 2
    assert listed.page(0, 5, now=now, tags=tag) == [stories[3], stories[0]]


def test_every_column_reads_as_the_queryset_reads_it():
    """Converters (JSON, datetimes), deferred fields and annotations included."""
    story = ArticleFactory(published=True, headline="Ceasefire Holds")
    (picture,) = Image.objects.bulk_create(
        [
            Image(
                file="library/2026/01/a.png",
                width=900,
                height=600,
                alt_text="Delegates",
                renditions=[
                    {
                        "name": "a-480.webp",
                        "width": 480,
                        "height": 320,
                        "format": "webp",
                    }
                ],
            )
        ]
    )
    FigureFactory(article=story, library_image=picture)

    @prepared
    def figures(pk):
        return Figure.objects.filter(article=pk)

    @prepared
    def pictures(pk):
        return Image.objects.filter(pk=pk)

    @prepared
    def headlines(now):
        return (
            Article.objects.published(now)
            .annotate(headline_lower=Lower("headline"))
            .only("headline", "published_at")
        )

    def fields(instance):
        return {k: v for k, v in vars(instance).items() if k != "_state"}

    expected = list(Figure.objects.filter(article=story.pk))
    assert [fields(f) for f in figures(pk=story.pk)] == [fields(f) for f in expected]
    (loaded_picture,) = pictures(pk=picture.pk)
    assert loaded_picture.renditions[0]["name"] == "a-480.webp"
    assert fields(loaded_picture) == fields(Image.objects.get(pk=picture.pk))
    now = timezone.now()
    (loaded,) = headlines(now=now)
    assert loaded.headline_lower == "ceasefire holds"
    assert loaded.published_at == story.published_at
    assert loaded.get_deferred_fields() >= {"body", "standfirst"}
    assert fields(loaded) == fields(
        Article.objects.published(now)
        .annotate(headline_lower=Lower("headline"))
        .only("headline", "published_at")
        .get()
    )


def test_plans_are_kept_for_the_most_recent_shapes_only():
    """Each list length is its own plan; old ones are dropped, answers stay right."""
    stories = [ArticleFactory() for _ in range(5)]

    @prepared
    def by_ids(ids):
        return Article.objects.filter(pk__in=ids).order_by("pk")

    by_ids.max_plans = 2
    for size in (1, 2, 3, 4, 5, 1):
        chosen = [s.pk for s in stories[:size]]
        assert by_ids(ids=chosen) == stories[:size]
    assert len(by_ids._plans) == 2
