"""Promotion fields: SEO title, meta description and social image, with defaults."""

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.asserts import assertContains

from briefings.models import Article, FigurePlace, plain_text, shorten
from tests.factories import ArticleFactory, AuthorFactory, BylineFactory, FigureFactory
from tests.test_admin import as_user, change_url, form_values, staff
from tests.test_images import picture

pytestmark = pytest.mark.django_db

DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def descriptions(response):
    return DESCRIPTION.findall(response.content.decode())


def live_story(**kwargs):
    story = ArticleFactory(published=True, **kwargs)
    BylineFactory(article=story)
    story.tags.add("Armenia")
    return story


def with_picture(story, place, caption):
    return FigureFactory(
        article=story,
        place=place,
        position=1,
        caption=caption,
        upload=SimpleUploadedFile(f"{place}.png", picture("PNG", (1400, 800))),
        alt_text=f"{caption} (alt)",
    )


def test_every_public_page_has_one_meta_description(client):
    story = live_story(headline="Talks resume in Vienna")
    author = AuthorFactory(name="Ann Reporter", bio="Ann covers diplomacy.")
    BylineFactory(article=story, author=author)
    pages = [
        "/",
        story.get_absolute_url(),
        reverse("briefings:tag-list"),
        reverse("briefings:tag-detail", args=["armenia"]),
        author.get_absolute_url(),
        reverse("briefings:corrections"),
        reverse("briefings:search") + "?q=talks",
        reverse("briefings:privacy"),
        reverse("briefings:cookie-settings"),
        reverse("briefings:cookie-policy"),
        reverse("briefings:newsletter"),
        reverse("briefings:newsletter-thanks"),
    ]
    for url in pages:
        found = descriptions(client.get(url))
        assert len(found) == 1 and found[0].strip(), url
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    assert len(descriptions(missing)) == 1
    assert descriptions(client.get(author.get_absolute_url())) == [
        "Ann covers diplomacy."
    ]
    assert (
        "Armenia"
        in descriptions(client.get(reverse("briefings:tag-detail", args=["armenia"])))[
            0
        ]
    )


def test_story_pages_default_to_headline_standfirst_and_hero(client):
    story = live_story(headline="Ferries return", standfirst="After the storms.")
    hero = with_picture(story, FigurePlace.HERO, "The first ferry")
    response = client.get(story.get_absolute_url())
    assert descriptions(response) == ["After the storms."]
    assertContains(response, '<meta property="og:title" content="Ferries return">')
    assertContains(response, '<meta name="twitter:title" content="Ferries return">')
    assertContains(
        response, '<meta property="og:description" content="After the storms.">'
    )
    assertContains(response, "/media/library/")  # uploads go into the library
    assertContains(
        response,
        f'<meta property="og:image:alt" content="{hero.alt_text}">',
    )


def test_without_a_standfirst_the_description_is_the_start_of_the_text(client):
    body = (
        "## Ignored heading\n\n**Boats** leave every hour from seven, says "
        "[the port](https://example.com/port). " + "More words. " * 40
    )
    story = live_story(standfirst="", body=body)
    (found,) = descriptions(client.get(story.get_absolute_url()))
    assert found.startswith("Ignored heading Boats leave every hour from seven, says")
    assert "the port" in found and "**" not in found and "https" not in found
    assert len(found) <= 160 and found.endswith("…")


def test_the_editors_promotion_fields_win(client):
    story = live_story(
        headline="Ferries return",
        standfirst="After the storms.",
        seo_title="Harbour ferries back after storms",
        meta_description="The ferry timetable from Monday.",
    )
    with_picture(story, FigurePlace.HERO, "The hero")
    social = with_picture(story, FigurePlace.BODY, "The social one")
    story.social_image = social
    story.save()
    response = client.get(story.get_absolute_url())
    assert descriptions(response) == ["The ferry timetable from Monday."]
    assertContains(
        response,
        '<meta property="og:title" content="Harbour ferries back after storms">',
    )
    # The social crop (1.91:1) around the library picture's focal point.
    crop = next(c for c in social.library_image.crops if c["kind"] == "social")
    assertContains(response, default_storage.url(crop["name"]))
    assertContains(
        response, '<meta property="og:image:alt" content="The social one (alt)">'
    )


def test_the_form_offers_only_this_storys_pictures_as_social_image(client):
    editor = as_user(client, staff("editor", "Editors"))
    story = live_story(headline="Ferries return")
    own = with_picture(story, FigurePlace.BODY, "Own")
    other = with_picture(live_story(), FigurePlace.BODY, "Someone else's")
    page = editor.get(change_url(story))
    assertContains(page, 'placeholder="Ferries return"')
    assertContains(page, f'<option value="{own.pk}">Own</option>', html=True)
    data = form_values(editor, change_url(story))
    data["social_image"] = str(other.pk)
    response = editor.post(change_url(story), data)
    assertContains(response, "Select a valid choice.")
    data.update(
        social_image=str(own.pk),
        seo_title="Short title",
        meta_description="A summary.",
    )
    assert editor.post(change_url(story), data).status_code == 302
    story = Article.objects.get(pk=story.pk)
    assert (story.social_image, story.seo_title, story.meta_description) == (
        own,
        "Short title",
        "A summary.",
    )


def test_plain_text_and_shorten():
    assert plain_text("[figure 1]\n\n> *Quoted*\n\n- one\n- two") == "Quoted one two"
    assert shorten("word " * 50, 20) == "word word word word…"
    assert shorten("short", 20) == "short"
