"""Briefings settings: one module, driven by environment variables, safe by default.

Every variable read here is listed in the README. With nothing set, the site runs
with DEBUG off, which needs DJANGO_SECRET_KEY; `make run` exports DJANGO_DEBUG=1.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number.") from exc


DEBUG = env_bool("DJANGO_DEBUG")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(make run sets DJANGO_DEBUG=1 for local work; so does "
            'make manage ARGS="createsuperuser", for any manage.py command).'
        )
    SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else ""
)

INSTALLED_APPS = [
    "briefings.apps.NewsroomAdminConfig",  # django.contrib.admin, two-factor site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",  # full-text search; harmless on SQLite
    "taggit",
    "cookie_consent",
    "reversion",
    "reversion_compare",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # recovery codes
    "django_tasks_db",
    "briefings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ETag on every page and "304 Not Modified" for a matching If-None-Match.
    "django.middleware.http.ConditionalGetMiddleware",
    # Serves cached public pages before everything below runs (web/pagecache.py).
    "briefings.web.pagecache.PageCacheMiddleware",
    # Anonymous readers' reads from the read replica, when there is one.
    "briefings.core.replicas.ReplicaReadsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "briefings.web.headers.PermissionsPolicyMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Deletes the cookies of any group the reader has not accepted.
    "briefings.consent.cookies.CleanCookiesMiddleware",
    # Login throttling; django-axes wants to be last.
    "axes.middleware.AxesMiddleware",
]

# Two-factor sign-in (briefings.newsroom.adminsite): required of Editors and superusers
# unless switched off (it is off by default for local development only).
BRIEFINGS_REQUIRE_2FA = env_bool("BRIEFINGS_REQUIRE_2FA", not DEBUG)

# Signing in (only staff can) leads to the admin, whatever `next` said.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# After 5 failed sign-ins for a user name, that account is locked for 30
# minutes (or until an admin deletes the attempt under Axes > Access attempts,
# or `manage.py axes_reset_username NAME`). Locking by user name, not by
# address, so neither a botnet nor a forged X-Forwarded-For gets around it;
# the client address is REMOTE_ADDR only.
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_COOLOFF_TIME = timedelta(minutes=env_int("DJANGO_LOGIN_LOCKOUT_MINUTES", 30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
# axes.W006 asks to lock by address too. Behind a proxy or a newsroom's NAT every
# editor shares one address, so five typos by anyone would lock everyone out;
# the per-user-name lock is the defence here.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "briefings.web.context_processors.site",
                "briefings.web.context_processors.consent",
            ],
        },
    },
]

# Django's own form and widget templates render through Jinja2 (the same
# HTML, several times faster); the admin's and ours through Django's engine.
FORM_RENDERER = "briefings.web.renderers.FastFormRenderer"

# Databases: SQLite in the project by default, PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# PostgreSQL: server-side binding, and a statement run five times on a
# connection is prepared on the server, so PostgreSQL stops parsing and planning
# the reader pages' queries (half its work on a story page). Switch off behind
# PgBouncer in transaction pooling mode, which cannot keep them. Added to what
# the URL's query string sets (sslmode=require...), never in place of it.
PREPARED_STATEMENTS = (
    {"server_side_binding": True, "prepare_threshold": 5}
    if env_bool("DJANGO_DB_PREPARED_STATEMENTS", True)
    else {}
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(PREPARED_STATEMENTS)
# An optional PostgreSQL read replica for anonymous readers' pages
# (briefings/core/replicas.py): reads within BRIEFINGS_REPLICA_LAG_SECONDS of a
# content change, and all of editors', stay on the primary.
REPLICA_DATABASE = None
REPLICA_LAG_SECONDS = env_int("BRIEFINGS_REPLICA_LAG_SECONDS", 10)
if os.environ.get("DATABASE_REPLICA_URL"):
    REPLICA_DATABASE = "replica"
    DATABASES[REPLICA_DATABASE] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=env_int("DJANGO_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    DATABASES[REPLICA_DATABASE]["TEST"] = {"MIRROR": "default"}
    DATABASES[REPLICA_DATABASE].setdefault("OPTIONS", {}).update(PREPARED_STATEMENTS)
    DATABASE_ROUTERS = ["briefings.core.replicas.ReplicaRouter"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE transactions take the write lock up front, so two writers
        # (two loadseed runs, an editor and an import) queue instead of failing.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Persistent connections in production: a gunicorn sync worker (one thread)
    # keeps its connection instead of opening one and preparing every statement
    # again per request (the uncached story page +44%). The health check that
    # stays on costs SQLite nothing (no query). Off under runserver, which runs
    # each request in a thread of its own, so nothing would be reused.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int(
        "DJANGO_CONN_MAX_AGE", 0 if DEBUG else 60
    )


# Reads are counted in memory and written in batches this often (seconds).
READS_FLUSH_SECONDS = env_int("BRIEFINGS_READS_FLUSH_SECONDS", 10)
# Search Trends are worked out at most this often (seconds); searches are
# counted in memory and written on the reads' schedule.
SEARCH_TRENDS_CACHE_SECONDS = env_int("BRIEFINGS_SEARCH_TRENDS_SECONDS", 60)
# Search Trends show only terms an editor approved (README: Search Trends).
TRENDS_REQUIRE_APPROVAL = env_bool("BRIEFINGS_TRENDS_REQUIRE_APPROVAL")
# Per client and hour: searches counted for Search Trends (more are still
# answered, not counted) and cookie-consent decisions recorded (then 429).
SEARCH_COUNTS_PER_HOUR = env_int("BRIEFINGS_SEARCH_COUNTS_PER_HOUR", 20)
CONSENT_POSTS_PER_HOUR = env_int("CONSENT_POSTS_PER_HOUR", 20)
# What browsers and a CDN may do with a public page (see the README): browsers
# ask again every time (a cheap 304 when nothing changed), so a story an editor
# publishes shows at once; a CDN may keep a page a minute, and serve it stale
# while it fetches a fresh one (CDN-Cache-Control, RFC 9213).
PUBLIC_CACHE_CONTROL = {"public": True, "max_age": 0, "must_revalidate": True}
PUBLIC_CACHE_CONTROL["s_maxage"] = env_int("BRIEFINGS_CDN_MAX_AGE", 60)
CDN_CACHE_CONTROL = (
    f"max-age={PUBLIC_CACHE_CONTROL['s_maxage']}, stale-while-revalidate=300"
)

# Background work (Django's Tasks framework; README "Background work"). The
# default keeps tasks in the site's own database, run by `manage.py db_worker`;
# BRIEFINGS_TASKS_BACKEND=rq moves them to Redis (django-tasks-rq, needs
# REDIS_URL and `manage.py rqworker`); "immediate" runs each task inside the
# call that queues it (the tests' default).
TASKS_BACKEND = os.environ.get("BRIEFINGS_TASKS_BACKEND", "database").strip().lower()
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        "BRIEFINGS_TASKS_BACKEND must be database, rq or immediate, "
        f"not {TASKS_BACKEND!r}."
    )
if TASKS_BACKEND == "rq" and not os.environ.get("REDIS_URL"):
    raise ImproperlyConfigured("BRIEFINGS_TASKS_BACKEND=rq needs REDIS_URL.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": os.environ["REDIS_URL"], "DEFAULT_TIMEOUT": 600}}
# A failing task runs at most this many times (then it is listed under
# "Failed tasks" in the admin), waiting TASK_RETRY_SECONDS x attempt between.
TASK_ATTEMPTS = env_int("BRIEFINGS_TASK_ATTEMPTS", 3)
TASK_RETRY_SECONDS = env_int("BRIEFINGS_TASK_RETRY_SECONDS", 60)
# A task still marked running after this long lost its worker (killed, host
# gone): the daily clean-up lists it as failed.
TASK_STALE_MINUTES = env_int("BRIEFINGS_TASK_STALE_MINUTES", 60)
# Finished task rows are deleted after this many days (failed ones after 30).
TASK_RETENTION_DAYS = env_int("BRIEFINGS_TASK_RETENTION_DAYS", 7)

# Cache: django-redis when REDIS_URL is set, local memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")


def redis_cache(url: str, timeout: float = 0.5) -> dict:
    """The cache for a Redis at `url`: one that does not answer is a cache miss.

    django-redis keeps one client and connection pool per process; a call
    that fails (refused, or no answer within `timeout` seconds) returns the
    default, and the pool then leaves Redis alone for a few seconds
    (briefings/core/redispool.py), so a silent Redis costs one timeout, not
    one per cache call.
    """
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": timeout,
            "SOCKET_TIMEOUT": timeout,
            "CONNECTION_POOL_CLASS": "briefings.core.redispool.RestingConnectionPool",
        },
        "KEY_PREFIX": os.environ.get("DJANGO_CACHE_PREFIX", "briefings"),
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rate limits are shared by every worker and fail closed (briefings/core/limits.py):
# in Redis through Django's own backend, which reports a failure instead of
# forgiving it; without Redis, in the database.
RATE_LIMIT_CACHE = "limits" if REDIS_URL else ""
if REDIS_URL:
    CACHES["limits"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        "KEY_PREFIX": CACHES["default"]["KEY_PREFIX"],
    }

# Whole public pages are cached for anonymous readers this long (0: off). The
# cache and its content version must be shared by every process serving the
# site, so without REDIS_URL it is on only for the single development server.
PAGE_CACHE_SECONDS = env_int(
    "BRIEFINGS_PAGE_CACHE_SECONDS", 300 if REDIS_URL or DEBUG else 0
)

# With the page cache in Redis, each process also keeps this many of its most
# recently served pages in memory (briefings/web/pagecache.py HotPages), served
# without asking Redis; 0 turns that off.
PAGE_CACHE_HOT_PAGES = env_int("BRIEFINGS_HOT_PAGES", 200)

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {
        "NAME": f"{_VALIDATORS}.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Seed files carry times without a zone; loadseed reads them in this zone.
SEED_TIME_ZONE = os.environ.get("SEED_TIME_ZONE", "UTC")

SITE_NAME = os.environ.get("BRIEFINGS_SITE_NAME", "Briefings")
# <meta name="description"> of pages that have none of their own (home, lists).
SITE_DESCRIPTION = os.environ.get(
    "BRIEFINGS_SITE_DESCRIPTION",
    "News and analysis from the Briefings newsroom, updated through the day.",
)
OTP_TOTP_ISSUER = SITE_NAME  # the name authenticator apps show
# Where the admin lives ("newsroom/" rather than the "admin/" every bot tries).
ADMIN_URL = os.environ.get("DJANGO_ADMIN_URL", "admin/").strip("/") + "/"
# The site's public address: canonical links, feeds, sitemaps, structured data
# and emails use it, never the Host header of whoever asked.
# Unset in development, it is where `make run HOST=... PORT=...` serves (the
# Makefile exports HOST and PORT; a wildcard HOST means this machine).
_DEV_HOST = os.environ.get("HOST", "127.0.0.1") if DEBUG else "127.0.0.1"
if _DEV_HOST in {"0.0.0.0", "::", "[::]", "0"}:  # noqa: S104 - not a bind
    _DEV_HOST = "127.0.0.1"
_DEV_PORT = os.environ.get("PORT", "8000") if DEBUG else "8000"
SITE_URL = os.environ.get("BRIEFINGS_SITE_URL", f"http://{_DEV_HOST}:{_DEV_PORT}")
SITE_URL = SITE_URL.rstrip("/")
# The language of the stories, for the Google News sitemap and Open Graph.
SITE_LANGUAGE = os.environ.get("BRIEFINGS_SITE_LANGUAGE", "en")

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Media on S3-compatible object storage (README "Images"): set the bucket and
# install django-storages[s3]; credentials come from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY as boto3 reads them. Unset: files under MEDIA_ROOT.
S3_BUCKET = os.environ.get("BRIEFINGS_S3_BUCKET", "").strip()
S3_CUSTOM_DOMAIN = os.environ.get("BRIEFINGS_S3_CUSTOM_DOMAIN", "").strip()
S3_ENDPOINT_URL = os.environ.get("BRIEFINGS_S3_ENDPOINT_URL", "").strip()
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": os.environ.get("BRIEFINGS_S3_REGION", "").strip() or None,
            "custom_domain": S3_CUSTOM_DOMAIN or None,
            # Public pictures at stable URLs; never overwrite a stored name.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000"},
        },
    }
# Where pictures are loaded from, for the Content-Security-Policy's img-src.
MEDIA_ORIGINS = []
if S3_CUSTOM_DOMAIN:
    MEDIA_ORIGINS = [f"https://{S3_CUSTOM_DOMAIN}"]
elif S3_ENDPOINT_URL:
    MEDIA_ORIGINS = [S3_ENDPOINT_URL]
elif S3_BUCKET:
    MEDIA_ORIGINS = [f"https://{S3_BUCKET}.s3.amazonaws.com"]

# Uploaded pictures (briefings/stories/images.py): the largest file accepted, and the
# most pixels (Pillow's decompression-bomb guard follows this number).
BRIEFINGS_MAX_UPLOAD_MB = env_int("BRIEFINGS_MAX_UPLOAD_MB", 20)
BRIEFINGS_MAX_IMAGE_PIXELS = env_int("BRIEFINGS_MAX_IMAGE_PIXELS", 40_000_000)

# Security. With DEBUG off the site redirects to HTTPS and sends HSTS unless
# DJANGO_SECURE_SSL_REDIRECT=0 (a local benchmark over plain HTTP).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int(
    "DJANGO_SECURE_HSTS_SECONDS", 31_536_000 if SECURE_SSL_REDIRECT else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# "preload" lets the domain be submitted to browsers' HTTPS-only list (nothing
# is submitted by this). Set DJANGO_SECURE_HSTS_PRELOAD=0 if a subdomain must
# stay on plain HTTP.
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
if SESSION_COOKIE_SECURE:
    # __Host- cookies are HTTPS-only, host-only and site-wide: no subdomain or
    # plain-HTTP page can set or shadow them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
# Only staff have sessions. They end after this long without a request.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
if env_bool("DJANGO_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    # Nothing is allowed unless listed; no inline script anywhere.
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:", *MEDIA_ORIGINS],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    # Embedded players load only after the reader agreed to the Embeds group.
    "frame-src": [
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
        "https://platform.twitter.com",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
    },
}

TAGGIT_CASE_INSENSITIVE = True

# Cookie consent (django-cookie-consent, plus our record and banner: README).
COOKIE_CONSENT_NAME = "cookie_consent"
COOKIE_CONSENT_SECURE = SESSION_COOKIE_SECURE
COOKIE_CONSENT_HTTPONLY = True
COOKIE_CONSENT_SAMESITE = "Lax"
# A choice lasts at most six months; the server also checks the recorded date.
CONSENT_MAX_AGE_DAYS = env_int("CONSENT_MAX_AGE_DAYS", 182)
COOKIE_CONSENT_MAX_AGE = CONSENT_MAX_AGE_DAYS * 24 * 60 * 60
# Our ConsentRecord is the proof of consent; the package's log is switched off.
COOKIE_CONSENT_LOG_ENABLED = False
COOKIE_CONSENT_OPT_OUT = False
# Bump to ask every reader again (for example when the cookie policy changes).
CONSENT_POLICY_REVISION = env_int("CONSENT_POLICY_REVISION", 1)
# Consent records older than this are deleted by `manage.py prune_consent`.
CONSENT_RECORD_RETENTION_DAYS = env_int("CONSENT_RECORD_RETENTION_DAYS", 3 * 365)

# E-mail (Django's MAILERS): printed to the console unless DJANGO_EMAIL_HOST names
# an SMTP server.
if os.environ.get("DJANGO_EMAIL_HOST", ""):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["DJANGO_EMAIL_HOST"],
                "port": env_int("DJANGO_EMAIL_PORT", 587),
                "username": os.environ.get("DJANGO_EMAIL_HOST_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", True),
                "timeout": env_int("DJANGO_EMAIL_TIMEOUT", 10),
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
# The review loop e-mails Editors and writers (briefings/newsroom/review.py) when on; by
# default, when an SMTP server is configured. Notices on the desk come anyway.
BRIEFINGS_REVIEW_EMAILS = env_bool(
    "BRIEFINGS_REVIEW_EMAILS", bool(os.environ.get("DJANGO_EMAIL_HOST", ""))
)
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "Storyboard <newsletter@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The Storyboard newsletter (README: Newsletter).
NEWSLETTER_CONFIRM_DAYS = env_int("NEWSLETTER_CONFIRM_DAYS", 7)
NEWSLETTER_SIGNUPS_PER_HOUR = env_int("NEWSLETTER_SIGNUPS_PER_HOUR", 5)
NEWSLETTER_RESEND_MINUTES = env_int("NEWSLETTER_RESEND_MINUTES", 10)
# Storyboard editions (README: Storyboard): messages per batch task; how often
# a sending edition is checked, and how long without progress means its worker
# died (the rest is then queued again; deliveries make that safe).
STORYBOARD_BATCH_SIZE = env_int("STORYBOARD_BATCH_SIZE", 500)
STORYBOARD_WATCH_SECONDS = env_int("STORYBOARD_WATCH_SECONDS", 60)
STORYBOARD_STALL_SECONDS = env_int("STORYBOARD_STALL_SECONDS", 300)
