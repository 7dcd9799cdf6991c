from django.apps import AppConfig


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "Newsroom"

    def ready(self):
        # Registers the cookie-declaration system check and the signals that
        # keep cached pages fresh.
        from . import consent, pagecache, search  # noqa: F401

        # Keeps every story's search vector current (PostgreSQL).
        search.connect_signals()
