"""Safety nets of the story form: autosave and who else is editing."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from briefings.models import Article, Autosave
from briefings.newsroom import editing
from tests.factories import ArticleFactory
from tests.test_admin import as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db

ADD = reverse("admin:briefings_article_add")


@pytest.fixture
def writer():
    return staff("writer", "Writers")


def autosave_url(story=None):
    if story is None:
        return reverse("desk:autosave-new")
    return reverse("desk:autosave", args=[story.pk])


def test_autosave_keeps_the_form_without_a_revision_or_a_new_version(client, writer):
    story = ArticleFactory(body="Saved text.")
    version, revisions = story.version, Version.objects.count()
    as_user(client, writer)
    for text in ("Typed once.", "Typed twice."):
        response = client.post(
            autosave_url(story), {"data": json.dumps({"body": text, "tags": []})}
        )
        assert response.status_code == 200
        assert "saved_at" in response.json()
    story.refresh_from_db()
    assert (story.body, story.version) == ("Saved text.", version)
    assert Version.objects.count() == revisions
    assert list(Autosave.objects.values_list("data", flat=True)) == [
        {"body": "Typed twice.", "tags": []}
    ]


def test_a_newer_autosave_is_offered_back_until_the_story_is_saved(client, writer):
    story = ArticleFactory(body="Saved text.")
    as_user(client, writer).post(
        autosave_url(story), {"data": json.dumps({"body": "Lost in a crash."})}
    )
    page = client.get(change_url(story))
    assertContains(page, "You have unsaved changes from")
    assertContains(page, '<script id="autosave-data" type="application/json">')
    assertContains(page, "Lost in a crash.")
    data = form_values(client, change_url(story))
    data["body"] = "Saved again."
    assert client.post(change_url(story), data).status_code == 302
    assertNotContains(client.get(change_url(story)), "You have unsaved changes")


def test_discarding_an_autosave(client, writer):
    story = ArticleFactory()
    as_user(client, writer).post(autosave_url(story), {"data": "{}"})
    client.post(reverse("desk:discard-autosave", args=[story.pk]))
    assert not Autosave.objects.exists()


def test_a_new_storys_autosave_is_offered_until_that_story_is_saved(client, writer):
    as_user(client, writer).post(
        autosave_url(), {"data": json.dumps({"headline": "Half-written"})}
    )
    assertContains(client.get(ADD), "Half-written")
    data = form_values(client, ADD)
    data.update(headline="Half-written", slug="half-written")
    assert client.post(ADD, data).status_code == 302
    assert not Autosave.objects.exists()
    assertNotContains(client.get(ADD), "You have unsaved changes")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("not json", "must be the form's fields as a JSON object"),
        ("[1, 2]", "must be the form's fields as a JSON object"),
        ('{"body": 3}', "must be the form's fields as a JSON object"),
        (json.dumps({"body": "x" * 500_001}), "too large to autosave"),
    ],
)
def test_bad_autosaves_get_a_clear_error_and_store_nothing(
    client, writer, data, message
):
    story = ArticleFactory()
    response = as_user(client, writer).post(autosave_url(story), {"data": data})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Autosave.objects.exists()


def test_safety_endpoints_need_staff_who_may_change_stories(client, writer):
    story = ArticleFactory()
    urls = [
        autosave_url(story),
        reverse("desk:heartbeat", args=[story.pk]),
        reverse("desk:discard-autosave", args=[story.pk]),
    ]
    for url in urls:
        response = client.post(url, {"data": "{}"})
        assert response.status_code == 302 and "/login/" in response["Location"]
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    for url in urls:
        assert as_user(client, clerk).post(url, {"data": "{}"}).status_code == 403
    assert as_user(client, writer).get(urls[1]).status_code == 405
    missing = reverse("desk:heartbeat", args=[story.pk + 1000])
    assert client.post(missing).status_code == 404


def test_someone_else_editing_shows_on_the_form_and_in_the_heartbeat(client):
    ann = staff("ann", "Writers")
    ann.first_name, ann.last_name = "Ann", "Hale"
    ann.save()
    bo = staff("bo", "Editors")
    story = ArticleFactory()
    heartbeat = reverse("desk:heartbeat", args=[story.pk])
    assert as_user(client, ann).post(heartbeat).json() == {"others": []}
    answer = as_user(client, bo).post(heartbeat).json()
    assert [other["name"] for other in answer["others"]] == ["Ann Hale"]
    page = client.get(change_url(story))
    assertContains(page, "Someone else is editing this story:")
    assertContains(page, "Ann Hale (seen at")
    assert [
        o["name"] for o in as_user(client, ann).post(heartbeat).json()["others"]
    ] == ["bo"]
    # A form closed more than 45 seconds ago no longer counts.
    later = timezone.now() + timedelta(seconds=editing.PRESENCE_SECONDS + 1)
    with time_machine.travel(later):
        as_user(client, bo)
        assertContains(
            client.get(change_url(story)), 'id="story-presence" role="status" hidden'
        )
        assert client.post(heartbeat).json() == {"others": []}
    assert Article.objects.get(pk=story.pk).version == story.version
