from django.conf import settings
from django.conf.urls.static import static as serve_in_debug
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from briefings.web.health import healthz


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    # The desk's own admin pages (send back, notices...): briefings/deskviews.py.
    path(f"{settings.ADMIN_URL}desk/", include("briefings.newsroom.deskviews")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon),
    path("", include("briefings.web.urls")),
]
# Uploaded pictures, in development only (empty unless DEBUG is on);
# production serves MEDIA_ROOT from the web server or object storage.
urlpatterns += serve_in_debug(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# A database that does not answer gives our 503 page (Retry-After), not a 500.
handler500 = "briefings.web.health.server_error_or_unavailable"
