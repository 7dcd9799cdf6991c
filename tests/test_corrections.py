"""Corrections: on the story, on /corrections/, marking the story as updated."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import Article, Correction, CorrectionKind
from tests.factories import ArticleFactory, BylineFactory, CorrectionFactory
from tests.test_admin import as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db


def published_story(**kwargs):
    story = ArticleFactory(
        published=True, published_at=timezone.now() - timedelta(hours=3), **kwargs
    )
    BylineFactory(article=story)
    return story


def test_a_correction_shows_on_the_story_and_marks_it_updated(client):
    story = published_story(headline="Vote delayed")
    made = timezone.now() - timedelta(minutes=30)
    CorrectionFactory(
        article=story,
        kind=CorrectionKind.CLARIFICATION,
        text="This story now says which committee met.",
        made_at=made,
    )
    story.refresh_from_db()
    assert story.updated_at == made
    response = client.get(story.get_absolute_url())
    assertContains(response, "Corrections and clarifications")
    assertContains(response, "<strong>Clarification</strong>", html=False)
    assertContains(response, "This story now says which committee met.")
    # The reader sees the story marked as updated at the correction's time.
    assertContains(response, f'Updated <time datetime="{made.isoformat()}"')


def test_an_older_correction_does_not_move_a_later_update_back():
    story = published_story()
    later = timezone.now()
    Article.objects.filter(pk=story.pk).update(updated_at=later)
    CorrectionFactory(article=story, made_at=later - timedelta(hours=1))
    story.refresh_from_db()
    assert story.updated_at == later


def test_corrections_page_lists_corrections_of_published_stories_only(client):
    older = CorrectionFactory(
        article=published_story(headline="First story"),
        text="Older note.",
        made_at=timezone.now() - timedelta(days=2),
    )
    newer = CorrectionFactory(
        article=published_story(headline="Second story"), text="Newer note."
    )
    CorrectionFactory(article=ArticleFactory(withdrawn=True), text="Withdrawn note.")
    CorrectionFactory(article=ArticleFactory(scheduled=True), text="Scheduled note.")
    response = client.get(reverse("briefings:corrections"))
    html = response.content.decode()
    assert html.index(newer.text) < html.index(older.text)  # newest first
    assertContains(response, f'href="{newer.article.get_absolute_url()}"')
    assertNotContains(response, "Withdrawn note.")
    assertNotContains(response, "Scheduled note.")


def test_corrections_page_queries_do_not_grow(client, django_assert_max_num_queries):
    for _ in range(30):
        CorrectionFactory(article=published_story())
    with django_assert_max_num_queries(6):
        assert client.get(reverse("briefings:corrections")).status_code == 200


def test_a_new_correction_refreshes_the_cached_story_page(client):
    story = published_story()
    assertNotContains(client.get(story.get_absolute_url()), "Corrections and")
    CorrectionFactory(article=story, text="Fixed the spelling of a name.")
    assertContains(client.get(story.get_absolute_url()), "Fixed the spelling")


def test_an_editor_adds_a_correction_in_the_story_form(client):
    story = published_story()
    editor = staff("editor", "Editors")
    data = form_values(as_user(client, editor), change_url(story))
    now = timezone.localtime()
    data.update(
        {
            "corrections-TOTAL_FORMS": "1",
            "corrections-0-kind": "correction",
            "corrections-0-text": "The minister's name was misspelt.",
            "corrections-0-made_at_0": now.strftime("%Y-%m-%d"),
            "corrections-0-made_at_1": now.strftime("%H:%M:%S"),
            "corrections-0-article": str(story.pk),
        }
    )
    response = client.post(change_url(story), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    correction = Correction.objects.get()
    assert correction.text == "The minister's name was misspelt."
    story.refresh_from_db()
    assert story.updated_at == correction.made_at


def test_writers_see_corrections_but_cannot_add_or_delete_them(client):
    story = ArticleFactory()  # a draft a writer may edit
    BylineFactory(article=story)
    CorrectionFactory(article=story, text="Noted by the desk.")
    writer = staff("writer", "Writers")
    response = as_user(client, writer).get(change_url(story))
    assertContains(response, "Noted by the desk.")
    assertNotContains(response, 'name="corrections-0-text"')
    assert not writer.has_perm("briefings.add_correction")
    editor = staff("editor", "Editors")
    assert editor.has_perm("briefings.add_correction")
    assert not editor.has_perm("briefings.delete_correction")
