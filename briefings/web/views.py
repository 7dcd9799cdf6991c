"""Reader pages. Thin views over the queryset bundles in models.py."""

from functools import wraps

from cookie_consent.models import CookieGroup
from cookie_consent.views import CookieGroupBaseProcessView
from django.conf import settings
from django.core import signing
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.generic import DetailView, ListView, TemplateView
from taggit.models import Tag

from briefings.analytics.reads import record_read
from briefings.consent.cookies import optional_groups, record_decision
from briefings.consent.models import ConsentMethod
from briefings.core import limits
from briefings.core.seo import absolute, hero_image_url, news_article
from briefings.newsletter import storyboard
from briefings.newsletter import subscribers as newsletter
from briefings.newsletter.editions import Edition
from briefings.newsroom.adminsite import staff_page
from briefings.newsroom.models import PREVIEW_LINK_SALT, PreviewLink
from briefings.search.engine import (
    MAX_QUERY_LENGTH,
    MAX_RESULTS,
    clean_query,
    custom_plans,
    record_search,
    search_articles,
    trending_terms,
)
from briefings.search.engine import results as search_results
from briefings.stories.listings import (
    StoryListing,
    author_by_slug,
    published_story,
    tag_by_slug,
)
from briefings.stories.models import Article, Correction, TagUsage, moved_tag_slug
from briefings.web import pagecache


def _one_or_404(rows):
    if not rows:
        raise Http404("Nothing at this address.")
    return rows[0]


class StoryListView(TemplateView):
    """A page of published stories as cards, newest first, with links to the
    newer and older pages (see StoryListing: nothing is counted)."""

    def get_listing(self):
        return StoryListing()

    def get(self, request, *args, **kwargs):
        listing = self.get_listing()
        before, after = request.GET.get("before"), request.GET.get("after")
        try:
            page = listing.page(before=before, after=after)
        except ValueError:
            raise Http404("No such page.") from None
        if page is None:
            if after:
                # Fewer than a page of newer stories: that is the first page.
                return HttpResponseRedirect(request.path)
            raise Http404("No such page.")
        context = self.get_context_data(page_obj=page, **kwargs)
        return self.render_to_response(context)


class HomeView(StoryListView):
    template_name = "briefings/home.html"


class ArticleDetailView(DetailView):
    template_name = "briefings/article_detail.html"
    context_object_name = "article"
    count_reads = True

    def get_object(self, queryset=None):
        story = published_story(self.kwargs["slug"])
        if story is None:
            raise Http404("No story at this address.")
        return story.with_detail()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            structured_data=news_article(self.object),
            canonical_url=absolute(self.object.get_absolute_url()),
            image_url=hero_image_url(self.object),
            **kwargs,
        )

    def get(self, request, *args, **kwargs):
        try:
            response = super().get(request, *args, **kwargs)
        except Http404:
            # A story's earlier address: one indexed lookup, only on this path.
            moved = Article.objects.redirected_from(kwargs.get("slug", ""))
            if moved is None or not self.count_reads:
                raise
            return HttpResponsePermanentRedirect(moved.get_absolute_url())
        if self.count_reads:
            record_read(request, response, self.object.pk)
            # A copy of this page served from the cache is a read too.
            pagecache.call_on_hit(response, "record-read", self.object.pk)
        return response


class PreviewMixin:
    """Previews are marked as such, kept out of search engines, never cached."""

    count_reads = False

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


