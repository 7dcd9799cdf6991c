"""The newsroom's content model: stories, their bylines, figures and related links.

`Article.objects.published()` is the one definition of "a reader may see this".
Every public page, and every later feed, sitemap and search, starts from it.
"""

import posixpath
import re
import uuid

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import models, transaction
from django.db.models import Prefetch, Q
from django.db.models.fields.files import ImageFieldFile
from django.db.models.functions import Lower
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from taggit.managers import TaggableManager
from taggit.models import Tag, TaggedItemBase

from . import images, links
from .prepared import prepared

PREVIEW_LINK_SALT = "briefings.preview-link"


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

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(Lower("name"), name="author_name_lower_idx")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return links.reverse("briefings:author-detail", [self.slug])


class TaggedArticle(TaggedItemBase):
    content_object = models.ForeignKey(
        "Article", on_delete=models.CASCADE, related_name="tagged_items"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="unique_article_tag"
            )
        ]


class ArticleQuerySet(models.QuerySet):
    def published(self, now=None):
        """Stories with published status whose publication time has come.

        `now` defaults to the current time (prepared queries pass it in).
        """
        return self.filter(
            status=ArticleStatus.PUBLISHED,
            published_at__lte=timezone.now() if now is None else now,
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
                Figure.objects.filter(place=FigurePlace.HERO),
                to_attr="hero_figures",
            ),
        )

    def redirected_from(self, old_slug):
        """The published story that once had `old_slug` (one indexed lookup)."""
        return self.published().filter(slug_redirects__old_slug=old_slug).first()

    def for_search(self):
        """What a search result shows: byline, hero, and captions for the snippet."""
        return self.prefetch_related(
            Prefetch("bylines", Byline.objects.select_related("author")), "figures"
        )

    def search(self, text):
        """Stories matching `text`, headline matches first (see search.py)."""
        from .search import search_articles

        return search_articles(self, text)


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
        max_length=20, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
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
            models.Index(
                fields=["status", "-published_at"], name="article_listing_idx"
            ),
            models.Index(Lower("headline"), name="article_headline_lower_idx"),
        ]

    def __str__(self):
        return self.headline

    def save(self, *args, **kwargs):
        self.version += 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version"}
        if self.pk is not None and not hasattr(self, "_saved_slug"):
            # Not loaded by a query (e.g. a revision being reverted): ask.
            self._saved_slug = (
                Article.objects.filter(pk=self.pk)
                .values_list("slug", flat=True)
                .first()
            )
        old_slug = getattr(self, "_saved_slug", None)
        super().save(*args, **kwargs)
        if old_slug != self.slug:
            self._remember_old_slug(old_slug)

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

    def record_transition(self, from_status, user):
        """Log a status change made by `user` (call after saving the story)."""
        if from_status == self.status:
            return None
        if self.status == ArticleStatus.PUBLISHED:
            action = (
                WorkflowAction.SCHEDULED
                if self.is_scheduled
                else WorkflowAction.PUBLISHED
            )
        else:
            action = {
                ArticleStatus.IN_REVIEW: WorkflowAction.SUBMITTED,
                ArticleStatus.WITHDRAWN: WorkflowAction.WITHDRAWN,
                ArticleStatus.DRAFT: WorkflowAction.RETURNED,
            }[self.status]
        return WorkflowEvent.objects.create(
            article=self,
            action=action,
            from_status=from_status,
            to_status=self.status,
            user=user,
        )

    def move_to(self, status, user, *, publish_now=False):
        """Change the story's status, save it, and log who did it.

        Publishing keeps an earlier publication time (a story back from
        withdrawal keeps its date); `publish_now` brings a scheduled one forward.
        """
        from_status = self.status
        self.status = status
        self.last_edited_by = user
        now = timezone.now()
        if status == ArticleStatus.PUBLISHED and (
            not self.published_at or (publish_now and self.published_at > now)
        ):
            self.published_at = now
        self.save()
        return self.record_transition(from_status, user)

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
            queryset = getattr(self, name).all()
            queryset._result_cache = query(pk=self.pk)
            queryset._prefetch_done = True
            prefetched[name] = queryset
        self.__dict__["byline_authors"] = _story_authors(pk=self.pk)
        return self

    @cached_property
    def byline_authors(self):
        return [byline.author for byline in self.bylines.all()]

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
        from .body import render_body

        body_figures = [f for f in self.figures.all() if f.place == FigurePlace.BODY]
        return render_body(self.body, body_figures)

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
                if figure.pk == self.social_image_id and figure.image:
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
        links = list(self.related_links.all())
        if not links:
            return []
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
        resolved = []
        for link in links:
            if link.story_id in public:
                target = public[link.story_id].get_absolute_url()
            elif link.title.casefold() in matches:
                target = matches[link.title.casefold()].get_absolute_url()
            elif link.url:
                target = link.url
            else:
                continue
            resolved.append({"title": link.title, "url": target})
        return resolved


