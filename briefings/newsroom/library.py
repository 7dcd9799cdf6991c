"""The image library in the admin: the list, several uploads at once, describing
them, the focal-point picker, and the chooser the story form opens.

Writers and Editors upload and use pictures; a picture live stories show is
changed by Editors only, and one any story uses is not deleted (library.py
holds the rule). Everything works without JavaScript: the chooser is a page
listing each picture's number, which the story form's plain input takes.
Scripts are static files only (admin/image_library.js,
admin/image_chooser.js), for the strict CSP.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import modelformset_factory
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from briefings.stories import images
from briefings.stories.library import Image, ImageInUse

#: Pictures on a chooser page.
CHOOSER_PAGE = 24
#: Rows the library's list counts at most (then it says "10,000").
COUNT_LIMIT = 10_000


class CappedPaginator(Paginator):
    @cached_property
    def count(self):
        return self.object_list.order_by()[:COUNT_LIMIT].count()


# --- The story form's field ----------------------------------------------------


class ImageChooserWidget(forms.TextInput):
    """The library picture's number; with JavaScript, a "Choose" button opens a
    search of the library (admin/image_chooser.js). Without it, a link opens
    the library's chooser page, which shows each picture's number."""

    def __init__(self, attrs=None):
        super().__init__(
            {
                "class": "image-chooser-input vIntegerField",
                "inputmode": "numeric",
                "size": 8,
                **(attrs or {}),
            }
        )

    def render(self, name, value, attrs=None, renderer=None):
        url = reverse("admin:briefings_image_choose")
        return format_html(
            '<span class="image-chooser" data-chooser-url="{}">{} '
            '<a class="image-chooser__browse" href="{}" target="_blank" '
            'rel="noopener">Find a picture\'s number in the library</a></span>',
            url,
            super().render(name, value, attrs, renderer),
            url,
        )


# --- Several uploads at once ------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget",
            MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Pictures",
        help_text="Choose one or more JPEG, PNG or WebP files. Each is checked; "
        "if any is refused, none is added.",
    )
    credit = forms.CharField(
        max_length=300,
        required=False,
        help_text="For every picture of this upload (you can change each later).",
    )
    default_caption = forms.CharField(
        label="Caption",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For every picture of this upload (you can change each later).",
    )

    def clean_files(self):
        uploads = self.cleaned_data["files"]
        problems = []
        for upload in uploads:
            try:
                images.check_image(upload)
            except ValidationError as error:
                for message in error.messages:
                    problems.append(f"{upload.name}: {message}")
        if problems:
            raise ValidationError(problems)
        return uploads


def add_uploads(uploads, user, credit="", default_caption="") -> list[Image]:
    """One library image per upload, all or none."""
    made = []
    try:
        with transaction.atomic():
            for upload in uploads:
                image = Image(
                    file=upload,
                    credit=credit,
                    default_caption=default_caption,
                    uploaded_by=user,
                )
                image.save()
                made.append(image)
    except BaseException:
        # The rows are rolled back; their files (staged or cleaned) go too.
        for image in made:
            image.discard_files()
        raise
    return made


class DescribeForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ["title", "alt_text", "default_caption", "credit"]
        widgets = {"default_caption": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alt_text"].required = True
        self.fields["alt_text"].error_messages["required"] = (
            "Describe the picture for readers who cannot see it."
        )


DescribeFormSet = modelformset_factory(Image, form=DescribeForm, extra=0)


# --- The library's own pages ------------------------------------------------------


class ImageAdminForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = [
            "file",
            "title",
            "alt_text",
            "default_caption",
            "credit",
            "focal_x",
            "focal_y",
        ]
        widgets = {
            # A file input in a fieldset of its own ("Currently: ... Change:")
            # is not named by the fieldset's legend: name it.
            "file": forms.ClearableFileInput(attrs={"aria-label": "Picture file"}),
            "default_caption": forms.Textarea(attrs={"rows": 3}),
            "focal_x": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
            "focal_y": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
        }

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("file"):
            self.add_error("file", "Choose a picture to upload.")
        for name in ("focal_x", "focal_y"):
            value = cleaned.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "Give a number from 0 to 1.")
        return cleaned


class MissingAltFilter(admin.SimpleListFilter):
    title = "alt text"
    parameter_name = "alt"

    def lookups(self, request, model_admin):
        return [("missing", "Missing")]

    def queryset(self, request, queryset):
        if self.value() == "missing":
            return queryset.missing_alt_text()
        return queryset


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    form = ImageAdminForm
    change_list_template = "admin/briefings/image/change_list.html"
    list_display = ["preview", "title", "alt_status", "credit", "created_at"]
    list_display_links = ["preview", "title"]
    list_filter = [MissingAltFilter]
    search_fields = ["title"]  # shows the box; get_search_results does the work
    search_help_text = "Words from the title, alt text, credit or caption."
    list_per_page = 48
    paginator = CappedPaginator
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["file", "focal_picker", ("focal_x", "focal_y")]}),
        (
            "What readers are told",
            {"fields": ["alt_text", "default_caption", "credit"]},
        ),
        (None, {"fields": ["title", "crop_previews", "used_in", "uploaded_by"]}),
    ]
    readonly_fields = ["focal_picker", "crop_previews", "used_in", "uploaded_by"]

    class Media:
        js = ["admin/image_library.js"]
        css = {"all": ["admin/briefings.css"]}

    # --- Who may do what (the rule is the model's) ----------------------------

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or obj.editable_by(request.user))

    def get_actions(self, request, action_location=admin.ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # one by one, each refusal explained
        return actions

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
        obj.save_by(request.user)

    def delete_view(self, request, object_id, extra_context=None):
        image = self.get_object(request, unquote(object_id))
        if image is not None and self.has_delete_permission(request, image):
            refusal = image.refusal_to_delete()
            if refusal:
                messages.error(request, refusal)
                return HttpResponseRedirect(
                    reverse("admin:briefings_image_change", args=[image.pk])
                )
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        try:
            obj.delete_by(request.user)
        except ImageInUse as refusal:  # used since the confirmation page
            raise PermissionDenied(str(refusal)) from None

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.search(search_term), False

    # --- Columns and read-only parts ---------------------------------------------

    @admin.display(description="Picture")
    def preview(self, obj):
        picture = obj.picture
        if picture is None:
            return "Being prepared…" if obj.pending_file else "No picture"
        return format_html(
            '<img src="{}" alt="{}" width="120" class="library-thumbnail">',
            picture.src_thumb,
            obj.alt_text,
        )

    @admin.display(description="Alt text", ordering="alt_text")
    def alt_status(self, obj):
        if obj.alt_text:
            return obj.alt_text
        return format_html('<strong class="library-missing">{}</strong>', "Missing")

    @admin.display(description="Focal point")
    def focal_picker(self, obj):
        picture = obj.picture if obj else None
        if picture is None:
            return "Save the picture first; then click on it to set its focal point."
        return format_html(
            '<div class="focal-picker" data-focal-x="{}" data-focal-y="{}">'
            '<img src="{}" alt="{}" width="{}" height="{}" class="focal-picker__image">'
            '<span class="focal-picker__mark" aria-hidden="true"></span></div>'
            '<p class="help">Click the picture on what must stay in view when it '
            "is cropped (story cards, social cards). Or type the numbers below: "
            "0.5 and 0.5 is the centre.</p>",
            obj.focal_x,
            obj.focal_y,
            picture.src_body,
            obj.alt_text or obj.title,
            480,
            round(480 * (obj.height or 1) / (obj.width or 1)),
        )

    @admin.display(description="Crops")
    def crop_previews(self, obj):
        crops = {c["kind"]: c for c in obj.crops} if obj else {}
        if not crops:
            return "Made when the picture is saved."
        url = obj.file.storage.url
        labels = {"card": "Story card (3:2)", "social": "Social card (1.91:1)"}
        return format_html_join(
            "",
            '<figure class="library-crop"><img src="{}" alt="" width="200">'
            "<figcaption>{}</figcaption></figure>",
            (
                (url(crops[kind]["name"]), label)
                for kind, label in labels.items()
                if kind in crops
            ),
        )

    @admin.display(description="Used in")
    def used_in(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        stories = (
            obj.figures.select_related("article")
            .only("article__headline", "article__status", "article_id")
            .order_by("article__headline")[:20]
        )
        rows = [
            (
                reverse("admin:briefings_article_change", args=[figure.article_id]),
                figure.article.headline,
                figure.article.get_status_display(),
            )
            for figure in stories
        ]
        if not rows:
            return "No story yet."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}">{}</a> ({})</li>', rows),
        )

    # --- Extra pages -----------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("upload/", view(self.upload_view), name="briefings_image_upload"),
            path(
                "describe/", view(self.describe_view), name="briefings_image_describe"
            ),
            path("choose/", view(self.chooser_view), name="briefings_image_choose"),
            *super().get_urls(),
        ]

    def _page(self, request, title, template, **context):
        return render(
            request,
            template,
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                **context,
            },
        )

    def upload_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            made = add_uploads(
                form.cleaned_data["files"],
                request.user,
                credit=form.cleaned_data["credit"],
                default_caption=form.cleaned_data["default_caption"],
            )
            messages.success(
                request,
                f"{len(made)} picture(s) added to the library. Describe each one "
                "for readers who cannot see it.",
            )
            ids = ",".join(str(image.pk) for image in made)
            return HttpResponseRedirect(
                f"{reverse('admin:briefings_image_describe')}?ids={ids}"
            )
        return self._page(
            request,
            "Upload pictures",
            "admin/briefings/image/upload.html",
            form=form,
        )

    def describe_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        wanted = request.GET.get("ids", "")
        ids = [int(part) for part in wanted.split(",")[:100] if part.isdigit()]
        queryset = Image.objects.filter(pk__in=ids).order_by("pk")
        editable = [i.pk for i in queryset if i.editable_by(request.user)]
        queryset = queryset.filter(pk__in=editable)
        formset = DescribeFormSet(request.POST or None, queryset=queryset)
        if request.method == "POST" and formset.is_valid():
            for image in formset.save(commit=False):
                image.save_by(request.user)
            messages.success(request, "The pictures are described.")
            return HttpResponseRedirect(reverse("admin:briefings_image_changelist"))
        return self._page(
            request,
            "Describe the new pictures",
            "admin/briefings/image/describe.html",
            formset=formset,
        )

    def chooser_view(self, request):
        """Search the library. `?fragment=1` answers the story form's script
        with the results alone; otherwise a page that works without it."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()[:200]
        try:
            number = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            number = 1
        found = Image.objects.for_chooser().exclude(file="")
        if query:
            found = found.search(query)
        start = (number - 1) * CHOOSER_PAGE
        rows = list(found[start : start + CHOOSER_PAGE + 1])
        fragment = request.GET.get("fragment") == "1"
        context = {
            "results": rows[:CHOOSER_PAGE],
            "query": query,
            "page_number": number,
            "previous_page": number - 1 if number > 1 else None,
            "next_page": number + 1 if len(rows) > CHOOSER_PAGE else None,
            "fragment": fragment,
        }
        if fragment:
            return render(
                request, "admin/briefings/image/chooser_results.html", context
            )
        return self._page(
            request,
            "Choose a picture",
            "admin/briefings/image/chooser.html",
            **context,
        )
