"""The newsroom's own records: notices, autosaves and preview links."""

import uuid

from django.conf import settings
from django.core import signing
from django.db import models
from django.db.models import (
    Q,
)
from django.urls import reverse
from django.utils import timezone

from briefings.stories.models import Article, WorkflowEvent

PREVIEW_LINK_SALT = "briefings.preview-link"


class NoticeQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Notice(models.Model):
    """A note on someone's desk about a workflow step (see briefings/review.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    event = models.ForeignKey(
        WorkflowEvent, on_delete=models.CASCADE, related_name="notices"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["user", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notice_unread_idx",
            )
        ]

    def __str__(self):
        return f"To {self.user}: {self.event}"


class Autosave(models.Model):
    """The story form as someone last left it, saved every 30 seconds.

    Not a revision and not the story: one row per person and story (story
    empty for a story not yet saved), offered back when it is newer than the
    story's last save.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "article"], name="unique_autosave"),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(article__isnull=True),
                name="unique_new_story_autosave",
            ),
        ]

    def __str__(self):
        return f"Autosave by {self.user} at {self.saved_at:%Y-%m-%d %H:%M}"


class PreviewLinkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class PreviewLink(models.Model):
    """A share link: lets someone without an account read an unpublished story."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="preview_links"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    note = models.CharField(
        max_length=200, blank=True, help_text="Who it is for, e.g. 'legal review'."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PreviewLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"Share link for {self.article} ({self.note or 'no note'})"

    def get_absolute_url(self):
        token = signing.dumps(str(self.key), salt=PREVIEW_LINK_SALT)
        return reverse("briefings:share-preview", kwargs={"token": token})

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires_at > timezone.now()