class Byline(models.Model):
    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="bylines"
    )
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author"], name="unique_byline")
        ]

    def __str__(self):
        return f"{self.author} on {self.article}"


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
        max_length=20, choices=CorrectionKind.choices, default=CorrectionKind.CORRECTION
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
        max_length=10, choices=FigurePlace.choices, default=FigurePlace.BODY
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
    image = images.PictureField(
        upload_to="figures/%Y/%m/",
        blank=True,
        width_field="image_width",
        height_field="image_height",
        help_text="JPEG, PNG or WebP. Location and camera data are removed; "
        "smaller sizes for phones are made when you save. A lead picture "
        "should be at least 1,200 px wide.",
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # Made once when the image is saved: [{"name", "width", "height", "format"}].
    renditions = models.JSONField(default=list, blank=True, editable=False)
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it. "
        "Required when there is an image.",
    )

    class Meta:
        ordering = ["place", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(image="") | ~Q(alt_text=""),
                name="figure_image_needs_alt_text",
            ),
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
        """Store a new upload cleaned, with its renditions; drop replaced files.

        Renditions are made here, once per upload: a save that does not bring
        a new image leaves the stored files alone.
        """
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "image" not in update_fields:
            return super().save(*args, **kwargs)
        storage = self.image.storage
        created = []
        if self.image and not self.image._committed:
            created = self._store_new_image()
            if update_fields is not None:
                kwargs["update_fields"] = {
                    *update_fields,
                    "image_width",
                    "image_height",
                    "renditions",
                }
        elif not self.image:
            self.renditions = []
        previous = self._previous_files()
        try:
            super().save(*args, **kwargs)
        except BaseException:
            images.delete_files(storage, created)
            raise
        gone = [name for name in previous if name not in self.stored_files()]
        if gone:
            transaction.on_commit(
                lambda: images.delete_files(storage, gone), using=kwargs.get("using")
            )
        self._remember_stored_files()

    def clean(self):
        if self.image and not self.alt_text.strip():
            raise ValidationError(
                {"alt_text": "Describe the picture for readers who cannot see it."}
            )

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._remember_stored_files()
        return instance

    def stored_files(self) -> list[str]:
        """The names of the stored original and of its renditions."""
        if not self.image:
            return []
        return [self.image.name, *(r["name"] for r in self.renditions)]

    @cached_property
    def picture(self):
        """URLs and sizes for the <picture> element (no storage access)."""
        if not self.image:
            return None
        return images.build_picture(
            self.image, self.renditions, self.image_width, self.image_height
        )

    def large_rendition(self) -> dict | None:
        """What search engines and social sites get: a rendition at least
        1,200 px wide in the original format, or the widest there is."""
        if not self.image:
            return None
        own = [r for r in self.renditions if r["format"] != "WEBP"]
        own = own or list(self.renditions)
        best = images.pick(own, images.HERO_WIDTH)
        if best is None:
            return {
                "url": self.image.url,
                "width": self.image_width,
                "height": self.image_height,
            }
        return {
            "url": self.image.storage.url(best["name"]),
            "width": best["width"],
            "height": best["height"],
        }

    def _store_new_image(self) -> list[str]:
        """Clean the upload, store it and its renditions; return the names."""
        field = self._meta.get_field("image")
        upload = self.image.file
        clean = images.clean_original(upload)
        stem = posixpath.splitext(posixpath.basename(self.image.name))[0]
        filename = f"{stem or 'picture'}.{images.EXTENSIONS[clean.format]}"
        storage = self.image.storage
        name = storage.save(
            field.generate_filename(self, filename),
            ContentFile(clean.content),
            max_length=field.max_length,
        )
        try:
            self.renditions = images.make_renditions(clean, name, storage)
        except BaseException:
            images.delete_files(storage, [name])
            raise
        stored = ImageFieldFile(self, field, name)
        # The size is known: spare the field from reading the file back.
        stored._dimensions_cache = (clean.width, clean.height)
        self.image = stored
        self.image_width, self.image_height = clean.width, clean.height
        return self.stored_files()

    def _remember_stored_files(self):
        deferred = {"image", "renditions"} & self.get_deferred_fields()
        self._stored = None if deferred else self.stored_files()

    def _previous_files(self) -> list[str]:
        if self._state.adding or self.pk is None:
            return []
        stored = getattr(self, "_stored", None)
        if stored is not None:
            return stored
        row = Figure.objects.filter(pk=self.pk).values("image", "renditions").first()
        if not row or not row["image"]:
            return []
        return [row["image"], *(r["name"] for r in row["renditions"])]


