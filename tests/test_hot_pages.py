"""Hot pages: with the cache in Redis, each process serves its recent pages from
memory, and learns of every content change through Redis pub/sub at once.

Runs where the suite runs with Redis (CI's second pass, REDIS_URL set).
"""

import os
from unittest import mock

import pytest
import redis
from django.core.cache import cache
from django_redis.cache import RedisCache
from pytest_django.asserts import assertContains, assertNotContains
from redis.client import PubSub

from briefings.core import freshness
from briefings.models import Article
from tests.factories import ArticleFactory, BylineFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs Redis (CI's second pass runs it with REDIS_URL set)",
    ),
]


@pytest.fixture
def story():
    story = ArticleFactory(published=True, headline="Talks resume")
    BylineFactory(article=story)
    return story


def served(client, url):
    """Serve `url` until it comes from memory; the last response."""
    for _ in range(3):
        response = client.get(url)
    return response


def bump_from_another_process():
    """What another process's save does: its own connection, the same script."""
    other = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = [cache.make_key(freshness.VERSION_KEY), cache.make_key("pages:next-live")]
    channel = freshness.HotPages.channel(other)
    other.eval(freshness.BUMP_SCRIPT, 2, *keys, channel, 1)
    other.close()


def test_a_page_in_memory_is_served_without_asking_redis(client, story):
    url = story.get_absolute_url()
    served(client, url)
    with mock.patch.object(RedisCache, "get_many") as get_many:
        response = client.get(url)
    assert response["X-Page-Cache"] == "hit"
    assertContains(response, "Talks resume")
    assert get_many.call_count == 0


def test_a_change_saved_by_another_process_is_seen_at_once(client, story):
    url = story.get_absolute_url()
    served(client, url)
    # Another process edits the story, bumps the version, and publishes it.
    Article.objects.filter(pk=story.pk).update(headline="Talks collapse")
    bump_from_another_process()
    response = client.get(url)  # no wait: the bump is read before the lookup
    assert response["X-Page-Cache"] == "miss"
    assertContains(response, "Talks collapse")
    assertNotContains(response, "Talks resume")


def test_a_save_in_this_process_is_seen_at_once(client, story):
    url = story.get_absolute_url()
    served(client, url)
    story.headline = "Talks collapse"
    story.save()
    assertContains(client.get(url), "Talks collapse")


def test_a_lost_subscription_sends_every_lookup_to_redis(client, story):
    url = story.get_absolute_url()
    served(client, url)
    lost = redis.exceptions.ConnectionError("Connection closed by server.")
    with mock.patch.object(PubSub, "get_message", side_effect=lost):
        Article.objects.filter(pk=story.pk).update(headline="Talks collapse")
        bump_from_another_process()  # unheard: the subscription is gone
        response = client.get(url)
    assertContains(response, "Talks collapse")  # Redis's version was asked
