"""Keeps the tags' and authors' story counts (models.Usage) current.

Bylines and taggings also carry their story's listing time (models.StoryLink),
set by their own save() and manager.

A byline or a tagging saved or deleted one at a time arrives here through the
model signals; rows made in bulk are counted by their manager, and a story's
change of status or publication time by Article.save().
"""

from django.db.models.signals import post_delete, post_save

from briefings.stories.models import AuthorUsage, Byline, TaggedArticle, TagUsage


def _link_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        sender.usage_model().links_changed([instance], +1)


def _link_deleted(sender, instance, **kwargs):
    sender.usage_model().links_changed([instance], -1)


def connect_signals():
    for model in (Byline, TaggedArticle):
        post_save.connect(_link_saved, sender=model, dispatch_uid=f"usage-{model}")
        post_delete.connect(
            _link_deleted, sender=model, dispatch_uid=f"usage-d-{model}"
        )


def recount():
    """Count every tag's and author's stories from scratch, and give every
    byline and tagging its story's listing time (models.StoryLink): for rows
    written around the models' managers (raw SQL, COPY)."""
    for usage in (TagUsage, AuthorUsage):
        usage.link_model.refresh_listing_times()
        usage.recount()
