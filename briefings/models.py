"""The newsroom's content model: stories, their bylines, figures and related links.

`Article.objects.published()` is the one definition of "a reader may see this".
Every public page, and every later feed, sitemap and search, starts from it.
"""

import uuid

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Prefetch, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

PREVIEW_LINK_SALT = "briefings.preview-link"


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
        return reverse("briefings:author-detail", kwargs={"slug": self.slug})


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
    def published(self):
        """Stories with published status whose publication time has come."""
        return self.filter(
            status=ArticleStatus.PUBLISHED, published_at__lte=timezone.now()
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

    def as_cards(self):
        """The stories, as a list, with what a story card shows: byline, hero.

        What `for_listing()` loads, in two plain queries for the whole page and
        without prefetch_related's matching of rows to objects (about 1 ms less
        for a page of 20 cards).
        """
        stories = list(self)
        ids = [story.pk for story in stories]
        authors = {pk: [] for pk in ids}
        for byline in Byline.objects.filter(article__in=ids).select_related("author"):
            authors[byline.article_id].append(byline.author)
        heroes = {
            figure.article_id: figure
            for figure in Figure.objects.filter(article__in=ids, place=FigurePlace.HERO)
        }
        for story in stories:
            story.__dict__["byline_authors"] = authors[story.pk]
            story.hero_figures = [heroes[story.pk]] if story.pk in heroes else []
        return stories

    def for_detail(self):
        """Everything a story page shows, in a fixed number of queries."""
        return self.prefetch_related(
            Prefetch("bylines", Byline.objects.select_related("author")),
            "figures",
            "tags",
            "related_links",
        )


class Article(models.Model):
    headline = models.CharField(max_length=300)
    slug = models.SlugField(
        max_length=320,
        unique=True,
        help_text="The story's address: /stories/<slug>/. Keep it once published.",
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

    objects = ArticleQuerySet.as_manager()

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
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("briefings:article-detail", kwargs={"slug": self.slug})

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
        now = timezone.now()
        if status == ArticleStatus.PUBLISHED and (
            not self.published_at or (publish_now and self.published_at > now)
        ):
            self.published_at = now
        self.save()
        return self.record_transition(from_status, user)

    def with_detail(self):
        """Load everything the story page shows, one plain query per relation.

        For a single story this does what `for_detail()` does at a fraction of
        the cost (prefetch_related builds IN-list queries and matches rows back
        to their objects, about 0.6 ms of Python per relation). The lists fill
        the same prefetch cache, so `self.figures.all()`, `self.tags.all()` and
        the rest make no further query. Returns the story.
        """
        prefetched = self.__dict__.setdefault("_prefetched_objects_cache", {})
        for name, queryset in [
            ("bylines", self.bylines.select_related("author")),
            ("figures", self.figures.all()),
            ("tags", self.tags.all()),
            ("related_links", self.related_links.all()),
        ]:
            len(queryset)  # runs the query and keeps its rows
            prefetched[name] = queryset
        return self

    @cached_property
    def byline_authors(self):
        return [byline.author for byline in self.bylines.all()]

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
        both the linked stories and the headline matches.
        """
        links = list(self.related_links.all())
        if not links:
            return []
        story_ids = {link.story_id for link in links if link.story_id}
        titles = {link.title.casefold() for link in links}
        stories = (
            Article.objects.published()
            .annotate(headline_lower=Lower("headline"))
            .filter(
                Q(pk__in=story_ids) | (Q(headline_lower__in=titles) & ~Q(pk=self.pk))
            )
            .only("headline", "slug")
            .order_by("-published_at")
        )
        public, matches = {}, {}
        for story in stories:
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
    image = models.ImageField(upload_to="figures/%Y/%m/", blank=True)
    # Read when an image is saved (save()), so a page never opens the file to
    # size it. Not ImageField's width_field: that reads a missing file's size
    # again on every load of the row, and fails.
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
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
        if not self.image:
            self.image_width = self.image_height = None
        elif not self.image._committed or self.image_width is None:
            try:  # a new upload, or a size never read
                self.image_width, self.image_height = (
                    self.image.width,
                    self.image.height,
                )
            except (OSError, ValueError):  # missing or unreadable: no size
                self.image_width = self.image_height = None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "image" in update_fields:
            kwargs["update_fields"] = {*update_fields, "image_width", "image_height"}
        super().save(*args, **kwargs)

    def clean(self):
        if self.image and not self.alt_text.strip():
            raise ValidationError(
                {"alt_text": "Describe the picture for readers who cannot see it."}
            )


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

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["article", "-at"], name="workflow_article_idx")]

    def __str__(self):
        return f"{self.get_action_display()} by {self.user or 'someone'} at {self.at}"


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
