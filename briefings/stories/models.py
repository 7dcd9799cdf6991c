"""The newsroom's content model: stories, their bylines, figures and related links.

`Article.objects.published()` is the one definition of "a reader may see this".
Every public page, and every later feed, sitemap and search, starts from it.
"""

import datetime
import re
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import (
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Lower
from django.tasks import task
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItemBase

from briefings.core import links
from briefings.core.background import retried
from briefings.core.prepared import prepared
from briefings.stories import body, images
from briefings.stories.library import (
    Image,
    attach_library_images,
    process_library_image,
)

#: Publishing rights: publish, schedule, withdraw, and change live stories.
PUBLISH_PERMISSION = "briefings.publish_article"


def plain_text(markdown: str) -> str:
    """A story body without its Markdown marks, figure and embed lines."""
    lines = []
    for line in markdown.splitlines():
        line = line.strip().lstrip("#>*-+ ").strip()
        if not line or line.startswith(("[figure", "http://", "https://")):
            continue
        lines.append(line)
    text = " ".join(lines)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # [words](url)
    return re.sub(r"[*_`\\]", "", text)


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " ":  # do not keep half a word
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


#: Stories that are not live: anyone who may change stories changes these.
#: Published (scheduled included) and withdrawn stories, and their authors, are
#: changed only by users with the publish permission.
OPEN_STATUSES = frozenset({ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW})


def may_publish(user) -> bool:
    """Whether `user` has publishing rights (an Editor, or an active superuser)."""
    return user is not None and user.has_perm(PUBLISH_PERMISSION)


class WorkflowRefused(PermissionDenied):
    """A change the workflow does not allow this user; the admin answers 403."""


PUBLISHED_NOT_DELETED = (
    "Stories that are or were published are not deleted: withdraw them instead "
    "(the Withdraw action). Only drafts never published are deleted, by editors."
)


#: save_by()'s default: read the story's state before the change from the database.
AS_STORED = object()


def _may_delete_stories(user) -> bool:
    return may_publish(user) and user.has_perm("briefings.delete_article")


class StoryState(NamedTuple):
    """What the workflow rule looks at in a story as stored."""

    status: str
    published_at: datetime.datetime | None
    updated_at: datetime.datetime | None


class ArticleKind(models.TextChoices):
    ARTICLE = "article", "Article"
    VIDEO = "video", "Video"
    LIVE = "live", "Live"
    GALLERY = "gallery", "Gallery"


class FigurePlace(models.TextChoices):
    HERO = "hero", "Hero (top of the story)"
    BODY = "body", "In the body"


class Author(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=220,
        unique=True,
        help_text="Part of the author page's address, e.g. louise-greenwood.",
    )
    bio = models.TextField(
        blank=True, help_text="A sentence or two for the author page."
    )
    is_organisation = models.BooleanField(
        "organisation or programme",
        default=False,
        help_text="A newsroom or programme (CGTN, World Insight): bylines show "
        "its name without “By”.",
    )

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(Lower("name"), name="author_name_lower_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return links.reverse("briefings:author-detail", [self.slug])

    def has_public_stories(self) -> bool:
        """Whether a story of theirs is published, scheduled or withdrawn."""
        return (
            self.pk is not None
            and Article.objects.filter(bylines__author=self.pk)
            .exclude(status__in=OPEN_STATUSES)
            .exists()
        )

    def editable_by(self, user) -> bool:
        """An author whose name is on live bylines, feeds and pages is changed
        by users with publishing rights only; others change the rest."""
        return may_publish(user) or not self.has_public_stories()

    def save_by(self, user):
        """Save a change `user` made, if the rule above allows it."""
        if not self.editable_by(user):
            raise WorkflowRefused(
                "Only editors change an author with published stories."
            )
        self.save()


class StoryLinkManager(models.Manager):
    """Bylines and taggings: rows made in bulk carry their story's listing
    time and are counted too (see StoryLink and Usage)."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        self.model.set_listing_times(objs)
        objs = super().bulk_create(objs, *args, **kwargs)
        usage = self.model.usage_model()
        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            # Which rows were new is unknown: count their targets again.
            usage.recount({getattr(obj, usage.link_target) for obj in objs})
        else:
            usage.links_changed(objs, +1)
        return objs


class StoryLink(models.Model):
    """A row linking a story to a tag or an author, carrying the story's
    publication time while it is published (None otherwise).

    A tag's or an author's page lists their stories newest first from this
    row's own index (tag or author, published_at, story), so finding a page
    costs the same for a tag of ten stories or of a million, old or new; a
    join to the stories' own index made the database guess which to walk.
    The time is set when the row is saved or bulk-created, and rewritten
    when the story's status or publication time changes (Article.save()).
    """

    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    #: The field naming the story, set by each kind.
    story_field = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.set_listing_times([self])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "published_at"}
        super().save(*args, **kwargs)

    @classmethod
    def set_listing_times(cls, links):
        states = cls.usage_model()._story_states(links)
        for link in links:
            status, published_at = states.get(
                getattr(link, f"{cls.story_field}_id"), (None, None)
            )
            link.published_at = (
                published_at if status == ArticleStatus.PUBLISHED else None
            )

    @classmethod
    def refresh_listing_times(cls):
        """Set every row's time from its story (after rows written with raw
        SQL or COPY, which bypass save() and the manager)."""
        cls.objects.update(
            published_at=Subquery(
                Article.objects.filter(
                    pk=OuterRef(f"{cls.story_field}_id"),
                    status=ArticleStatus.PUBLISHED,
                ).values("published_at")
            )
        )

    @classmethod
    def story_moved(cls, story_id, listing):
        """The story's (status, published_at) is now `listing`."""
        status, published_at = listing
        cls.objects.filter(**{cls.story_field: story_id}).update(
            published_at=published_at if status == ArticleStatus.PUBLISHED else None
        )


class TaggedArticle(StoryLink, TaggedItemBase):
    content_object = models.ForeignKey(
        "Article", on_delete=models.CASCADE, related_name="tagged_items"
    )

    objects = StoryLinkManager()
    story_field = "content_object"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="unique_article_tag"
            )
        ]
        indexes = [
            models.Index(
                fields=["tag", "-published_at", "-content_object"],
                name="tagged_listing_idx",
            )
        ]

    def __str__(self):
        return f"{self.content_object_id} tagged with {self.tag_id}"

    @staticmethod
    def usage_model():
        return TagUsage


