"""Counting reads: page views for every reader, unique readers with consent.

Reads are counted in memory and handed in batches (every READS_FLUSH_SECONDS,
or sooner when many are waiting) to a worker, the `write_reads` task, so
counting costs a page no query and the request that fills a batch no writes. A worker
that dies loses at most its last few seconds of counts. Nothing about a reader
is stored but a hash of their random analytics id.
"""

import hashlib
import threading
import time
from collections import Counter
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.tasks import task
from django.utils import timezone

from briefings.analytics.models import StoryDay, StoryHour, StoryReader
from briefings.consent.cookies import reader_id
from briefings.core.background import retried
from briefings.core.http import is_bot

MAX_PENDING = 1000

_lock = threading.Lock()
_views: Counter = Counter()
_hours: Counter = Counter()
_readers: set = set()
_last_flush = time.monotonic()


def record_read(request, response, article_id: int) -> None:
    """Count one read of a story (and its reader, with analytics consent)."""
    global _last_flush
    if request.method != "GET" or is_bot(request):
        return
    now = timezone.now()
    day = timezone.localdate(now)
    hour = now.replace(minute=0, second=0, microsecond=0)
    reader = reader_id(request, response)
    with _lock:
        _views[(article_id, day)] += 1
        _hours[(article_id, hour)] += 1
        if reader is not None:
            digest = hashlib.sha256(f"{article_id}:{reader}".encode()).hexdigest()
            _readers.add((article_id, day, digest))
        due = (
            time.monotonic() - _last_flush >= settings.READS_FLUSH_SECONDS
            or len(_views) + len(_hours) + len(_readers) >= MAX_PENDING
        )
    if due:
        flush()


def flush() -> None:
    """Hand the counted reads to a worker (one task row; no counting query here)."""
    global _last_flush
    with _lock:
        views, hours, readers = dict(_views), dict(_hours), set(_readers)
        _views.clear()
        _hours.clear()
        _readers.clear()
        _last_flush = time.monotonic()
    if not views and not readers:
        return
    write_reads.enqueue(
        views=[[article, day.isoformat(), n] for (article, day), n in views.items()],
        hours=[[article, hour.isoformat(), n] for (article, hour), n in hours.items()],
        readers=sorted([article, day.isoformat(), d] for article, day, d in readers),
    )


@task
@retried
def write_reads(views, hours, readers):
    """Task: add counted reads to the tables, one statement per table.

    `views` and `hours` are [story id, ISO day or hour, count]; `readers` are
    [story id, ISO day, hashed reader].
    """
    days = StoryDay._meta.db_table
    per_hour = StoryHour._meta.db_table
    people = StoryReader._meta.db_table
    ops = connection.ops
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {days} (article_id, day, views, readers) "
            "VALUES (%s, %s, %s, 0) ON CONFLICT (article_id, day) "
            f"DO UPDATE SET views = {days}.views + EXCLUDED.views",
            [
                (article, ops.adapt_datefield_value(date.fromisoformat(day)), n)
                for article, day, n in views
            ],
        )
        cursor.executemany(
            f"INSERT INTO {per_hour} (article_id, hour, views) "
            "VALUES (%s, %s, %s) ON CONFLICT (article_id, hour) "
            f"DO UPDATE SET views = {per_hour}.views + EXCLUDED.views",
            [
                (
                    article,
                    ops.adapt_datetimefield_value(datetime.fromisoformat(hour)),
                    n,
                )
                for article, hour, n in hours
            ],
        )
        if readers:
            cursor.executemany(
                f"INSERT INTO {people} (article_id, day, reader) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                [
                    (article, ops.adapt_datefield_value(date.fromisoformat(day)), d)
                    for article, day, d in readers
                ],
            )
            touched = sorted({(article, day) for article, day, _ in readers})
            cursor.executemany(
                f"UPDATE {days} SET readers = (SELECT COUNT(*) FROM {people} "
                f"WHERE {people}.article_id = {days}.article_id "
                f"AND {people}.day = {days}.day) "
                "WHERE article_id = %s AND day = %s",
                [
                    (article, ops.adapt_datefield_value(date.fromisoformat(day)))
                    for article, day in touched
                ],
            )


def discard() -> None:
    """Forget reads not yet written (tests, whose rows are rolled back)."""
    with _lock:
        _views.clear()
        _hours.clear()
        _readers.clear()