@method_decorator(never_cache, name="dispatch")
@method_decorator(staff_page, name="dispatch")
class ArticlePreviewView(PreviewMixin, ArticleDetailView):
    """Any story, as readers will see it, for staff who may view stories,
    signed in with two factors as the admin requires.

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


class TagDetailView(StoryListView):
    template_name = "briefings/tag_detail.html"

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except Http404:
            moved = moved_tag_slug(kwargs["slug"])
            if moved is None:
                raise
            return HttpResponsePermanentRedirect(
                reverse("briefings:tag-detail", args=[moved])
            )

    def get_listing(self):
        self.tag = _one_or_404(tag_by_slug(slug=self.kwargs["slug"]))
        return StoryListing(tag=self.tag.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


class TagListView(ListView):
    """Tags with published stories, most used first, with their counts (kept
    as numbers: see models.Usage)."""

    template_name = "briefings/tag_list.html"
    context_object_name = "tags"
    paginate_by = 100

    def get_queryset(self):
        return (
            TagUsage.with_live(Tag.objects.all(), "story_count")
            .filter(story_count__gt=0)
            .order_by("-story_count", "name")
        )


class AuthorDetailView(StoryListView):
    template_name = "briefings/author_detail.html"

    def get_listing(self):
        self.author = _one_or_404(author_by_slug(slug=self.kwargs["slug"]))
        return StoryListing(author=self.author.pk)

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class CorrectionListView(ListView):
    """Every correction and clarification on a published story, newest first."""

    template_name = "briefings/corrections.html"
    context_object_name = "corrections"
    paginate_by = 50

    def get_queryset(self):
        return Correction.objects.published().order_by("-made_at", "-pk")


def search(request):
    """Published stories matching ?q=, headline matches first, highlighted.

    Not whole-page cached, so every first-page search is counted for Search
    Trends; the page is the reader's own (it echoes their query).
    """
    raw = request.GET.get("q", "")
    query = clean_query(raw)
    context = {
        "query": query,
        "max_length": MAX_QUERY_LENGTH,
        "max_results": MAX_RESULTS,
        "shortened": len(raw.strip()) > MAX_QUERY_LENGTH,
    }
    if query:
        matches = search_articles(Article.objects.published(), query).for_search()
        paginator = Paginator(matches, 20)
        # The matches' best plan depends on the words (see custom_plans).
        with custom_plans(matches.db):
            page = paginator.get_page(request.GET.get("page"))
            context.update(page_obj=page, results=search_results(page, query))
        if request.GET.get("page", "1") == "1":
            record_search(request, query)
        if not paginator.count:
            context["suggestions"] = trending_terms()
    else:
        context["suggestions"] = trending_terms()
    response = render(request, "briefings/search.html", context)
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, max_age=0)
    return response


class PrivacyView(TemplateView):
    template_name = "briefings/privacy.html"


def never_stored(response):
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
            return never_stored(
                HttpResponseForbidden("This form can only be sent from this site.")
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
        if limits.hit(
            "consent-posts",
            limits.client_address(request),
            limit=settings.CONSENT_POSTS_PER_HOUR,
            window=3600,
        ):
            response = HttpResponse(
                "Too many cookie choices from this address. Please try again later.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(limits.seconds_left(3600))
            return never_stored(response)
        groups = {group.varname for group in optional_groups()}
        match request.POST.get("choice"):
            case "accept_all":
                accepted = groups
            case "reject_all":
                accepted = set()
            case "save":
                accepted = groups & set(request.POST.getlist("groups"))
            case _:
                return never_stored(
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
        return never_stored(response)


class CookieSettingsView(TemplateView):
    """The second layer: one switch per optional group; works without JavaScript."""

    template_name = "briefings/cookie_settings.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=CookieGroup.objects.prefetch_related("cookie_set__declaration"),
            **kwargs,
        )

    def render_to_response(self, context, **kwargs):
        return never_stored(super().render_to_response(context, **kwargs))


class CookiePolicyView(TemplateView):
    """Every declared cookie, straight from the database."""

    template_name = "briefings/cookie_policy.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            groups=CookieGroup.objects.prefetch_related("cookie_set__declaration"),
            max_age_days=settings.CONSENT_MAX_AGE_DAYS,
            **kwargs,
        )


# --- The Storyboard newsletter ---------------------------------------------------


@csrf_exempt  # the form sits in cached pages: same_origin_required guards the POST
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_signup(request):
    """The sign-up page; the article pages' compact form posts here too."""
    if request.method == "POST":
        return newsletter_signup_post(request)
    return render(
        request,
        "briefings/newsletter.html",
        {"newsletter_form": newsletter.SignupForm(), "full_form": True},
    )


@same_origin_required
def newsletter_signup_post(request):
    """Every valid sign-up gets the same redirect, whatever the address's state."""
    if newsletter.client_over_limit(request):
        response = render(request, "briefings/newsletter_limited.html", status=429)
        response["Retry-After"] = str(newsletter.seconds_to_next_hour())
        return never_stored(response)
    form = newsletter.SignupForm(request.POST)
    if not form.is_valid():
        return never_stored(
            render(
                request,
                "briefings/newsletter.html",
                {"newsletter_form": form, "full_form": True},
            )
        )
    newsletter.sign_up(form.cleaned_data["email"], form.cleaned_data["consent_version"])
    return never_stored(HttpResponseRedirect(reverse("briefings:newsletter-thanks")))


class NewsletterThanksView(TemplateView):
    template_name = "briefings/newsletter_thanks.html"


def _link_page(request, template, context, status=200):
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return never_stored(response)


# The signed token in the address is what authorises these POSTs (mail
# providers send RFC 8058 one-click unsubscribes from their own servers).
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_confirm(request, token):
    """GET shows a button (link scanners must not confirm); POST confirms."""
    template = "briefings/newsletter_confirm.html"
    try:
        subscriber = newsletter.subscriber_from_token(
            token, salt=newsletter.CONFIRM_SALT, max_age=newsletter.confirm_max_age()
        )
    except newsletter.LinkExpired:
        return _link_page(request, template, {"state": "expired"}, status=410)
    except newsletter.LinkInvalid:
        return _link_page(request, template, {"state": "invalid"}, status=400)
    if subscriber.status == newsletter.SubscriberStatus.UNSUBSCRIBED:
        return _link_page(request, template, {"state": "expired"}, status=410)
    if request.method == "POST":
        subscriber.confirm()
    state = (
        "done" if subscriber.status == newsletter.SubscriberStatus.CONFIRMED else "ask"
    )
    return _link_page(request, template, {"state": state, "subscriber": subscriber})


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def newsletter_unsubscribe(request, token):
    """No login, no expiry. GET shows a button; POST (or one-click) unsubscribes."""
    template = "briefings/newsletter_unsubscribe.html"
    try:
        subscriber = newsletter.subscriber_from_token(
            token, salt=newsletter.UNSUBSCRIBE_SALT
        )
    except (newsletter.LinkExpired, newsletter.LinkInvalid):
        return _link_page(request, template, {"state": "invalid"}, status=400)
    if request.method == "POST":
        subscriber.unsubscribe()
    state = (
        "done"
        if subscriber.status == newsletter.SubscriberStatus.UNSUBSCRIBED
        else "ask"
    )
    return _link_page(request, template, {"state": state, "subscriber": subscriber})


class EditionListView(ListView):
    """Storyboard's archive: the editions that went out, newest first."""

    template_name = "briefings/storyboard_list.html"
    context_object_name = "editions"
    paginate_by = 50

    def get_queryset(self):
        return Edition.objects.sent().only("number", "subject", "sent_at")


class EditionDetailView(DetailView):
    """One sent edition, as subscribers read it (without their own link)."""

    template_name = "briefings/storyboard_detail.html"
    context_object_name = "edition"

    def get_object(self, queryset=None):
        return get_object_or_404(Edition.objects.sent(), number=self.kwargs["number"])

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["items"] = storyboard.edition_context(self.object)["items"]
        return context