def published_q(now=None, prefix=""):
    """The one rule for "a reader may see this story", as a condition.

    Published status and a publication time that has come. `prefix` applies it
    across a relation (`"article__"`); `now` defaults to the current time
    (prepared queries pass it in).
    """
    return Q(
        **{
            f"{prefix}status": ArticleStatus.PUBLISHED,
            f"{prefix}published_at__lte": timezone.now() if now is None else now,
        }
    )


def scheduled_q(now=None, prefix=""):
    """Stories published for a time still to come: live when it arrives."""
    return Q(
        **{
            f"{prefix}status": ArticleStatus.PUBLISHED,
            f"{prefix}published_at__gt": timezone.now() if now is None else now,
        }
    )


class ArticleQuerySet(models.QuerySet):
    def published(self, now=None):
        """Stories with published status whose publication time has come."""
        return self.filter(published_q(now))

    def scheduled(self, now=None):
        """Stories published for a later time (they go live by themselves)."""
        return self.filter(scheduled_q(now))

    def next_live_at(self):
        """When the next scheduled story goes live, in epoch seconds (0: none)."""
        upcoming = self.scheduled().aggregate(next_live=Min("published_at"))
        return upcoming["next_live"].timestamp() if upcoming["next_live"] else 0

    def with_headline(self, headline):
        """Stories whose headline is `headline`, ignoring case, through the
        lower(headline) index (`headline__iexact` compiles to UPPER(), which
        no index serves on PostgreSQL: a read of every story)."""
        return self.alias(headline_lower=Lower("headline")).filter(
            headline_lower=headline.lower()
        )

    def from_source(self, name):
        """The story imported from seed file `name`, via its unique index.

        The `~Q(source_name="")` repeats the index's condition so that SQLite
        can use the partial index instead of scanning the table.
        """
        return self.filter(source_name=name).exclude(source_name="").order_by()

    def for_listing(self):
        """What a list of story cards shows: byline, hero figure."""
        return self.prefetch_related(
            Prefetch("bylines", Byline.objects.select_related("author")),
            Prefetch(
                "figures",
                Figure.objects.filter(place=FigurePlace.HERO).select_related(
                    "library_image"
                ),
                to_attr="hero_figures",
            ),
        )

    def once_published(self):
        """Stories that are or were live: published (scheduled included),
        withdrawn, or ever moved into or out of published. These are
        withdrawn, never deleted."""
        published = ArticleStatus.PUBLISHED
        return self.filter(
            ~Q(status__in=OPEN_STATUSES)
            | Q(workflow_events__from_status=published)
            | Q(workflow_events__to_status=published)
        ).distinct()

    def delete_by(self, user):
        """Delete these stories for `user`: drafts only, by users with
        publishing and delete rights (see Article.deletable_by)."""
        if not _may_delete_stories(user) or self.once_published().exists():
            raise WorkflowRefused(PUBLISHED_NOT_DELETED)
        return self.delete()

    def redirected_from(self, old_slug):
        """The published story that once had `old_slug` (one indexed lookup)."""
        return self.published().filter(slug_redirects__old_slug=old_slug).first()

    def for_search(self):
        """What a search result shows: byline, hero, and captions for the snippet."""
        return self.prefetch_related(
            Prefetch("bylines", Byline.objects.select_related("author")),
            Prefetch("figures", Figure.objects.select_related("library_image")),
        )


class ArticleManager(models.Manager.from_queryset(ArticleQuerySet)):
    def get_queryset(self):
        # The search vector is the database's alone: pages never load it.
        return super().get_queryset().defer("search_vector")


