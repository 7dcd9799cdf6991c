"""Search: the query, its matches on PostgreSQL and SQLite, highlighting, trends.

On PostgreSQL every story carries a weighted search vector (headline A,
standfirst B, body, figure captions, author names and tag names C) behind a GIN
index. The signals at the bottom rewrite it in the same transaction as any
change to the story, its bylines, authors, figures or tags, so it is never
stale and no cron job is needed. SQLite has no vector: the fallback looks for
every word (case-insensitively) in the same fields.

Search Trends count searches per normalised term per day, and nothing about
who searched. Counts are kept in memory and written in batches, like reads.
"""

import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorField,
)
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    StringAgg,
    Subquery,
    Sum,
    Value,
    When,
)
from django.tasks import task
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from briefings.core import limits
from briefings.core.background import retried
from briefings.core.freshness import bump_version
from briefings.core.http import is_bot
from briefings.search.models import SearchTerm, SearchTermDay, SearchTermReader
from briefings.stories.models import Article, Byline, Figure, TaggedArticle

CONFIG = "english"
MAX_QUERY_LENGTH = 200  # characters searched; longer queries are cut here
# Characters of a term stored for Search Trends: what the column holds.
MAX_TERM_LENGTH = SearchTerm._meta.get_field("term").max_length
MAX_RESULTS = 500  # the newest matches that are ranked and shown
MAX_WORDS = 10  # words the SQLite fallback and the highlighter look at
TRENDS_KEY = "search:trends"
TRENDS_DAYS = 7
TRENDS_MIN_READERS = 3  # different readers on one day...
TRENDS_MIN_DAYS = 2  # ...on at least this many days of the window
TRENDS_SIZE = 8
TRENDS_TERMS_PER_DAY = 200  # terms kept per day (those with the most readers)
SEARCH_HISTORY_DAYS = 30  # days of counts kept
PRUNE_SECONDS = 600
MAX_PENDING = 1000
SNIPPET_LENGTH = 240


# -- The query ---------------------------------------------------------------


def clean_query(raw: str) -> str:
    """The text we search for: no control characters (NUL included), single
    spaces, at most MAX_QUERY_LENGTH characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in raw)
    return " ".join(text.split())[:MAX_QUERY_LENGTH].strip()


def normalise_term(raw: str) -> str:
    """A query as Search Trends counts it: case-folded, single spaces, bounded."""
    return " ".join(clean_query(raw).casefold().split())[:MAX_TERM_LENGTH].strip()


def query_words(text: str) -> list[str]:
    """The words a reader is looking for, without websearch's `-excluded` words
    and its `or` operator; at most MAX_WORDS of them."""
    words = []
    for token in text.split():
        if token.startswith("-"):
            continue
        for word in re.findall(r"\w+", token):
            word = word.casefold()
            if word != "or" and word not in words:
                words.append(word)
    return words[:MAX_WORDS]


# -- Matching and ranking -------------------------------------------------------


_TOKEN = re.compile(r'(-*)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")


def websearch_text(text: str) -> str:
    """`text` rebuilt for websearch_to_tsquery from nothing but words.

    PostgreSQL nests an operator per `-`, `!`, `(`... it is given and fails
    ("tsquery stack too small") on a few dozen of them, whatever their order.
    So the reader's text is never passed on as typed: what reaches PostgreSQL
    is words, `"quoted phrases"` of words, `-word` or `-"phrase"` (excluded),
    and `or` between them. That keeps what a reader can mean and nothing
    else; its nesting is at most one negation deep.
    """
    parts = []
    for match in _TOKEN.finditer(text):
        negated, quoted, bare = match.groups()
        if bare is not None:
            negated = "-" if bare.startswith("-") else ""
            if not negated and bare.casefold() == "or":
                if parts and parts[-1] != "or":
                    parts.append("or")
                continue
        words = _WORD.findall(quoted if bare is None else bare)
        if not words:
            continue
        if negated:
            parts.append(f'-"{" ".join(words)}"' if len(words) > 1 else f"-{words[0]}")
        elif bare is None and len(words) > 1:
            parts.append(f'"{" ".join(words)}"')
        else:
            parts.extend(words)
    return " ".join(parts)


def search_query(text):
    """`text` as a PostgreSQL full-text query (websearch syntax)."""
    return SearchQuery(websearch_text(text), search_type="websearch", config=CONFIG)


@contextmanager
def custom_plans(using=DEFAULT_DB_ALIAS):
    """Within: PostgreSQL plans each statement for its own values.

    Statements are prepared on the server (DJANGO_DB_PREPARED_STATEMENTS), and
    after five runs PostgreSQL may settle on one generic plan. For a search
    the best plan depends on the words (a rare word: its few matches through
    the GIN index; a common one: the newest stories, checked one by one), so
    a generic plan turns some searches from milliseconds into a read of every
    match. `SET LOCAL` lasts until the transaction this opens ends.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


