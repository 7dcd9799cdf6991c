"""loadseed's cost per file stays fixed: the queries a new or an unchanged
story costs the importer, whatever the batch, and what a batch's lookups cost."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from briefings.importing.importer import CREATED, UNCHANGED, Importer
from briefings.importing.seedfiles import read
from briefings.models import Article, AuthorUsage, TagUsage
from tests.test_loadseed import write_seed

pytestmark = pytest.mark.django_db

TEXT = "Officials from Armenia met envoys from Russia in Geneva on Monday."


def seeds(folder, count, start=0):
    """`count` seeds with one author and the same places, parsed."""
    paths = [
        write_seed(
            folder,
            f"{n:03d}.txt",
            f"Talks in Geneva, round {n}",
            related=["Talks close in Geneva"],
            text=TEXT,
        )
        for n in range(start, start + count)
    ]
    return [read(path) for path in paths]


def new_story_queries():
    """A new story whose author and tags exist: a savepoint (the file's
    transaction, inside the test's) and its release around, on SQLite, the
    story, its bylines, taggings, figures and related links (one INSERT each)
    and the authors' and the tags' counts (one UPDATE each); on PostgreSQL
    the commit told not to wait for its flush, then one statement does all
    that and the search vector."""
    return 4 if connection.vendor == "postgresql" else 9


@pytest.mark.parametrize("files", [1, 8])
def test_a_new_story_costs_a_fixed_number_of_queries(
    tmp_path, django_assert_num_queries, files
):
    first, *batch = seeds(tmp_path, files + 1)
    warm = Importer()
    warm.prepare([first])
    assert warm.import_seed(first, "first").outcome == CREATED  # author and tags

    importer = Importer()
    importer.legacy_sources  # noqa: B018  (asked once per run)
    importer.prepare(batch)
    with django_assert_num_queries(new_story_queries() * files):
        results = [importer.import_seed(seed, str(seed.path)) for seed in batch]
    assert [result.outcome for result in results] == [CREATED] * files
    assert Article.objects.count() == files + 1
    # What the statements skipped (save(), signals, managers) is still done.
    story = Article.objects.get(source_name__endswith="001.txt")
    assert story.version == story.imported_version == 1
    assert not story.edited_since_import
    assert story.bylines.get().published_at == story.published_at
    author_usage = AuthorUsage.objects.get()
    assert (author_usage.stories, author_usage.published) == (files + 1, files + 1)
    assert author_usage.latest == max(
        Article.objects.values_list("published_at", flat=True)
    )
    armenia = TagUsage.objects.get(tag__name="Armenia")
    assert (armenia.stories, armenia.published) == (files + 1, files + 1)


@pytest.mark.parametrize("files", [1, 8])
def test_an_unchanged_story_costs_no_query_and_a_batch_a_few(
    tmp_path, django_assert_max_num_queries, django_assert_num_queries, files
):
    batch = seeds(tmp_path, files)
    writer = Importer()
    writer.prepare(batch)
    for seed in batch:
        writer.import_seed(seed, str(seed.path))

    importer = Importer()
    # Stories, redirected addresses, authors, tags and their aliases.
    with django_assert_max_num_queries(5):
        importer.prepare(batch)
    with django_assert_num_queries(0):
        results = [importer.import_seed(seed, str(seed.path)) for seed in batch]
    assert [result.outcome for result in results] == [UNCHANGED] * files


def test_a_new_tag_or_author_is_created_once_and_counted(tmp_path):
    """The first story of an author or a tag makes its row and counts it."""
    batch = seeds(tmp_path, 3)
    importer = Importer()
    importer.prepare(batch)
    for seed in batch:
        assert importer.import_seed(seed, str(seed.path)).outcome == CREATED
    usage = AuthorUsage.objects.get()
    assert (usage.author.name, usage.stories, usage.published) == ("Ann Reporter", 3, 3)
    assert TagUsage.objects.get(tag__name="Geneva").stories == 3


def test_a_new_authors_and_tags_first_story_needs_no_recount(tmp_path):
    """A tag or author the importer creates starts counted at zero, so its
    first story is counted like any other, without counting from scratch."""
    [seed] = seeds(tmp_path, 1)
    importer = Importer()
    importer.prepare([seed])
    with CaptureQueriesContext(connection) as queries:
        assert importer.import_seed(seed, "x").outcome == CREATED
    # Usage.recount() counts links: "COUNT(<link table>.id)".
    recounts = [q["sql"] for q in queries if 'COUNT("U0"' in q["sql"]]
    assert recounts == []
    story = Article.objects.get()
    assert story.tags.count() == len(seed.tags) > 0
    assert AuthorUsage.objects.get().stories == 1
    assert sorted(TagUsage.objects.values_list("stories", "published")) == [
        (1, 1)
    ] * len(seed.tags)


postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="PostgreSQL's own statement"
)


@postgres_only
def test_the_new_story_statement_stays_within_psycopgs_parse_cache():
    """psycopg parses a statement once if it has at most 4096 bytes and 50
    parameters, else on every execution (a fifth of a file's import time)."""
    from psycopg import _queries

    from briefings.importing import importsql

    statement = importsql._story_statement()
    assert len(statement.encode()) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert statement.count("%s") <= _queries.MAX_CACHED_STATEMENT_PARAMS


@postgres_only
def test_an_imported_storys_search_vector_is_the_one_search_computes(tmp_path):
    """Written with the story in one statement, the vector holds what
    update_search_vectors() would write: every word with its weight."""
    from briefings.search.engine import update_search_vectors

    batch = seeds(tmp_path, 2)
    importer = Importer()
    importer.prepare(batch)
    for seed in batch:
        assert importer.import_seed(seed, str(seed.path)).outcome == CREATED
    lexemes = """
        SELECT a.id, u.lexeme, u.weights
        FROM briefings_article a, unnest(a.search_vector) u
        ORDER BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(lexemes)
        imported = cursor.fetchall()
        update_search_vectors(Article.objects.all())
        cursor.execute(lexemes)
        assert cursor.fetchall() == imported
    words = {lexeme for _, lexeme, _ in imported}
    assert {"geneva", "armenia", "ann"} <= words  # text, tags, author


def test_on_postgresql_a_files_commit_does_not_wait_for_its_flush(tmp_path):
    """Asynchronous commit, set inside each file's own transaction (so it
    ends with it): what a server crash could lose, a re-run imports again."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    [seed] = seeds(tmp_path, 1)
    importer = Importer()
    importer.prepare([seed])
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    with CaptureQueriesContext(connection) as queries:
        assert importer.import_seed(seed, str(seed.path)).outcome == CREATED
    sql = [query["sql"] for query in queries.captured_queries]
    assert sql[0].startswith("SAVEPOINT")
    assert sql[1] == "SET LOCAL synchronous_commit TO OFF"
    assert sql[-1].startswith("RELEASE SAVEPOINT")
