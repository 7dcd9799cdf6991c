"""The newsroom's admin: writing, reviewing, publishing, previews and history.

Writers create and edit drafts and submit them for review; Editors (the
`publish_article` permission) publish, schedule, withdraw, delete and share
preview links. Every rule is enforced on the server: in the form, in the
actions, and in the permission checks that guard direct POSTs.
"""

import csv
from datetime import timedelta

import reversion
from cookie_consent.admin import CookieAdmin
from cookie_consent.models import Cookie
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from reversion_compare.admin import CompareVersionAdmin
from taggit.models import Tag

from . import kept, prepublish, seo, tags
from .adminsite import PUBLISH_PERMISSION
from .models import (
    Article,
    ArticleStatus,
    Author,
    Byline,
    ConsentRecord,
    CookieDeclaration,
    Correction,
    Figure,
    PreviewLink,
    RelatedLink,
    SearchTerm,
    Subscriber,
    SubscriberStatus,
    TagAlias,
    TaggedArticle,
    TagRedirect,
    WorkflowEvent,
)
from .readership import bar_chart, hourly_views, most_read
from .search import TRENDS_DAYS, TRENDS_MIN_SEARCHES, forget_trends, trends_since

WRITER_STATUSES = (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW)
SHARE_LINK_LIFETIME = timedelta(hours=48)

# Revisions hold the story with its bylines, figures, related links and tags,
# so reverting brings all of them back together.
for model in (Byline, Figure, RelatedLink, TaggedArticle):
    if not reversion.is_registered(model):
        reversion.register(model)
if not reversion.is_registered(Article):
    reversion.register(
        Article,
        follow=["bylines", "figures", "related_links", "tagged_items"],
        exclude=["search_vector"],  # derived; rewritten on every save
    )


def can_publish(user):
    return user.has_perm(PUBLISH_PERMISSION)


# --- Inlines -----------------------------------------------------------------


class LabelledFormSet(BaseInlineFormSet):
    """Rows of a table whose inputs name themselves for screen readers.

    A tabular inline labels its columns once, in the header; each input gets
    an aria-label ("Position, row 2") so that it has an accessible name.
    """

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new row" if index is None else f"row {index + 1}"
        for name, field in form.fields.items():
            label = "Delete" if name == "DELETE" else (field.label or name)
            # The widget itself, inside the admin's related-object wrapper
            # (whose attrs may be shared with other rows: give each its own).
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs = {**widget.attrs, "aria-label": f"{label}, {row}"}


class OrderedFormSet(LabelledFormSet):
    """Rows kept in order with positions 0, 1, 2...: after a save the story's
    rows are renumbered by (position, then the order they were added), so two
    rows left at the same position (two new related links both at 0) keep
    the order the editor added them in, and gaps close. The drag-and-drop
    script (static/admin/inline_order.js) sets the positions as rows move."""

    def save(self, commit=True):
        saved = super().save(commit)
        if commit and self.instance.pk:
            renumber(self.model.objects.filter(article=self.instance))
        return saved


def renumber(rows):
    """Positions 0..n-1 in the rows' order; one UPDATE per row that moved."""
    for number, row in enumerate(rows.order_by("position", "pk")):
        if row.position != number:
            type(row).objects.filter(pk=row.pk).update(position=number)


class FigureFormSet(LabelledFormSet):
    """Each body figure needs its own position: `[figure N]` lines name it."""

    def clean(self):
        super().clean()
        seen = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or data.get("place") != "body":
                continue
            position = data.get("position")
            if position in seen:
                raise ValidationError(
                    f"Two body figures have position {position}: give each its own "
                    "number (a '[figure N]' line in the text places figure N)."
                )
            seen[position] = form


class BylineFormSet(OrderedFormSet):
    def clean(self):
        super().clean()
        if self.instance.status != ArticleStatus.PUBLISHED:
            return  # drafts may be saved incomplete
        authors = [
            form
            for form in self.forms
            if form.cleaned_data.get("author") and not form.cleaned_data.get("DELETE")
        ]
        if not authors:
            raise ValidationError(
                "A published story needs at least one author: add a byline."
            )


class BylineInline(admin.TabularInline):
    model = Byline
    formset = BylineFormSet
    extra = 0
    min_num = 0
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    verbose_name = "byline"
    verbose_name_plural = "Bylines (in the order readers see them)"


