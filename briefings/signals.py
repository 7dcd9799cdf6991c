"""Every signal receiver, system check, revision registration and exit hook of
the app, connected here and nowhere else.

Importing a module of ours defines things and connects nothing: Django's app
loading calls `register_versions()` (before the admin is discovered) and
`connect()` (from BriefingsConfig.ready()). Content changes reach the page
cache's version clock (`core.freshness`) through the receivers below, so no
package under the web layer imports the page cache.
"""

import atexit

import reversion
from cookie_consent.models import Cookie, CookieGroup
from django.core import checks
from django.core.signals import setting_changed
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_save,
)
from taggit.models import Tag

from briefings.analytics import reads
from briefings.consent.cookies import check_cookie_declarations
from briefings.core import freshness, links, seo, textsafety
from briefings.jobs import periodic
from briefings.newsroom import editing, review, roles
from briefings.search import engine as search
from briefings.search.models import SearchTerm
from briefings.stories import images, usage
from briefings.stories.library import Image, delete_image_files
from briefings.stories.models import (
    Article,
    Author,
    Byline,
    Correction,
    Figure,
    RelatedLink,
    TaggedArticle,
    WorkflowEvent,
)
from briefings.web import pagecache

#: Saving or deleting any of these makes every cached page stale.
CONTENT_MODELS = (
    Article,
    Author,
    Byline,
    Correction,
    Figure,
    Image,
    RelatedLink,
    TaggedArticle,
    Tag,
    Cookie,
    CookieGroup,
)


def register_versions():
    """Revisions hold the story with its bylines, figures, related links and
    tags, so reverting brings all of them back together."""
    for model in (Byline, Figure, RelatedLink, TaggedArticle):
        if not reversion.is_registered(model):
            reversion.register(model)
    if not reversion.is_registered(Article):
        reversion.register(
            Article,
            follow=["bylines", "figures", "related_links", "tagged_items"],
            exclude=["search_vector"],  # derived; rewritten on every save
        )


def flush_at_exit():
    """Write what a stopping worker still holds: reads and searches."""
    for write in (reads.flush, search.flush):
        try:
            write()
        except Exception:  # noqa: BLE001 - the database may already be gone
            pass


def connect(app_config):
    """Connect everything (called once, from BriefingsConfig.ready())."""
    # Settings and system checks.
    images.apply_pixel_limit()
    setting_changed.connect(images.pixel_limit_changed, dispatch_uid="pixel-limit")
    setting_changed.connect(links.forget_addresses, dispatch_uid="link-addresses")
    checks.register(check_cookie_declarations, checks.Tags.database)
    checks.register(seo.check_site_url, checks.Tags.security, deploy=True)

    # Periodic jobs re-queue themselves; `migrate` starts missing chains.
    post_migrate.connect(
        periodic.ensure_periodic_jobs, sender=app_config, dispatch_uid="briefings-jobs"
    )
    # The Writers and Editors groups get exactly their declared permissions
    # (briefings/newsroom/roles.py). "briefings" is the last installed app, so
    # Django's own post_migrate steps (content types, permissions) have run
    # for every app by then; sync_roles() creates any still missing anyway.
    post_migrate.connect(
        roles.sync_after_migrate, sender=app_config, dispatch_uid="briefings-roles"
    )
    # Reads and searches counted in memory are written when a worker stops.
    atexit.register(flush_at_exit)

    # Cached pages: a story served from the cache is a read too.
    pagecache.register_hit_hook("record-read", reads.record_read)
    # Any content change bumps the version.
    freshness.next_live_from(Article.objects.next_live_at)
    for model in CONTENT_MODELS:
        uid = model._meta.label
        post_save.connect(
            freshness.bump_version, sender=model, dispatch_uid=f"pages-{uid}"
        )
        post_delete.connect(
            freshness.bump_version, sender=model, dispatch_uid=f"pages-d-{uid}"
        )
    for through in (Article.tags.through, Article.authors.through):
        m2m_changed.connect(
            freshness.bump_version,
            sender=through,
            dispatch_uid=f"pages-m2m-{through._meta.label}",
        )

    post_delete.connect(delete_image_files, sender=Image, dispatch_uid="image-files")

    # Every story's search vector stays current (PostgreSQL); Search Trends
    # forget their cached lists when a term is hidden or shown.
    post_save.connect(
        search.forget_trends, sender=SearchTerm, dispatch_uid="search-term"
    )
    post_delete.connect(
        search.forget_trends, sender=SearchTerm, dispatch_uid="search-d-term"
    )
    post_save.connect(
        search.article_changed, sender=Article, dispatch_uid="search-article"
    )
    for model, handler in (
        (Byline, search.child_changed),
        (Figure, search.child_changed),
        (TaggedArticle, search.tagging_changed),
    ):
        uid = model._meta.label
        post_save.connect(handler, sender=model, dispatch_uid=f"search-{uid}")
        post_delete.connect(handler, sender=model, dispatch_uid=f"search-d-{uid}")
    post_save.connect(
        search.author_changed, sender=Author, dispatch_uid="search-author"
    )
    post_save.connect(
        search.library_image_changed, sender=Image, dispatch_uid="search-image"
    )
    post_save.connect(search.tag_changed, sender=Tag, dispatch_uid="search-tag")
    m2m_changed.connect(
        search.tags_changed, sender=TaggedArticle, dispatch_uid="search-tags-m2m"
    )

    # No control character or bidi override is stored in editor text.
    for model in textsafety.guarded_models():
        pre_save.connect(
            textsafety.strip_unsafe_characters,
            sender=model,
            dispatch_uid=f"textsafety-{model._meta.label}",
        )

    # The tags' and authors' story counts.
    for model in (Byline, TaggedArticle):
        uid = model._meta.label
        post_save.connect(usage.link_saved, sender=model, dispatch_uid=f"usage-{uid}")
        post_delete.connect(
            usage.link_deleted, sender=model, dispatch_uid=f"usage-d-{uid}"
        )

    # The review loop: every workflow step tells the people it concerns.
    post_save.connect(
        review.on_workflow_event,
        sender=WorkflowEvent,
        dispatch_uid="briefings.review.on_workflow_event",
    )
    post_save.connect(
        editing.forget_new_story_autosave,
        sender=Article,
        dispatch_uid="briefings.editing.forget_new_story_autosave",
    )
