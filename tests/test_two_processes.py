"""Two app servers on one PostgreSQL and one Redis: an edit through one is seen
fresh through the other (the page cache and its version live in Redis), the
readers' server reading through the read-replica router.

Runs where the suite itself runs on PostgreSQL and Redis (CI's second pass).
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection

from briefings.models import Article, ArticleStatus
from tests.factories import ArticleFactory, BylineFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL")
        or "postgres" not in os.environ.get("DATABASE_URL", ""),
        reason="needs PostgreSQL and Redis shared by two processes "
        "(CI runs it with DATABASE_URL and REDIS_URL set)",
    ),
]

PASSWORD = "long-enough-password-1"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_server(port, static_root, *, replica=False):
    params = settings.DATABASES["default"]
    database_url = (
        f"postgres://{params['USER']}@{params['HOST']}:{params['PORT'] or 5432}/"
        f"{params['NAME']}"  # the test database, which this test commits to
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SECRET_KEY": "two-process-test-secret-key-" + "x" * 30,
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_CONN_MAX_AGE": "0",
        # The editor signs in with a password here (tests/test_two_factor.py
        # covers two-factor sign-in).
        "BRIEFINGS_REQUIRE_2FA": "0",
        "DJANGO_STATIC_ROOT": str(static_root),
    }
    if replica:
        # A "replica" that is the primary itself: the readers' reads go through
        # the replica alias and router (briefings/replicas.py).
        env["DATABASE_REPLICA_URL"] = database_url
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--workers=2",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=1)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
    return server


class Browser:
    """Just enough of a browser: cookies, forms with a CSRF token."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path):
        try:
            response = self.opener.open(self.base + path, timeout=10)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers
        return response.status, response.read().decode(), response.headers

    def post_form(self, path, data):
        _, page, _ = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {**data, "csrfmiddlewaretoken": token}, doseq=True
        )
        request = urllib.request.Request(
            self.base + path, data=body.encode(), headers={"Referer": self.base + path}
        )
        return self.opener.open(request, timeout=10).status


def test_an_edit_through_one_process_is_fresh_through_the_other(
    tmp_path, migration_rows
):
    story = ArticleFactory(published=True, headline="Breaking: talks resume")
    BylineFactory(article=story)
    editor = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    connection.close()  # the servers must see committed rows, not ours

    # Production settings serve hashed static files: collect them first.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_STATIC_ROOT": str(tmp_path)},
        check=True,
    )
    port_a, port_b = free_port(), free_port()
    servers = [
        app_server(port_a, tmp_path, replica=True),
        app_server(port_b, tmp_path),
    ]
    try:
        reader = Browser(f"http://127.0.0.1:{port_a}")
        status, page, _ = reader.get(story.get_absolute_url())
        assert status == 200 and "Breaking: talks resume" in page
        _, _, headers = reader.get(story.get_absolute_url())
        assert headers["X-Page-Cache"] == "hit"  # process A keeps it in Redis

        newsroom = Browser(f"http://127.0.0.1:{port_b}")
        newsroom.post_form(
            "/admin/login/?next=/admin/", {"username": "editor", "password": PASSWORD}
        )
        newsroom.post_form(
            "/admin/briefings/article/",
            {"action": "withdraw", "_selected_action": [story.pk]},
        )
        assert Article.objects.get(pk=story.pk).status == ArticleStatus.WITHDRAWN

        status, _, _ = reader.get(story.get_absolute_url())
        assert status == 404  # withdrawn through B, gone at once through A
        _, home, _ = reader.get("/")
        assert "Breaking: talks resume" not in home
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
