"""Two loadseed processes on the same folder at once: no duplicates, no crash.

Runs real processes against a database of their own: a SQLite file, or a
scratch PostgreSQL database when the suite runs on PostgreSQL.
"""

import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from tests.test_loadseed import write_seed

FILES = 30


@contextmanager
def scratch_database(tmp_path):
    """Yield (DATABASE_URL, count(sql) function) for a fresh, empty database."""
    if connection.vendor != "postgresql":
        path = tmp_path / "race.sqlite3"

        def count(sql):
            with sqlite3.connect(path) as db:
                return db.execute(sql).fetchone()[0]

        yield f"sqlite:///{path}", count
        return
    import psycopg

    params = settings.DATABASES["default"]
    name = f"briefings_race_{uuid.uuid4().hex[:8]}"
    admin = {
        "host": params["HOST"],
        "port": params["PORT"] or 5432,
        "user": params["USER"],
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{admin['user']}@{admin['host']}:{admin['port']}/{name}"

    def count(sql):
        with psycopg.connect(dbname=name, **admin) as db:
            return db.execute(sql).fetchone()[0]

    try:
        yield url, count
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(url, *args):
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SECRET_KEY": "race-test",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_concurrent_runs_create_each_story_once(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(FILES):
        write_seed(seeds, f"{n:02d}.txt", f"Race story {n}", author="Ann Reporter")
    with scratch_database(tmp_path) as (url, count):
        migrate = manage(url, "migrate", "--no-input", "-v0")
        assert migrate.wait(timeout=120) == 0, migrate.stderr.read()
        runs = [manage(url, "loadseed", str(seeds), "--workers", "0") for _ in range(2)]
        outputs = [run.communicate(timeout=300) for run in runs]
        for run, (_out, err) in zip(runs, outputs, strict=True):
            assert run.returncode == 0, err
            assert "Traceback" not in err
        lines = [line for out, _ in outputs for line in out.splitlines()]
        created = sum(line.startswith("created ") for line in lines)
        unchanged = sum(line.startswith("unchanged ") for line in lines)
        assert created == FILES and unchanged == FILES
        assert count("SELECT COUNT(*) FROM briefings_article") == FILES
        assert (
            count("SELECT COUNT(DISTINCT source_name) FROM briefings_article") == FILES
        )
        assert count("SELECT COUNT(*) FROM briefings_author") == 1
        assert count("SELECT COUNT(*) FROM briefings_byline") == FILES
