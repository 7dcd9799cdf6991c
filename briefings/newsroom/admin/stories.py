"""The newsroom's admin: writing, reviewing, publishing, previews and history.

Writers create and edit drafts and submit them for review; Editors (the
`publish_article` permission) publish, schedule, withdraw, delete drafts and
share preview links. The workflow rule lives in the model (Article.save_by,
move_to, editable_by, deletable_by; Author.save_by): every page here, the
form, the actions, the inlines and reversion's revert and recover, asks it.
"""

import dataclasses
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Sum
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import slugify
from reversion.models import Version
from reversion_compare.admin import CompareVersionAdmin
from taggit.models import Tag

from briefings.analytics.readership import bar_chart, hourly_views, most_read
from briefings.core import seo
from briefings.newsroom import kept, prepublish
from briefings.newsroom.admin.common import (
    AutocompleteChoice,
    CappedPaginator,
    ChoosesByAutocomplete,
    FieldErrors,
)
from briefings.newsroom.library import ImageChooserWidget
from briefings.newsroom.models import PreviewLink
from briefings.search.engine import (
    TRENDS_DAYS,
    clean_query,
    custom_plans,
    search_query,
    trending_terms,
    trends_since,
)
from briefings.search.models import SearchTerm
from briefings.stories import images, tags
from briefings.stories.models import (
    AS_STORED,
    OPEN_STATUSES,
    PUBLISHED_NOT_DELETED,
    Article,
    ArticleStatus,
    Author,
    Byline,
    Correction,
    Figure,
    RelatedLink,
    TaggedArticle,
    WorkflowEvent,
    may_publish,
)

WRITER_STATUSES = (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW)


SHARE_LINK_LIFETIME = timedelta(hours=48)

# Workflow rights are the model's (Article.check_change, save_by, move_to,
# editable_by, deletable_by; Author.editable_by, save_by): the admin asks them.


def restores_only(revision, story_pk) -> bool:
    """Whether `revision` holds only the story `story_pk` and its own rows.

    Reverting a revision writes every row in it: one holding another story, or
    another story's bylines, must never be restored through this story's page.
    """
    owner_field = {
        Byline: "article_id",
        Figure: "article_id",
        RelatedLink: "article_id",
        TaggedArticle: "content_object_id",
    }
    for version in revision.version_set.all():
        model = version._model
        if model is Article:
            if version.object_id != str(story_pk):
                return False
        elif model in owner_field:
            if version.field_dict.get(owner_field[model]) != story_pk:
                return False
        else:
            return False
    return True