class Article(models.Model):
    headline = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=320,
        unique=True,
        help_text="The story's address: /stories/(slug)/. If you change it after "
        "publication, the old address keeps working (it redirects here).",
    )
    standfirst = models.TextField(
        blank=True,
        max_length=600,
        help_text="One or two sentences under the headline, shown on story cards.",
    )
    body = models.TextField(
        blank=True,
        help_text=(
            "Write paragraphs separated by a blank line. Start a line with '## ' for "
            "a subheading and '> ' for a quotation; *italic*, **bold** and "
            "[links](https://example.com) work. HTML is shown as plain text. "
            "Put a line '[figure 2]' where the body figure with position 2 should "
            "appear; body figures that no line places are shown after the text. "
            "A line holding only a YouTube, Vimeo or X link becomes an embedded "
            "player, shown to readers who allow embeds."
        ),
    )
    dateline = models.CharField(
        max_length=100, blank=True, help_text="Where the story was filed, e.g. Yerevan."
    )
    status = models.CharField(
        max_length=20, choices=ArticleStatus, default=ArticleStatus.DRAFT
    )
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Readers see the story from this time. A future time schedules it.",
    )
    updated_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The 'Updated' time readers see. Change it for substantive updates.",
    )
    authors = models.ManyToManyField(
        Author, through="Byline", related_name="articles", blank=True
    )
    byline_affiliation = models.CharField(
        "affiliation",
        max_length=100,
        blank=True,
        help_text="Shown after the authors' names, e.g. CGTN.",
    )
    kind = models.CharField(
        max_length=20, choices=ArticleKind, default=ArticleKind.ARTICLE
    )
    duration = models.CharField(
        max_length=12, blank=True, help_text="A video's running time, e.g. 28:53."
    )
    editors_note = models.TextField(
        "editor's note",
        blank=True,
        help_text="Shown to readers apart from the text, above it.",
    )
    source_agency = models.CharField(
        "source",
        max_length=200,
        blank=True,
        help_text="The agency the story comes from, e.g. Xinhua News Agency; "
        "shown with the story.",
    )
    tags = TaggableManager(through=TaggedArticle, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(auto_now=True)
    source_name = models.CharField(
        max_length=255,
        blank=True,
        editable=False,
        help_text="The seed file this story was imported from, if any.",
    )
    source_hash = models.CharField(max_length=64, blank=True, editable=False)
    imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_notes = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="What loadseed guessed or dropped when it imported the story.",
    )
    import_notes_dismissed = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(
        default=0, editable=False, help_text="Counts saves; every save adds one."
    )
    imported_version = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="The version loadseed last wrote; a later version is an edit.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="Who started the story in the admin: its writer on the desk.",
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Promotion: what search engines and social sites show (defaults: promo_*).
    seo_title = models.CharField(
        "SEO title",
        max_length=70,
        blank=True,
        help_text="The title search engines and social sites show, if it should "
        "differ from the headline. Up to 70 characters.",
    )
    meta_description = models.CharField(
        max_length=160,
        blank=True,
        help_text="The summary search engines show under the title. Up to 160 "
        "characters; empty means the standfirst.",
    )
    social_image = models.ForeignKey(
        "Figure",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The picture shared on social sites: one of this story's "
        "figures. Empty means the hero.",
    )
    # PostgreSQL full-text search: headline (A), standfirst (B), body, captions,
    # authors and tags (C); rewritten whenever any of them changes (search.py).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = ArticleManager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        get_latest_by = "published_at"
        permissions = [
            ("publish_article", "Can publish, schedule and withdraw stories"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ArticleStatus.values),
                name="article_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ArticleKind.values), name="article_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=ArticleStatus.PUBLISHED)
                | Q(published_at__isnull=False),
                name="article_published_has_time",
            ),
            models.UniqueConstraint(
                fields=["source_name"],
                condition=~Q(source_name=""),
                name="article_unique_source",
            ),
        ]
        indexes = [
            # Reader listings, newest first, page by page from where the last
            # one ended (keyset); sitemaps' and feeds' newest stories.
            models.Index(
                fields=["status", "-published_at", "-id"], name="article_listing_idx"
            ),
            # The admin's story list, in its default order.
            models.Index(
                fields=["-published_at", "-id"], name="article_admin_order_idx"
            ),
            # The newest update of a live story (sitemaps' lastmod).
            models.Index(fields=["status", "-updated_at"], name="article_updated_idx"),
            models.Index(Lower("headline"), name="article_headline_lower_idx"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.version += 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        if self.pk is not None and not (
            hasattr(self, "_saved_slug") and hasattr(self, "_saved_listing")
        ):
            # Not loaded by a query (e.g. a revision being reverted): ask.
            saved = (
                Article.objects.filter(pk=self.pk)
                .values_list("slug", "status", "published_at")
                .first()
            )
            self._saved_slug = saved[0] if saved else None
            self._saved_listing = saved[1:] if saved else None
        old_slug = getattr(self, "_saved_slug", None)
        old_listing = getattr(self, "_saved_listing", None)
        super().save(*args, **kwargs)
        if old_slug != self.slug:
            self._remember_old_slug(old_slug)
        listing = (self.status, self.published_at)
        if old_listing is not None and old_listing != listing:
            # Published or unpublished, or moved in time: its tags' and
            # authors' counts follow (two UPDATEs, only on such a change).
            for usage in (TagUsage, AuthorUsage):
                usage.story_moved(self.pk, old_listing, listing)
                usage.link_model.story_moved(self.pk, listing)
        self._saved_listing = listing

    def get_absolute_url(self):
        return links.reverse("briefings:article-detail", [self.slug])

    @property
    def admin_url(self):
        """The story's page in the admin."""
        return reverse("admin:briefings_article_change", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        article = super().from_db(db, field_names, values, **kwargs)
        article._saved_slug = article.__dict__.get("slug")
        if "status" in article.__dict__ and "published_at" in article.__dict__:
            article._saved_listing = (article.status, article.published_at)
        return article

    def _remember_old_slug(self, old_slug):
        """Keep every past address of a story that readers may have seen."""
        if old_slug and self.published_at is not None:
            SlugRedirect.objects.update_or_create(
                old_slug=old_slug, defaults={"article": self}
            )
        # This address is this story's own now, not a redirect to any story.
        SlugRedirect.objects.filter(old_slug=self.slug).delete()
        self._saved_slug = self.slug

    @property
    def is_scheduled(self):
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at > timezone.now()
        )

    @property
    def display_status(self):
        """The status as editors think of it: a future published story is scheduled."""
        return "Scheduled" if self.is_scheduled else self.get_status_display()

    @property
    def is_public(self):
        return (
            self.status == ArticleStatus.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )

    @property
    def edited_since_import(self):
        """Saved by anyone but loadseed since loadseed last wrote it."""
        return (
            self.imported_version is not None and self.version != self.imported_version
        )

    # -- The workflow rule: every change a user makes to a story passes here --

    def stored_state(self):
        """The story's status and times as stored (None for a new story)."""
        if self.pk is None:
            return None
        row = (
            Article.objects.filter(pk=self.pk)
            .values_list("status", "published_at", "updated_at")
            .first()
        )
        return StoryState(*row) if row else None

    @staticmethod
    def may_change(user, state) -> bool:
        """Whether `user` may change a story stored in `state` (None: new)."""
        return may_publish(user) or state is None or state.status in OPEN_STATUSES

    def editable_by(self, user) -> bool:
        """Whether `user` may change this story, as loaded."""
        return may_publish(user) or self.status in OPEN_STATUSES

    @staticmethod
    def check_status(user, status):
        """Refuse a status `user` may not give a story."""
        if not may_publish(user) and status not in OPEN_STATUSES:
            raise WorkflowRefused("Only editors publish, schedule or withdraw stories.")

    def check_change(self, user, before):
        """Refuse (WorkflowRefused) a change `user` may not make to this story.

        `before` is the story as stored before the change (`stored_state()`,
        None for a new story). Without publishing rights, a user changes only
        stories that are not live, leaves them not live, and leaves their
        publication and "Updated" times as they were.
        """
        if may_publish(user):
            return
        if not self.may_change(user, before):
            raise WorkflowRefused(
                "Only editors change a published, scheduled or withdrawn story."
            )
        self.check_status(user, self.status)
        times = (before.published_at, before.updated_at) if before else (None, None)
        if (self.published_at, self.updated_at) != times:
            raise WorkflowRefused(
                "Only editors set a story's publication or 'Updated' time."
            )

    def save_by(
        self,
        user,
        *,
        before=AS_STORED,
        substantive_update=False,
        action=None,
        comment="",
    ):
        """Save a change `user` made, if the workflow allows it, and record any
        change of status with who made it. Returns the WorkflowEvent, or None.

        `before` is the story as stored before the change (None: a new story);
        it is read from the database unless given (a reverted revision has
        already overwritten the row: the caller passes what was there).
        `substantive_update` shows readers a new "Updated" time. `action` and
        `comment` name the step in the workflow log (e.g. sent back, and why).
        """
        if before is AS_STORED:
            before = self.stored_state()
        if substantive_update:
            self.updated_at = timezone.now()
        if self.status == ArticleStatus.PUBLISHED and not self.published_at:
            self.published_at = timezone.now()
        self.check_change(user, before)
        self.save()
        return self.record_transition(
            before.status if before else ArticleStatus.DRAFT,
            user,
            action=action,
            comment=comment,
        )

    def move_to(self, status, user, *, publish_now=False, action=None, comment=""):
        """Change the story's status for `user`, save it, and log who did it.

        Publishing keeps an earlier publication time (a story back from
        withdrawal keeps its date); `publish_now` brings a scheduled one forward.
        """
        before = self.stored_state()
        self.status = status
        self.last_edited_by = user
        now = timezone.now()
        if status == ArticleStatus.PUBLISHED and (
            not self.published_at or (publish_now and self.published_at > now)
        ):
            self.published_at = now
        return self.save_by(user, before=before, action=action, comment=comment)

    def record_transition(self, from_status, user, *, action=None, comment=""):
        """Log a status change made by `user` (call after saving the story)."""
        if from_status == self.status:
            return None
        if action is None:
            action = self._transition_action()
        return WorkflowEvent.objects.create(
            article=self,
            action=action,
            from_status=from_status,
            to_status=self.status,
            user=user,
            comment=comment,
        )

    def _transition_action(self):
        """The workflow step a move into the current status is, by default."""
        if self.status == ArticleStatus.PUBLISHED:
            if self.is_scheduled:
                return WorkflowAction.SCHEDULED
            return WorkflowAction.PUBLISHED
        return {
            ArticleStatus.IN_REVIEW: WorkflowAction.SUBMITTED,
            ArticleStatus.WITHDRAWN: WorkflowAction.WITHDRAWN,
            ArticleStatus.DRAFT: WorkflowAction.RETURNED,
        }[self.status]

    @property
    def once_published(self) -> bool:
        """Live now or once (see ArticleQuerySet.once_published)."""
        return Article.objects.filter(pk=self.pk).once_published().exists()

    def deletable_by(self, user) -> bool:
        """Drafts never published are deleted, by users with publishing and
        delete rights; live and once-published stories are withdrawn."""
        return _may_delete_stories(user) and not self.once_published

    def delete_by(self, user):
        """Delete this story for `user`, if the rule above allows it."""
        if not self.deletable_by(user):
            raise WorkflowRefused(PUBLISHED_NOT_DELETED)
        return self.delete()

    def with_detail(self):
        """Load everything the story page shows, one prepared query per relation.

        For a single story this does what prefetch_related() would at a fraction
        of the cost: prefetching builds IN-list queries and matches rows back to
        their objects (about 0.6 ms of Python per relation), and even a plain
        query spends more time being compiled than running (see prepared.py).
        The rows fill the same prefetch cache, so `self.figures.all()`,
        `self.tags.all()` and the rest make no further query. Returns the story.
        """
        prefetched = self.__dict__.setdefault("_prefetched_objects_cache", {})
        for name, query in [
            ("figures", _story_figures),
            ("tags", _story_tags),
            ("related_links", _story_related_links),
            ("corrections", _story_corrections),
        ]:
            rows = query(pk=self.pk)
            if name == "figures":  # image library (issue 18)
                rows = attach_library_images(rows)
            if name == "tags":
                # taggit's manager builds a join filter (0.17 ms, a twentieth of
                # the page); the same tags by primary key cost a quarter of it.
                queryset = Tag.objects.filter(pk__in=[tag.pk for tag in rows])
            else:
                queryset = getattr(self, name).all()
            queryset._result_cache = rows
            queryset._prefetch_done = True
            prefetched[name] = queryset
        self.__dict__["byline_authors"] = _story_authors(pk=self.pk)
        return self

    @cached_property
    def byline_authors(self):
        return [byline.author for byline in self.bylines.all()]

    @cached_property
    def organisation_byline(self):
        """Signed by organisations or programmes only: shown without "By"."""
        authors = self.byline_authors
        return bool(authors) and all(author.is_organisation for author in authors)

    @property
    def open_import_notes(self):
        """Import notes an editor has not dismissed yet."""
        return [] if self.import_notes_dismissed else list(self.import_notes or [])

    @cached_property
    def byline_names(self):
        """ "Ann", "Ann and Bo", "Ann, Bo and Cy": the byline as plain text."""
        names = [author.name for author in self.byline_authors]
        if len(names) < 2:
            return "".join(names)
        return f"{', '.join(names[:-1])} and {names[-1]}"

    @cached_property
    def hero(self):
        """The hero figure, from a listing prefetch or from the detail prefetch."""
        if hasattr(self, "hero_figures"):
            return self.hero_figures[0] if self.hero_figures else None
        return next(
            (f for f in self.figures.all() if f.place == FigurePlace.HERO), None
        )

    @cached_property
    def body_parts(self):
        body_figures = [f for f in self.figures.all() if f.place == FigurePlace.BODY]
        return body.render_body(self.body, body_figures)

    @property
    def promo_title(self):
        """The title search engines and social sites get."""
        return self.seo_title.strip() or self.headline

    @property
    def promo_description(self):
        """<meta name="description">: the editor's, else the standfirst, else
        the start of the text (at most 160 characters)."""
        text = self.meta_description.strip() or self.standfirst.strip()
        if not text:
            text = plain_text(self.body)
        return shorten(text, 160)

    @property
    def promo_image(self):
        """The figure shared on social sites: the chosen one, else the hero."""
        if self.social_image_id:
            # Among the story's own figures (prefetched on story pages).
            for figure in self.figures.all():
                if figure.pk == self.social_image_id and figure.has_picture:
                    return figure
        return self.hero

    @cached_property
    def shown_updated_at(self):
        """The update time worth showing: only when it differs from publication."""
        if (
            self.updated_at
            and self.published_at
            and self.updated_at > self.published_at
        ):
            return self.updated_at
        return None

    def related_for_readers(self):
        """Related links that go somewhere: a published story or an external URL.

        A link to a Briefings story counts while that story is public. Otherwise
        the link's title is matched (case-insensitively) to a published story's
        headline when the page is read, so a link starts working the moment its
        story goes live; nothing is stored that could go stale. One query finds
        both the linked stories and the headline matches, through the primary
        key and the lower(headline) index; whether each is public is checked
        here, since a publication filter in the query would send the database
        through every published story instead.
        """
        resolved = []
        for link, story in self.link_targets(self.related_links.all()):
            if story is not None:
                target = story.get_absolute_url()
            elif link.url:
                target = link.url
            else:
                continue
            resolved.append({"title": link.title, "url": target})
        return resolved

    def link_targets(self, links):
        """Each of `links` with the public story a reader reaching it gets (or
        None: then the link's own URL, if any). See related_for_readers.
        Links that come resolved already (`readers_target`, as the admin's
        related-link rows do) are not resolved again."""
        links = list(links)
        if not links:
            return []
        if all(hasattr(link, "readers_target") for link in links):
            return [(link, link.readers_target) for link in links]
        story_ids = {link.story_id for link in links if link.story_id}
        titles = {link.title.casefold() for link in links}
        candidates = _related_stories(
            story_ids=sorted(story_ids), titles=sorted(titles)
        )
        public, matches = {}, {}
        for story in candidates:
            if not story.is_public:
                continue
            if story.pk in story_ids:
                public[story.pk] = story
            if story.pk != self.pk:
                matches.setdefault(story.headline.casefold(), story)
        return [
            (link, public.get(link.story_id) or matches.get(link.title.casefold()))
            for link in links
        ]


class Byline(StoryLink):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="bylines"
    )
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)

    objects = StoryLinkManager()
    story_field = "article"

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="unique_byline")
        ]
        indexes = [
            models.Index(
                fields=["author", "-published_at", "-article"],
                name="byline_listing_idx",
            )
        ]

    def __str__(self):
        return f"{self.author} on {self.article}"

    @staticmethod
    def usage_model():
        return AuthorUsage


