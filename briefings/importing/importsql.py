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

from django.db import connection
from django.db.models import AutoField, sql

from briefings.search.engine import update_search_vectors
from briefings.stories.models import ArticleStatus

# A primary key no row has: it marks where a statement's own key goes.
_MARKER = -7_340_033

_inserts: dict[tuple, tuple[str, bool]] = {}
_search_update: dict[str, tuple[str, list, int]] = {}


def _insert_fields(model):
    return [
        field
        for field in model._meta.concrete_fields
        if not field.generated and not isinstance(field, AutoField)
    ]


def insert(objs, *, returning=False) -> None:
    """INSERT `objs` (new rows of one model) in one statement, as bulk_create
    would; with `returning`, set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    fields = _insert_fields(model)
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


def update_search_vector(pk) -> None:
    """update_search_vectors([pk]), its SQL compiled once (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    cached = _search_update.get(connection.alias)
    if cached is None:
        captured = []

        def capture(execute, statement, params, many, context):
            captured.append((statement, list(params)))
            return execute(statement, params, many, context)

        # Run once for no story at all, and keep what Django sent.
        with connection.execute_wrapper(capture):
            update_search_vectors([_MARKER])
        [(statement, params)] = captured
        cached = (statement, params, params.index(_MARKER))
        _search_update[connection.alias] = cached
    statement, params, where = cached
    params = list(params)
    params[where] = pk
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


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
