"""Reader pages. Thin views over the queryset bundles in models.py."""

from functools import wraps

from cookie_consent.models import CookieGroup
from cookie_consent.views import CookieGroupBaseProcessView
from django.conf import settings
from django.core import signing
from django.db.models import Count, Q
from django.http import (
    Http404,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag

from .consent import optional_groups, record_decision
from .models import PREVIEW_LINK_SALT, Article, Author, ConsentMethod, PreviewLink
from .reads import record_read


class PublishedArticlesMixin:
    paginate_by = 20

    def get_queryset(self):
        return Article.objects.published()

    def paginate_queryset(self, queryset, page_size):
        paginator, page, stories, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        page.object_list = stories = stories.as_cards()  # only this page's stories
        return paginator, page, stories, is_paginated


class HomeView(PublishedArticlesMixin, ListView):
    template_name = "briefings/home.html"


class ArticleDetailView(DetailView):
    template_name = "briefings/article_detail.html"
    context_object_name = "article"
    count_reads = True

    def get_queryset(self):
        return Article.objects.published()

    def get_object(self, queryset=None):
        return super().get_object(queryset).with_detail()

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if self.count_reads:
            record_read(request, response, self.object.pk)
            # A copy of this page served from the cache is a read too.
            response.on_cache_hit = (record_read, self.object.pk)
        return response


class PreviewMixin:
    """Previews are marked as such, kept out of search engines, never cached."""

    count_reads = False

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
        story = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        return story.with_detail()

    def get_queryset(self):
        user = self.request.user
        if user.is_active and user.is_staff and user.has_perm("briefings.view_article"):
            return Article.objects.all()
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
        return get_object_or_404(Article, pk=link.article_id).with_detail()


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


def _private(response):
    """Consent pages and answers are one reader's: never stored by any cache."""
    response["Cache-Control"] = "private, no-store"
    return response


def same_origin_required(view):
    """Refuse a POST that a browser says came from another site.

    Consent forms sit in pages cached for everyone, so they cannot carry a
    per-reader CSRF token. Browsers send Origin (and Sec-Fetch-Site) with every
    POST; a forged cross-site POST, or one with neither header, gets 403.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None:
            allowed = site == "same-origin"
        else:
            expected = f"{request.scheme}://{request.get_host()}"
            allowed = request.headers.get("Origin") == expected
        if not allowed:
            return _private(
                HttpResponseForbidden("Cookie choices can only be made on this site.")
            )
        return view(request, *args, **kwargs)

    return wrapped


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(same_origin_required, name="dispatch")
class ConsentView(CookieGroupBaseProcessView):
    """Record Accept all, Reject all, or the choices from the settings page.

    Without JavaScript the reader is sent back to the page they were on (only
    ever a page of this site); with it, the answer is JSON and the script closes
    the banner once the server has confirmed.
    """

    http_method_names = ["post"]

    def get_default_redirect_url(self):
        return reverse("briefings:home")

    def post(self, request, *args, **kwargs):
        groups = {group.varname for group in optional_groups()}
        match request.POST.get("choice"):
            case "accept_all":
                accepted = groups
            case "reject_all":
                accepted = set()
            case "save":
                accepted = groups & set(request.POST.getlist("groups"))
            case _:
                return _private(
                    HttpResponseBadRequest("Choose Accept all, Reject all or Save.")
                )
        by_script = request.headers.get("X-Consent-Fetch") == "1"
        on_settings = request.POST.get("source") == "settings"
        method = {
            (False, False): ConsentMethod.BANNER_NO_JS,
            (False, True): ConsentMethod.SETTINGS_NO_JS,
            (True, False): ConsentMethod.BANNER,
            (True, True): ConsentMethod.SETTINGS,
        }[(by_script, on_settings)]
        if by_script:
            response = JsonResponse({"accepted": sorted(accepted)})
        else:
            response = HttpResponseRedirect(self.get_success_url())
        record_decision(request, response, accepted, method)
        return _private(response)


class CookieSettingsView(TemplateView):
    """The second layer: one switch per optional group; works without JavaScript."""

    template_name = "briefings/cookie_settings.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=CookieGroup.objects.prefetch_related("cookie_set__declaration"),
            **kwargs,
        )

    def render_to_response(self, context, **kwargs):
        return _private(super().render_to_response(context, **kwargs))


class CookiePolicyView(TemplateView):
    """Every declared cookie, straight from the database."""

    template_name = "briefings/cookie_policy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=CookieGroup.objects.prefetch_related("cookie_set__declaration"),
            max_age_days=settings.CONSENT_MAX_AGE_DAYS,
            **kwargs,
        )
