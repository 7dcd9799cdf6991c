"""Hardened by default: headers, production settings, sign-in throttling,
sessions, and what readers get when the database or the cache falls over."""

import json
import os
import re
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_redis.cache import RedisCache
from pytest_django.asserts import assertContains, assertNotContains

from config.settings import redis_cache
from tests.factories import (
    ArticleFactory,
    BylineFactory,
    CorrectionFactory,
    story_with_video,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "long-enough-password-1"
LOGIN = reverse("admin:login")


def live_story(**kwargs):
    story = ArticleFactory(
        published=True, published_at=timezone.now() - timedelta(hours=1), **kwargs
    )
    BylineFactory(article=story)
    story.tags.add("Armenia")
    return story


def public_urls(story):
    author = story.byline_authors[0]
    return [
        reverse("briefings:home"),
        story.get_absolute_url(),
        reverse("briefings:tag-list"),
        reverse("briefings:tag-detail", args=["armenia"]),
        author.get_absolute_url(),
        reverse("briefings:corrections"),
        reverse("briefings:privacy"),
        reverse("briefings:cookie-settings"),
        reverse("briefings:cookie-policy"),
        "/stories/no-such-story/",
    ]


# --- Headers -------------------------------------------------------------------


def test_every_response_carries_the_security_headers(client):
    story = live_story()
    urls = [
        *public_urls(story),
        reverse("briefings:feed-rss"),
        reverse("briefings:sitemap"),
        LOGIN,
        reverse("healthz"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        csp = response["Content-Security-Policy"]
        directives = dict(
            (part.split(" ", 1) + [""])[:2] for part in csp.split("; ") if part
        )
        assert directives["default-src"] == "'none'", url
        assert directives["script-src"] == "'self'", url  # no unsafe-inline/eval
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["base-uri"] == "'self'"
        assert directives["form-action"] == "'self'"
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url
        assert "camera=()" in response["Permissions-Policy"], url


def test_hsts_over_https(client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get(reverse("briefings:home"), secure=True)
    assert response["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains"
    )


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>")


def test_public_pages_carry_no_inline_script_and_no_nonce(client):
    story = live_story()
    video = story_with_video(headline="With a video")
    CorrectionFactory(article=story)
    for url in [*public_urls(story), video.get_absolute_url()]:
        for _ in range(2):  # rendered, then from the page cache
            html = client.get(url).content.decode()
            assert not INLINE_SCRIPT.search(html), url
            assert "nonce" not in html, url
            assert "csrfmiddlewaretoken" not in html, url


def test_an_unknown_host_is_refused(client):
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400


# --- Production settings --------------------------------------------------------

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "Zq8vW3nR5tY7uI9oP1aS2dF4gH6jK0lX",
    "DJANGO_ALLOWED_HOSTS": "news.example.org",
    "BRIEFINGS_SITE_URL": "https://news.example.org",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "DATABASE_URL": "sqlite:///:memory:",
    "DJANGO_EMAIL_HOST": "smtp.example.org",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        capture_output=True,
        text=True,
        env={**clean, **PRODUCTION, **env},
        cwd=ROOT,
        check=False,
    )


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cookies_admin_address_and_sessions():
    code = (
        "from django.conf import settings as s; from django.urls import reverse;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, s.SESSION_COOKIE_AGE,"
        " reverse('admin:index'))"
    )
    result = manage("shell", "-c", code, DJANGO_ADMIN_URL="newsroom")
    assert result.stdout.splitlines()[-1].split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "Lax",
        "1800",
        "/newsroom/",
    ], result.stderr


def test_password_policy():
    with pytest.raises(ValidationError, match="too common"):
        validate_password("password1234")
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Tr0ub4dor&")
    validate_password("correct horse battery staple on a long winter evening")


# --- Sign-in throttling (django-axes) ------------------------------------------------


@pytest.fixture
def editor():
    user = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def sign_in(password, address="10.0.0.1", **headers):
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        LOGIN,
        {"username": "editor", "password": password, "next": "/admin/"},
        headers=headers,
    )
    return response


def test_five_failures_lock_the_account_whatever_the_address(editor):
    for attempt in range(4):
        response = sign_in("wrong password", address=f"10.0.0.{attempt}")
        assert response.status_code == 200  # the form again, with its error
    fifth = sign_in("wrong password", address="10.0.0.5")
    assertContains(fifth, "too many login attempts", status_code=429)
    locked = sign_in(PASSWORD, address="10.9.9.9")
    assert locked.status_code == 429
    assertContains(locked, "Account locked: too many login attempts", status_code=429)
    forged = sign_in(PASSWORD, address="10.9.9.8", **{"X-Forwarded-For": "1.2.3.4"})
    assert forged.status_code == 429
    with time_machine.travel(timedelta(minutes=31)):
        response = sign_in(PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == "/admin/"


def test_a_successful_sign_in_resets_the_count(editor):
    for _ in range(4):
        sign_in("wrong password")
    assert sign_in(PASSWORD).status_code == 302
    for _ in range(4):
        sign_in("wrong password")
    assert sign_in(PASSWORD).status_code == 302  # 8 failures, never 5 in a row


def test_login_next_goes_only_to_this_site(editor):
    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example"]:
        client = Client()
        response = client.post(
            LOGIN, {"username": "editor", "password": PASSWORD, "next": target}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:index"), target


def test_idle_staff_sessions_expire(client, editor):
    client.force_login(editor)
    assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(timedelta(minutes=20)):
        assert client.get(reverse("admin:index")).status_code == 200
    with time_machine.travel(timedelta(minutes=20 + 31)):
        response = client.get(reverse("admin:index"))
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


# --- Faults ------------------------------------------------------------------------


def database_down():
    return mock.patch(
        "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection",
        side_effect=OperationalError("could not connect to server"),
    )


def test_healthz_reports_database_and_cache(client):
    response = client.get(reverse("healthz"))
    assert (response.status_code, response.json()) == (
        200,
        {"database": "ok", "cache": "ok"},
    )
    assert "no-cache" in response["Cache-Control"]
    with database_down():
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"database": "down", "cache": "ok"}


def test_readers_get_a_plain_503_while_the_database_is_down_then_pages_again():
    story = live_story(headline="Still here")
    reader = Client(raise_request_exception=False)
    cached = reader.get(reverse("briefings:home"))  # now in the page cache
    assert cached.status_code == 200
    with database_down():
        for url in (
            story.get_absolute_url(),
            reverse("briefings:tag-detail", args=["armenia"]),
            reverse("briefings:feed-rss"),
        ):
            response = reader.get(url)
            assert response.status_code == 503, url
            assert response["Retry-After"] == "120"
            body = response.content.decode()
            assert "temporarily unavailable" in body
            assert "Traceback" not in body and "OperationalError" not in body
        # A page in the cache is still served.
        assertContains(reader.get(reverse("briefings:home")), "Still here")
    # No restart: the next request after the database returns is served.
    assertContains(reader.get(story.get_absolute_url()), "Still here")


def test_pages_render_from_the_database_when_redis_is_down(client, settings):
    # Nothing listens there.
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0", timeout=0.2)}
    story = live_story(headline="Served without a cache")
    for url in (reverse("briefings:home"), story.get_absolute_url()):
        assertContains(client.get(url), "Served without a cache")
    response = client.get(reverse("healthz"))
    assert json.loads(response.content) == {"database": "ok", "cache": "down"}
    assert response.status_code == 200  # the site still serves: stay in rotation


def test_errors_that_are_not_the_database_stay_a_plain_500(client):
    reader = Client(raise_request_exception=False)
    with mock.patch(
        "briefings.web.views.HomeView.get_listing", side_effect=RuntimeError("bug")
    ):
        response = reader.get(reverse("briefings:home"))
    assert response.status_code == 500
    assertNotContains(response, "RuntimeError", status_code=500)
    assertContains(response, "Something went wrong", status_code=500)


def redis_at(url):
    """The site's Redis cache (settings.redis_cache), at `url`."""
    config = redis_cache(url, timeout=0.2)
    return RedisCache(config["LOCATION"], config)


def test_the_redis_cache_keeps_one_client_through_failures():
    """One redis.Redis per pool (Django's own builds one per operation, 0.15 ms)."""
    redis_cache = redis_at("redis://127.0.0.1:1/0")  # nothing listens there
    client = redis_cache.client.get_client()
    assert redis_cache.client.get_client(write=False) is client
    assert redis_cache.get("key", "fallback") == "fallback"
    redis_cache.set("key", "value")  # dropped, not raised
    assert redis_cache.client.get_client() is client


@pytest.fixture
def silent_redis():
    """A server that accepts connections and never answers: a hung Redis."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def connections_to(server):
    """How many connections `server` got since last asked."""
    count = 0
    while True:
        try:
            server.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def test_a_redis_that_stops_answering_is_left_alone_for_a_few_seconds(silent_redis):
    """Each try at a silent Redis costs a socket timeout; a page makes several."""
    port = silent_redis.getsockname()[1]
    redis_cache = redis_at(f"redis://127.0.0.1:{port}/0")
    assert redis_cache.get("key", "fallback") == "fallback"  # one timeout
    assert redis_cache.get_many(["key"]) == {}
    redis_cache.set("key", "value")
    assert redis_cache.incr("version") is None
    assert connections_to(silent_redis) == 1  # the calls after the failure waited not
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        assert redis_cache.get("key", "fallback") == "fallback"
        assert connections_to(silent_redis) == 1  # tried again after the rest
