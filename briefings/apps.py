from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_save


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
        from . import consent, images, pagecache, search  # noqa: F401

        images.apply_pixel_limit()
        # Keeps every story's search vector current (PostgreSQL).
        search.connect_signals()
        # The review loop: every workflow step tells the people it concerns.
        from . import editing, review
        from .models import Article, WorkflowEvent

        post_save.connect(
            review.on_workflow_event,
            sender=WorkflowEvent,
            dispatch_uid="briefings.review.on_workflow_event",
        )
        post_save.connect(
            editing.forget_new_story_autosave,
            sender=Article,
            dispatch_uid="briefings.editing.forget_new_story_autosave",
        )