class StoryPartInline(ChoosesByAutocomplete):
    """Rows of a story (bylines, figures, links, corrections) are changed by
    whoever may change the story itself, and by no one else."""

    def _story_allows(self, request, obj):
        return obj is None or obj.editable_by(request.user)

    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and self._story_allows(
            request, obj
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._story_allows(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._story_allows(
            request, obj
        )


# --- Inlines -----------------------------------------------------------------


class LabelledFormSet(BaseInlineFormSet):
    """Rows of a table whose inputs name themselves for screen readers.

    A tabular inline labels its columns once, in the header; each input gets
    an aria-label ("Position, row 2") so that it has an accessible name.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("error_class", FieldErrors)
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        # The empty row too (Django gives it no error_class of the formset's).
        return {**super().get_form_kwargs(index), "error_class": self.error_class}

    def add_fields(self, form, index):
        super().add_fields(form, index)
        row = "new row" if index is None else f"row {index + 1}"
        for name, field in form.fields.items():
            label = "Delete" if name == "DELETE" else (field.label or name)
            # The widget itself, inside the admin's related-object wrapper
            # (whose attrs may be shared with other rows: give each its own).
            widget = getattr(field.widget, "widget", field.widget)
            widget.attrs = {**widget.attrs, "aria-label": f"{label}, {row}"}

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # Each row's story is the one being edited: give it to the row, so that
        # the row's name and read-only cells do not fetch it again.
        if self.instance.pk is not None:
            self.fk.set_cached_value(form.instance, self.instance)
        # Autocomplete boxes show the row's own author or story, when it came
        # with the row (select_related), without looking it up again.
        for name, field in form.fields.items():
            widget = getattr(field.widget, "widget", field.widget)
            if isinstance(widget, AutocompleteChoice):
                related = form.instance._meta.get_field(name)
                if related.is_cached(form.instance):
                    row = related.get_cached_value(form.instance)
                    widget.known = {} if row is None else {str(row.pk): row}
        return form


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


class BylineInline(StoryPartInline, admin.TabularInline):
    model = Byline
    formset = BylineFormSet
    extra = 0
    min_num = 0
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    verbose_name = "byline"
    verbose_name_plural = "Bylines (in the order readers see them)"

    def get_queryset(self, request):
        # Each row is named after its author ("Ann Lee on <story>").
        return super().get_queryset(request).select_related("author")


class FigureForm(forms.ModelForm):
    # A new picture: saving the story puts it into the image library
    # (Figure.save), from where other stories can use it too.
    upload = images.PictureFormField(
        label="Or upload a new picture",
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text="JPEG, PNG or WebP. It goes into the image library with this "
        "alt text, credit and caption, so any story can use it again. Location "
        "and camera data are removed; smaller sizes are made when you save. A "
        "lead picture should be at least 1,200 px wide.",
    )
    # A picture chosen before a form error comes back through this (kept.py).
    kept_image = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Figure
        fields = [
            "place",
            "position",
            "library_image",
            "caption",
            "credit",
            "alt_text",
        ]
        widgets = {
            "caption": forms.Textarea(attrs={"rows": 2}),
            "library_image": ImageChooserWidget,
        }

    def clean(self):
        cleaned = super().clean()
        upload = self.files.get(self.add_prefix("upload"))
        if upload is not None:
            if "upload" not in self.errors:
                self._show_kept(kept.keep(upload), upload.name)
        elif cleaned.get("kept_image"):
            restored = kept.restore(cleaned["kept_image"])
            if restored is not None:
                cleaned["upload"] = restored
                self._show_kept(cleaned["kept_image"], restored.name)
        # The model's rules (alt text, not both) see the new picture.
        self.instance.upload = cleaned.get("upload")
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
            self.fields["upload"].help_text,
        )
        self.fields["upload"].help_text = note
        self["upload"].help_text = note  # the bound field copied the old one


class FigureInline(StoryPartInline, admin.StackedInline):
    model = Figure
    form = FigureForm
    formset = FigureFormSet
    extra = 0
    fields = [
        ("place", "position"),
        ("library_image", "thumbnail"),
        "upload",
        "caption",
        "credit",
        "alt_text",
        "kept_image",
    ]
    readonly_fields = ["thumbnail"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("library_image")

    @admin.display(description="Preview")
    def thumbnail(self, obj):
        if not obj.library_image_id:
            return "No image (the caption shows as a captioned note)."
        image = obj.library_image
        picture = image.picture
        if picture is None:
            return (
                "The picture is being prepared (cleaned, then cut to sizes); "
                "readers see it in a moment."
            )
        return format_html(
            '<img src="{}" alt="{}" width="160" class="figure-thumbnail">'
            '<br><span class="figure-size">{} × {} px</span>',
            picture.src_thumb,
            obj.shown_alt,
            image.width,
            image.height,
        )


class RelatedLinkFormSet(OrderedFormSet):
    """The story's links, each with where readers reach it (`readers_target`,
    the public story or None), found for all the links in one query."""

    def get_queryset(self):
        if not hasattr(self, "_queryset"):
            links = super().get_queryset()
            for link, target in self.instance.link_targets(links):
                link.readers_target = target
        return self._queryset


class RelatedLinkInline(StoryPartInline, admin.TabularInline):
    model = RelatedLink
    formset = RelatedLinkFormSet
    fk_name = "article"
    extra = 0
    fields = ["position", "title", "url", "story", "resolves_to"]
    readonly_fields = ["resolves_to"]
    autocomplete_fields = ["story"]

    def get_queryset(self, request):
        # The linked story's headline names it in its autocomplete box.
        return super().get_queryset(request).select_related("story")

    @admin.display(description="Readers see")
    def resolves_to(self, obj):
        if not obj.pk:
            return "-"
        # The readers' own resolution (Article.link_targets), made for every
        # row at once by RelatedLinkFormSet.
        if hasattr(obj, "readers_target"):
            target = obj.readers_target
        else:
            [(_, target)] = obj.article.link_targets([obj])
        if target is not None:
            return format_html(
                'Link to <a href="{}">{}</a>', target.get_absolute_url(), target
            )
        if obj.url:
            return format_html('Link to <a href="{}">{}</a>', obj.url, obj.url)
        return "Nothing yet: waiting for a published story with this headline."


class CorrectionInline(StoryPartInline, admin.TabularInline):
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
    dismiss_import_notes = forms.BooleanField(
        required=False,
        label="Dismiss the import notes",
        help_text="Tick once you have dealt with them; they stay in the record.",
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
            "byline_affiliation",
            "kind",
            "duration",
            "editors_note",
            "body",
            "source_agency",
            "tags",
            "status",
            "published_at",
            "updated_at",
        ]
        widgets = {
            "standfirst": forms.Textarea(attrs={"rows": 2}),
            "editors_note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user=None, **kwargs):
        kwargs.setdefault("error_class", FieldErrors)
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["loaded_version"].initial = self.instance.version
        story = self.instance
        # The story's tags, as the form shows them (read once, for both).
        shown = self.initial.get("tags") if "tags" in self.fields else None
        if shown is None or isinstance(shown, str):
            shown = story.tags.all() if story.pk else []
        current = {tag.name for tag in shown}
        found = tags.suggest(
            " ".join([story.headline, story.standfirst, story.body]), exclude=current
        )
        self.fields["suggested_tags"].choices = [(tag.name, tag.name) for tag in found]
        if not found:
            self.fields[
                "suggested_tags"
            ].help_text = "None: no existing tag's name appears in the story."
        if user is not None and not may_publish(user):
            # Writers do not set the "Updated" time (the field is not theirs).
            self.fields.pop("substantive_update", None)
            if "status" in self.fields:
                self.fields["status"].choices = [
                    (value, label)
                    for value, label in ArticleStatus.choices
                    if value in OPEN_STATUSES
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
            ).exclude(library_image=None)
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
        if self.user is not None:
            Article.check_status(self.user, status)
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
        match self.value():
            case "scheduled":
                return queryset.scheduled()
            case "live":
                return queryset.published()
            case "draft" | "in_review" | "withdrawn" as value:
                return queryset.filter(status=value)
        return queryset


class AuthorFilter(admin.SimpleListFilter):
    """Authors with stories, from their kept counts (Django's related-only
    filter read every byline of every story to find them)."""

    title = "author"
    parameter_name = "author"

    def lookups(self, request, model_admin):
        authors = Author.objects.filter(usage__stories__gt=0).order_by("name", "pk")
        return [(str(author.pk), author.name) for author in authors[:200]]

    def queryset(self, request, queryset):
        if self.value():
            try:
                author = int(self.value())
            except ValueError:
                return queryset.none()
            return queryset.filter(bylines__author=author)
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


class StoryChangeList(ChangeList):
    """The story list's rows come with their authors, tags and last editor.

    Only the list's: the change page reads bylines through its inline and tags
    through its form. last_edited_by is prefetched, not joined: the workflow
    actions lock the chosen rows (FOR UPDATE), which no outer join may come with.
    """

    def get_queryset(self, request, exclude_parameters=None):
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related("bylines__author", "tags", "last_edited_by")
        )


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
    list_filter = [StatusFilter, AuthorFilter, TagFilter, "kind", "published_at"]
    # On PostgreSQL the search goes through the search vector (get_search_results).
    search_fields = [
        "headline",
        "standfirst",
        "body",
        "figures__caption",
        "bylines__author__name",
    ]
    # Counting every story again for "(N total)" cost a second full count.
    show_full_result_count = False
    paginator = CappedPaginator
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
        "import_notes_box",
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
                    ("dateline", "byline_affiliation"),
                    ("kind", "duration"),
                    "editors_note",
                    "body",
                    "source_agency",
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
                    ("checklist", "import_notes_box"),
                    "dismiss_import_notes",
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

    def get_changelist(self, request, **kwargs):
        return StoryChangeList

    def get_search_results(self, request, queryset, search_term):
        """On PostgreSQL: stories whose search vector (headline, standfirst,
        text, captions, authors, tags) matches, through its GIN index; no
        join, so no DISTINCT over whole rows. Elsewhere Django's own search."""
        if connection.vendor != "postgresql":
            return super().get_search_results(request, queryset, search_term)
        text = clean_query(search_term)
        if not text:
            return queryset, False
        return queryset.filter(search_vector=search_query(text)), False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "scheduled_url": reverse("admin:briefings_article_scheduled"),
            "dashboard_url": reverse("admin:briefings_article_dashboard"),
        }
        if not request.GET.get("q"):
            return super().changelist_view(request, extra_context)
        # A search's best plan depends on its words: plan it for them each time.
        with custom_plans():
            response = super().changelist_view(request, extra_context)
            if hasattr(response, "render"):
                response.render()
            return response

    # -- permissions ----------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # Writers edit drafts and stories in review, not live ones.
        return obj is None or obj.editable_by(request.user)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None:
            return may_publish(request.user)
        return obj.deletable_by(request.user)

    def has_recover_permission(self, request):
        """Bringing back a deleted story is an Editor's call."""
        return may_publish(request.user) and self.has_add_permission(request)

    # -- history: revert and recover ------------------------------------------

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """Revert to an earlier version: a change of the story like any other.

        Only a version of this story, whose revision holds nothing but this
        story's rows, is restored here; and only by someone who may change the
        story as it is now (reverting overwrites the row before the form
        runs, so the check is made first, and the save compares with what
        was there).
        """
        story = self.get_object(request, unquote(object_id))
        if story is None:
            raise Http404("No such story.")
        version = get_object_or_404(
            Version.objects.get_for_object(story).select_related("revision"),
            pk=version_id,
        )
        if not restores_only(version.revision, story.pk):
            raise Http404("That version is not one of this story's.")
        if not self.has_change_permission(request, story):
            raise PermissionDenied
        request.stories_before = {story.pk: story.stored_state()}
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        """Bring back a deleted story (Editors only)."""
        if not self.has_recover_permission(request):
            raise PermissionDenied
        version = get_object_or_404(
            Version.objects.get_for_model(Article).select_related("revision"),
            pk=version_id,
        )
        deleted = not Article.objects.filter(pk=version.object_id).exists()
        if not deleted or not restores_only(version.revision, int(version.object_id)):
            raise Http404("No deleted story with that version.")
        request.stories_before = {int(version.object_id): None}
        return super().recover_view(request, version_id, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        if not self.has_recover_permission(request):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def compare_view(self, request, object_id, extra_context=None):
        # django-reversion-compare checks no permission of its own: without this,
        # any staff member could read every version of every story.
        obj = self.get_object(request, unquote(object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return super().compare_view(request, object_id, extra_context)

    def has_publish_permission(self, request):
        return may_publish(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not may_publish(request.user):
            fields += ["published_at", "updated_at"]
        return fields

    def _fieldsets_for(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if may_publish(request.user):
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

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        if obj is not None and obj.pk:
            # The checklist reads the figures and related links the inlines
            # have fetched (with their pictures and where readers reach them),
            # not the same rows again.
            rows = getattr(obj, "_prefetched_objects_cache", {})
            for inline in context.get("inline_admin_formsets", []):
                formset = inline.formset
                if formset.model in (Figure, RelatedLink):
                    related = formset.fk.remote_field.get_accessor_name()
                    rows[related] = formset.get_queryset()
            obj._prefetched_objects_cache = rows
        return super().render_change_form(request, context, add, change, form_url, obj)

    # -- saving ---------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = self._fieldsets_for(request, obj)
        if obj is not None and obj.open_import_notes:
            return fieldsets
        # Nothing to dismiss: no box and no tick.
        return [
            (
                name,
                {
                    **options,
                    "fields": [
                        "checklist" if f == ("checklist", "import_notes_box") else f
                        for f in options["fields"]
                        if f != "dismiss_import_notes"
                    ],
                },
            )
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if form.cleaned_data.get("dismiss_import_notes"):
            obj.import_notes_dismissed = True
        if not change:
            obj.created_by = request.user  # the desk's "My drafts"
        obj.last_edited_by = request.user
        # A revert or recover has already overwritten the row: the workflow
        # compares with what was there (see revision_view, recover_view).
        before = getattr(request, "stories_before", {}).get(obj.pk, AS_STORED)
        obj.save_by(
            request.user,
            before=before,
            substantive_update=form.cleaned_data.get("substantive_update", False),
        )

    def delete_model(self, request, obj):
        obj.delete_by(request.user)

    def delete_queryset(self, request, queryset):
        queryset.delete_by(request.user)

    def delete_view(self, request, object_id, extra_context=None):
        story = self.get_object(request, unquote(object_id))
        if (
            story is not None
            and self.has_delete_permission(request)
            and story.once_published
        ):
            self.message_user(request, PUBLISHED_NOT_DELETED, messages.ERROR)
            return redirect("admin:briefings_article_change", story.pk)
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(
            objs, request
        )
        if all(story.deletable_by(request.user) for story in objs):
            # A draft goes with its bylines, figures and workflow record.
            perms_needed = set()
        return deleted, counts, perms_needed, protected

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

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if "delete_selected" in actions:
            actions["delete_selected"] = dataclasses.replace(
                actions["delete_selected"], func=type(self).delete_drafts
            )
        return actions

    def delete_drafts(self, request, queryset):
        """Django's delete action, for drafts never published only."""
        published = list(queryset.once_published().values_list("headline", flat=True))
        if published:
            self.message_user(
                request,
                f"Nothing was deleted. {PUBLISHED_NOT_DELETED} "
                f"Published: {'; '.join(published)}",
                messages.ERROR,
            )
            return None
        return delete_selected(self, request, queryset)

    @admin.action(description="Submit for review", permissions=["change"])
    def submit_for_review(self, request, queryset):
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

    @admin.display(description="Import notes")
    def import_notes_box(self, obj):
        notes = obj.open_import_notes if obj.pk else []
        if not notes:
            return "None."
        return format_html(
            '<ul class="import-notes">{}</ul><p class="help">What loadseed guessed '
            "or dropped when it imported this story from {}.</p>",
            format_html_join("", "<li>{}</li>", ((note,) for note in notes)),
            obj.source_name,
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
            Article.objects.scheduled()
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
            "trending": trending_terms(),
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


class AuthorAdminForm(forms.ModelForm):
    """The slug fills itself in from the name (in the browser as you type, and
    on the server when it is left empty, with or without JavaScript)."""

    class Meta:
        model = Author
        fields = ["name", "slug", "bio"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" not in self.fields:
            return  # read-only: a Writer looking at an author of live stories
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
    """Writers add authors and edit those with no published story; an author
    whose name is on live bylines is changed by Editors only."""

    form = AuthorAdminForm

    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or obj.editable_by(request.user)

    def save_model(self, request, obj, form, change):
        obj.save_by(request.user)


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
class PreviewLinkAdmin(ChoosesByAutocomplete, admin.ModelAdmin):
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