@receiver(post_delete, sender=Figure)
def _delete_figure_files(sender, instance, using, **kwargs):
    """A deleted figure's files go too, once the deletion is committed."""
    names = instance.stored_files()
    if names:
        storage = instance.image.storage
        transaction.on_commit(lambda: images.delete_files(storage, names), using=using)


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
    action = models.CharField(max_length=20, choices=WorkflowAction.choices)
    from_status = models.CharField(max_length=20, choices=ArticleStatus.choices)
    to_status = models.CharField(max_length=20, choices=ArticleStatus.choices)
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


class ConsentMethod(models.TextChoices):
    BANNER = "banner", "Banner"
    SETTINGS = "settings", "Cookie settings page"
    BANNER_NO_JS = "banner_nojs", "Banner (without JavaScript)"
    SETTINGS_NO_JS = "settings_nojs", "Cookie settings page (without JavaScript)"


class ConsentRecord(models.Model):
    """Proof of one consent decision. Holds no IP address or other identifier.

    `decisions` maps each optional cookie group to {"accepted": bool, "version":
    str}. Rows keep no link to the cookie groups, so deleting a group keeps the
    proof of what readers agreed to.
    """

    consent_id = models.UUIDField(db_index=True, editable=False)
    given_at = models.DateTimeField(default=timezone.now, editable=False)
    policy_revision = models.PositiveIntegerField(editable=False)
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    decisions = models.JSONField(default=dict)

    class Meta:
        ordering = ["-given_at", "-pk"]
        indexes = [models.Index(fields=["given_at"], name="consent_given_at_idx")]

    def __str__(self):
        return f"Consent {self.consent_id} at {self.given_at:%Y-%m-%d %H:%M}"

    @property
    def accepted_groups(self):
        return sorted(k for k, v in self.decisions.items() if v.get("accepted"))


class StoryDay(models.Model):
    """Reads of a story on one day: page views, and unique readers among those
    who accepted analytics cookies."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    readers = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["article", "day"], name="unique_story_day")
        ]

    def __str__(self):
        return f"{self.article} on {self.day}"


class StoryHour(models.Model):
    """Page views of a story in one hour (UTC), for "Most read" and the charts."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="hours")
    hour = models.DateTimeField()
    views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "hour"], name="unique_story_hour"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="story_hour_idx")]

    def __str__(self):
        return f"{self.article} at {self.hour:%Y-%m-%d %H}:00"


