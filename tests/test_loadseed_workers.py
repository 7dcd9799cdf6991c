"""loadseed --workers: the same stories, links and counts as one process.

Real processes against databases of their own (SQLite files, or scratch
PostgreSQL databases when the suite runs on PostgreSQL, where the workers
write; on SQLite they parse and one process writes).
"""

import sqlite3
import sys

from django.conf import settings

from tests.test_loadseed import write_seed
from tests.test_loadseed_race import manage, scratch_database

sys.path.insert(0, str(settings.BASE_DIR / "bench"))
from synthetic import generate  # noqa: E402

FILES = 130  # two batches per worker and more

# Everything an import writes, by natural keys (ids differ between runs).
SNAPSHOT = {
    "stories": """
        SELECT source_name, slug, headline, dateline, body, status, published_at,
            updated_at, source_hash, version, imported_version, import_notes,
            kind, byline_affiliation
        FROM briefings_article ORDER BY source_name""",
    "bylines": """
        SELECT a.source_name, au.slug, b.position, b.published_at
        FROM briefings_byline b JOIN briefings_article a ON a.id = b.article_id
        JOIN briefings_author au ON au.id = b.author_id
        ORDER BY a.source_name, au.slug""",
    "authors": """
        SELECT au.slug, au.name, au.is_organisation, u.stories, u.published, u.latest
        FROM briefings_author au
        LEFT JOIN briefings_authorusage u ON u.author_id = au.id ORDER BY au.slug""",
    "tags": """
        SELECT t.name, t.slug, u.stories, u.published, u.latest
        FROM taggit_tag t LEFT JOIN briefings_tagusage u ON u.tag_id = t.id
        ORDER BY t.name""",
    "taggings": """
        SELECT a.source_name, t.name, ta.published_at
        FROM briefings_taggedarticle ta
        JOIN briefings_article a ON a.id = ta.content_object_id
        JOIN taggit_tag t ON t.id = ta.tag_id ORDER BY a.source_name, t.name""",
    "figures": """
        SELECT a.source_name, f.place, f.position, f.caption, f.credit
        FROM briefings_figure f JOIN briefings_article a ON a.id = f.article_id
        ORDER BY a.source_name, f.place, f.position""",
    "related": """
        SELECT a.source_name, r.position, r.title
        FROM briefings_relatedlink r JOIN briefings_article a ON a.id = r.article_id
        ORDER BY a.source_name, r.position""",
    # Words and weights; not positions: the tag names are joined in no order.
    "search": """
        SELECT a.source_name, ARRAY(
            SELECT v.lexeme || ':' || array_to_string(v.weights, '')
            FROM unnest(a.search_vector) v ORDER BY v.lexeme)
        FROM briefings_article a ORDER BY a.source_name""",
}


def snapshot(url):
    queries = dict(SNAPSHOT)
    if url.startswith("sqlite"):
        queries.pop("search")  # no vector on SQLite
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return {name: db.execute(sql).fetchall() for name, sql in queries.items()}
    import psycopg

    with psycopg.connect(url) as db:
        return {name: db.execute(sql).fetchall() for name, sql in queries.items()}


def loadseed(url, seeds, *args):
    run = manage(url, "loadseed", str(seeds), *args)
    out, err = run.communicate(timeout=600)
    assert run.returncode == 0, err
    assert "Traceback" not in err
    return out


def test_workers_import_what_one_process_imports(tmp_path):
    seeds = tmp_path / "seeds"
    generate(seeds, FILES)
    # An author and a tag that no other file names: created by one worker.
    write_seed(seeds, "99999.txt", "Ministers meet in Quito", author="Rosa Quispe")
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    with (
        scratch_database(tmp_path / "one") as (one, _),
        scratch_database(tmp_path / "many") as (many, _),
    ):
        for url in (one, many):
            migrate = manage(url, "migrate", "--no-input", "-v0")
            assert migrate.wait(timeout=180) == 0, migrate.stderr.read()
        single = loadseed(one, seeds, "--workers", "0")
        parallel = loadseed(many, seeds, "--workers", "2")
        # The same report, file by file, in file order.
        assert parallel == single
        assert f"{FILES + 1} created, 0 updated" in parallel
        first = snapshot(one)
        assert len(first["stories"]) == FILES + 1
        assert snapshot(many) == first

        again = loadseed(many, seeds, "--workers", "2")
        assert f"0 created, 0 updated, {FILES + 1} unchanged" in again
        assert snapshot(many) == first
