from django.urls import path

from . import views
from .pagecache import cache_public_page as cached

app_name = "briefings"
urlpatterns = [
    path("", cached(views.HomeView.as_view()), name="home"),
    path(
        "stories/<slug:slug>/",
        cached(views.ArticleDetailView.as_view()),
        name="article-detail",
    ),
    path(
        "preview/<int:pk>/", views.ArticlePreviewView.as_view(), name="article-preview"
    ),
    path(
        "preview/share/<str:token>/",
        views.SharedPreviewView.as_view(),
        name="share-preview",
    ),
    path("tags/", cached(views.TagListView.as_view()), name="tag-list"),
    path("tags/<slug:slug>/", cached(views.TagDetailView.as_view()), name="tag-detail"),
    path(
        "authors/<slug:slug>/",
        cached(views.AuthorDetailView.as_view()),
        name="author-detail",
    ),
    path("search/", views.search, name="search"),
    path("privacy/", views.PrivacyView.as_view(), name="privacy"),
    path("cookies/", views.CookieSettingsView.as_view(), name="cookie-settings"),
    path("cookies/policy/", views.CookiePolicyView.as_view(), name="cookie-policy"),
    path("cookies/consent/", views.ConsentView.as_view(), name="consent"),
]
