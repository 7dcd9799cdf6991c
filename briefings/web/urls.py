from django.contrib.sitemaps.views import sitemap
from django.urls import path

from briefings.web import feeds, sitemaps, views
from briefings.web.pagecache import cache_public_page as cached

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
    path(
        "corrections/",
        cached(views.CorrectionListView.as_view()),
        name="corrections",
    ),
    path("feeds/latest/rss/", cached(feeds.LatestStoriesFeed()), name="feed-rss"),
    path("feeds/latest/atom/", cached(feeds.LatestStoriesAtomFeed()), name="feed-atom"),
    path("tags/<slug:slug>/rss/", cached(feeds.TagFeed()), name="tag-feed-rss"),
    path("tags/<slug:slug>/atom/", cached(feeds.TagAtomFeed()), name="tag-feed-atom"),
    path(
        "authors/<slug:slug>/rss/", cached(feeds.AuthorFeed()), name="author-feed-rss"
    ),
    path(
        "authors/<slug:slug>/atom/",
        cached(feeds.AuthorAtomFeed()),
        name="author-feed-atom",
    ),
    path("sitemap.xml", cached(sitemaps.sitemap_index), name="sitemap"),
    path("sitemap-news.xml", cached(sitemaps.news_sitemap), name="news-sitemap"),
    path(
        "sitemap-stories.xml",
        cached(sitemaps.story_sitemap),
        name="sitemap-stories",
    ),
    path(
        "sitemap-<str:section>.xml",
        cached(sitemap),
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap-section",
    ),
    path("robots.txt", cached(sitemaps.robots_txt), name="robots"),
    path("search/", views.search, name="search"),
    path("privacy/", views.PrivacyView.as_view(), name="privacy"),
    path("cookies/", views.CookieSettingsView.as_view(), name="cookie-settings"),
    path("cookies/policy/", views.CookiePolicyView.as_view(), name="cookie-policy"),
    path("cookies/consent/", views.ConsentView.as_view(), name="consent"),
    path("newsletter/", cached(views.newsletter_signup), name="newsletter"),
    path(
        "newsletter/thanks/",
        cached(views.NewsletterThanksView.as_view()),
        name="newsletter-thanks",
    ),
    path("storyboard/", cached(views.EditionListView.as_view()), name="storyboard"),
    path(
        "storyboard/<int:number>/",
        cached(views.EditionDetailView.as_view()),
        name="storyboard-edition",
    ),
    path(
        "newsletter/confirm/<str:token>/",
        views.newsletter_confirm,
        name="newsletter-confirm",
    ),
    path(
        "newsletter/unsubscribe/<str:token>/",
        views.newsletter_unsubscribe,
        name="newsletter-unsubscribe",
    ),
]
