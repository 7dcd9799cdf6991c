from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Briefings newsroom"
admin.site.site_title = "Briefings admin"
admin.site.index_title = "Newsroom"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("briefings.urls")),
]
