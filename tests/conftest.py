from importlib import import_module

import pytest
from django.apps import apps
from django.core.cache import cache

from briefings.analytics import reads
from briefings.core import freshness
from briefings.search import engine as search


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Tests run without `collectstatic`: serve static files from the source
    # folders, as in development, instead of from the hashed manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    settings.WHITENOISE_AUTOREFRESH = True
    settings.WHITENOISE_USE_FINDERS = True
    # Write every counted read at once, so tests see it in the database.
    settings.READS_FLUSH_SECONDS = 0
    # One test process has one cache, so the page cache is on, as with Redis.
    settings.PAGE_CACHE_SECONDS = 300
    # Editors' tests sign in with a password only; tests/test_two_factor.py
    # switches the two-factor requirement back on.
    settings.BRIEFINGS_REQUIRE_2FA = False
    # Background tasks run inside the call that queues them; tests that need
    # a real worker process (tests/test_storyboard_worker.py) use the database.
    settings.TASKS = {
        "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    freshness.hot_pages.forget()
    yield
    cache.clear()
    freshness.hot_pages.forget()
    reads.discard()
    search.discard()


@pytest.fixture
def migration_rows(transactional_db):
    """Put back the rows data migrations make (groups, cookie groups).

    A transactional test's end flushes every table, data migrations' rows
    included; tests that commit (live servers, other processes) start from them.
    """
    migrations = "briefings.migrations"
    for name in (
        "0003_newsroom_groups",
        "0007_search",
        "0009_corrections_and_hourly_reads",
        "0012_slug_history_and_tag_aliases",
        "0018_tasks_and_storyboard",
        "0020_image_library",
    ):
        import_module(f"{migrations}.{name}").assign_permissions(apps)
    import_module(f"{migrations}.0005_cookie_groups").create_groups(apps, None)
    import_module(f"{migrations}.0008_newsletter").assign_permissions(apps)
    cache.clear()
