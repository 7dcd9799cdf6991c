"""The story form's live preview: the server's own rendering of the body."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import ArticleFactory, FigureFactory
from tests.test_admin import as_user, change_url, staff

pytestmark = pytest.mark.django_db

PREVIEW = reverse("desk:body-preview")


@pytest.fixture
def writer(client):
    return as_user(client, staff("writer", "Writers"))


def test_the_preview_is_what_body_py_renders_for_readers(writer):
    story = ArticleFactory()
    FigureFactory(article=story, position=1, caption="Boats in the harbour.")
    text = (
        "First **bold** and *italic* with [a link](https://example.com).\n\n"
        "## A subheading\n\n> Quoted\n\n- one\n- two\n\n[figure 1]\n\n"
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n<script>alert(1)</script>"
    )
    response = writer.post(PREVIEW, {"body": text, "story": story.pk})
    assert response.status_code == 200
    assertContains(response, "<strong>bold</strong>")
    assertContains(response, "<em>italic</em>")
    assertContains(response, '<a href="https://example.com">a link</a>')
    assertContains(response, "<h2>A subheading</h2>")
    assertContains(response, "<blockquote>")
    assertContains(response, "<li>one</li>")
    assertContains(response, "Boats in the harbour.")
    assertContains(response, "Video from YouTube")
    assertNotContains(response, "<iframe")  # nothing loads from YouTube here
    assertContains(response, "&lt;script&gt;alert(1)&lt;/script&gt;")
    assertNotContains(response, "<script>")
    assert "no-cache" in response["Cache-Control"]


def test_the_preview_needs_a_post_by_staff_who_may_edit_stories(client, writer):
    assert writer.get(PREVIEW).status_code == 405
    client.logout()
    anonymous = client.post(PREVIEW, {"body": "x"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    assert as_user(client, clerk).post(PREVIEW, {"body": "x"}).status_code == 403


def test_an_overlong_body_gets_a_clear_error(writer):
    response = writer.post(PREVIEW, {"body": "word " * 50_000})
    assert response.status_code == 400
    assertContains(response, "too long to preview", status_code=400)


def test_the_form_loads_the_editor_and_keeps_the_plain_textarea(writer):
    story = ArticleFactory()
    page = writer.get(change_url(story))
    assertContains(page, '<textarea name="body"')
    assertContains(page, "admin/body_editor.js")
    assertContains(page, f'data-preview-url="{PREVIEW}" data-story="{story.pk}"')
