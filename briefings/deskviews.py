"""Admin pages of the desk and the review loop (under the admin's address).

Every view goes through the admin site's `admin_view` (staff only, two-factor
sign-in) and checks the permission its action needs.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from . import review
from .adminsite import PUBLISH_PERMISSION
from .body import render_body
from .models import Article, ArticleStatus, Figure, FigurePlace, Notice

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


app_name = "desk"
urlpatterns = [
    path(
        "stories/<int:pk>/send-back/",
        admin.site.admin_view(send_back_view),
        name="send-back",
    ),
    path("body-preview/", admin.site.admin_view(body_preview), name="body-preview"),
    path(
        "notices/<int:pk>/dismiss/",
        admin.site.admin_view(dismiss_notice),
        name="dismiss-notice",
    ),
]
