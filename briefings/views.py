"""Reader pages. Thin views over the queryset bundles in models.py."""

from django.core import signing
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag

from .models import PREVIEW_LINK_SALT, Article, Author, PreviewLink


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


class PreviewMixin:
    """Previews are marked as such, kept out of search engines, never cached."""

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


@method_decorator(never_cache, name="dispatch")
class ArticlePreviewView(PreviewMixin, ArticleDetailView):
    """Any story, as readers will see it, for staff who may view stories.

    Everyone else gets the same 404 as for a story that does not exist.
    """

    extra_context = {"preview": True}

    def get_object(self, queryset=None):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def get_queryset(self):
        user = self.request.user
        if user.is_active and user.is_staff and user.has_perm("briefings.view_article"):
            return Article.objects.for_detail()
        return Article.objects.none()


@method_decorator(never_cache, name="dispatch")
class SharedPreviewView(PreviewMixin, ArticleDetailView):
    """A story opened through a share link: signed, expiring and revocable."""

    extra_context = {"preview": True, "shared": True}

    def get_object(self, queryset=None):
        try:
            key = signing.loads(self.kwargs["token"], salt=PREVIEW_LINK_SALT)
        except signing.BadSignature:
            raise Http404("No such preview.") from None
        link = PreviewLink.objects.active().filter(key=key).first()
        if link is None:
            raise Http404("This preview link has expired or was revoked.")
        return get_object_or_404(Article.objects.for_detail(), pk=link.article_id)


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
