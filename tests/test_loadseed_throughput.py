"""loadseed's cost per file stays fixed: the queries a new or an unchanged
story costs the importer, whatever the batch, and what a batch's lookups cost."""

import pytest
from django.db import connection

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
    transaction, inside the test's), the story, its bylines, taggings,
    figures and related links (one INSERT each), the authors' and the tags'
    counts (one UPDATE each), and on PostgreSQL its search vector."""
    return 9 + (connection.vendor == "postgresql")


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
