"""Keeps the tags' and authors' story counts (models.Usage) current.

Bylines and taggings also carry their story's listing time (models.StoryLink),
set by their own save() and manager.

A byline or a tagging saved or deleted one at a time arrives here through the
model signals; rows made in bulk are counted by their manager, and a story's
change of status or publication time by Article.save().
"""

from briefings.stories.models import AuthorUsage, TagUsage


def link_saved(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        sender.usage_model().links_changed([instance], +1)


def link_deleted(sender, instance, **kwargs):
    sender.usage_model().links_changed([instance], -1)


def recount():
    """Count every tag's and author's stories from scratch, and give every
    byline and tagging its story's listing time (models.StoryLink): for rows
    written around the models' managers (raw SQL, COPY)."""
    for usage in (TagUsage, AuthorUsage):
        usage.link_model.refresh_listing_times()
        usage.recount()
