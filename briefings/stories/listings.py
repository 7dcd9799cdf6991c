"""What readers' pages show: story cards, listings with keyset pages, one story."""

import datetime
import re
from dataclasses import dataclass

from django.db import models
from django.db.models import (
    Q,
)
from django.utils import timezone
from taggit.models import Tag

from briefings.core.prepared import prepared
from briefings.stories.library import attach_library_images
from briefings.stories.models import Article, Author, Figure, FigurePlace


def cards(stories):
    """`stories`, with what a story card shows: byline authors, hero figure.

    What `for_listing()` loads, in two prepared queries for the whole page and
    without prefetch_related's matching of rows to objects (about 1 ms less
    for a page of 20 cards). Returns the list.
    """
    ids = [story.pk for story in stories]
    authors = {pk: [] for pk in ids}
    for author in _card_authors(ids=ids):
        authors[author.story_id].append(author)
    heroes = {
        figure.article_id: figure
        for figure in attach_library_images(_card_heroes(ids=ids))
    }
    for story in stories:
        story.__dict__["byline_authors"] = authors[story.pk]
        story.hero_figures = [heroes[story.pk]] if story.pk in heroes else []
    return stories


PER_PAGE = 20  # story cards on a listing page
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_CURSOR = re.compile(r"(\d{1,18})-(\d{1,18})", re.ASCII)


def story_cursor(story) -> str:
    """Where a listing page starts or ends, for its address: the story's
    publication time (microseconds since 1970) and id, e.g. 1764756000000000-42."""
    moment = story.published_at - _EPOCH
    microseconds = (moment.days * 86_400 + moment.seconds) * 1_000_000
    return f"{microseconds + moment.microseconds}-{story.pk}"


def parse_cursor(text: str):
    """(published_at, id) from story_cursor()'s text; ValueError if it is not one."""
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise ValueError(f"not a listing position: {text!r}")
    try:
        moment = _EPOCH + datetime.timedelta(microseconds=int(match[1]))
    except OverflowError:
        raise ValueError(f"not a listing position: {text!r}") from None
    return moment, int(match[2])


@dataclass
class StoryPage:
    """One page of a listing: its story cards, and the cursors of the pages
    next to it (None: there is none)."""

    stories: list
    newer: str | None = None
    older: str | None = None

    def __iter__(self):
        return iter(self.stories)

    def __len__(self):
        return len(self.stories)


class StoryListing:
    """The published stories of a listing page, newest first, as cards: all
    of them, or a tag's (`tag=<id>`) or an author's (`author=<id>`).

    A page is found from where its neighbour ends (keyset pagination on
    published_at and id, through an index that holds both): nothing is
    counted and no story is skipped over, so page 5,000 costs what page 1
    does, whatever the archive's size. Each query is prepared (see
    prepared.py) and loads only the columns a card shows.
    """

    def __init__(self, **target):
        (self.kind, self.target), *_ = target.items() or [(None, None)]
        self.queries = LISTINGS[self.kind]
        self.now = timezone.now()

    def page(self, before=None, after=None):
        """The first page, the page older than cursor `before`, or the page
        newer than cursor `after`. None when there is no such page, or when
        the newer page is the first page. ValueError for a bad cursor."""
        values = {"now": self.now}
        if self.kind is not None:
            values["target"] = self.target
        if after:
            at, pk = parse_cursor(after)
            stories = self.queries.newer.page(0, PER_PAGE + 1, at=at, pk=pk, **values)
            if len(stories) <= PER_PAGE:
                return None
            stories = stories[:PER_PAGE][::-1]
            return StoryPage(
                cards(stories),
                newer=story_cursor(stories[0]),
                older=story_cursor(stories[-1]),
            )
        if before:
            at, pk = parse_cursor(before)
            stories = self.queries.older.page(0, PER_PAGE + 1, at=at, pk=pk, **values)
            if not stories:
                return None
            newer = story_cursor(stories[0])
        else:
            stories = self.queries.first.page(0, PER_PAGE + 1, **values)
            newer = None
        older = story_cursor(stories[PER_PAGE - 1]) if len(stories) > PER_PAGE else None
        return StoryPage(cards(stories[:PER_PAGE]), newer=newer, older=older)


# The reader pages' queries, compiled once per process (see prepared.py).

#: What a story card shows of the story itself.
CARD_FIELDS = ("headline", "slug", "standfirst", "published_at")


class _ListingQueries:
    """The prepared queries of one kind of listing: all stories (`through`
    None), or a tag's or an author's through their links' own listing index.
    `first` is the newest page, `older`/`newer` the pages either side of a
    position (at, pk); `published_at <= at` (or >=) bounds the index scan and
    the rest breaks ties within one moment."""

    def __init__(self, through=None, target=None):
        self.through, self.target = through, target
        self.time = f"{through}__published_at" if through else "published_at"
        self.first = prepared(self._first)
        self.older = prepared(self._older)
        self.newer = prepared(self._newer)

    def _stories(self, now, target, *conditions):
        if self.through is None:
            stories = Article.objects.published(now)
        else:
            stories = Article.objects.all()
            conditions = (
                Q(**{f"{self.through}__{self.target}": target}),
                Q(**{f"{self.time}__lte": now}),
                *conditions,
            )
        # One filter() call: every condition on the same link row.
        return stories.filter(*conditions).only(*CARD_FIELDS)

    def _first(self, now, target=0):
        return self._stories(now, target).order_by(f"-{self.time}", "-pk")

    def _older(self, now, at, pk, target=0):
        return self._stories(
            now,
            target,
            Q(**{f"{self.time}__lt": at}) | Q(pk__lt=pk),
            Q(**{f"{self.time}__lte": at}),
        ).order_by(f"-{self.time}", "-pk")

    def _newer(self, now, at, pk, target=0):
        return self._stories(
            now,
            target,
            Q(**{f"{self.time}__gt": at}) | Q(pk__gt=pk),
            Q(**{f"{self.time}__gte": at}),
        ).order_by(self.time, "pk")


LISTINGS = {
    None: _ListingQueries(),
    "tag": _ListingQueries("tagged_items", "tag"),
    "author": _ListingQueries("bylines", "author"),
}


@prepared
def _card_authors(ids):
    return (
        Author.objects.filter(bylines__article__in=ids)
        .annotate(story_id=models.F("bylines__article"))
        .order_by("bylines__position", "bylines__pk")
    )


@prepared
def tag_by_slug(slug):
    """[the tag at /tags/<slug>/], or []."""
    return Tag.objects.filter(slug=slug)


@prepared
def author_by_slug(slug):
    """[the author at /authors/<slug>/], or []."""
    return Author.objects.filter(slug=slug)


@prepared
def _card_heroes(ids):
    return Figure.objects.filter(article__in=ids, place=FigurePlace.HERO)


@prepared
def _published_story(slug, now):
    return Article.objects.published(now).filter(slug=slug)


def published_story(slug):
    """The published story at /stories/<slug>/, or None (one prepared query)."""
    stories = _published_story(slug=slug, now=timezone.now())
    return stories[0] if stories else None
