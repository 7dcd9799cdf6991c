from django.apps import AppConfig


class BriefingsConfig(AppConfig):
    name = "briefings"
    verbose_name = "Newsroom"

    def ready(self):
        # Registers the cookie-declaration system check and the signals that
        # keep cached pages fresh.
        from . import consent, images, pagecache  # noqa: F401

        images.apply_pixel_limit()
