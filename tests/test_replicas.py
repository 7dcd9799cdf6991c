"""Read replica routing: only anonymous readers' reads, never right after a change."""

import json

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from briefings.core import freshness, replicas
from briefings.core.replicas import ReplicaReadsMiddleware, ReplicaRouter
from briefings.models import Article
from tests.test_settings import load_settings

router = ReplicaRouter()


def database_used(request):
    """What the replica router answers for a read made while serving `request`."""
    answers = []

    def view(request):
        answers.append(router.db_for_read(Article))
        return HttpResponse("ok")

    ReplicaReadsMiddleware(view)(request)
    return answers[0]


@pytest.fixture
def with_replica(settings):
    settings.REPLICA_DATABASE = "replica"
    settings.REPLICA_LAG_SECONDS = 10


def test_without_a_replica_every_read_uses_the_primary():
    assert database_used(RequestFactory().get("/")) is None


def test_a_readers_page_reads_the_replica(with_replica):
    assert database_used(RequestFactory().get("/")) == "replica"
    assert router.db_for_read(Article) is None  # only while serving that request
    assert router.db_for_write(Article) is None


def test_editors_and_writes_use_the_primary(with_replica, settings):
    staff = RequestFactory().get("/")
    staff.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    assert database_used(staff) is None
    assert database_used(RequestFactory().post("/newsletter/")) is None


def test_right_after_a_content_change_readers_read_the_primary(with_replica, settings):
    freshness.bump_version()  # what every save of content does
    assert database_used(RequestFactory().get("/")) is None
    changed = cache.get(replicas.CHANGED_AT_KEY)
    cache.set(replicas.CHANGED_AT_KEY, changed - settings.REPLICA_LAG_SECONDS)
    assert database_used(RequestFactory().get("/")) == "replica"


@pytest.mark.django_db
def test_saving_a_story_counts_as_a_change(with_replica):
    cache.set(replicas.CHANGED_AT_KEY, 0)
    Article.objects.create(headline="Fresh", slug="fresh")
    assert database_used(RequestFactory().get("/")) is None


def test_nothing_is_migrated_on_the_replica(with_replica):
    assert router.allow_migrate("replica", "briefings") is False
    assert router.allow_migrate("default", "briefings") is True


def test_the_replica_is_configured_from_the_environment():
    probe = (
        "import json, config.settings as s; print(json.dumps({"
        "'replica': s.DATABASES.get('replica'), 'routers': s.DATABASE_ROUTERS, "
        "'alias': s.REPLICA_DATABASE}, default=str))"
    )
    done = load_settings(
        DJANGO_SECRET_KEY="s3cret-for-this-test",
        DATABASE_URL="postgres://postgres@primary.example:5432/briefings",
        DATABASE_REPLICA_URL=(
            "postgres://reader@replica.example:5432/briefings?sslmode=verify-full"
        ),
        probe=probe,
    )
    values = json.loads(done.stdout)
    assert values["alias"] == "replica"
    assert values["routers"] == ["briefings.core.replicas.ReplicaRouter"]
    assert values["replica"]["HOST"] == "replica.example"
    assert values["replica"]["TEST"] == {"MIRROR": "default"}
    assert values["replica"]["OPTIONS"] == {
        "sslmode": "verify-full",  # the replica's own, not the primary's
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
