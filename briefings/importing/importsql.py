"""The statements loadseed runs for every new story, compiled once per process.

Django compiles a query every time one runs. For a new story's inserts and
updates that was most of a file's cost: a three-row bulk_create took 0.55 ms
of Python for 0.03 ms of SQLite's work, an update with expressions 0.75 ms,
PostgreSQL's search-vector update more. Here are the same statements, their
SQL built once per shape by Django's own compiler (or, for the counts, written
out portably below), then run again with new values through the connection's
cursor.

Only what `Importer._create` needs: inserts of new rows (values prepared by
each field as bulk_create prepares them, auto_now times included), the
search vector of one story, and the tags' and authors' counts for one new
story's links. Signals do not run, as for bulk_create; the importer does
their work itself.
"""

from functools import cache

from django.db import connection
from django.db.models import AutoField, sql
from taggit.models import Tag

from briefings.search.engine import CONFIG
from briefings.stories.models import (
    Article,
    ArticleStatus,
    Author,
    AuthorUsage,
    Byline,
    Figure,
    RelatedLink,
    TaggedArticle,
    TagUsage,
)

_inserts: dict[tuple, tuple[str, bool]] = {}


@cache
def _insert_fields(model) -> tuple:
    return tuple(
        field
        for field in model._meta.concrete_fields
        if not field.generated and not isinstance(field, AutoField)
    )