def search_articles(queryset, text):
    """`queryset` narrowed to stories matching `text`, headline matches first."""
    if connection.vendor == "postgresql":
        query = search_query(text)
        headline_vector = Func(
            F("search_vector"),
            Value("{a}"),
            function="ts_filter",
            output_field=SearchVectorField(),
        )
        return (
            _newest(queryset.filter(search_vector=query))
            .alias(headline_vector=headline_vector)
            .alias(
                in_headline=Case(
                    When(headline_vector=query, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
                rank=SearchRank(F("search_vector"), query),
            )
            .order_by("-in_headline", "-rank", "-published_at", "-pk")
        )
    return _fallback(queryset, query_words(text))


def _newest(matches):
    """The newest MAX_RESULTS of `matches`, as a plain queryset to rank.

    Ranking reads each match's whole vector; a word in every story would make
    that a read of the whole table. Bounding the set keeps every query fast,
    and a reader never pages past the first few dozen results anyway.
    """
    newest = matches.order_by("-published_at", "-pk").values("pk")[:MAX_RESULTS]
    return matches.model.objects.filter(pk__in=Subquery(newest))


def _fallback(queryset, words):
    """SQLite: every word somewhere in the story; headline matches first."""
    if not words:
        return queryset.none()
    for word in words:
        queryset = queryset.filter(
            Q(headline__icontains=word)
            | Q(standfirst__icontains=word)
            | Q(body__icontains=word)
            | Exists(
                Figure.objects.filter(article=OuterRef("pk")).filter(
                    Q(caption__icontains=word)
                    | Q(caption="", library_image__default_caption__icontains=word)
                )
            )
            | Exists(
                Byline.objects.filter(
                    article=OuterRef("pk"), author__name__icontains=word
                )
            )
            | Exists(
                TaggedArticle.objects.filter(
                    content_object=OuterRef("pk"), tag__name__icontains=word
                )
            )
        )
    in_headline = reduce(or_, (Q(headline__icontains=word) for word in words))
    return (
        _newest(queryset)
        .alias(
            in_headline=Case(
                When(in_headline, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-in_headline", "-published_at", "-pk")
    )


# -- The search vector ------------------------------------------------------------


#: The caption readers see: the figure's own, else its library picture's.
SHOWN_CAPTION = Case(
    When(caption="", then=F("library_image__default_caption")),
    default=F("caption"),
)


def _joined(queryset, key, field):
    """One story's `field` values from `queryset`, joined by spaces."""
    return Subquery(
        queryset.filter(**{key: OuterRef("pk")})
        .order_by()
        .values(key)
        .annotate(text=StringAgg(field, Value(" ")))
        .values("text")
    )


def search_vector():
    """The weighted vector of a story, as an expression over its own row."""
    return (
        SearchVector("headline", weight="A", config=CONFIG)
        + SearchVector("standfirst", weight="B", config=CONFIG)
        + SearchVector(
            "body",
            _joined(Figure.objects, "article", SHOWN_CAPTION),
            _joined(Byline.objects, "article", "author__name"),
            _joined(TaggedArticle.objects, "content_object", "tag__name"),
            weight="C",
            config=CONFIG,
        )
    )


def update_search_vectors(articles) -> None:
    """Rewrite the vectors of `articles` (a queryset or a list of ids): one
    UPDATE. Nothing to do on SQLite."""
    if connection.vendor != "postgresql":
        return
    if not hasattr(articles, "query"):
        articles = Article.objects.filter(pk__in=list(articles))
    articles.order_by().update(search_vector=search_vector())


def article_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        update_search_vectors([instance.pk])


def child_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        update_search_vectors([instance.article_id])


def tagging_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        update_search_vectors([instance.content_object_id])


def library_image_changed(sender, instance, raw=False, **kwargs):
    """A library picture's default caption is part of every story using it."""
    if not raw:
        update_search_vectors(
            Article.objects.filter(
                pk__in=Figure.objects.filter(library_image=instance).values("article")
            )
        )


def author_changed(sender, instance, raw=False, created=False, **kwargs):
    # A new author has no bylines yet: no story's vector names them.
    if not raw and not created and connection.vendor == "postgresql":
        update_search_vectors(
            Article.objects.filter(
                pk__in=instance.bylines.values("article_id").order_by()
            )
        )


def tag_changed(sender, instance, raw=False, created=False, **kwargs):
    # A new tag tags no story yet.
    if not raw and not created and connection.vendor == "postgresql":
        tagged = TaggedArticle.objects.filter(tag=instance).order_by()
        update_search_vectors(
            Article.objects.filter(pk__in=tagged.values("content_object_id"))
        )


def tags_changed(sender, instance, action, reverse, pk_set, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse and isinstance(instance, Article):
        update_search_vectors([instance.pk])
    elif reverse and pk_set:
        update_search_vectors(pk_set)


# -- Highlighting -------------------------------------------------------------------


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def highlighter(words):
    """A pattern for the words and their simple variants ("talks": "talking")."""
    stems = sorted({_stem(word) for word in words}, key=len, reverse=True)
    if not stems:
        return None
    alternatives = "|".join(re.escape(stem) for stem in stems)
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


def highlight(text: str, pattern) -> SafeString:
    """`text` escaped, with each match wrapped in <mark>."""
    html = escape("")
    position = 0
    for match in pattern.finditer(text) if pattern else ():
        html = format_html(
            "{}{}<mark>{}</mark>", html, text[position : match.start()], match.group()
        )
        position = match.end()
    return format_html("{}{}", html, text[position:])


_MARKUP = [
    (re.compile(r"^\[figure \d+\]$", re.MULTILINE | re.IGNORECASE), ""),
    (re.compile(r"^\s*(?:#+|>|[-*+]|\d+[.)])\s+", re.MULTILINE), ""),
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\*+"), ""),
]


def plain_text(body: str) -> str:
    """The body's words without its Markdown markup, on one line."""
    for pattern, replacement in _MARKUP:
        body = pattern.sub(replacement, body)
    return " ".join(body.split())


def _window(text: str, start: int) -> str:
    """About SNIPPET_LENGTH characters of `text` around `start`, on word breaks."""
    begin = max(0, start - SNIPPET_LENGTH // 3)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    end = begin + SNIPPET_LENGTH
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > start else end
    return (
        ("… " if begin else "")
        + text[begin:end].strip()
        + (" …" if end < len(text) else "")
    )


def snippet(article, pattern) -> SafeString:
    """A short passage of the story where the words appear, highlighted."""
    captions = [figure.shown_caption for figure in article.figures.all()]
    texts = [article.standfirst, plain_text(article.body), *captions]
    for text in texts:
        match = pattern.search(text) if pattern and text else None
        if match:
            return highlight(_window(text, match.start()), pattern)
    first = next((text for text in texts if text), "")
    return highlight(_window(first, 0), pattern)


@dataclass(frozen=True)
class Result:
    article: object
    headline: SafeString
    snippet: SafeString


def results(articles, text):
    """Search results for a page of `articles`: highlighted headline and snippet."""
    pattern = highlighter(query_words(text))
    return [
        Result(article, highlight(article.headline, pattern), snippet(article, pattern))
        for article in articles
    ]


# -- Search Trends -----------------------------------------------------------------
#
# A term trends only when, on at least TRENDS_MIN_DAYS different days of the
# last TRENDS_DAYS, at least TRENDS_MIN_READERS different readers searched it,
# and it finds a published story. A reader is a keyed hash of their address
# and browser that changes every day (nobody can be recognised from it); the
# hashes are kept only for today and yesterday, to count readers apart. Each
# client's searches are counted at most SEARCH_COUNTS_PER_HOUR times an hour.
# The tables stay small: TRENDS_TERMS_PER_DAY terms a day (the most read), for
# SEARCH_HISTORY_DAYS days; pruned as searches are written.

_lock = threading.Lock()
_pending: dict = {}  # (term, day) -> [searches, {reader hashes}]
_last_flush = time.monotonic()
_last_prune = 0.0


def reader_hash(request, day) -> str:
    """Today's keyed hash of the reader's address and browser: tells two
    readers apart, names neither, and differs from one day to the next."""
    address = request.META.get("REMOTE_ADDR", "")
    who = f"{address}\n{request.headers.get('user-agent', '')}"
    return salted_hmac(
        f"briefings.trends-reader.{day.isoformat()}", who, algorithm="sha256"
    ).hexdigest()[:16]


def record_search(request, text: str) -> None:
    """Count one search for `text` (not from bots that say so, nor beyond the
    client's hourly allowance); the reader is kept only as today's hash."""
    global _last_flush
    term = normalise_term(text)
    if not term or is_bot(request):
        return
    if limits.hit(
        "search-counts",
        limits.client_address(request),
        limit=settings.SEARCH_COUNTS_PER_HOUR,
        window=3600,
    ):
        return
    day = timezone.localdate()
    reader = reader_hash(request, day)
    with _lock:
        entry = _pending.setdefault((term, day), [0, set()])
        entry[0] += 1
        entry[1].add(reader)
        due = (
            time.monotonic() - _last_flush >= settings.READS_FLUSH_SECONDS
            or len(_pending) >= MAX_PENDING
        )
    if due:
        flush()


def flush() -> None:
    """Hand the counted searches and readers to a worker (`write_searches`)."""
    global _last_flush
    with _lock:
        pending = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    if not pending:
        return
    write_searches.enqueue(
        [
            [term, day.isoformat(), count, sorted(readers)]
            for (term, day), (count, readers) in pending.items()
        ]
    )


@task
@retried
def write_searches(counts):
    """Task: add [term, ISO day, count, [reader hashes]] rows to Search Trends,
    five statements whatever the count; then prune, at most every PRUNE_SECONDS."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    terms = SearchTerm._meta.db_table
    days = SearchTermDay._meta.db_table
    readers = SearchTermReader._meta.db_table
    rows = sorted(
        (term, date.fromisoformat(day), count, hashes)
        for term, day, count, hashes in counts
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {terms} (term, hidden, approved, created_at) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (term) DO NOTHING",
            [(term, False, False, now) for term in sorted({r[0] for r in rows})],
        )
        cursor.executemany(
            f"INSERT INTO {days} (term_id, day, searches, readers) "
            f"SELECT id, %s, %s, 0 FROM {terms} WHERE term = %s "
            "ON CONFLICT (term_id, day) "
            f"DO UPDATE SET searches = {days}.searches + EXCLUDED.searches",
            [
                (ops.adapt_datefield_value(day), count, term)
                for term, day, count, _ in rows
            ],
        )
        cursor.executemany(
            f"INSERT INTO {readers} (term_id, day, reader) "
            f"SELECT id, %s, %s FROM {terms} WHERE term = %s "
            "ON CONFLICT (term_id, day, reader) DO NOTHING",
            [
                (ops.adapt_datefield_value(day), reader, term)
                for term, day, _, hashes in rows
                for reader in hashes
            ],
        )
        cursor.executemany(
            f"UPDATE {days} SET readers = (SELECT COUNT(*) FROM {readers} r "
            f"WHERE r.term_id = {days}.term_id AND r.day = {days}.day) "
            f"WHERE day = %s AND term_id = (SELECT id FROM {terms} WHERE term = %s)",
            [(ops.adapt_datefield_value(day), term) for term, day, _, _ in rows],
        )
    if time.monotonic() - _last_prune >= PRUNE_SECONDS:
        prune_search_terms()


def prune_search_terms() -> None:
    """Keep the Search Trends tables small: reader hashes of today and
    yesterday only; SEARCH_HISTORY_DAYS days of counts; on each day only the
    TRENDS_TERMS_PER_DAY terms with the most readers; no term without a day
    unless an editor hid or approved it."""
    global _last_prune
    _last_prune = time.monotonic()
    today = timezone.localdate()
    with transaction.atomic():
        SearchTermReader.objects.filter(day__lt=today - timedelta(days=1)).delete()
        SearchTermDay.objects.filter(
            day__lt=today - timedelta(days=SEARCH_HISTORY_DAYS - 1)
        ).delete()
        crowded = (
            SearchTermDay.objects.values("day")
            .annotate(terms=Count("pk"))
            .filter(terms__gt=TRENDS_TERMS_PER_DAY)
            .values_list("day", flat=True)
        )
        for day in list(crowded):
            beyond = SearchTermDay.objects.filter(day=day).order_by(
                "-readers", "-searches", "term_id"
            )[TRENDS_TERMS_PER_DAY:]
            dropped = list(beyond.values_list("pk", flat=True))
            SearchTermDay.objects.filter(pk__in=dropped).delete()
        SearchTermReader.objects.filter(
            ~Exists(
                SearchTermDay.objects.filter(term=OuterRef("term"), day=OuterRef("day"))
            )
        ).delete()
        SearchTerm.objects.filter(
            hidden=False, approved=False, days__isnull=True
        ).delete()


def discard() -> None:
    """Forget searches not yet written (tests, whose rows are rolled back)."""
    with _lock:
        _pending.clear()


def trends_since():
    """The first day of the Search Trends window (today is its last)."""
    return timezone.localdate() - timedelta(days=TRENDS_DAYS - 1)


def trending_terms() -> list[str]:
    """The visible terms enough readers searched on enough days of the last
    TRENDS_DAYS that find a published story, most readers first; cached
    briefly. With TRENDS_REQUIRE_APPROVAL, only terms an editor approved."""
    terms = cache.get(TRENDS_KEY)
    if terms is None:
        visible = Q(term__hidden=False)
        if settings.TRENDS_REQUIRE_APPROVAL:
            visible &= Q(term__approved=True)
        candidates = (
            SearchTermDay.objects.filter(
                visible, day__gte=trends_since(), readers__gte=TRENDS_MIN_READERS
            )
            .values("term__term")
            .annotate(on_days=Count("pk"), total=Sum("readers"))
            .filter(on_days__gte=TRENDS_MIN_DAYS)
            .order_by("-total", "term__term")
            .values_list("term__term", flat=True)[: TRENDS_SIZE * 3]
        )
        published = Article.objects.published()
        terms = [
            term
            for term in candidates
            if search_articles(published, clean_query(term)).exists()
        ][:TRENDS_SIZE]
        cache.set(TRENDS_KEY, terms, settings.SEARCH_TRENDS_CACHE_SECONDS)
    return terms


def forget_trends(**kwargs) -> None:
    """An editor hid or showed a term: the box changes on the next page."""
    cache.delete(TRENDS_KEY)
    bump_version()
