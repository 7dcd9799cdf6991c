"""Counting reads: page views for every reader, unique readers with consent.

One upsert per page view (and two more for a reader who accepted analytics),
so counting costs a page almost nothing and needs no job to flush counters.
Nothing about the reader is stored but a hash of their random analytics id.
"""

import hashlib

from django.db import connection
from django.utils import timezone

from .consent import reader_id
from .models import StoryDay, StoryReader

BOT_MARKERS = ("bot", "crawler", "spider", "slurp", "preview", "headless")


def _is_bot(request) -> bool:
    agent = request.headers.get("User-Agent", "").lower()
    return any(marker in agent for marker in BOT_MARKERS)


def record_read(request, response, article_id: int) -> None:
    if request.method != "GET" or _is_bot(request):
        return
    day = timezone.localdate()
    days = StoryDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {days} (article_id, day, views, readers) "
            "VALUES (%s, %s, 1, 0) ON CONFLICT (article_id, day) "
            f"DO UPDATE SET views = {days}.views + 1",
            [article_id, day],
        )
    reader = reader_id(request, response)
    if reader is None:
        return
    digest = hashlib.sha256(f"{article_id}:{reader}".encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {StoryReader._meta.db_table} (article_id, day, reader) "
            "VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            [article_id, day, digest],
        )
        first_time = cursor.rowcount == 1
    if first_time:
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {days} SET readers = readers + 1 "
                "WHERE article_id = %s AND day = %s",
                [article_id, day],
            )
