from importlib import import_module

import pytest
from django.apps import apps
from django.core.cache import cache

from briefings import reads, search


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


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()
    reads.discard()
    search.discard()


@pytest.fixture
def migration_rows(transactional_db):
    """Put back the rows data migrations make (groups, cookie groups).

    A transactional test's end flushes every table, data migrations' rows
    included; tests that commit (live servers, other processes) start from them.
    """
    migrations = "briefings.migrations"
    import_module(f"{migrations}.0003_newsroom_groups").assign_permissions(apps)
    import_module(f"{migrations}.0005_cookie_groups").create_groups(apps, None)
    cache.clear()