def insert(objs, *, returning=False) -> None:
    """INSERT `objs` (new rows of one model) in one statement, as bulk_create
    would; with `returning`, set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    fields = list(_insert_fields(model))
    key = (connection.vendor, model, len(objs), returning)
    cached = _inserts.get(key)
    if cached is None:
        query = sql.InsertQuery(model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(connection=connection)
        if returning:
            compiler.returning_fields = [model._meta.pk]
        [(statement, compiled)] = compiler.as_sql()
        # PostgreSQL inserts several rows as UNNEST of one array per column.
        by_column = len(objs) > 1 and len(compiled) == len(fields)
        cached = _inserts[key] = (statement, by_column)
    statement, by_column = cached
    rows = [
        [
            field.get_db_prep_save(field.pre_save(obj, True), connection)
            for field in fields
        ]
        for obj in objs
    ]
    params = (
        [list(column) for column in zip(*rows, strict=True)]
        if by_column
        else sum(rows, [])
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        if returning:
            for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = pk
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def count_new_links(usage, targets, story) -> None:
    """Count one new `story`'s links to `targets` (tag or author ids), as
    Usage.links_changed(links, +1) does: one UPDATE, and a recount for
    targets without a row yet (their first story)."""
    targets = sorted(set(targets))
    if not targets:
        return
    quote = connection.ops.quote_name
    live = story.status == ArticleStatus.PUBLISHED
    sets = ["{0} = {0} + 1".format(quote("stories"))]
    params = []
    if live:
        sets.append("{0} = {0} + 1".format(quote("published")))
        if story.published_at is not None:
            latest = quote("latest")
            sets.append(
                f"{latest} = CASE WHEN {latest} IS NULL OR {latest} < %s "
                f"THEN %s ELSE {latest} END"
            )
            moment = usage._meta.get_field("latest").get_db_prep_save(
                story.published_at, connection
            )
            params += [moment, moment]
    placeholders = ", ".join(["%s"] * len(targets))
    statement = (
        f"UPDATE {quote(usage._meta.db_table)} SET {', '.join(sets)} "
        f"WHERE {quote(usage._meta.pk.column)} IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params + targets)
        updated = cursor.rowcount
    if updated < len(targets):
        usage.recount(targets)


# -- PostgreSQL: a new story in one statement ------------------------------------
#
# On PostgreSQL a new story, its children, its search vector and its authors'
# and tags' counts are one INSERT with data-modifying CTEs: one round trip and
# one plan (prepared once per connection) instead of eight statements, and the
# story's row written once with its vector instead of inserted and then
# rewritten by an UPDATE (which wrote every index entry of the row twice).
# psycopg caches its parsing of a statement of at most 4096 bytes and 50
# parameters (tests/test_loadseed_throughput.py checks this one fits).

_story_statements: dict[str, str] = {}
_prototypes: dict[type, dict[str, object]] = {}
# The columns bylines and taggings have: the statement fills them itself.
_LINK_FIELDS = {
    Byline: {"article", "author", "position", "published_at"},
    TaggedArticle: {"content_object", "tag", "published_at"},
}


def _prototype(model) -> dict[str, object]:
    """{attname: database value} of a new, empty row of `model` (its defaults)."""
    cached = _prototypes.get(model)
    if cached is None:
        empty = model()
        cached = _prototypes[model] = {
            field.attname: field.get_db_prep_save(
                field.pre_save(empty, True), connection
            )
            for field in _insert_fields(model)
        }
    return cached


def _cast(field) -> str:
    return field.db_type(connection).split("(")[0]


@cache
def _children_fields(model, story_field) -> tuple:
    return tuple(f for f in _insert_fields(model) if f.name != story_field)


def _children_cte(name, model, story_field):
    """`name AS (INSERT INTO model ...)`: rows of `model` for the story, one
    array parameter per column."""
    quote = connection.ops.quote_name
    fields = _children_fields(model, story_field)
    columns = ", ".join(
        [quote(model._meta.get_field(story_field).column)]
        + [quote(f.column) for f in fields]
    )
    arrays = ", ".join(f"%s::{_cast(f)}[]" for f in fields)
    return (
        f"{name} AS (INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"SELECT story.id, r.* FROM story, UNNEST({arrays}) r)"
    )


def _links_cte(name, model, ids, position=None):
    """`name AS (INSERT INTO model ...)`: the story's links to the ids in
    p.`ids`, in order, listed at p.listed."""
    if {f.name for f in _insert_fields(model)} != _LINK_FIELDS[model]:
        raise AssertionError(f"importsql does not know all of {model}'s columns")
    quote = connection.ops.quote_name
    meta = model._meta
    columns = [
        meta.get_field(model.story_field).column,
        meta.get_field(model.usage_model().link_target).column,
        "published_at",
    ]
    values = ["story.id", "i.id", "p.listed"]
    if position:
        columns.append(position)
        values.append("i.n - 1")
    return (
        f"{name} AS (INSERT INTO {quote(meta.db_table)} "
        f"({', '.join(map(quote, columns))}) SELECT {', '.join(values)} "
        f"FROM story, p, UNNEST(p.{ids}) WITH ORDINALITY i(id, n))"
    )


def _usage_cte(name, usage, ids):
    """`name AS (UPDATE usage ...)`: one new story counted for the targets in
    p.`ids`, as Usage.links_changed(links, +1) does. The rows are locked in
    key order first: two processes counting stories for the same tags then
    queue instead of deadlocking (an UPDATE alone locks them in the order it
    finds them in the table, which each update changes)."""
    quote = connection.ops.quote_name
    table, key = quote(usage._meta.db_table), quote(usage._meta.pk.column)
    stories, published, latest = map(quote, ("stories", "published", "latest"))
    return (
        f"{name} AS (UPDATE {table} SET "
        f"{stories} = {stories} + 1, {published} = {published} + p.live, "
        f"{latest} = CASE WHEN p.listed IS NOT NULL AND "
        f"({latest} IS NULL OR {latest} < p.listed) THEN p.listed "
        f"ELSE {latest} END "
        f"FROM p, (SELECT u.{key} FROM {table} u, p WHERE u.{key} = ANY(p.{ids}) "
        f"ORDER BY 1 FOR UPDATE OF u) locked "
        f"WHERE {table}.{key} = locked.{key} RETURNING 1)"
    )


def _names(model, ids):
    """The names of p.`ids`' rows, in that order, joined by spaces (NULL for
    none), as search_vector() aggregates them."""
    quote = connection.ops.quote_name
    return (
        f"(SELECT STRING_AGG(t.name, ' ' ORDER BY i.n) "
        f"FROM UNNEST(p.{ids}) WITH ORDINALITY i(id, n) "
        f"JOIN {quote(model._meta.db_table)} t ON t.id = i.id)"
    )


@cache
def _story_fields() -> tuple:
    return tuple(f for f in _insert_fields(Article) if f.name != "search_vector")


def _story_statement() -> str:
    statement = _story_statements.get(connection.alias)
    if statement is not None:
        return statement
    quote = connection.ops.quote_name
    fields = _story_fields()
    columns = ", ".join(quote(f.column) for f in fields)
    config = connection.ops.quote_name(CONFIG).replace('"', "'")
    # search_vector() over the story's row and children: headline (A),
    # standfirst (B), then body, shown captions, authors' and tags' names (C).
    vector = (
        f"setweight(to_tsvector({config}, COALESCE(s.headline, '')), 'A') || "
        f"setweight(to_tsvector({config}, COALESCE(s.standfirst, '')), 'B') || "
        f"setweight(to_tsvector({config}, COALESCE(s.body, '') || ' ' || "
        f"COALESCE(p.captions, '') || ' ' || "
        f"COALESCE({_names(Author, 'authors')}, '') || ' ' || "
        f"COALESCE({_names(Tag, 'tags')}, '')), 'C')"
    )
    row = ", ".join(f"%s::{_cast(f)}" for f in fields)
    statement = " ".join(
        [
            "WITH p AS (SELECT %s::bigint[] authors, %s::bigint[] tags, "
            "%s::int live, %s::timestamptz listed, %s::text captions),",
            f"story AS (INSERT INTO {quote(Article._meta.db_table)} "
            f"({columns}, {quote('search_vector')}) SELECT s.*, {vector} "
            f"FROM (VALUES ({row})) s({columns}), p RETURNING id),",
            _links_cte("bylines", Byline, "authors", position="position") + ",",
            _links_cte("taggings", TaggedArticle, "tags") + ",",
            _children_cte("figures", Figure, "article") + ",",
            _children_cte("related", RelatedLink, "article") + ",",
            _usage_cte("author_counts", AuthorUsage, "authors") + ",",
            _usage_cte("tag_counts", TagUsage, "tags"),
            "SELECT story.id, (SELECT COUNT(*) FROM author_counts), "
            "(SELECT COUNT(*) FROM tag_counts) FROM story",
        ]
    )
    _story_statements[connection.alias] = statement
    return statement


def _arrays(model, story_field, rows) -> list[list]:
    """One list per column (story's own excepted) of `rows` ({attname: value};
    columns a row leaves out take the model's defaults)."""
    prototype = _prototype(model)
    columns = []
    for field in _children_fields(model, story_field):
        name = field.attname
        default = prototype[name]
        prep = field.get_db_prep_save
        columns.append(
            [prep(row[name], connection) if name in row else default for row in rows]
        )
    return columns


def story_params(article, author_ids, tag_ids, figures, related) -> list:
    """The parameters of create_story's statement."""
    live = article.status == ArticleStatus.PUBLISHED
    listed = Article._meta.get_field("published_at").get_db_prep_save(
        article.published_at if live else None, connection
    )
    captions = " ".join(row["caption"] for row in figures if row["caption"])
    return [
        author_ids,
        tag_ids,
        int(live),
        listed,
        captions or None,
        *[
            field.get_db_prep_save(field.pre_save(article, True), connection)
            for field in _story_fields()
        ],
        *_arrays(Figure, "article", figures),
        *_arrays(RelatedLink, "article", related),
    ]


def create_story(article, author_ids, tag_ids, figures, related) -> None:
    """INSERT a new `article` (unsaved, fields set) with its bylines to
    `author_ids`, taggings to `tag_ids`, `figures` and `related` (lists of
    {attname: value}), its search vector, and count it for its authors and
    tags: one statement (PostgreSQL only). Sets the article's primary key.

    An author or tag without a count row yet (its first story) is counted
    from scratch afterwards, as Usage.links_changed does.
    """
    params = story_params(article, author_ids, tag_ids, figures, related)
    with connection.cursor() as cursor:
        cursor.execute(_story_statement(), params)
        pk, authors_counted, tags_counted = cursor.fetchone()
    article.pk = pk
    article._state.adding = False
    article._state.db = connection.alias
    if authors_counted < len(author_ids):
        AuthorUsage.recount(author_ids)  # a new author: its first story
    if tags_counted < len(tag_ids):
        TagUsage.recount(tag_ids)
