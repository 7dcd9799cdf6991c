"""Most read (last 48 hours) for readers; hourly charts for editors."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.analytics import reads
from briefings.analytics.readership import (
    bar_chart,
    hour_start,
    hourly_views,
    most_read,
)
from briefings.models import ArticleStatus, StoryHour
from tests.factories import ArticleFactory, BylineFactory
from tests.test_admin import as_user, change_url, staff

pytestmark = pytest.mark.django_db

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}


def published(headline):
    story = ArticleFactory(
        published=True,
        headline=headline,
        published_at=timezone.now() - timedelta(days=3),
    )
    BylineFactory(article=story)
    return story


def read(story, times, **headers):
    for _ in range(times):
        # A new client each time: a fresh reader, and no cookie needed to count.
        response = Client().get(
            story.get_absolute_url(), headers={**BROWSER, **headers}
        )
        assert response.status_code == 200
    reads.flush()


def views_at(story, hours_ago, views):
    StoryHour.objects.create(
        article=story,
        hour=hour_start(timezone.now()) - timedelta(hours=hours_ago),
        views=views,
    )


def test_page_views_are_counted_per_hour_without_cookies():
    story = published("Counted")
    read(story, 3)
    hour = StoryHour.objects.get(article=story)
    assert hour.views == 3
    assert hour.hour == hour_start(timezone.now())


def test_bots_that_say_so_are_not_counted():
    story = published("Crawled")
    read(story, 2, **{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})
    assert not StoryHour.objects.exists()


def test_most_read_ranks_the_last_48_hours_and_hides_what_readers_cannot_see():
    first, second, old = published("First"), published("Second"), published("Old")
    hidden = published("Pulled")
    views_at(first, 1, 50)
    views_at(first, 47, 20)  # still inside the window
    views_at(second, 2, 60)
    views_at(old, 48, 500)  # just outside it
    views_at(hidden, 1, 900)
    hidden.status = ArticleStatus.WITHDRAWN
    hidden.save()
    assert [(story.headline, views) for story, views in most_read()] == [
        ("First", 70),
        ("Second", 60),
    ]


def test_most_read_box_on_home_and_story_pages(client):
    popular, quiet = published("Popular story"), published("Quiet story")
    views_at(popular, 0, 10)
    views_at(quiet, 0, 2)
    for url in (reverse("briefings:home"), quiet.get_absolute_url()):
        response = client.get(url)
        html = response.content.decode()
        box = html[html.index('<aside class="most-read"') :]
        assert box.index("Popular story") < box.index("Quiet story")
        assertContains(response, f'<a href="{popular.get_absolute_url()}">')


def test_a_withdrawn_story_leaves_most_read_at_once(client):
    story = published("Soon withdrawn")
    views_at(story, 0, 10)
    other = published("Other")
    assertContains(client.get(other.get_absolute_url()), "Soon withdrawn")
    story.status = ArticleStatus.WITHDRAWN
    story.save()
    assertNotContains(client.get(other.get_absolute_url()), "Soon withdrawn")


def test_hourly_views_fill_empty_hours_with_zero():
    story = published("Charted")
    views_at(story, 0, 5)
    views_at(story, 3, 2)
    views_at(published("Other"), 0, 7)
    series = hourly_views(story, hours=6)
    assert [views for _hour, views in series] == [0, 0, 2, 0, 0, 5]
    assert series[-1][0] == hour_start(timezone.now())
    assert [views for _hour, views in hourly_views(hours=1)] == [12]


def test_bar_chart_scales_bars_to_the_busiest_hour():
    now = hour_start(timezone.now())
    series = [(now - timedelta(hours=2), 0), (now - timedelta(hours=1), 5), (now, 10)]
    chart = bar_chart(series, width=300, height=100)
    assert [bar.height for bar in chart.bars] == [0, 50, 100]
    assert [bar.x for bar in chart.bars] == [0, 100, 200]
    assert chart.bars[2].y == 0 and chart.bars[1].y == 50
    assert (chart.peak, chart.total) == (10, 15)
    assert bar_chart([(now, 0)]).bars[0].height == 0  # no division by zero


def test_story_admin_shows_its_hourly_chart(client):
    story = published("Charted story")
    views_at(story, 1, 4)
    views_at(story, 0, 6)
    editor = staff("editor", "Editors")
    response = as_user(client, editor).get(change_url(story))
    assertContains(response, '<figure class="hourly-chart">', count=1)
    assertContains(response, "Page views per hour, last 48 hours: <strong>10</strong>")
    assertContains(response, "at most 6 in one hour")


def test_dashboard_shows_site_chart_and_top_stories(client):
    top = published("Top story")
    views_at(top, 0, 30)
    views_at(published("Runner-up"), 5, 3)
    writer = staff("writer", "Writers")
    url = reverse("admin:briefings_article_dashboard")
    response = as_user(client, writer).get(url)
    assert response.status_code == 200
    assertContains(response, "<svg")
    assertContains(response, "<strong>33</strong> in all")
    html = response.content.decode()
    assert html.index("Top story") < html.index("Runner-up")
    assertContains(response, f'href="{change_url(top)}"')
    assertContains(
        client.get(reverse("admin:briefings_article_changelist")), f'href="{url}"'
    )


def test_dashboard_is_for_staff_with_permission_only(client, django_user_model):
    url = reverse("admin:briefings_article_dashboard")
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]
    nobody = django_user_model.objects.create_user("nobody", password="x" * 16)
    nobody.is_staff = True
    nobody.save()
    assert as_user(client, nobody).get(url).status_code == 403


def test_dashboard_lists_the_weeks_search_terms(client):
    from briefings.models import SearchTerm, SearchTermDay

    today = timezone.localdate()
    shown = SearchTerm.objects.create(term="ceasefire")
    SearchTermDay.objects.create(term=shown, day=today, searches=5)
    rare = SearchTerm.objects.create(term="ferry")
    SearchTermDay.objects.create(term=rare, day=today, searches=2)
    hidden = SearchTerm.objects.create(term="rude word", hidden=True)
    SearchTermDay.objects.create(term=hidden, day=today, searches=9)
    old = SearchTerm.objects.create(term="last month")
    SearchTermDay.objects.create(term=old, day=today - timedelta(days=30), searches=50)
    response = as_user(client, staff("editor", "Editors")).get(
        reverse("admin:briefings_article_dashboard")
    )
    html = response.content.decode()
    section = html[html.index("Searches, last 7 days") :]
    assert section.index("rude word") < section.index("ceasefire")
    assert section.index("ceasefire") < section.index("ferry")
    assert "last month" not in section
    assertContains(response, "Hidden by an editor")
    assertContains(response, "Not yet (too few readers, days or stories)")
