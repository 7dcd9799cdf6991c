from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the newsroom's site (two-factor sign-in)."""

    default = False  # named in INSTALLED_APPS; "briefings" is BriefingsConfig
    default_site = "briefings.adminsite.NewsroomAdminSite"


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "Newsroom"

    def ready(self):
        # Registers the cookie-declaration system check and the signals that
        # keep cached pages fresh.
        from . import (  # noqa: F401
            consent,
            images,
            jobs,
            pagecache,
            search,
            textsafety,
            usage,
        )

        images.apply_pixel_limit()
        # Periodic jobs re-queue themselves; `migrate` starts missing chains.
        post_migrate.connect(
            jobs.ensure_periodic_jobs, sender=self, dispatch_uid="briefings-jobs"
        )
        # Keeps every story's search vector current (PostgreSQL).
        search.connect_signals()
        # No control character or bidi override is stored in editor text.
        textsafety.connect_signals()
        # Keeps the tags' and authors' story counts.
        usage.connect_signals()
