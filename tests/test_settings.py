"""The settings module: safe by default, configured by environment variables."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import json, config.settings as s; print(json.dumps({"
    "'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'cache': s.CACHES['default']['BACKEND'], 'hosts': s.ALLOWED_HOSTS, "
    "'redirect': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
    "'static': s.STORAGES['staticfiles']['BACKEND'], "
    "'page_cache': s.PAGE_CACHE_SECONDS, "
    "'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'], "
    "'health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'], "
    "'db_options': s.DATABASES['default'].get('OPTIONS', {})}))"
)


def load_settings(probe=PROBE, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**clean, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    return done


def test_production_without_a_secret_key_refuses_to_start():
    done = load_settings()
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in done.stderr


def test_safe_defaults_with_debug_off():
    done = load_settings(DJANGO_SECRET_KEY="s3cret-for-this-test")
    values = json.loads(done.stdout)
    assert values["debug"] is False
    assert values["hosts"] == []
    assert values["redirect"] is True and values["hsts"] == 31_536_000
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["cache"].endswith("LocMemCache")
    assert values["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # No shared cache: several processes would each keep their own pages.
    assert values["page_cache"] == 0
    # A worker keeps its SQLite connection (and its prepared statements).
    assert values["conn_max_age"] == 60 and values["health_checks"] is True


def test_runserver_opens_a_connection_per_request():
    # runserver's thread per request could not reuse one anyway.
    values = json.loads(load_settings(DJANGO_DEBUG="1").stdout)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["conn_max_age"] == 0
    done = load_settings(DJANGO_DEBUG="1", DJANGO_CONN_MAX_AGE="30")
    assert json.loads(done.stdout)["conn_max_age"] == 30


def test_environment_selects_postgresql_redis_and_plain_http():
    done = load_settings(
        DJANGO_SECRET_KEY="s3cret-for-this-test",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/briefings",
        REDIS_URL="redis://127.0.0.1:6379/0",
        DJANGO_ALLOWED_HOSTS="news.example, www.news.example",
        DJANGO_SECURE_SSL_REDIRECT="0",
    )
    values = json.loads(done.stdout)
    assert values["engine"] == "django.db.backends.postgresql"
    # Kept, and checked before a request uses it: a restarted database costs
    # no failed request.
    assert values["conn_max_age"] == 60 and values["health_checks"] is True
    assert values["cache"] == "django_redis.cache.RedisCache"
    assert values["hosts"] == ["news.example", "www.news.example"]
    assert values["page_cache"] == 300
    assert values["redirect"] is False and values["hsts"] == 0
    # PostgreSQL prepares the statements it is sent again and again...
    assert values["db_options"] == {"server_side_binding": True, "prepare_threshold": 5}


def test_prepared_statements_keep_the_options_in_the_database_url():
    done = load_settings(
        DJANGO_SECRET_KEY="s3cret-for-this-test",
        DATABASE_URL="postgres://postgres@db.example:5432/briefings?sslmode=require",
    )
    assert json.loads(done.stdout)["db_options"] == {
        "sslmode": "require",
        "server_side_binding": True,
        "prepare_threshold": 5,
    }


def test_prepared_statements_can_be_switched_off_for_pgbouncer():
    done = load_settings(
        DJANGO_SECRET_KEY="s3cret-for-this-test",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/briefings",
        DJANGO_DB_PREPARED_STATEMENTS="0",
    )
    assert json.loads(done.stdout)["db_options"] == {}


def test_a_misspelt_boolean_is_an_error_not_a_guess():
    done = load_settings(DJANGO_DEBUG="maybe")
    assert done.returncode != 0
    assert "DJANGO_DEBUG must be 1/0" in done.stderr


SITE_URL_PROBE = "import config.settings as s; print(s.SITE_URL)"


def test_in_development_the_site_address_follows_host_and_port():
    """`make run PORT=8123` serves on 8123: feeds and links must say so too."""
    done = load_settings(SITE_URL_PROBE, DJANGO_DEBUG="1", PORT="8123")
    assert done.stdout.strip() == "http://127.0.0.1:8123"
    done = load_settings(SITE_URL_PROBE, DJANGO_DEBUG="1", HOST="0.0.0.0", PORT="80")
    assert done.stdout.strip() == "http://127.0.0.1:80"
    done = load_settings(
        SITE_URL_PROBE,
        DJANGO_DEBUG="1",
        PORT="8123",
        BRIEFINGS_SITE_URL="https://news.example.org/",
    )
    assert done.stdout.strip() == "https://news.example.org"
    # Production never guesses from a PORT a platform may set for other reasons.
    done = load_settings(SITE_URL_PROBE, DJANGO_SECRET_KEY="s", PORT="8123")
    assert done.stdout.strip() == "http://127.0.0.1:8000"


def make(*args):
    """`make` in the checkout, as a newcomer runs it (the virtualenv as it is)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "MAKE"))
    }
    return subprocess.run(
        ["make", "-s", "-o", ".venv/bin/.installed", *args],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_manage_runs_any_command_for_the_local_site():
    """No DJANGO_DEBUG to export by hand before `createsuperuser` or `shell`."""
    probe = "from django.conf import settings as s; print(s.DEBUG, s.SITE_URL)"
    done = make("manage", f"ARGS=shell -c '{probe}'", "PORT=8123")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("True http://127.0.0.1:8123")
