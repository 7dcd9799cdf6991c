"""The desk: the admin's home page for the newsroom.

What waits for whom, at a glance: my drafts, stories awaiting review (who
submitted them and when), what is scheduled (in the site's time zone), what
was published today, and the corrections of the last seven days, plus the
notices of the review loop (briefings/review.py). Editors see everyone's
stories; Writers see the ones they started.

Each section is one query, whatever the number of stories (`sections`).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from briefings.newsroom.adminsite import PUBLISH_PERMISSION
from briefings.newsroom.models import Notice
from briefings.stories.models import (
    Article,
    ArticleStatus,
    Correction,
    WorkflowAction,
    WorkflowEvent,
)

ROWS = 20  # per section; "See all" leads to the story list


@dataclass
class Section:
    key: str
    title: str
    rows: list
    empty: str
    more_url: str = ""
    columns: list = field(default_factory=list)


def is_editor(user) -> bool:
    return user.has_perm(PUBLISH_PERMISSION)


def stories_for(user):
    """The stories `user` sees on the desk: everyone's for Editors."""
    stories = Article.objects.defer("body", "standfirst")
    if is_editor(user):
        return stories
    return stories.filter(created_by=user)


def _latest_event(field_name):
    events = WorkflowEvent.objects.filter(article=OuterRef("pk")).order_by("-at", "-pk")
    return Subquery(events.values(field_name)[:1])


def _submitted(field_name):
    events = WorkflowEvent.objects.filter(
        article=OuterRef("pk"), action=WorkflowAction.SUBMITTED
    ).order_by("-at", "-pk")
    return Subquery(events.values(field_name)[:1])


def my_drafts(user):
    return list(
        Article.objects.defer("body", "standfirst")
        .filter(status=ArticleStatus.DRAFT, created_by=user)
        .select_related("last_edited_by")
        .annotate(
            last_action=_latest_event("action"),
            last_comment=_latest_event("comment"),
        )
        .order_by("-edited_at", "-pk")[:ROWS]
    )


def awaiting_review(user):
    rows = list(
        stories_for(user)
        .filter(status=ArticleStatus.IN_REVIEW)
        .select_related("created_by")
        .annotate(submitted_at=_submitted("at"), submitted_by_id=_submitted("user"))
        .order_by("submitted_at", "pk")[:ROWS]
    )
    # Who submitted: one query for all rows (usually the writer who started it).
    ids = {row.submitted_by_id for row in rows} - {None}
    users = get_user_model().objects.in_bulk(ids) if ids else {}
    for row in rows:
        row.writer = users.get(row.submitted_by_id) or row.created_by
    return rows


def scheduled(user, now):
    return list(stories_for(user).scheduled(now).order_by("published_at", "pk")[:ROWS])


def published_today(user, now):
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return list(
        stories_for(user)
        .published(now)
        .filter(published_at__gte=start)
        .order_by("-published_at", "-pk")[:ROWS]
    )


def corrections_this_week(user, now):
    corrections = Correction.objects.filter(
        made_at__gte=now - timedelta(days=7)
    ).select_related("article")
    if not is_editor(user):
        corrections = corrections.filter(article__created_by=user)
    return list(
        corrections.defer("article__body", "article__standfirst").order_by(
            "-made_at", "-pk"
        )[:ROWS]
    )


def notices(user):
    return list(
        Notice.objects.unread()
        .filter(user=user)
        .select_related("event__article", "event__user")
        .defer("event__article__body", "event__article__standfirst")[:ROWS]
    )


def sections(user, now=None):
    """The desk's sections for `user`, in the order they are shown."""
    now = now or timezone.now()
    changelist = reverse("admin:briefings_article_changelist")
    return [
        Section(
            "drafts",
            "My drafts",
            my_drafts(user),
            "You have no drafts.",
            f"{changelist}?state=draft",
        ),
        Section(
            "review",
            "Awaiting review",
            awaiting_review(user),
            "Nothing is waiting for review.",
            f"{changelist}?state=in_review",
        ),
        Section(
            "scheduled",
            "Scheduled",
            scheduled(user, now),
            "Nothing is scheduled.",
            reverse("admin:briefings_article_scheduled"),
        ),
        Section(
            "today",
            "Published today",
            published_today(user, now),
            "Nothing published yet today.",
            f"{changelist}?state=live",
        ),
        Section(
            "corrections",
            "Corrections this week",
            corrections_this_week(user, now),
            "No corrections in the last seven days.",
        ),
    ]