class FigureForm(forms.ModelForm):
    # A picture chosen before a form error comes back through this (kept.py).
    kept_image = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Figure
        fields = ["place", "position", "caption", "credit", "image", "alt_text"]
        widgets = {"caption": forms.Textarea(attrs={"rows": 2})}

    def clean(self):
        cleaned = super().clean()
        upload = self.files.get(self.add_prefix("image"))
        if upload is not None:
            if "image" not in self.errors:
                self._show_kept(kept.keep(upload), upload.name)
        elif cleaned.get("kept_image"):
            restored = kept.restore(cleaned["kept_image"])
            if restored is not None:
                cleaned["image"] = restored
                self._show_kept(cleaned["kept_image"], restored.name)
        return cleaned

    def _show_kept(self, token, name):
        """Should the story form come back with an error, keep the picture."""
        if not token:
            return
        self.data = self.data.copy()
        self.data[self.add_prefix("kept_image")] = token
        note = format_html(
            "<strong>Chosen: {}</strong>. It is kept if the story cannot be saved "
            "yet: no need to choose it again. {}",
            name,
            self.fields["image"].help_text,
        )
        self.fields["image"].help_text = note
        self["image"].help_text = note  # the bound field copied the old one


class FigureInline(admin.StackedInline):
    model = Figure
    form = FigureForm
    formset = FigureFormSet
    extra = 0
    fields = [
        ("place", "position"),
        "caption",
        "credit",
        ("image", "thumbnail"),
        "alt_text",
        "kept_image",
    ]
    readonly_fields = ["thumbnail"]

    @admin.display(description="Preview")
    def thumbnail(self, obj):
        if not obj.image:
            return "No image (the caption shows as a captioned note)."
        size = ""
        if obj.image_width and obj.image_height:
            size = f"{obj.image_width} × {obj.image_height} px"
        return format_html(
            '<img src="{}" alt="{}" width="160" class="figure-thumbnail">'
            '<br><span class="figure-size">{}</span>',
            obj.picture.src_thumb,
            obj.alt_text,
            size,
        )


class RelatedLinkInline(admin.TabularInline):
    model = RelatedLink
    formset = OrderedFormSet
    fk_name = "article"
    extra = 0
    fields = ["position", "title", "url", "story", "resolves_to"]
    readonly_fields = ["resolves_to"]
    autocomplete_fields = ["story"]

    @admin.display(description="Readers see")
    def resolves_to(self, obj):
        if not obj.pk:
            return "-"
        if obj.story_id and obj.story.is_public:
            target = obj.story
        else:
            target = (
                Article.objects.published()
                .filter(headline__iexact=obj.title)
                .exclude(pk=obj.article_id)
                .first()
            )
        if target is not None:
            return format_html(
                'Link to <a href="{}">{}</a>', target.get_absolute_url(), target
            )
        if obj.url:
            return format_html('Link to <a href="{}">{}</a>', obj.url, obj.url)
        return "Nothing yet: waiting for a published story with this headline."


class CorrectionInline(admin.TabularInline):
    """Corrections and clarifications readers see under the story."""

    model = Correction
    formset = LabelledFormSet
    extra = 0
    can_delete = False  # a correction is the record of a mistake: it stays
    fields = ["kind", "made_at", "text"]
    verbose_name_plural = (
        "Corrections and clarifications (shown on the story and on /corrections/; "
        "saving one sets the story's 'Updated' time)"
    )


class PreviewLinkForm(forms.ModelForm):
    revoke = forms.BooleanField(
        required=False, help_text="Stop this link from working, now."
    )

    class Meta:
        model = PreviewLink
        fields = ["note", "expires_at"]

    def save(self, commit=True):
        if self.cleaned_data.get("revoke") and not self.instance.revoked_at:
            self.instance.revoked_at = timezone.now()
        return super().save(commit)


class PreviewLinkInline(admin.TabularInline):
    """Share links; shown only to users allowed to manage them (Editors)."""

    model = PreviewLink
    form = PreviewLinkForm
    formset = LabelledFormSet
    extra = 0
    can_delete = False
    fields = ["note", "expires_at", "share_url", "state", "revoke"]
    readonly_fields = ["share_url", "state"]
    verbose_name = "share link"
    verbose_name_plural = "Share links (preview for people without an account)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["expires_at"].initial = lambda: (
            timezone.now() + SHARE_LINK_LIFETIME
        )
        return formset

    @admin.display(description="Link")
    def share_url(self, obj):
        if not obj.pk:
            return "Save to create the link."
        return format_html('<a href="{0}">{0}</a>', obj.get_absolute_url())

    @admin.display(description="State")
    def state(self, obj):
        if obj.revoked_at:
            return "Revoked"
        if obj.expires_at and obj.expires_at <= timezone.now():
            return "Expired"
        return "Active" if obj.pk else "-"


