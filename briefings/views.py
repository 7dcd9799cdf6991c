"""Reader pages. Thin views over the queryset bundles in models.py."""

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag

from .models import Article, Author


class PublishedArticlesMixin:
    paginate_by = 20

    def get_queryset(self):
        return Article.objects.published().for_listing()


class HomeView(PublishedArticlesMixin, ListView):
    template_name = "briefings/home.html"


class ArticleDetailView(DetailView):
    template_name = "briefings/article_detail.html"
    context_object_name = "article"

    def get_queryset(self):
        return Article.objects.published().for_detail()


class TagDetailView(PublishedArticlesMixin, ListView):
    template_name = "briefings/tag_detail.html"

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tags=self.tag)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


class TagListView(ListView):
    template_name = "briefings/tag_list.html"
    context_object_name = "tags"
    paginate_by = 100

    def get_queryset(self):
        published = Article.objects.published()
        return (
            Tag.objects.annotate(
                story_count=Count(
                    "briefings_taggedarticle_items",
                    filter=Q(
                        briefings_taggedarticle_items__content_object__in=published
                    ),
                )
            )
            .filter(story_count__gt=0)
            .order_by("-story_count", "name")
        )


class AuthorDetailView(PublishedArticlesMixin, ListView):
    template_name = "briefings/author_detail.html"

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return super().get_queryset().filter(bylines__author=self.author)

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class PrivacyView(TemplateView):
    template_name = "briefings/privacy.html"


class CookieSettingsView(TemplateView):
    template_name = "briefings/cookie_settings.html"
