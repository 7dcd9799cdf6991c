"""Model rules the database and the published() queryset enforce."""

from datetime import timedelta
from io import BytesIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from briefings.models import Article, ArticleStatus, Figure, FigurePlace
from briefings.models import Image as LibraryImage
from tests.factories import ArticleFactory, FigureFactory, hours_from_now

pytestmark = pytest.mark.django_db


def test_slugs_are_unique():
    ArticleFactory(slug="armenia-ties")
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFactory(slug="armenia-ties", headline="Another story")


def test_published_is_the_only_public_state():
    """Only a published story whose time has come is visible to readers."""
    visible = ArticleFactory(published=True)
    ArticleFactory()  # draft
    ArticleFactory(in_review=True)
    ArticleFactory(withdrawn=True)
    ArticleFactory(scheduled=True)
    ArticleFactory(status=ArticleStatus.DRAFT, published_at=hours_from_now(-5))
    assert list(Article.objects.published()) == [visible]


def test_scheduled_story_becomes_public_at_its_time_without_a_job():
    story = ArticleFactory(scheduled=True)
    assert not Article.objects.published().filter(pk=story.pk).exists()
    with time_machine.travel(story.published_at + timedelta(seconds=1), tick=False):
        assert Article.objects.published().filter(pk=story.pk).exists()


def test_published_story_needs_a_publication_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFactory(status=ArticleStatus.PUBLISHED, published_at=None)


def test_unknown_status_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        ArticleFactory(status="archived")


def _png():
    # A 1x1 transparent PNG (a real one: uploads are decoded in full).
    buffer = BytesIO()
    Image.new("RGBA", (1, 1)).save(buffer, "PNG")
    return SimpleUploadedFile("pixel.png", buffer.getvalue(), content_type="image/png")


def test_figure_with_image_needs_alt_text(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    figure = FigureFactory.build(article=ArticleFactory(), upload=_png(), alt_text="")
    with pytest.raises(ValidationError) as excinfo:
        figure.full_clean()
    assert "alt_text" in excinfo.value.message_dict
    with pytest.raises(ValidationError), transaction.atomic():
        figure.save()  # saved outside a form, it is refused too
    assert not Figure.objects.exists() and not LibraryImage.objects.exists()


def test_figure_without_image_needs_no_alt_text():
    figure = FigureFactory(alt_text="")
    figure.full_clean()
    assert Figure.objects.filter(pk=figure.pk).exists()


def test_one_hero_per_story():
    article = ArticleFactory()
    FigureFactory(article=article, place=FigurePlace.HERO)
    with pytest.raises(IntegrityError), transaction.atomic():
        FigureFactory(article=article, place=FigurePlace.HERO)
