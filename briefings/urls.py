from django.urls import path

from . import views

app_name = "briefings"
urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "stories/<slug:slug>/", views.ArticleDetailView.as_view(), name="article-detail"
    ),
    path(
        "preview/<int:pk>/", views.ArticlePreviewView.as_view(), name="article-preview"
    ),
    path(
        "preview/share/<str:token>/",
        views.SharedPreviewView.as_view(),
        name="share-preview",
    ),
    path("tags/", views.TagListView.as_view(), name="tag-list"),
    path("tags/<slug:slug>/", views.TagDetailView.as_view(), name="tag-detail"),
    path(
        "authors/<slug:slug>/", views.AuthorDetailView.as_view(), name="author-detail"
    ),
    path("privacy/", views.PrivacyView.as_view(), name="privacy"),
    path("cookies/", views.CookieSettingsView.as_view(), name="cookie-settings"),
]
