"""A picture chosen in the story form survives a form error."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertContains

from briefings.models import Image as LibraryImage
from briefings.newsroom import kept
from tests.factories import ArticleFactory, BylineFactory
from tests.test_admin import as_user, change_url, form_values, staff
from tests.test_images import picture

pytestmark = pytest.mark.django_db

KEPT = re.compile(r'name="figures-0-kept_image" value="([^"]+)"')


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def figure_fields(**extra):
    return {
        "figures-TOTAL_FORMS": "1",
        "figures-0-place": "body",
        "figures-0-position": "1",
        "figures-0-caption": "The first ferry.",
        "figures-0-alt_text": "A ferry leaving the harbour.",
        **extra,
    }


def test_a_chosen_picture_comes_back_after_a_form_error(client):
    editor = as_user(client, staff("editor", "Editors"))
    story = ArticleFactory()
    BylineFactory(article=story)
    data = form_values(editor, change_url(story))
    data.update(figure_fields(), slug="not a slug!")
    data["figures-0-upload"] = SimpleUploadedFile(
        "ferry.png", picture("PNG", (900, 600)), "image/png"
    )
    failed = editor.post(change_url(story), data)
    assert failed.status_code == 200
    assertContains(failed, "Enter a valid “slug”")
    assertContains(failed, "<strong>Chosen: ferry.png</strong>")
    (token,) = KEPT.findall(failed.content.decode())
    assert not story.figures.exists()
    assert not LibraryImage.objects.exists()  # a form error adds no picture

    # The next try sends no file, only the kept picture's token.
    data.pop("figures-0-upload")
    data.update(slug="ferries-return", **{"figures-0-kept_image": token})
    assert editor.post(change_url(story), data).status_code == 302
    figure = story.figures.get()
    image = figure.library_image  # in the library, like any upload
    assert image.file and (image.width, image.height) == (900, 600)
    assert image.file.name.endswith(".png")
    assert image.alt_text == "A ferry leaving the harbour."
    # The failed try left nothing behind: one picture, the one in use.
    assert list(LibraryImage.objects.all()) == [image]


def test_a_forged_or_expired_token_brings_nothing_back(client):
    editor = as_user(client, staff("editor", "Editors"))
    story = ArticleFactory()
    data = form_values(editor, change_url(story))
    data.update(figure_fields(**{"figures-0-kept_image": "forged"}))
    assert editor.post(change_url(story), data).status_code == 302
    assert story.figures.get().library_image is None
    assert not LibraryImage.objects.exists()
    assert kept.restore("forged") is None