class StoryReader(models.Model):
    """A reader (by a hash of their analytics cookie) seen on a story that day."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reader = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "day", "reader"], name="unique_story_reader"
            )
        ]

    def __str__(self):
        return f"{self.reader[:8]} on {self.article_id}, {self.day}"


class CookieDeclaration(models.Model):
    """What readers are told about one cookie (django-cookie-consent's Cookie)."""

    cookie = models.OneToOneField(
        "cookie_consent.Cookie", on_delete=models.CASCADE, related_name="declaration"
    )
    provider = models.CharField(max_length=100, help_text="Who sets and reads it.")
    purpose = models.TextField(help_text="What it is for, in plain words.")
    lifetime = models.CharField(max_length=50, help_text="e.g. '6 months'.")
    third_party = models.BooleanField(
        "readable by a third party",
        help_text="Can a company other than Briefings read this cookie?",
    )

    class Meta:
        ordering = ["cookie__cookiegroup__ordering", "cookie__name"]

    def __str__(self):
        return f"About {self.cookie}"


# The newsletter's model lives with its logic; importing it registers it here.
from .newsletter import Subscriber, SubscriberStatus  # noqa: E402, F401


class SearchTerm(models.Model):
    """A normalised search term. Who searched is never stored."""

    term = models.CharField(max_length=100, unique=True)
    hidden = models.BooleanField(
        default=False,
        help_text="Hidden terms never appear in Search Trends, however often searched.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["term"]

    def __str__(self):
        return self.term


class SearchTermDay(models.Model):
    """How many searches for a term there were on one day."""

    term = models.ForeignKey(SearchTerm, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    searches = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["term", "day"], name="unique_search_term_day"
            )
        ]
        indexes = [models.Index(fields=["day"], name="search_term_day_idx")]

    def __str__(self):
        return f"{self.term} on {self.day}: {self.searches}"


def cards(stories):
    """`stories`, with what a story card shows: byline authors, hero figure.

    What `for_listing()` loads, in two prepared queries for the whole page and
    without prefetch_related's matching of rows to objects (about 1 ms less
    for a page of 20 cards). Returns the list.
    """
    ids = [story.pk for story in stories]
    authors = {pk: [] for pk in ids}
    for author in _card_authors(ids=ids):
        authors[author.story_id].append(author)
    heroes = {figure.article_id: figure for figure in _card_heroes(ids=ids)}
    for story in stories:
        story.__dict__["byline_authors"] = authors[story.pk]
        story.hero_figures = [heroes[story.pk]] if story.pk in heroes else []
    return stories


class StoryListing:
    """The published stories of a listing page, as Paginator takes them.

    `filters` narrow them (`tags=<tag id>`, `bylines__author=<author id>`).
    Counting and each page are prepared queries (see prepared.py), and a page
    comes back as story cards, with only the columns a card shows.
    """

    model = Article  # ListView names the page's list after it

    def __init__(self, **filters):
        self.filters = filters
        self.now = timezone.now()

    def count(self):
        return _listed_stories.count(now=self.now, **self.filters)

    def __getitem__(self, page):
        stories = _listed_stories.page(
            page.start, page.stop, now=self.now, **self.filters
        )
        return cards(stories)


# The reader pages' queries, compiled once per process (see prepared.py).

#: What a story card shows of the story itself.
CARD_FIELDS = ("headline", "slug", "standfirst", "published_at")


@prepared
def _listed_stories(now, **filters):
    return Article.objects.published(now).filter(**filters).only(*CARD_FIELDS)


@prepared
def _card_authors(ids):
    return (
        Author.objects.filter(bylines__article__in=ids)
        .annotate(story_id=models.F("bylines__article"))
        .order_by("bylines__position", "bylines__pk")
    )


@prepared
def tag_by_slug(slug):
    """[the tag at /tags/<slug>/], or []."""
    return Tag.objects.filter(slug=slug)


@prepared
def author_by_slug(slug):
    """[the author at /authors/<slug>/], or []."""
    return Author.objects.filter(slug=slug)


@prepared
def _card_heroes(ids):
    return Figure.objects.filter(article__in=ids, place=FigurePlace.HERO)


@prepared
def _published_story(slug, now):
    return Article.objects.published(now).filter(slug=slug)


def published_story(slug):
    """The published story at /stories/<slug>/, or None (one prepared query)."""
    stories = _published_story(slug=slug, now=timezone.now())
    return stories[0] if stories else None


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
