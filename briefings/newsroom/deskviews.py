"""Admin pages of the desk and the review loop (under the admin's address).

Every view goes through the admin site's `admin_view` (staff only, two-factor
sign-in) and checks the permission its action needs.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from briefings.newsroom import editing, review
from briefings.newsroom.adminsite import PUBLISH_PERMISSION
from briefings.newsroom.models import Notice
from briefings.stories import tags
from briefings.stories.body import render_body
from briefings.stories.models import Article, ArticleStatus, Figure, FigurePlace

#: The longest body the preview renders (a long feature is about 60,000).
PREVIEW_MAX_CHARS = 200_000


class SendBackForm(forms.Form):
    comment = forms.CharField(
        label="What should the writer change?",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=4000,
        help_text="The writer sees this on their desk and on the story.",
    )


def send_back_view(request, pk):
    """An Editor returns a story in review to its writer, with a comment."""
    if not request.user.has_perm(PUBLISH_PERMISSION):
        raise PermissionDenied
    article = get_object_or_404(Article, pk=pk)
    if article.status != ArticleStatus.IN_REVIEW:
        messages.error(
            request,
            f"“{article.headline}” is not in review, so it cannot be sent back.",
        )
        return redirect(article.admin_url)
    form = SendBackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        review.send_back(article, request.user, form.cleaned_data["comment"])
        writer = review.writer_of(article)
        messages.success(
            request,
            f"“{article.headline}” was sent back to "
            f"{writer or 'its writer'} as a draft.",
        )
        return redirect("admin:index")
    context = {
        **admin.site.each_context(request),
        "title": f"Send back “{article.headline}”",
        "article": article,
        "opts": Article._meta,
        "form": form,
    }
    return render(request, "admin/briefings/desk/send_back.html", context)


@require_POST
def dismiss_notice(request, pk):
    Notice.objects.filter(pk=pk, user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return redirect("admin:index")


@require_POST
def body_preview(request):
    """The story body as readers will get it, rendered by body.py.

    The story form's live preview posts the text (and the story's id, for its
    saved body figures) here and shows the HTML it gets back.
    """
    if not request.user.has_perm("briefings.change_article"):
        raise PermissionDenied
    text = request.POST.get("body", "")
    if len(text) > PREVIEW_MAX_CHARS:
        return HttpResponseBadRequest(
            f"The text is too long to preview (over {PREVIEW_MAX_CHARS:,} characters)."
        )
    story = request.POST.get("story", "")
    figures = []
    if story.isdigit():
        figures = list(
            Figure.objects.filter(article=int(story), place=FigurePlace.BODY)
        )
    context = {"parts": render_body(text, figures), "embeds_allowed": False}
    return render(request, "admin/briefings/desk/body_preview.html", context)


def _story_to_edit(request, pk):
    """The story `pk` if the signed-in person may change it (or None: a new one)."""
    if not request.user.has_perm("briefings.change_article"):
        raise PermissionDenied
    if pk is None:
        if not request.user.has_perm("briefings.add_article"):
            raise PermissionDenied
        return None
    return get_object_or_404(Article, pk=pk)


def _when(moment):
    return timezone.localtime(moment).strftime("%H:%M")


@require_POST
def heartbeat(request, pk):
    """The story form is open: record it, and say who else has it open."""
    article = _story_to_edit(request, pk)
    others = editing.heartbeat(article, request.user)
    return JsonResponse(
        {
            "others": [
                {"name": presence.name, "seen": _when(presence.seen_at)}
                for presence in others
            ]
        }
    )


@require_POST
def autosave(request, pk=None):
    """Keep what the form holds now, without saving the story."""
    article = _story_to_edit(request, pk)
    raw = request.POST.get("data", "")
    if len(raw) > editing.AUTOSAVE_MAX_CHARS:
        return JsonResponse({"error": "The form is too large to autosave."}, status=400)
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not all(
        isinstance(value, str | list) for value in data.values()
    ):
        return JsonResponse(
            {"error": "The autosave must be the form's fields as a JSON object."},
            status=400,
        )
    saved = editing.autosave(request.user, article, data)
    return JsonResponse({"saved_at": _when(saved.saved_at)})


@require_POST
def discard_autosave(request, pk=None):
    article = _story_to_edit(request, pk)
    editing.discard(request.user, article)
    return JsonResponse({"discarded": True})


def _may_tag(request):
    if not request.user.has_perm("briefings.change_article"):
        raise PermissionDenied


@require_GET
def tag_completions(request):
    """Existing tags and aliases containing what is typed (?q=)."""
    _may_tag(request)
    return JsonResponse({"results": tags.matching(request.GET.get("q", ""))})


@require_POST
def tag_suggestions(request):
    """Existing tags whose names appear in the text typed so far (unsaved)."""
    _may_tag(request)
    text = " ".join(
        request.POST.get(name, "")[: tags.MAX_SUGGESTION_TEXT]
        for name in ("headline", "standfirst", "body")
    )
    current = [name.strip() for name in request.POST.get("tags", "").split(",")]
    found = tags.suggest(text, exclude=[name for name in current if name])
    return JsonResponse({"results": [tag.name for tag in found]})


app_name = "desk"
urlpatterns = [
    path(
        "stories/<int:pk>/send-back/",
        admin.site.admin_view(send_back_view),
        name="send-back",
    ),
    path("body-preview/", admin.site.admin_view(body_preview), name="body-preview"),
    path(
        "stories/<int:pk>/heartbeat/",
        admin.site.admin_view(heartbeat),
        name="heartbeat",
    ),
    path(
        "stories/<int:pk>/autosave/",
        admin.site.admin_view(autosave),
        name="autosave",
    ),
    path("stories/new/autosave/", admin.site.admin_view(autosave), name="autosave-new"),
    path(
        "stories/<int:pk>/autosave/discard/",
        admin.site.admin_view(discard_autosave),
        name="discard-autosave",
    ),
    path(
        "stories/new/autosave/discard/",
        admin.site.admin_view(discard_autosave),
        name="discard-autosave-new",
    ),
    path("tags/", admin.site.admin_view(tag_completions), name="tag-completions"),
    path(
        "tags/suggest/",
        admin.site.admin_view(tag_suggestions),
        name="tag-suggestions",
    ),
    path(
        "notices/<int:pk>/dismiss/",
        admin.site.admin_view(dismiss_notice),
        name="dismiss-notice",
    ),
]