class SlugRedirect(models.Model):
    """A story's earlier address: /stories/<old_slug>/ answers 301 to the story."""

    old_slug = models.SlugField(max_length=320, unique=True)
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="slug_redirects"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.old_slug} -> {self.article_id}"


def tag_key(name: str) -> str:
    """What makes two tag names the same tag: case, hyphens and spacing ignored."""
    return " ".join(name.replace("-", " ").replace("_", " ").casefold().split())


class TagAlias(models.Model):
    """Another name for a tag ("Nagorno Karabakh" for "Nagorno-Karabakh").

    Typed in the story form or found by loadseed, an alias becomes its tag.
    """

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=100, unique=True, editable=False)
    tag = models.ForeignKey(
        "taggit.Tag", on_delete=models.CASCADE, related_name="aliases"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "tag aliases"

    def __str__(self):
        return f"{self.name} -> {self.tag}"

    def save(self, *args, **kwargs):
        self.key = tag_key(self.name)
        super().save(*args, **kwargs)


class TagRedirect(models.Model):
    """A merged tag's address: /tags/<old_slug>/ answers 301 to the tag it joined."""

    old_slug = models.SlugField(max_length=100, unique=True)
    tag = models.ForeignKey(
        "taggit.Tag", on_delete=models.CASCADE, related_name="redirects"
    )

    def __str__(self):
        return f"{self.old_slug} -> {self.tag}"


class Usage(models.Model):
    """How many stories a tag or an author has, kept as numbers.

    Counting them when a page is read means reading every tagging or byline
    of every story (the tags page took 0.6 s at 100,000 stories). The numbers
    follow the rows that link stories to tags and authors (saved, deleted, or
    bulk-created through their managers) and every change of a story's status
    or publication time, in the same transaction.

    `published` counts stories with published status, scheduled ones
    included: a scheduled story goes live with no write, so `with_live()`
    takes the still-scheduled ones away when the numbers are read. `latest`
    is the newest publication time among them (sitemaps' lastmod); it only
    moves forward, so unpublishing a story leaves it as it was. `recount()`
    counts from scratch, for rows written around the managers (raw SQL, COPY).
    """

    stories = models.IntegerField(default=0)
    published = models.IntegerField(default=0)
    latest = models.DateTimeField(null=True, blank=True)

    #: Set by each kind: the linking model, its field naming the tag or
    #: author (the target) and its field naming the story.
    link_model = None
    link_target = ""
    link_story = ""

    class Meta:
        abstract = True

    @classmethod
    def links_changed(cls, links, sign):
        """Count `links` (bylines or taggings) as added (+1) or removed (-1)."""
        links = list(links)
        if not links:
            return
        states = cls._story_states(links)
        groups = {}
        for link in links:
            status, published_at = states.get(
                getattr(link, f"{cls.link_story}_id"), (None, None)
            )
            live = status == ArticleStatus.PUBLISHED
            latest = published_at if live and sign > 0 else None
            groups.setdefault((live, latest), set()).add(
                getattr(link, f"{cls.link_target}_id")
            )
        for (live, latest), targets in groups.items():
            values = {
                "stories": F("stories") + sign,
                **({"published": F("published") + sign} if live else {}),
                **({"latest": _later("latest", latest)} if latest else {}),
            }
            updated = cls.objects.filter(pk__in=targets).update(**values)
            if sign > 0 and updated < len(targets):
                cls.recount(targets)  # a new tag or author: its first story

    @classmethod
    def _story_states(cls, links):
        """{story id: (status, published_at)} for `links`' stories: from the
        story a link holds in memory, else one query."""
        field = cls.link_model._meta.get_field(cls.link_story)
        states = {}
        for link in links:
            if field.is_cached(link):
                story = field.get_cached_value(link)
                states[story.pk] = (story.status, story.published_at)
        missing = {getattr(link, field.attname) for link in links} - states.keys()
        if missing:
            states.update(
                (pk, (status, published_at))
                for pk, status, published_at in Article.objects.filter(
                    pk__in=missing
                ).values_list("pk", "status", "published_at")
            )
        return states

    @classmethod
    def story_moved(cls, story_id, old, new):
        """A story's (status, published_at) went from `old` to `new`."""
        was_live = old[0] == ArticleStatus.PUBLISHED
        is_live = new[0] == ArticleStatus.PUBLISHED
        values = {}
        if is_live != was_live:
            values["published"] = F("published") + (1 if is_live else -1)
        if is_live and new[1] is not None:
            values["latest"] = _later("latest", new[1])
        if values:
            targets = cls.link_model.objects.filter(
                **{cls.link_story: story_id}
            ).values(cls.link_target)
            cls.objects.filter(pk__in=targets).update(**values)

    @classmethod
    def recount(cls, targets=None):
        """Count the stories of `targets` (ids; None: all) from scratch."""
        target_model = cls._meta.pk.related_model
        existing = target_model.objects.order_by()
        if targets is not None:
            existing = existing.filter(pk__in=list(targets))
        cls.objects.bulk_create(
            [cls(pk=pk) for pk in existing.values_list("pk", flat=True)],
            ignore_conflicts=True,
        )
        links = (
            cls.link_model.objects.filter(**{cls.link_target: OuterRef("pk")})
            .order_by()
            .values(cls.link_target)
        )
        live = links.filter(**{f"{cls.link_story}__status": ArticleStatus.PUBLISHED})
        rows = cls.objects.all()
        if targets is not None:
            rows = rows.filter(pk__in=list(targets))
        rows.update(
            stories=_RowCount(links),
            published=_RowCount(live),
            latest=Subquery(
                live.annotate(latest=Max(f"{cls.link_story}__published_at")).values(
                    "latest"
                )
            ),
        )

    @classmethod
    def with_live(cls, queryset, name, now=None):
        """Tags or authors (`queryset`) annotated with `name`: how many of their
        stories readers see now. The still-scheduled ones are counted from
        the links' listing index (tag or author, then a time after now): one
        short index probe per tag or author, usually finding nothing."""
        now = timezone.now() if now is None else now
        waiting = (
            cls.link_model.objects.filter(
                **{cls.link_target: OuterRef("pk"), "published_at__gt": now}
            )
            .order_by()
            .values(cls.link_target)
        )
        live = Coalesce(F("usage__published"), 0) - _RowCount(waiting)
        return queryset.annotate(**{name: live})


def _later(field, moment):
    """The later of `field` (which may be empty) and `moment`."""
    return Greatest(Coalesce(field, Value(moment)), Value(moment))


class _RowCount(Subquery):
    """A subquery's row count per target (0 for none): COUNT(*) with no GROUP
    BY, which the links' own index answers (an index-only scan; counting
    their ids, grouped, read every row)."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _rows)"
    output_field = models.IntegerField()


class TagUsage(Usage):
    tag = models.OneToOneField(
        "taggit.Tag", on_delete=models.CASCADE, primary_key=True, related_name="usage"
    )

    link_model = TaggedArticle
    link_target = "tag"
    link_story = "content_object"

    def __str__(self):
        return f"{self.tag_id}: {self.published} published of {self.stories}"


class AuthorUsage(Usage):
    author = models.OneToOneField(
        Author, on_delete=models.CASCADE, primary_key=True, related_name="usage"
    )

    link_model = Byline
    link_target = "author"
    link_story = "article"

    def __str__(self):
        return f"{self.author_id}: {self.published} published of {self.stories}"


def moved_tag_slug(old_slug):
    """The slug of the tag a merged tag's `old_slug` joined (None: never merged)."""
    return (
        TagRedirect.objects.filter(old_slug=old_slug)
        .values_list("tag__slug", flat=True)
        .first()
    )


class CorrectionKind(models.TextChoices):
    CORRECTION = "correction", "Correction"
    CLARIFICATION = "clarification", "Clarification"


class CorrectionQuerySet(models.QuerySet):
    def published(self):
        """Corrections readers may see: those of published stories."""
        return self.filter(
            article__in=Article.objects.published().values("pk")
        ).select_related("article")


class Correction(models.Model):
    """An honest note on a story: what was wrong (or unclear) and when it was fixed.

    Saving one marks the story as updated at the correction's time.
    """

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="corrections"
    )
    kind = models.CharField(
        max_length=20, choices=CorrectionKind, default=CorrectionKind.CORRECTION
    )
    text = models.TextField(
        help_text="What the story got wrong or left unclear, and what is right, "
        "as readers will read it. E.g. 'An earlier version misstated the date "
        "of the vote. It was on 3 May.'"
    )
    made_at = models.DateTimeField(
        default=timezone.now, help_text="When the story was corrected."
    )

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["made_at", "pk"]
        indexes = [models.Index(fields=["-made_at"], name="correction_made_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=CorrectionKind.values),
                name="correction_kind_valid",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="correction_has_text"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.article}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Mark the story as updated (without counting as an editor's save).
        Article.objects.filter(pk=self.article_id).filter(
            Q(updated_at__isnull=True) | Q(updated_at__lt=self.made_at)
        ).update(updated_at=self.made_at)


class Figure(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="figures"
    )
    place = models.CharField(
        max_length=10, choices=FigurePlace, default=FigurePlace.BODY
    )
    position = models.PositiveSmallIntegerField(
        default=1,
        help_text="Body figures: the number a '[figure N]' line in the body refers to.",
    )
    caption = models.TextField(blank=True)
    credit = models.CharField(
        max_length=300,
        blank=True,
        help_text="Photographer and agency, e.g. Tigran Mehrabyan/PAN Photo/Reuters.",
    )
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it. "
        "Required when there is an image.",
    )
    # --- Image library (issue 18; stories/library.py) ----------------------
    library_image = models.ForeignKey(
        "Image",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="figures",
        verbose_name="library picture",
        help_text="A picture from the library. Its alt text, credit and caption "
        "are used unless you give this story's own above.",
    )
    # --- end image library ---------------------------------------------------

    class Meta:
        ordering = ["place", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(place__in=FigurePlace.values), name="figure_place_valid"
            ),
            models.UniqueConstraint(
                fields=["article"],
                condition=Q(place=FigurePlace.HERO),
                name="figure_one_hero_per_article",
            ),
        ]

    def __str__(self):
        return self.caption[:80] or f"Figure {self.pk}"

    def save(self, *args, **kwargs):
        """Save; a new `upload` first becomes a library image this figure uses.

        The image takes the figure's alt text, credit and caption as its own
        (so a search in the chooser finds it by them); the figure keeps them
        too, as this use's. The image and the figure are written together or
        not at all: a refused file, a failed save or failed processing leaves
        neither row, and the files already stored for the image are deleted.
        """
        upload = self.upload
        if upload is None:
            return super().save(*args, **kwargs)
        if not self.alt_text.strip():
            raise ValidationError(
                {"alt_text": "Describe the picture for readers who cannot see it."}
            )
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "library_image"}
        image = Image(
            file=upload,
            alt_text=self.alt_text,
            credit=self.credit,
            default_caption=self.caption,
            uploaded_by_id=self.article.last_edited_by_id,
        )
        try:
            with transaction.atomic(using=kwargs.get("using")):
                image.save(using=kwargs.get("using"))
                self.library_image = image
                super().save(*args, **kwargs)
        except BaseException:
            self.library_image = None
            image.discard_files()
            raise
        self.upload = None

    def clean(self):
        if self.library_image_id and self.upload:
            raise ValidationError(
                {"upload": "Choose a library picture or upload one, not both."}
            )
        if self.library_image_id and not self.shown_alt.strip():
            raise ValidationError(
                {
                    "alt_text": "The library picture has no alt text: describe it "
                    "here (or in the library) for readers who cannot see it."
                }
            )
        if self.upload and not self.alt_text.strip():
            raise ValidationError(
                {"alt_text": "Describe the picture for readers who cannot see it."}
            )

    # --- A new picture uploaded with the figure ----------------------------------

    @property
    def upload(self):
        """A picture file uploaded for this figure, not yet saved (or None).

        Set by the story form's upload box, or `Figure(upload=...)`. Saving
        the figure puts it into the image library (see save()), so every
        picture is served, found and reused the same way.
        """
        return self.__dict__.get("_upload")

    @upload.setter
    def upload(self, file):
        self.__dict__["_upload"] = file or None

    # --- This use's text, else the library picture's -------------------------

    @property
    def shown_alt(self) -> str:
        if self.alt_text or not self.library_image_id:
            return self.alt_text
        return self.library_image.alt_text

    @property
    def shown_caption(self) -> str:
        if self.caption or not self.library_image_id:
            return self.caption
        return self.library_image.default_caption

    @property
    def shown_credit(self) -> str:
        if self.credit or not self.library_image_id:
            return self.credit
        return self.library_image.credit

    # --- The picture: always the library's --------------------------------------

    @property
    def has_picture(self) -> bool:
        return bool(self.library_image_id and self.library_image.file)

    @cached_property
    def picture(self) -> images.Picture | None:
        """URLs and sizes for the <picture> element (no storage access)."""
        if not self.library_image_id:
            return None
        return self.library_image.picture

    @cached_property
    def card_picture(self) -> images.Picture | None:
        """Story cards: the library's crop around the focal point, if any."""
        if not self.library_image_id:
            return None
        return self.library_image.card_picture

    def large_rendition(self) -> dict | None:
        """What search engines and social sites get (Image.large_rendition)."""
        if not self.library_image_id:
            return None
        return self.library_image.large_rendition()


