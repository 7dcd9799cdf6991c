"""Read counting: batched, so pages pay no query for it; nothing is lost."""

import pytest
from django.test import Client
from django.urls import reverse

from briefings.analytics import reads
from briefings.models import StoryDay
from tests.factories import ArticleFactory, BylineFactory

pytestmark = pytest.mark.django_db

SAME_ORIGIN = {"Origin": "http://testserver"}


def test_reads_are_written_in_one_batch(settings):
    settings.READS_FLUSH_SECONDS = 3600
    story = ArticleFactory(published=True)
    BylineFactory(article=story)
    reader = Client()
    reader.post(
        reverse("briefings:consent"), {"choice": "accept_all"}, headers=SAME_ORIGIN
    )
    for _ in range(3):
        reader.get(story.get_absolute_url())
    Client().get(story.get_absolute_url())  # served from the page cache
    assert not StoryDay.objects.exists()  # nothing written yet
    reads.flush()
    day = StoryDay.objects.get(article=story)
    assert (day.views, day.readers) == (4, 1)
    reader.get(story.get_absolute_url())
    reads.flush()
    day.refresh_from_db()
    assert (day.views, day.readers) == (5, 1)
