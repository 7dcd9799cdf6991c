"""What readers read: "Most read" for readers, hourly charts for editors.

Counts come from StoryHour rows that briefings.analytics.reads writes in batches; no
cookie and nothing about a reader is needed for them.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Sum
from django.utils import timezone

from briefings.analytics.models import StoryHour
from briefings.core.freshness import current_version
from briefings.stories.models import Article, published_q

MOST_READ_HOURS = 48
MOST_READ_CACHE_SECONDS = 60


def hour_start(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def most_read(limit: int = 5, hours: int = MOST_READ_HOURS):
    """The published stories with the most page views in the last `hours`.

    Two queries, whatever the number of stories: the top counts, then the
    stories. A story that is withdrawn or unscheduled drops out at once.
    """
    now = timezone.now()
    top = list(
        StoryHour.objects.filter(
            published_q(now, prefix="article__"),
            hour__gte=hour_start(now) - timedelta(hours=hours - 1),
        )
        .values("article")
        .annotate(views=Sum("views"))
        .order_by("-views", "article")[:limit]
    )
    stories = (
        Article.objects.published()
        .only("headline", "slug")
        .in_bulk([row["article"] for row in top])
    )
    return [
        (stories[row["article"]], row["views"])
        for row in top
        if row["article"] in stories
    ]


def most_read_for_page(limit: int = 5):
    """Most read, as a page shows it: cached briefly, fresh after any edit."""
    key = f"most-read:{current_version()}:{limit}"
    items = cache.get(key)
    if items is None:
        items = [
            {"headline": story.headline, "url": story.get_absolute_url()}
            for story, _views in most_read(limit)
        ]
        cache.set(key, items, MOST_READ_CACHE_SECONDS)
    return items


def hourly_views(article=None, hours: int = MOST_READ_HOURS, now=None):
    """Views per hour for the last `hours` hours, oldest first, zeros included.

    For one story, or for the whole site when `article` is None.
    """
    end = hour_start(now or timezone.now())
    start = end - timedelta(hours=hours - 1)
    rows = StoryHour.objects.filter(hour__gte=start, hour__lte=end)
    if article is not None:
        rows = rows.filter(article=article)
    counts = dict(
        rows.values("hour").annotate(total=Sum("views")).values_list("hour", "total")
    )
    return [
        (start + timedelta(hours=i), counts.get(start + timedelta(hours=i), 0))
        for i in range(hours)
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    hour: datetime
    views: int


@dataclass(frozen=True)
class Chart:
    """An SVG bar chart's geometry; the template draws it, no script needed."""

    bars: list[Bar]
    width: int
    height: int
    peak: int
    total: int
    first: datetime
    last: datetime


def bar_chart(series, width: int = 480, height: int = 80) -> Chart:
    """Lay out (hour, views) pairs as bars scaled to the busiest hour."""
    peak = max((views for _hour, views in series), default=0)
    step = width / max(len(series), 1)
    bars = []
    for index, (hour, views) in enumerate(series):
        bar_height = round(height * views / peak, 2) if peak else 0
        bars.append(
            Bar(
                x=round(index * step, 2),
                y=round(height - bar_height, 2),
                width=round(max(step - 1, 1), 2),
                height=bar_height,
                hour=hour,
                views=views,
            )
        )
    return Chart(
        bars=bars,
        width=width,
        height=height,
        peak=peak,
        total=sum(views for _hour, views in series),
        first=series[0][0] if series else None,
        last=series[-1][0] if series else None,
    )