@task
@retried
def process_figure_image(figure_id, staged):
    """Task: an upload a figure kept aside before figures' pictures moved into
    the library. Migration 0021 gave it to a library image (`pending_file`);
    this task, queued before, has that image processed. Kept for tasks still
    queued when 0021 ran."""
    image_id = (
        Image.objects.filter(figures=figure_id, pending_file=staged)
        .values_list("pk", flat=True)
        .first()
    )
    return process_library_image.call(image_id, staged)


class RelatedLink(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="related_links"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(
        max_length=300,
        help_text="Shown under 'Read more'. A published story with this headline "
        "is linked automatically.",
    )
    url = models.URLField(
        blank=True,
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="Optional web address (http or https) outside Briefings.",
    )
    story = models.ForeignKey(
        Article,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Optional: link this Briefings story, whatever its headline.",
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return self.title


class WorkflowAction(models.TextChoices):
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    SCHEDULED = "scheduled", "Scheduled"
    WITHDRAWN = "withdrawn", "Withdrawn"
    RETURNED = "returned", "Returned to draft"
    SENT_BACK = "sent_back", "Sent back to the writer"


class WorkflowEvent(models.Model):
    """Who moved a story from one status to another, and when."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="workflow_events"
    )
    action = models.CharField(max_length=20, choices=WorkflowAction)
    from_status = models.CharField(max_length=20, choices=ArticleStatus)
    to_status = models.CharField(max_length=20, choices=ArticleStatus)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    at = models.DateTimeField(default=timezone.now)
    comment = models.TextField(
        blank=True, help_text="What the editor asks the writer to change."
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["article", "-at"], name="workflow_article_idx")]

    def __str__(self):
        return f"{self.get_action_display()} by {self.user or 'someone'} at {self.at}"


# One story's parts, each a prepared query (see Article.for_page).
@prepared
def _story_authors(pk):
    return Author.objects.filter(bylines__article=pk).order_by(
        "bylines__position", "bylines__pk"
    )


@prepared
def _story_figures(pk):
    return Article(pk=pk).figures.all()


@prepared
def _story_tags(pk):
    return Article(pk=pk).tags.all()


@prepared
def _story_related_links(pk):
    return Article(pk=pk).related_links.all()


@prepared
def _story_corrections(pk):
    return Article(pk=pk).corrections.all()


@prepared
def _related_stories(story_ids, titles):
    """Stories linked by id, or whose headline matches a link title (any status)."""
    return (
        Article.objects.annotate(headline_lower=Lower("headline"))
        .filter(Q(pk__in=story_ids) | Q(headline_lower__in=titles))
        .only("headline", "slug", "status", "published_at")
        .order_by("-published_at", "-pk")
    )


# --- Background work ------------------------------------------------------------
