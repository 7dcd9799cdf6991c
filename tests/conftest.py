import pytest
from django.core.cache import cache

from briefings import reads


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
