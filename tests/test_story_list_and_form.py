"""The story list and form: author search, last editor, Schedule, real addresses."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import Article, ArticleStatus, Author, WorkflowAction
from tests.factories import ArticleFactory, AuthorFactory, BylineFactory
from tests.test_admin import CHANGELIST, as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor():
    user = staff("editor", "Editors")
    user.first_name, user.last_name = "Eda", "Stone"
    user.save()
    return user


def test_the_story_list_finds_stories_by_author_name(client, editor):
    found = ArticleFactory(headline="Ferries return")
    BylineFactory(article=found, author=AuthorFactory(name="Louise Greenwood"))
    ArticleFactory(headline="Bridge closes")
    response = as_user(client, editor).get(CHANGELIST, {"q": "Greenwood"})
    assertContains(response, "Ferries return")
    assertNotContains(response, "Bridge closes")


def test_the_story_list_says_who_edited_last(client, editor):
    story = ArticleFactory(headline="Ferries return")
    data = form_values(as_user(client, editor), change_url(story))
    client.post(change_url(story), data)
    response = client.get(CHANGELIST)
    assertContains(response, '<th scope="col" class="sortable column-last_edited')
    assertContains(response, "by Eda Stone")


def test_schedule_publishes_at_the_chosen_time_in_the_site_time_zone(
    client, editor, settings
):
    settings.TIME_ZONE = "Asia/Yerevan"
    story = ArticleFactory(headline="Election night")
    BylineFactory(article=story)
    page = as_user(client, editor).get(change_url(story))
    assertContains(page, 'type="datetime-local" name="schedule_at"')
    assertContains(page, "Asia/Yerevan")
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = form_values(client, change_url(story))
    data.update(schedule_at=f"{tomorrow:%Y-%m-%d}T09:30", _schedule="1")
    response = client.post(change_url(story), data)
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == ArticleStatus.PUBLISHED
    assert story.published_at == datetime(
        tomorrow.year,
        tomorrow.month,
        tomorrow.day,
        9,
        30,
        tzinfo=ZoneInfo("Asia/Yerevan"),
    )
    assert story.is_scheduled
    assert story.workflow_events.first().action == WorkflowAction.SCHEDULED


def test_schedule_refuses_a_time_in_the_past_or_none(client, editor):
    story = ArticleFactory()
    BylineFactory(article=story)
    data = form_values(as_user(client, editor), change_url(story))
    for when in ["", f"{timezone.localdate() - timedelta(days=1):%Y-%m-%d}T09:30"]:
        data.update(schedule_at=when, _schedule="1")
        response = client.post(change_url(story), data)
        assertContains(
            response, "Choose a date and time in the future to schedule the story."
        )
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT


def test_writers_cannot_schedule(client):
    writer = staff("writer", "Writers")
    story = ArticleFactory()
    BylineFactory(article=story)
    page = as_user(client, writer).get(change_url(story))
    assertNotContains(page, 'name="schedule_at"')
    data = form_values(client, change_url(story))
    tomorrow = timezone.localdate() + timedelta(days=1)
    data.update(schedule_at=f"{tomorrow:%Y-%m-%d}T09:30", _schedule="1")
    client.post(change_url(story), data)
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT


def test_the_slug_help_text_shows_the_real_address(client, editor, settings):
    settings.SITE_URL = "https://news.example"
    story = ArticleFactory(slug="ferries-return")
    page = as_user(client, editor).get(change_url(story))
    assertContains(page, "https://news.example/stories/ferries-return/")
    assertNotContains(page, "/stories//")
    new = client.get(reverse("admin:briefings_article_add"))
    assertContains(new, "https://news.example/stories/words-of-the-headline/")
    assertNotContains(new, "/stories//")
    assert Article.objects.count() == 1


def test_an_authors_slug_is_made_from_the_name_when_left_empty(client, editor):
    add = reverse("admin:briefings_author_add")
    as_user(client, editor)
    AuthorFactory(name="Anna Vardanyan", slug="anna-vardanyan")
    page = client.get(add)
    assertContains(page, "/authors/name-of-the-author/")
    response = client.post(add, {"name": "Anna Vardanyan", "slug": "", "bio": ""})
    assert response.status_code == 302
    assert Author.objects.filter(slug="anna-vardanyan-2").exists()
    response = client.post(add, {"name": "Анна", "slug": "", "bio": ""})
    assertContains(response, "Give the author a name made of letters or digits.")
