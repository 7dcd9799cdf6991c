from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin, on the newsroom's site (two-factor sign-in)."""

    default = False  # named in INSTALLED_APPS; "briefings" is BriefingsConfig
    default_site = "briefings.newsroom.adminsite.NewsroomAdminSite"

    def ready(self):
        # The one exception to "no imports inside functions": our modules
        # import models, which Django's app loading allows only once every
        # app's models are loaded, i.e. in ready(). Revisions are registered
        # before the admin's autodiscovery instantiates the version admins.
        from briefings import signals  # noqa: PLC0415 - app registry must be ready

        signals.register_versions()
        super().ready()


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "Newsroom"

    def ready(self):
        # Every receiver, check and exit hook is connected in briefings/signals.py.
        from briefings import signals  # noqa: PLC0415 - app registry must be ready

        signals.connect(self)
