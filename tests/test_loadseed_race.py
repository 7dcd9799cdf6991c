"""Two loadseed processes on the same folder at once: no duplicates, no crash;
and worker processes that create the same new tags never deadlock.

Runs real processes against a database of their own: a SQLite file, or a
scratch PostgreSQL database when the suite runs on PostgreSQL.
"""

import os
import random
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager

import pytest
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


# Organisations every file names, each file in its own order and with its own
# emphasis: the tags the suggester draws from them come in a different order
# in each file, and every one of them is new to the database.
SHARED_NAMES = [
    "Zorvath Council",
    "Kelmar Institute",
    "Dravon League",
    "Pellix Union",
    "Quorra Fund",
    "Sarnik Board",
    "Tivel Office",
    "Ulmar Bank",
]


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="worker processes write only on PostgreSQL (SQLite takes one writer)",
)
def test_workers_meeting_the_same_new_tags_never_deadlock(tmp_path):
    """Three workers create the same new tags, met in different orders: they
    take the tags' locks in one order (their keys), so they queue instead of
    deadlocking (a deadlock is retried, so the stories would still be
    written: PostgreSQL's own count of deadlocks is what shows it)."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shuffle = random.Random(20261203).sample
    files = 96
    for n in range(files):
        names = shuffle(SHARED_NAMES, 6)
        text = " ".join(
            f"Officials said the {name} met again on Tuesday. " * (weight + 1)
            for weight, name in enumerate(names)
        )
        write_seed(seeds, f"{n:03d}.txt", f"Shared tags story {n}", text=text)
    with scratch_database(tmp_path) as (url, count):
        migrate = manage(url, "migrate", "--no-input", "-v0")
        assert migrate.wait(timeout=120) == 0, migrate.stderr.read()
        run = manage(url, "loadseed", str(seeds), "--workers", "3")
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert f"{files} created" in out
        deadlocks = count(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
        assert deadlocks == 0, f"{deadlocks} deadlocks: {err}"
        assert count("SELECT COUNT(*) FROM taggit_tag") == len(SHARED_NAMES)
        assert count("SELECT MIN(published) FROM briefings_tagusage") > 0