# --- The story form ------------------------------------------------------------


class ScheduleWidget(forms.DateTimeInput):
    """A date-time picker in the site's time zone, with its own Schedule button."""

    input_type = "datetime-local"

    def __init__(self, attrs=None, format=None):
        super().__init__(attrs, format=format or "%Y-%m-%dT%H:%M")

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '<span class="schedule-picker">{} <span class="schedule-zone">{}</span> '
            '<button type="submit" name="_schedule" value="1" class="button">'
            "Schedule</button></span>",
            super().render(name, value, attrs, renderer),
            timezone.get_current_timezone_name(),
        )


class ArticleAdminForm(forms.ModelForm):
    # The story's version when the form was opened (optimistic locking).
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    substantive_update = forms.BooleanField(
        required=False,
        label="Substantive update",
        help_text="Tick to show readers a new 'Updated' time. Leave it for typo fixes.",
    )
    suggested_tags = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Suggested tags",
        help_text="Existing tags whose names appear in the headline, standfirst or "
        "text. Tick the ones to add.",
    )

    schedule_at = forms.DateTimeField(
        required=False,
        label="Schedule for",
        widget=ScheduleWidget,
        help_text="Pick a date and time, then press Schedule: the story goes "
        "live then by itself.",
    )

    class Meta:
        model = Article
        fields = [
            "headline",
            "slug",
            "standfirst",
            "dateline",
            "body",
            "tags",
            "status",
            "published_at",
            "updated_at",
        ]
        widgets = {"standfirst": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["loaded_version"].initial = self.instance.version
        story = self.instance
        current = {tag.name for tag in story.tags.all()} if story.pk else set()
        found = tags.suggest(
            " ".join([story.headline, story.standfirst, story.body]), exclude=current
        )
        self.fields["suggested_tags"].choices = [(tag.name, tag.name) for tag in found]
        if not found:
            self.fields[
                "suggested_tags"
            ].help_text = "None: no existing tag's name appears in the story."
        if user is not None and not can_publish(user) and "status" in self.fields:
            self.fields["status"].choices = [
                (value, label)
                for value, label in ArticleStatus.choices
                if value in WRITER_STATUSES
            ]
        self._promotion_defaults()
        self._show_address()

    def _show_address(self):
        """The slug's help text names the story's real address."""
        if "slug" not in self.fields:
            return
        slug = self.instance.slug
        self.fields["slug"].help_text = format_html(
            "The story's address: <strong>{}</strong>. {}",
            seo.absolute(f"/stories/{slug or 'words-of-the-headline'}/"),
            "If you change it after publication, the old address keeps working "
            "(it redirects here)."
            if slug
            else "Filled in from the headline; shorten it if you like.",
        )

    def _promotion_defaults(self):
        """Promotion fields show their defaults; the social image is one of
        this story's pictures."""
        story = self.instance
        if "social_image" in self.fields:
            self.fields["social_image"].queryset = Figure.objects.filter(
                article=story.pk or 0
            ).exclude(image="")
        placeholders = {
            "seo_title": story.headline or "The headline",
            "meta_description": story.promo_description or "The standfirst",
        }
        for name, text in placeholders.items():
            if name in self.fields:
                self.fields[name].widget.attrs["placeholder"] = text

    def clean_tags(self):
        # Aliases and other spellings of existing tags become those tags.
        return tags.canonical_names(self.cleaned_data.get("tags") or [])

    def clean(self):
        cleaned = super().clean()
        self._apply_schedule(cleaned)
        if cleaned.get("suggested_tags") and "tags" in cleaned:
            cleaned["tags"] = tags.canonical_names(
                [*cleaned["tags"], *cleaned["suggested_tags"]]
            )
        self._check_not_stale(cleaned.get("loaded_version"))
        status = cleaned.get("status")
        if self.user is not None and not can_publish(self.user):
            if status not in WRITER_STATUSES:
                raise PermissionDenied("Only editors publish or withdraw stories.")
        if status == ArticleStatus.PUBLISHED:
            for field, message in [
                ("headline", "A published story needs a headline."),
                ("body", "Add the story's text before publishing."),
            ]:
                if not (cleaned.get(field) or "").strip():
                    self.add_error(field, message)
            if not cleaned.get("published_at"):
                cleaned["published_at"] = timezone.now()
        return cleaned

    def _apply_schedule(self, cleaned):
        """The Schedule button: publish at the chosen time, which must be ahead."""
        if "_schedule" not in self.data or "schedule_at" not in self.fields:
            return
        when = cleaned.get("schedule_at")
        if when is None or when <= timezone.now():
            self.add_error(
                "schedule_at",
                "Choose a date and time in the future to schedule the story.",
            )
            return
        cleaned["status"] = ArticleStatus.PUBLISHED
        cleaned["published_at"] = when

    def _check_not_stale(self, version):
        if self.instance.pk is None or version is None:
            return
        current = (
            Article.objects.filter(pk=self.instance.pk)
            .values_list("version", flat=True)
            .first()
        )
        if current is not None and current != version:
            raise ValidationError(
                "Someone else saved this story after you opened it, so your "
                "changes were not saved (theirs are kept). Open the story again "
                "to see their version, then make your changes again.",
                code="stale",
            )


# --- List filters ------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", "Draft"),
            ("in_review", "In review"),
            ("scheduled", "Scheduled"),
            ("live", "Published (live)"),
            ("withdrawn", "Withdrawn"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        published = Q(status=ArticleStatus.PUBLISHED)
        match self.value():
            case "scheduled":
                return queryset.filter(published, published_at__gt=now)
            case "live":
                return queryset.filter(published, published_at__lte=now)
            case "draft" | "in_review" | "withdrawn" as value:
                return queryset.filter(status=value)
        return queryset


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return [(tag.slug, tag.name) for tag in Tag.objects.order_by("name")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tags__slug=self.value())
        return queryset


# --- The story admin ---------------------------------------------------------


@admin.register(Article)
class ArticleAdmin(CompareVersionAdmin):
    form = ArticleAdminForm
    change_list_template = "admin/briefings/article/change_list.html"
    list_display = [
        "headline",
        "status_badge",
        "author_names",
        "published_at",
        "updated_at",
        "tag_names",
        "last_edited",
    ]
    list_filter = [
        StatusFilter,
        ("bylines__author", admin.RelatedOnlyFieldListFilter),
        TagFilter,
        "published_at",
    ]
    search_fields = [
        "headline",
        "standfirst",
        "body",
        "figures__caption",
        "bylines__author__name",
    ]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["headline"]}
    inlines = [
        BylineInline,
        FigureInline,
        RelatedLinkInline,
        CorrectionInline,
        PreviewLinkInline,
    ]
    readonly_fields = [
        "source_name",
        "imported_at",
        "created_at",
        "edited_at",
        "workflow_history",
        "reads",
        "checklist",
        "past_addresses",
    ]
    actions = ["submit_for_review", "publish_now", "withdraw"]
    list_per_page = 50

    class Media:
        css = {"all": ["admin/briefings.css"]}

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "headline",
                    "slug",
                    "standfirst",
                    "dateline",
                    "body",
                    "tags",
                    "suggested_tags",
                    "past_addresses",
                ]
            },
        ),
        (
            "Publishing",
            {
                "fields": [
                    "checklist",
                    "status",
                    "schedule_at",
                    "published_at",
                    "updated_at",
                    "substantive_update",
                    "loaded_version",
                ],
                "description": "Writers save drafts and submit them for review; "
                "editors publish. A publication time in the future schedules "
                "the story: it goes live at that time by itself.",
            },
        ),
        (
            "Promotion",
            {
                "classes": ["collapse"],
                "fields": ["seo_title", "meta_description", "social_image"],
                "description": "What search engines and social sites show. "
                "Empty fields use the headline, the standfirst and the hero.",
            },
        ),
        ("Readers", {"fields": ["reads"]}),
        (
            "Record",
            {
                "classes": ["collapse"],
                "fields": [
                    "workflow_history",
                    "source_name",
                    "imported_at",
                    "created_at",
                    "edited_at",
                ],
            },
        ),
    ]

    # -- queries ------------------------------------------------------------

    def get_queryset(self, request):
        # last_edited_by is prefetched, not joined: the workflow actions lock
        # the chosen rows (FOR UPDATE), which no outer join may come with.
        return (
            super()
            .get_queryset(request)
            .prefetch_related("bylines__author", "tags", "last_edited_by")
        )

    # -- permissions ----------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        if obj is None or can_publish(request.user):
            return True
        # Writers edit drafts and stories in review, not live ones.
        return obj.status in WRITER_STATUSES

    def compare_view(self, request, object_id, extra_context=None):
        # django-reversion-compare checks no permission of its own: without this,
        # any staff member could read every version of every story.
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    def has_publish_permission(self, request):
        return can_publish(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not can_publish(request.user):
            fields += ["published_at", "updated_at"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if can_publish(request.user):
            return fieldsets
        # Writers do not set the "Updated" time either.
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        f
                        for f in options["fields"]
                        if f not in ("substantive_update", "schedule_at")
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return RequestForm

    # -- saving ---------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("substantive_update"):
            obj.updated_at = timezone.now()
        previous = (
            Article.objects.filter(pk=obj.pk).values_list("status", flat=True).first()
            if change
            else ArticleStatus.DRAFT
        )
        if obj.status == ArticleStatus.PUBLISHED and not obj.published_at:
            obj.published_at = timezone.now()
        if not change:
            obj.created_by = request.user  # the desk's "My drafts"
        obj.last_edited_by = request.user
        super().save_model(request, obj, form, change)
        obj.record_transition(previous, request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        self._warn_if_published(request, form.instance)

    def _warn_if_published(self, request, article):
        if article.status != ArticleStatus.PUBLISHED:
            return
        found = prepublish.warnings(article)
        if found:
            self.message_user(
                request,
                format_html(
                    "“{}” is {} with {} warning(s): {}",
                    article.headline,
                    "scheduled" if article.is_scheduled else "published",
                    len(found),
                    " ".join(found),
                ),
                messages.WARNING,
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is PreviewLink:
            for link in formset.save(commit=False):
                link.created_by = link.created_by or request.user
                link.save()
            return
        super().save_formset(request, form, formset, change)

    # -- actions --------------------------------------------------------------

    def _move(self, request, queryset, status, verb, **kwargs):
        moved = 0
        with transaction.atomic():
            for article in queryset.select_for_update():
                if article.status == status and not kwargs.get("publish_now"):
                    continue
                article.move_to(status, request.user, **kwargs)
                moved += 1
        self.message_user(
            request,
            f"{moved} stor{'y' if moved == 1 else 'ies'} {verb}.",
            messages.SUCCESS,
        )

    @admin.action(description="Submit for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
        if (
            not can_publish(request.user)
            and queryset.exclude(status__in=WRITER_STATUSES).exists()
        ):
            raise PermissionDenied
        self._move(request, queryset, ArticleStatus.IN_REVIEW, "submitted for review")

    @admin.action(description="Publish now", permissions=["publish"])
    def publish_now(self, request, queryset):
        problems = [
            article.headline
            for article in queryset.prefetch_related("bylines")
            if not article.body.strip() or not article.bylines.all()
        ]
        if problems:
            self.message_user(
                request,
                "Nothing was published: these stories need text and at least one "
                "author first: " + "; ".join(problems),
                messages.ERROR,
            )
            return
        self._move(
            request, queryset, ArticleStatus.PUBLISHED, "published", publish_now=True
        )
        for article in queryset.prefetch_related("figures", "related_links"):
            self._warn_if_published(request, article)

    @admin.action(description="Withdraw", permissions=["publish"])
    def withdraw(self, request, queryset):
        self._move(request, queryset, ArticleStatus.WITHDRAWN, "withdrawn")

    # -- columns --------------------------------------------------------------

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        kind = "scheduled" if obj.is_scheduled else obj.status
        return format_html(
            '<span class="badge badge--{}">{}</span>', kind, obj.display_status
        )

    @admin.display(description="Authors")
    def author_names(self, obj):
        return ", ".join(author.name for author in obj.byline_authors)

    @admin.display(description="Last edited", ordering="-edited_at")
    def last_edited(self, obj):
        when = timezone.localtime(obj.edited_at).strftime("%H:%M, %d %b")
        if obj.last_edited_by is None:
            return when
        return f"{when} by {obj.last_edited_by.get_full_name() or obj.last_edited_by}"

    @admin.display(description="Tags")
    def tag_names(self, obj):
        return ", ".join(tag.name for tag in obj.tags.all())

    @admin.display(description="Readers")
    def reads(self, obj):
        if not obj.pk:
            return "-"
        since = timezone.localdate() - timedelta(days=6)
        totals = obj.days.filter(day__gte=since).aggregate(
            views=Sum("views"), readers=Sum("readers")
        )
        return render_to_string(
            "admin/briefings/includes/hourly_chart.html",
            {
                "chart": bar_chart(hourly_views(obj)),
                "label": "Page views per hour, last 48 hours",
                "week_views": totals["views"] or 0,
                "week_readers": totals["readers"] or 0,
            },
        )

    @admin.display(description="Before publishing")
    def checklist(self, obj):
        if not obj.pk:
            return "Save the story to see the checklist."
        found = prepublish.warnings(obj)
        if not found:
            return "Nothing to check: headline, standfirst, images and links look fine."
        return format_html(
            '<ul class="checklist">{}</ul><p class="help">Warnings do not stop '
            "publishing.</p>",
            format_html_join("", "<li>{}</li>", ((warning,) for warning in found)),
        )

    @admin.display(description="Earlier addresses")
    def past_addresses(self, obj):
        old = (
            list(obj.slug_redirects.values_list("old_slug", flat=True))
            if obj.pk
            else []
        )
        if not old:
            return "None."
        return format_html(
            "{} <span class='help'>(they redirect to the current address)</span>",
            ", ".join(f"/stories/{slug}/" for slug in old),
        )

    @admin.display(description="Status changes")
    def workflow_history(self, obj):
        events = obj.workflow_events.select_related("user")[:20] if obj.pk else []
        if not events:
            return "None yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} by {} on {}</li>",
                (
                    (
                        event.get_action_display(),
                        event.user or "someone",
                        timezone.localtime(event.at).strftime("%H:%M, %d-%b-%Y"),
                    )
                    for event in events
                ),
            ),
        )

    # -- extra pages ------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="briefings_article_dashboard",
            ),
            path(
                "scheduled/",
                self.admin_site.admin_view(self.scheduled_view),
                name="briefings_article_scheduled",
            ),
            *super().get_urls(),
        ]

    def scheduled_view(self, request):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        upcoming = (
            Article.objects.filter(
                status=ArticleStatus.PUBLISHED, published_at__gt=timezone.now()
            )
            .order_by("published_at")
            .prefetch_related("bylines__author")
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Scheduled stories",
            "opts": self.model._meta,
            "upcoming": upcoming,
            "time_zone": timezone.get_current_timezone_name(),
        }
        return render(request, "admin/briefings/article/scheduled.html", context)

    def dashboard_view(self, request):
        """Readership at a glance: the site's hourly views and the top stories."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Newsroom dashboard",
            "opts": self.model._meta,
            "chart": bar_chart(hourly_views()),
            "top_stories": most_read(limit=10),
            "search_terms": self._recent_search_terms(),
            "trends_min": TRENDS_MIN_SEARCHES,
            "trends_days": TRENDS_DAYS,
        }
        return render(request, "admin/briefings/article/dashboard.html", context)

    @staticmethod
    def _recent_search_terms(limit=15):
        """The most searched terms of the Search Trends window, hidden ones too."""
        return (
            SearchTerm.objects.filter(days__day__gte=trends_since())
            .annotate(total=Sum("days__searches"))
            .order_by("-total", "term")[:limit]
        )

    def view_on_site(self, obj):
        return reverse("briefings:article-preview", kwargs={"pk": obj.pk})

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "scheduled_url": reverse("admin:briefings_article_scheduled"),
            "dashboard_url": reverse("admin:briefings_article_dashboard"),
        }
        return super().changelist_view(request, extra_context)


class AuthorAdminForm(forms.ModelForm):
    """The slug fills itself in from the name (in the browser as you type, and
    on the server when it is left empty, with or without JavaScript)."""

    class Meta:
        model = Author
        fields = ["name", "slug", "bio"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = format_html(
            "The author page's address: <strong>{}</strong>. Filled in from the "
            "name when left empty.",
            seo.absolute(f"/authors/{self.instance.slug or 'name-of-the-author'}/"),
        )

    def clean_slug(self):
        slug = self.cleaned_data.get("slug") or slugify(
            self.cleaned_data.get("name", "")
        )
        if not slug:
            raise ValidationError("Give the author a name made of letters or digits.")
        taken = Author.objects.exclude(pk=self.instance.pk)
        if self.cleaned_data.get("slug"):
            return slug  # the editor's own choice: uniqueness is checked as usual
        base, n = slug, 2
        while taken.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    form = AuthorAdminForm
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    """What readers search for. Hide a term to keep it out of Search Trends."""

    list_display = ["term", "recent_searches", "all_searches", "hidden"]
    list_editable = ["hidden"]
    list_filter = ["hidden"]
    search_fields = ["term"]
    fields = ["term", "hidden", "recent_searches", "all_searches", "created_at"]
    readonly_fields = ["term", "recent_searches", "all_searches", "created_at"]
    actions = ["hide", "show"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                recent=Sum("days__searches", filter=Q(days__day__gte=trends_since())),
                total=Sum("days__searches"),
            )
        )

    def has_add_permission(self, request):
        return False  # terms come from readers' searches

    @admin.display(description=f"Searches, last {TRENDS_DAYS} days", ordering="-recent")
    def recent_searches(self, obj):
        recent = obj.recent or 0
        if recent < TRENDS_MIN_SEARCHES:
            return f"{recent} (too few to show)"
        return recent

    @admin.display(description="Searches, all time", ordering="-total")
    def all_searches(self, obj):
        return obj.total or 0

    @admin.action(description="Hide from Search Trends", permissions=["change"])
    def hide(self, request, queryset):
        self._set_hidden(queryset, True)

    @admin.action(description="Show in Search Trends", permissions=["change"])
    def show(self, request, queryset):
        self._set_hidden(queryset, False)

    @staticmethod
    def _set_hidden(queryset, hidden):
        """One UPDATE, then the trends box (and the pages showing it) once."""
        chosen = list(queryset.values_list("pk", flat=True))
        SearchTerm.objects.filter(pk__in=chosen).update(hidden=hidden)
        forget_trends()


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = ["at", "article", "action", "user"]
    list_filter = ["action"]
    list_select_related = ["article", "user"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PreviewLink)
class PreviewLinkAdmin(admin.ModelAdmin):
    list_display = ["article", "note", "created_by", "expires_at", "revoked_at"]
    list_select_related = ["article", "created_by"]
    actions = ["revoke"]
    fields = ["article", "note", "expires_at", "revoked_at"]
    readonly_fields = ["revoked_at"]
    autocomplete_fields = ["article"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Revoke the selected links", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        self.message_user(request, f"{count} link(s) revoked.", messages.SUCCESS)


# --- Cookie consent -------------------------------------------------------------


def csv_safe(value) -> str:
    """A cell no spreadsheet will run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


class CookieDeclarationInline(admin.StackedInline):
    model = CookieDeclaration
    can_delete = False
    min_num = 1
    max_num = 1


admin.site.unregister(Cookie)


@admin.register(Cookie)
class DeclaredCookieAdmin(CookieAdmin):
    """The package's cookie admin, plus what readers are told about each cookie."""

    inlines = [CookieDeclarationInline]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Proof of consent: read-only, exportable, never edited by hand."""

    list_display = ["given_at", "consent_id", "method", "policy_revision", "accepted"]
    list_filter = ["method", "policy_revision", "given_at"]
    date_hierarchy = "given_at"
    search_fields = ["consent_id__exact"]
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # `manage.py prune_consent` deletes by the retention rule

    @admin.display(description="Accepted groups")
    def accepted(self, obj):
        return ", ".join(obj.accepted_groups) or "none"

    @admin.action(
        description="Export the selected records as CSV", permissions=["view"]
    )
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="consent-records.csv"'
        writer = csv.writer(response)
        groups = sorted({g for r in queryset for g in r.decisions})
        writer.writerow(
            ["consent_id", "given_at", "method", "policy_revision"]
            + [f"{g} accepted" for g in groups]
            + [f"{g} version" for g in groups]
        )
        for record in queryset.order_by("given_at"):
            decisions = record.decisions
            writer.writerow(
                [
                    csv_safe(record.consent_id),
                    csv_safe(record.given_at.isoformat()),
                    csv_safe(record.method),
                    csv_safe(record.policy_revision),
                ]
                + [csv_safe(decisions.get(g, {}).get("accepted")) for g in groups]
                + [csv_safe(decisions.get(g, {}).get("version")) for g in groups]
            )
        return response


# --- Tags: usage, aliases, merging, pruning ------------------------------------


class TagAliasInline(admin.TabularInline):
    model = TagAlias
    extra = 1
    fields = ["name"]
    verbose_name_plural = (
        "Aliases (other spellings: typed in a story, they become this tag)"
    )


class TagRedirectInline(admin.TabularInline):
    model = TagRedirect
    extra = 0
    fields = ["old_slug"]
    readonly_fields = ["old_slug"]
    can_delete = False
    verbose_name_plural = "Old addresses (merged tags; they redirect here)"

    def has_add_permission(self, request, obj=None):
        return False


class MergeTagsForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Tag.objects.order_by("name"),
        label="Merge into",
        help_text="The tag that stays. The others are deleted; their stories get "
        "this tag, their names become its aliases and their pages redirect here.",
    )


if admin.site.is_registered(Tag):
    admin.site.unregister(Tag)


@admin.register(Tag)
class BriefingsTagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "live_stories", "stories", "alias_names"]
    search_fields = ["name", "aliases__name"]
    ordering = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TagAliasInline, TagRedirectInline]
    actions = ["merge_tags", "delete_unused"]

    def get_queryset(self, request):
        return tags.with_usage().prefetch_related("aliases")

    @admin.display(description="Published stories", ordering="live_stories")
    def live_stories(self, obj):
        return obj.live_stories

    @admin.display(description="All stories", ordering="stories")
    def stories(self, obj):
        return obj.stories

    @admin.display(description="Aliases")
    def alias_names(self, obj):
        return ", ".join(alias.name for alias in obj.aliases.all())

    @admin.action(description="Merge selected tags into one…", permissions=["delete"])
    def merge_tags(self, request, queryset):
        chosen = list(queryset.order_by("name"))
        if "apply" in request.POST:
            form = MergeTagsForm(request.POST)
            if form.is_valid():
                target = form.cleaned_data["target"]
                retagged = tags.merge(chosen, target)
                self.message_user(
                    request,
                    f"Merged {len([t for t in chosen if t.pk != target.pk])} tag(s) "
                    f"into “{target}”; {retagged} stories retagged.",
                    messages.SUCCESS,
                )
                return None
        else:
            form = MergeTagsForm(initial={"target": chosen[0].pk if chosen else None})
            form.fields["target"].queryset = queryset.order_by("name")
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge tags",
            "opts": self.model._meta,
            "tags": chosen,
            "form": form,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return render(request, "admin/taggit/tag/merge.html", context)

    @admin.action(description="Delete tags no story uses", permissions=["delete"])
    def delete_unused(self, request, queryset):
        unused = queryset.filter(pk__in=tags.unused().values("pk"))
        names = sorted(tag.name for tag in unused)
        count, _ = unused.delete()
        skipped = queryset.count()
        self.message_user(
            request,
            f"Deleted {len(names)} unused tag(s)"
            + (f": {', '.join(names)}" if names else "")
            + (f". {skipped} tag(s) in use were kept." if skipped else "."),
            messages.SUCCESS,
        )


# --- Storyboard newsletter -----------------------------------------------------


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    """Subscribers join only by double opt-in; the admin reads and exports them.

    Editors may view and export. Deleting a subscriber (a request to be
    forgotten) needs the delete permission, which no group has by default.
    """

    list_display = ["email", "status", "created", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "created", "confirmed_at", "consent_version"]
    search_fields = ["email"]
    date_hierarchy = "created"
    readonly_fields = [
        "email",
        "status",
        "created",
        "confirmed_at",
        "unsubscribed_at",
        "consent_version",
        "consent_text",
        "consented_at",
        "last_sent_at",
    ]
    actions = ["export_confirmed_csv", "unsubscribe"]

    def has_add_permission(self, request):
        return False  # only the reader can subscribe, by confirming their address

    @admin.action(
        description="Export the confirmed subscribers among the selected as CSV",
        permissions=["view"],
    )
    def export_confirmed_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            'attachment; filename="storyboard-subscribers.csv"'
        )
        writer = csv.writer(response)
        writer.writerow(
            ["email", "confirmed_at", "consent_version", "consented_at", "consent_text"]
        )
        for subscriber in queryset.confirmed().order_by("confirmed_at", "pk"):
            writer.writerow(
                [
                    csv_safe(subscriber.email),
                    csv_safe(subscriber.confirmed_at.isoformat()),
                    csv_safe(subscriber.consent_version),
                    csv_safe(subscriber.consented_at.isoformat()),
                    csv_safe(subscriber.consent_text),
                ]
            )
        return response

    @admin.action(description="Unsubscribe the selected", permissions=["change"])
    def unsubscribe(self, request, queryset):
        count = queryset.exclude(status=SubscriberStatus.UNSUBSCRIBED).update(
            status=SubscriberStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now()
        )
        self.message_user(request, f"{count} subscriber(s) unsubscribed.")
