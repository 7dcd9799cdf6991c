"""Safety nets of the story form: autosave and "someone else is editing".

- Autosave: the form posts what is typed every AUTOSAVE_SECONDS; it is kept
  (one row per person and story, see `Autosave`) without touching the story,
  so it makes no revision and no version. When the person opens the story
  again and their autosave is newer than the story's last save, the form
  offers to restore it.
- Presence: an open story form sends a heartbeat every HEARTBEAT_SECONDS; who
  else sent one in the last PRESENCE_SECONDS is shown as "Someone else is
  editing this story", before anyone saves over anyone (the stale-save check
  in the form still refuses a save made from an outdated form). Heartbeats
  live in the cache (Redis in production), not in the database: they are
  frequent and short-lived. Two heartbeats at the same instant may drop one
  of them; the next, HEARTBEAT_SECONDS later, puts it back.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from briefings.newsroom.models import Autosave

AUTOSAVE_SECONDS = 30
HEARTBEAT_SECONDS = 15
PRESENCE_SECONDS = 45
#: An autosave of a story never saved is offered for this long.
NEW_STORY_AUTOSAVE = timedelta(days=1)
#: The most characters an autosave may hold (the form's fields as JSON).
AUTOSAVE_MAX_CHARS = 500_000


@dataclass(frozen=True)
class Presence:
    user_id: int
    name: str
    seen_at: datetime


def _presence_key(article):
    return f"briefings:editing:{article.pk}"


def _recent(article, now):
    since = now - timedelta(seconds=PRESENCE_SECONDS)
    seen = cache.get(_presence_key(article)) or {}
    return {uid: p for uid, p in seen.items() if p.seen_at >= since}


def others_editing(article, user, now=None):
    """Who else has had `article` open in the last PRESENCE_SECONDS."""
    seen = _recent(article, now or timezone.now())
    return sorted(
        (p for uid, p in seen.items() if uid != user.pk), key=lambda p: p.seen_at
    )


def heartbeat(article, user):
    """`user` has `article` open now; returns who else has it open."""
    now = timezone.now()
    seen = _recent(article, now)
    seen[user.pk] = Presence(user.pk, user.get_full_name() or user.get_username(), now)
    cache.set(_presence_key(article), seen, PRESENCE_SECONDS)
    return others_editing(article, user, now)


def autosave(user, article, data):
    """Keep `data` (the form's fields) as `user`'s autosave of `article`."""
    return _upsert(
        Autosave,
        {"user": user, "article": article},
        {"data": data, "saved_at": timezone.now()},
    )


def autosave_to_offer(user, article):
    """`user`'s autosave of `article` (None: a new story) if newer than its save."""
    found = Autosave.objects.filter(user=user, article=article).first()
    if found is None:
        return None
    if article is None:
        fresh = found.saved_at >= timezone.now() - NEW_STORY_AUTOSAVE
    else:
        fresh = found.saved_at > article.edited_at
    return found if fresh else None


def discard(user, article):
    Autosave.objects.filter(user=user, article=article).delete()


def forget_new_story_autosave(sender, instance, created, raw=False, **kwargs):
    """A story saved for the first time replaces its writer's new-story autosave."""
    if created and not raw and instance.created_by_id:
        Autosave.objects.filter(
            user_id=instance.created_by_id, article__isnull=True
        ).delete()


def _upsert(model, lookup, values):
    """update_or_create, safe when two requests create the same row at once."""
    try:
        with transaction.atomic():
            row, _ = model.objects.update_or_create(**lookup, defaults=values)
    except IntegrityError:
        model.objects.filter(**lookup).update(**values)
        row = model.objects.get(**lookup)
    return row
