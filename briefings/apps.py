from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate, post_save


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the newsroom's site (two-factor sign-in)."""

    default = False  # named in INSTALLED_APPS; "briefings" is BriefingsConfig
    default_site = "briefings.newsroom.adminsite.NewsroomAdminSite"


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "Newsroom"

    def ready(self):
        # Registers the cookie-declaration system check and the signals that
        # keep cached pages fresh.
        from briefings.core import textsafety
        from briefings.jobs import periodic as jobs
        from briefings.search import engine as search
        from briefings.stories import images, usage

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
        # The review loop: every workflow step tells the people it concerns.
        from briefings.newsroom import editing, review
        from briefings.stories.models import Article, WorkflowEvent

        post_save.connect(
            review.on_workflow_event,
            sender=WorkflowEvent,
            dispatch_uid="briefings.newsroom.review.on_workflow_event",
        )
        post_save.connect(
            editing.forget_new_story_autosave,
            sender=Article,
            dispatch_uid="briefings.newsroom.editing.forget_new_story_autosave",
        )
