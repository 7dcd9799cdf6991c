"""Attack tests (issue 14): Search Trends poisoning and growth, consent-record
floods, and newsletter limits that were per worker, failed open and counted
each variant of one mailbox apart."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.core import limits
from briefings.core.limits import RateLimit
from briefings.models import ConsentRecord, SearchTerm, SearchTermDay, SearchTermReader
from briefings.newsletter.subscribers import mailbox
from briefings.search import engine as search
from tests.factories import ArticleFactory
from tests.test_newsletter import SIGNUP, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def early_in_an_hour():
    """Limits count per clock hour (and ten minutes): start well inside one."""
    start = timezone.now().replace(minute=1, second=0, microsecond=0)
    with time_machine.travel(start + timedelta(hours=1)):
        yield


SEARCH = reverse("briefings:search")
HOME = reverse("briefings:home")
CONSENT = reverse("briefings:consent")
SAME_ORIGIN = {"Origin": "http://testserver"}


# --- 6. Search Trends cannot be poisoned, nor grown without bound -----------------


def test_three_anonymous_searches_put_nothing_on_every_page(client):
    """Three GETs of any text used to put it in the Search Trends box."""
    ArticleFactory(published=True, headline="Cheap pills for sale")
    for _ in range(3):
        client.get(SEARCH, {"q": "cheap pills"})
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # three readers, one day
        client.get(SEARCH, {"q": "cheap pills"}, REMOTE_ADDR=address)
    for _ in range(3):
        client.get(SEARCH, {"q": "visit evil dot example"})  # finds no story
    cache.clear()
    response = client.get(HOME)
    assertNotContains(response, "Search Trends")
    assertNotContains(response, "?q=cheap")
    assertNotContains(response, "evil")


def test_one_client_counts_only_its_hourly_allowance_of_searches(
    client, settings, early_in_an_hour
):
    """3,000 unique searches made ~2,900 rows; one client now counts 20 an hour."""
    for n in range(100):
        assert client.get(SEARCH, {"q": f"unique term {n}"}).status_code == 200
    assert SearchTerm.objects.count() == settings.SEARCH_COUNTS_PER_HOUR
    # Still answered: only the counting stops.
    response = client.get(SEARCH, {"q": "unique term 99"})
    assertContains(response, "unique term 99")
    with time_machine.travel(timezone.now() + timedelta(hours=1, seconds=1)):
        client.get(SEARCH, {"q": "next hour"})
    assert SearchTerm.objects.filter(term="next hour").exists()


def test_search_term_tables_are_pruned_and_bounded(client, monkeypatch):
    monkeypatch.setattr(search, "TRENDS_TERMS_PER_DAY", 10)
    monkeypatch.setattr(search, "PRUNE_SECONDS", 0)
    long_ago = timezone.now() - timedelta(days=search.SEARCH_HISTORY_DAYS + 5)
    with time_machine.travel(long_ago, tick=False):
        client.get(SEARCH, {"q": "old term"}, REMOTE_ADDR="10.9.9.9")
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        client.get(SEARCH, {"q": "three days ago"}, REMOTE_ADDR="10.9.9.9")
    hidden = SearchTerm.objects.create(term="kept hidden", hidden=True)
    # 25 different terms today, "popular" among them by five readers.
    for n in range(5):
        client.get(SEARCH, {"q": "popular"}, REMOTE_ADDR=f"10.1.0.{n}")
    for n in range(25):
        client.get(SEARCH, {"q": f"rare term {n}"}, REMOTE_ADDR=f"10.2.0.{n}")
    today = timezone.localdate()
    assert SearchTermDay.objects.filter(day=today).count() <= 10
    assert SearchTermDay.objects.get(term__term="popular", day=today).readers == 5
    assert not SearchTerm.objects.filter(term="old term").exists()
    assert SearchTermDay.objects.filter(term__term="three days ago").exists()
    # Reader hashes are kept for today and yesterday only.
    assert not SearchTermReader.objects.filter(day__lt=today - timedelta(days=1))
    assert SearchTerm.objects.filter(pk=hidden.pk).exists()  # an editor's choice
    assert SearchTerm.objects.count() <= 10 + 2


def test_consent_decisions_are_limited_per_client(client, settings, early_in_an_hour):
    """1,000 consent POSTs made 1,000 consent records in 2 s."""
    answers = [
        client.post(CONSENT, {"choice": "accept_all"}, headers=SAME_ORIGIN).status_code
        for _ in range(settings.CONSENT_POSTS_PER_HOUR + 10)
    ]
    assert answers.count(302) == settings.CONSENT_POSTS_PER_HOUR
    assert answers[-10:] == [429] * 10
    assert ConsentRecord.objects.count() == settings.CONSENT_POSTS_PER_HOUR
    other = client.post(
        CONSENT,
        {"choice": "reject_all"},
        headers=SAME_ORIGIN,
        REMOTE_ADDR="10.5.5.5",
    )
    assert other.status_code == 302  # another reader is not held back


# --- 8. Newsletter limits: shared, failing closed, per mailbox ----------------------


def test_the_sign_up_limit_is_shared_by_every_worker(
    client, settings, early_in_an_hour
):
    """Without Redis each worker's local-memory cache counted on its own:
    another worker (an empty local cache here) let five more through."""
    settings.RATE_LIMIT_CACHE = ""  # no Redis: the database
    for n in range(5):
        assert sign_up(client, f"reader{n}@example.com").status_code == 302
    cache.clear()  # what another worker process sees of this one's memory
    response = sign_up(client, "reader5@example.com")
    assertContains(response, "Too many sign-ups", status_code=429)
    assert RateLimit.objects.exists()  # counted in the database


DEAD_REDIS = "redis://127.0.0.1:1/0"


def test_sign_ups_are_refused_while_the_limit_store_is_down(client, settings):
    """With Redis down the limit failed open: every sign-up went through."""
    options = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    settings.CACHES = {
        "default": {
            "BACKEND": "briefings.web.health.ForgivingRedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": options,
        },
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": options,
        },
    }
    settings.RATE_LIMIT_CACHE = "limits"
    settings.PAGE_CACHE_SECONDS = 0
    response = sign_up(client, "reader@example.com")
    assertContains(response, "Too many sign-ups", status_code=429)
    assert mail.outbox == []


def test_a_failing_database_store_refuses(monkeypatch, settings):
    settings.RATE_LIMIT_CACHE = ""  # no Redis: the database

    def broken(key, ends_at):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(limits, "_count_in_database", broken)
    assert limits.hit("anything", "10.0.0.1", limit=100, window=60) is True


@pytest.mark.parametrize(
    ("address", "box"),
    [
        ("Victim@Example.com", "victim@example.com"),
        ("victim+1@example.com", "victim@example.com"),
        ('"victim"@example.com', "victim@example.com"),
        ('"victim+news"@EXAMPLE.com.', "victim@example.com"),
        ("v.i.c.t.i.m+x@googlemail.com", "victim@gmail.com"),
        ("vic.tim@example.com", "vic.tim@example.com"),  # dots matter elsewhere
    ],
)
def test_mailbox_variants(address, box):
    assert mailbox(address) == box


def test_variants_of_one_mailbox_get_one_email(client, early_in_an_hour):
    """`victim+1@x`, `"victim"@x`... each got a confirmation: an inbox flooded."""
    variants = [
        "victim@example.com",
        "victim+1@example.com",
        "victim+2@example.com",
        '"victim"@example.com',
        "VICTIM@example.com",
    ]
    for n, address in enumerate(variants):
        response = sign_up_from(client, address, f"10.7.0.{n}")
        assert response.status_code == 302  # the same answer for every one
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        sign_up_from(client, "victim+3@example.com", "10.7.1.1")
    assert len(mail.outbox) == 2


def sign_up_from(client, email, address):
    """A sign-up from another client address (so the per-client limit is not
    what stops it)."""
    data = {"email": email, "consent_version": 1}
    return client.post(SIGNUP, data, headers=SAME_ORIGIN, REMOTE_ADDR=address)
