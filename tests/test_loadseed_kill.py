"""loadseed killed half-way (SIGKILL): every story is whole or absent, and a
second run finishes the job without duplicates."""

import signal
import sys
import time

from django.conf import settings

from briefings.importing import seedformat
from tests.test_loadseed_race import manage, scratch_database

sys.path.insert(0, str(settings.BASE_DIR / "bench"))
from synthetic import generate  # noqa: E402

FILES = 200


def expected_rows(seeds):
    """What a complete import writes per file: figures, related links, bylines."""
    expected = {}
    for path in sorted(seeds.glob("*.txt")):
        parsed = seedformat.parse_bytes(path.read_bytes())
        figures = (parsed.hero is not None) + sum(
            isinstance(block, seedformat.Figure) for block in parsed.blocks
        )
        expected[path.name] = (figures, len(parsed.related), len(set(parsed.authors)))
    return expected


PER_STORY = """
    SELECT a.source_name,
        (SELECT COUNT(*) FROM briefings_figure f WHERE f.article_id = a.id),
        (SELECT COUNT(*) FROM briefings_relatedlink r WHERE r.article_id = a.id),
        (SELECT COUNT(*) FROM briefings_byline b WHERE b.article_id = a.id)
    FROM briefings_article a
"""


def test_a_killed_run_leaves_whole_stories_and_a_rerun_completes(tmp_path):
    seeds = tmp_path / "seeds"
    generate(seeds, FILES)
    expected = expected_rows(seeds)
    with scratch_database(tmp_path) as (url, count):
        migrate = manage(url, "migrate", "--no-input", "-v0")
        assert migrate.wait(timeout=180) == 0, migrate.stderr.read()

        run = manage(url, "loadseed", str(seeds), "--workers", "0")
        deadline = time.monotonic() + 120
        while count("SELECT COUNT(*) FROM briefings_article") < FILES // 4:
            assert run.poll() is None, "loadseed finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)
        assert run.returncode == -signal.SIGKILL

        rows = rows_by_source(url, count)
        assert FILES // 4 <= len(rows) < FILES  # killed half-way
        for name, counts in rows.items():
            assert counts == expected[name], name  # whole, never half-written

        rerun = manage(url, "loadseed", str(seeds), "--workers", "0")
        out, err = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, err
        assert sum(line.startswith("created ") for line in out.splitlines()) == (
            FILES - len(rows)
        )
        rows = rows_by_source(url, count)
        assert rows == expected
        assert count("SELECT COUNT(*) FROM briefings_article") == FILES


def rows_by_source(url, count):
    if url.startswith("sqlite"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            result = db.execute(PER_STORY).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as db:
            result = db.execute(PER_STORY).fetchall()
    # Sources are keyed by where the file is; the expectations by its name.
    return {name.rsplit("/", 1)[-1]: tuple(counts) for name, *counts in result}
