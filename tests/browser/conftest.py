"""Browser tests: Playwright for Python driving Debian's chromium.

They skip, saying how to fix it, only where chromium is not installed; CI
(.ci/run) installs it, so there they always run.
"""

import os
import shutil

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread

# The live server answers one request at a time. Its threads would share the
# in-memory SQLite test database's one connection, and the story form's own
# background requests (live preview, tag completion) overlapping a save then
# broke the save's savepoints ("no such savepoint"), a 500 in a flaky test. A
# server that is not threaded closes each connection after its answer, so the
# browser's parallel requests simply wait their turn.


class OneAtATimeServer(WSGIServer):
    def __init__(self, *args, connections_override=None, **kwargs):
        super().__init__(*args, **kwargs)


LiveServerThread.server_class = OneAtATimeServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses
# to run inside one unless told it is safe (as djangoproject.com's tests do).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("chromium not installed: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _close_pages(browser):
    """Every browser context a test opened (sign_in's included) is closed when
    the test ends, before its database is emptied: a story form left open kept
    sending its heartbeat and autosave into the next test, where a request in
    the background collided with the test's own writes on the in-memory
    SQLite database ("database table is locked", an error in a later test)."""
    yield
    for context in list(browser.contexts):
        context.close()


@pytest.fixture(autouse=True)
def _quiet_story_form(request, monkeypatch):
    """The story form's heartbeat and autosave stay quiet in browser tests
    that are not about them: in-memory SQLite shares one connection between
    the live server's threads, so a request in the background can collide
    with the test's own. tests/browser/test_story_safety.py keeps them."""
    if "story_form_timers" not in request.keywords:
        from briefings.newsroom import editing

        monkeypatch.setattr(editing, "HEARTBEAT_SECONDS", 3600)
        monkeypatch.setattr(editing, "AUTOSAVE_SECONDS", 3600)


@pytest.fixture(autouse=True)
def _migration_data(request):
    """Browser tests run against a live server, in transactional tests."""
    if "live_server" in request.fixturenames:
        request.getfixturevalue("migration_rows")
