from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

admin.site.site_header = "Briefings newsroom"
admin.site.site_title = "Briefings admin"
admin.site.index_title = "Newsroom"


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name no icon (the admin)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("", include("briefings.urls")),
]
