"""Storyboard editions, their stories, and one delivery per subscriber."""

from django.db import models
from django.db.models import (
    Q,
)
from django.urls import reverse
from django.utils import timezone

from briefings.newsletter.subscribers import Subscriber
from briefings.stories.models import Article


class EditionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"


class EditionQuerySet(models.QuerySet):
    def sent(self):
        return self.filter(status=EditionStatus.SENT)


class Edition(models.Model):
    """One issue of Storyboard, the weekly newsletter (briefings/storyboard.py)."""

    number = models.PositiveIntegerField(unique=True)
    subject = models.CharField(max_length=200)
    intro = models.TextField(
        blank=True, help_text="A few sentences before the stories. Plain text."
    )
    status = models.CharField(
        max_length=10, choices=EditionStatus.choices, default=EditionStatus.DRAFT
    )
    send_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it goes out (scheduled); Friday 09:00 by default.",
    )
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Subscribers with an id up to this, confirmed when sending started, get it.
    last_subscriber_id = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EditionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EditionStatus.values),
                name="edition_status_valid",
            ),
        ]

    def __str__(self):
        return f"Storyboard #{self.number}: {self.subject}"

    def get_absolute_url(self):
        return reverse("briefings:storyboard-edition", args=[self.number])


class EditionItem(models.Model):
    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="items")
    article = models.ForeignKey(
        Article, on_delete=models.PROTECT, related_name="edition_items"
    )
    position = models.PositiveSmallIntegerField(default=0)
    blurb = models.TextField(
        blank=True, help_text="Optional; the story's standfirst is used when empty."
    )

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "article"], name="edition_item_unique_story"
            ),
        ]

    def __str__(self):
        return str(self.article)


class DeliveryStatus(models.TextChoices):
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """An edition sent (or refused) to one subscriber: at most one, ever.

    Written, in the transaction that commits it, before the message is
    handed over (see briefings/storyboard.py), so a worker that dies and
    starts again never sends anyone the same edition twice.
    """

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.SENT
    )
    at = models.DateTimeField(default=timezone.now)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["edition", "subscriber"], name="delivery_once_per_subscriber"
            ),
        ]
        indexes = [models.Index(fields=["edition", "at"], name="delivery_progress_idx")]

    def __str__(self):
        return f"{self.edition} to {self.subscriber}"
