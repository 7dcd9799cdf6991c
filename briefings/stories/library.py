"""The image library: a picture is uploaded once and used in any number of stories.

An `Image` holds the cleaned original (see images.py: decoded, checked, no
metadata), its responsive renditions, the alt text, credit and default
caption editors gave it, and a focal point. Figures (models.Figure) point at
it and may override its caption and alt text for one use.

- Uploads are checked on save (`images.check_image`: a refused file raises a
  ValidationError and stores nothing), kept aside under a random name, and a
  background task cleans them and cuts the renditions and the crops.
- Crops (story cards at 3:2, social cards at 1.91:1) are cut around the focal
  point; moving the focal point cuts them again.
- The workflow rule (as for authors): a picture shown by a live story
  (published, scheduled or withdrawn) is changed by Editors only, and a
  picture any story uses is not deleted.
- `Image.objects.search(text)` serves the chooser: every word must appear in
  the title, alt text, credit or caption; on PostgreSQL a trigram index over
  `search_text` answers it without reading the table.

This module imports nothing from models.py (which re-exports `Image`), so the
two never import each other.
"""

import posixpath
import uuid
import warnings
import weakref

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower
from django.tasks import task
from django.utils import timezone
from django.utils.functional import cached_property
from PIL import Image as PILImage
from PIL import ImageOps

from briefings.core.background import enqueue_with_data, retried
from briefings.stories import images

#: Where new uploads wait for the worker (the figures' folder too).
STAGED = "incoming"
#: Stories in these states are not live: their pictures are anyone's to change.
#: (models.OPEN_STATUSES; tests/test_library.py checks that the two agree.)
OPEN_STATUSES = ("draft", "in_review")
PUBLISH_PERMISSION = "briefings.publish_article"
#: Crops cut around the focal point: kind -> (width / height, widths).
CROPS = {
    "card": (3 / 2, (480, 800)),
    "social": (1200 / 630, (1200,)),
}
#: Words of a chooser search that count (the rest are ignored).
SEARCH_WORDS = 8


class ImageInUse(PermissionDenied):
    """A picture some story shows cannot be deleted; the message says which."""


class ImageQuerySet(models.QuerySet):
    def search(self, text):
        """Pictures whose title, alt text, credit or caption hold every word."""
        words = text.lower().split()[:SEARCH_WORDS]
        queryset = self
        for word in words:
            queryset = queryset.filter(search_text__contains=word)
        return queryset

    def for_chooser(self):
        """What the chooser shows of a picture, newest first."""
        return self.only(
            "pk",
            "title",
            "file",
            "width",
            "height",
            "renditions",
            "alt_text",
            "credit",
            "default_caption",
            "pending_file",
            "created_at",
        ).order_by("-created_at", "-pk")

    def missing_alt_text(self):
        return self.filter(alt_text="")


class Image(models.Model):
    title = models.CharField(
        max_length=200,
        blank=True,
        help_text="For finding the picture again; readers never see it. "
        "Filled in from the file name.",
    )
    file = images.PictureField(
        upload_to="library/%Y/%m/",
        blank=True,
        width_field="width",
        height_field="height",
        help_text="JPEG, PNG or WebP. Location and camera data are removed; "
        "smaller sizes are made when you save.",
    )
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # [{"name", "width", "height", "format"}], as images.make_renditions makes.
    renditions = models.JSONField(default=list, blank=True, editable=False)
    # [{"kind", "name", "width", "height", "format"}], cut around the focal point.
    crops = models.JSONField(default=list, blank=True, editable=False)
    # A new upload the worker has yet to clean; "" when none.
    pending_file = models.CharField(
        max_length=200, blank=True, default="", editable=False
    )
    alt_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="What the picture shows, for readers who cannot see it. "
        "A story may say it differently for one use.",
    )
    credit = models.CharField(
        max_length=300,
        blank=True,
        help_text="Photographer and agency, e.g. Tigran Mehrabyan/PAN Photo/Reuters.",
    )
    default_caption = models.TextField(
        blank=True,
        help_text="Shown under the picture unless a story gives its own caption.",
    )
    focal_x = models.FloatField(
        "focal point across",
        default=0.5,
        help_text="0 is the left edge, 1 the right edge. Crops keep this point.",
    )
    focal_y = models.FloatField(
        "focal point down",
        default=0.5,
        help_text="0 is the top edge, 1 the bottom edge.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # What the chooser's search reads (trigram-indexed on PostgreSQL).
    search_text = models.GeneratedField(
        expression=Lower(
            Concat(
                "title",
                Value(" "),
                "alt_text",
                Value(" "),
                "credit",
                Value(" "),
                "default_caption",
                output_field=models.TextField(),
            )
        ),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "library image"
        constraints = [
            models.CheckConstraint(
                condition=Q(focal_x__gte=0, focal_x__lte=1),
                name="image_focal_x_in_picture",
            ),
            models.CheckConstraint(
                condition=Q(focal_y__gte=0, focal_y__lte=1),
                name="image_focal_y_in_picture",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="image_newest_idx"),
        ]

    def __str__(self):
        return self.title or self.alt_text[:80] or f"Image {self.pk}"

    def save(self, *args, **kwargs):
        """Keep a new upload aside for the worker; recut crops when the focal
        point moved. See the module docstring."""
        staged = None
        if self.file and not self.file._committed:
            staged = self._stage_upload()
        previous = self._previous_files()
        focus = getattr(self, "_focus", None)
        refocused = focus is not None and focus != (self.focal_x, self.focal_y)
        try:
            super().save(*args, **kwargs)
        except BaseException:
            if staged:
                images.delete_files(default_storage, [staged])
            raise
        gone = [name for name in previous if name not in self.stored_files()]
        if gone:
            storage = self.file.storage
            transaction.on_commit(
                lambda: images.delete_files(storage, gone), using=kwargs.get("using")
            )
        self._remember()
        if staged:
            delete_if_rolled_back(default_storage, [staged], using=kwargs.get("using"))
            enqueue_with_data(process_library_image, self.pk, staged)
        elif refocused and self.file:
            enqueue_with_data(
                recut_library_crops, self.pk, self.file.name, self.focal_x, self.focal_y
            )
        if staged or refocused:
            # The immediate backend (tests) has already done the work.
            self.refresh_from_db(
                fields=[
                    "file",
                    "width",
                    "height",
                    "renditions",
                    "crops",
                    "pending_file",
                ]
            )
            self._remember()
            self.__dict__.pop("picture", None)
            self.__dict__.pop("card_picture", None)

    def _stage_upload(self) -> str:
        upload = self.file.file
        checked = images.check_image(upload)
        upload.seek(0)
        stem = posixpath.splitext(posixpath.basename(self.file.name or ""))[0]
        if not self.title:
            self.title = stem.replace("_", " ").replace("-", " ").strip()[:200]
        extension = images.EXTENSIONS[checked.format]
        staged = default_storage.save(
            f"{STAGED}/{uuid.uuid4().hex}/{stem or 'picture'}.{extension}", upload
        )
        self.pending_file = staged
        stored = ""
        if self.pk is not None and not self._state.adding:
            stored = (
                Image.objects.filter(pk=self.pk).values_list("file", flat=True).first()
                or ""
            )
        self.file = stored
        return staged

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._remember()
        return instance

    def _remember(self):
        deferred = self.get_deferred_fields()
        self._stored = (
            None if {"file", "renditions", "crops"} & deferred else self.stored_files()
        )
        self._focus = (
            None if {"focal_x", "focal_y"} & deferred else (self.focal_x, self.focal_y)
        )

    def _previous_files(self) -> list[str]:
        if self._state.adding or self.pk is None:
            return []
        stored = getattr(self, "_stored", None)
        if stored is not None:
            return stored
        row = (
            Image.objects.filter(pk=self.pk)
            .values("file", "renditions", "crops")
            .first()
        )
        if not row or not row["file"]:
            return []
        return [
            row["file"],
            *(r["name"] for r in row["renditions"]),
            *(c["name"] for c in row["crops"]),
        ]

    def stored_files(self) -> list[str]:
        """The names of the stored original, its renditions and its crops."""
        if not self.file:
            return []
        return [
            self.file.name,
            *(r["name"] for r in self.renditions),
            *(c["name"] for c in self.crops),
        ]

    def discard_files(self):
        """Delete this picture's files at once: for an image whose row was
        rolled back (nothing refers to them). An upload not yet stored has no
        file to delete."""
        names = [self.pending_file]
        if self.file and self.file._committed:
            names += self.stored_files()
        images.delete_files(default_storage, names)

    # --- What pages show -----------------------------------------------------

    @cached_property
    def picture(self) -> images.Picture | None:
        """URLs and sizes for the <picture> element (no storage access)."""
        if not self.file:
            return None
        return images.build_picture(self.file, self.renditions, self.width, self.height)

    @cached_property
    def card_picture(self) -> images.Picture | None:
        """The 3:2 crop around the focal point for story cards (else `picture`)."""
        cards = sorted(
            (c for c in self.crops if c["kind"] == "card"), key=lambda c: c["width"]
        )
        if not self.file or not cards:
            return self.picture
        url = self.file.storage.url
        srcset = ", ".join(f"{url(c['name'])} {c['width']}w" for c in cards)
        widest = url(cards[-1]["name"])
        return images.Picture(
            width=cards[-1]["width"],
            height=cards[-1]["height"],
            srcset=srcset,
            webp_srcset="",
            src_hero=widest,
            src_body=widest,
            src_thumb=url(cards[0]["name"]),
        )

    def large_rendition(self) -> dict | None:
        """For social sites and search engines: the 1.91:1 crop around the
        focal point, else a rendition at least 1,200 px wide, else the widest."""
        if not self.file:
            return None
        storage = self.file.storage
        for crop in self.crops:
            if crop["kind"] == "social":
                return {
                    "url": storage.url(crop["name"]),
                    "width": crop["width"],
                    "height": crop["height"],
                }
        own = [r for r in self.renditions if r["format"] != "WEBP"] or self.renditions
        best = images.pick(list(own), images.HERO_WIDTH)
        if best is None:
            return {"url": self.file.url, "width": self.width, "height": self.height}
        return {
            "url": storage.url(best["name"]),
            "width": best["width"],
            "height": best["height"],
        }

    # --- The workflow rule ---------------------------------------------------

    def live_stories(self):
        """Headlines of the live stories (published, scheduled, withdrawn)
        that show this picture."""
        return (
            self.figures.exclude(article__status__in=OPEN_STATUSES)
            .values_list("article__headline", flat=True)
            .distinct()
            .order_by("article__headline")
        )

    def editable_by(self, user) -> bool:
        """A picture live stories show is changed by Editors only."""
        if self.pk is None or user.has_perm(PUBLISH_PERMISSION):
            return True
        return not self.live_stories().exists()

    def save_by(self, user, **kwargs):
        if not self.editable_by(user):
            raise PermissionDenied(
                "Only editors change a picture that published stories show."
            )
        self.save(**kwargs)

    def refusal_to_delete(self) -> str:
        """Why this picture cannot be deleted ("" when it can)."""
        live = list(self.live_stories()[:5])
        if live:
            names = ", ".join(f"“{headline}”" for headline in live)
            return (
                f"This picture is used by published stories ({names}), so it is "
                "not deleted. Replace it in those stories first."
            )
        drafts = list(
            self.figures.values_list("article__headline", flat=True)
            .distinct()
            .order_by("article__headline")[:5]
        )
        if drafts:
            names = ", ".join(f"“{headline}”" for headline in drafts)
            return (
                f"This picture is used by stories not yet published ({names}). "
                "Remove it from them first."
            )
        return ""

    def delete_by(self, user):
        if not user.has_perm("briefings.delete_image"):
            raise PermissionDenied("You may not delete pictures from the library.")
        refusal = self.refusal_to_delete()
        if refusal:
            raise ImageInUse(refusal)
        return self.delete()


def delete_image_files(sender, instance, using, **kwargs):
    names = [*instance.stored_files(), instance.pending_file]
    if any(names):
        storage = instance.file.storage
        transaction.on_commit(lambda: images.delete_files(storage, names), using=using)


def delete_if_rolled_back(storage, names, using=None):
    """Delete `names` from `storage` should the open transaction roll back.

    A picture staged by a save inside a larger transaction (the admin's, for
    a story and all its rows) must not outlive the row that names it. Django
    runs on_commit callbacks at the commit and drops them, unrun, when the
    transaction or the savepoint they were added in rolls back: a dropped
    callback is garbage at once, and its finalizer deletes the files unless
    the callback ran. Outside a transaction the callback runs at once.
    """
    committed = []

    def mark_committed():
        committed.append(True)

    weakref.finalize(mark_committed, _delete_unless, committed, storage, names)
    transaction.on_commit(mark_committed, using=using)


def _delete_unless(committed, storage, names):
    if not committed:
        images.delete_files(storage, names)


def attach_library_images(figures):
    """Give `figures` their library images in one query (none when no figure
    uses the library, or each came with its image). Returns the figures."""
    figures = list(figures)
    ids = {
        figure.library_image_id
        for figure in figures
        if figure.library_image_id
        and not figure._meta.get_field("library_image").is_cached(figure)
    }
    if ids:
        found = Image.objects.in_bulk(ids)
        for figure in figures:
            if figure.library_image_id in found:
                figure.library_image = found[figure.library_image_id]
    return figures


# --- Crops around the focal point ----------------------------------------------


def crop_box(width, height, ratio, focal_x, focal_y) -> tuple[int, int, int, int]:
    """The largest box of `ratio` (width / height) in the picture whose centre
    is as near the focal point as the edges allow: (left, top, right, bottom)."""
    if width / height > ratio:
        crop_w, crop_h = max(1, round(height * ratio)), height
    else:
        crop_w, crop_h = width, max(1, round(width / ratio))
    left = min(max(round(focal_x * width - crop_w / 2), 0), width - crop_w)
    top = min(max(round(focal_y * height - crop_h / 2), 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


def make_crops(picture, fmt, original_name, storage, focal_x, focal_y) -> list[dict]:
    """Write every crop of CROPS through `storage`; return their record. If
    one fails, those already written are deleted."""
    stem, _ = posixpath.splitext(original_name)
    crops = []
    try:
        for kind, (ratio, widths) in CROPS.items():
            box = crop_box(picture.width, picture.height, ratio, focal_x, focal_y)
            cut = picture.crop(box)
            for width in sorted({min(w, cut.width) for w in widths}):
                height = max(1, round(cut.height * width / cut.width))
                sized = (
                    cut.copy()
                    if width == cut.width
                    else cut.resize((width, height), PILImage.Resampling.LANCZOS)
                )
                name = storage.save(
                    f"{stem}-{kind}-{width}w.{images.EXTENSIONS[fmt]}",
                    ContentFile(images._encode(sized, fmt)),
                )
                crops.append(
                    {
                        "kind": kind,
                        "name": name,
                        "width": width,
                        "height": height,
                        "format": fmt,
                    }
                )
    except BaseException:
        images.delete_files(storage, [c["name"] for c in crops])
        raise
    return crops


@task
@retried
def process_library_image(image_id, staged):
    """Task: clean a library image's new upload, cut its renditions and crops."""
    image = Image.objects.filter(pk=image_id).first()
    storage = default_storage
    if image is None or image.pending_file != staged:
        images.delete_files(storage, [staged])
        return "superseded"
    field = Image._meta.get_field("file")
    with storage.open(staged) as upload:
        clean = images.clean_original(upload)
    stem = posixpath.splitext(posixpath.basename(staged))[0]
    name = storage.save(
        field.generate_filename(image, f"{stem}.{images.EXTENSIONS[clean.format]}"),
        ContentFile(clean.content),
        max_length=field.max_length,
    )
    renditions = []
    try:
        renditions = images.make_renditions(clean, name, storage)
        crops = make_crops(
            clean.image, clean.format, name, storage, image.focal_x, image.focal_y
        )
    except BaseException:
        # Nothing half-written: the row still waits on the staged upload (kept
        # for the retry); the files this attempt wrote go.
        images.delete_files(storage, [name, *(r["name"] for r in renditions)])
        raise
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id).first()
        if image is None or image.pending_file != staged:
            new = [name, *(r["name"] for r in renditions), *(c["name"] for c in crops)]
            images.delete_files(storage, [*new, staged])
            return "superseded"
        image.file = name
        image.width, image.height = clean.width, clean.height
        image.renditions = renditions
        image.crops = crops
        image.pending_file = ""
        image.save(
            update_fields=[
                "file",
                "width",
                "height",
                "renditions",
                "crops",
                "pending_file",
            ]
        )
    images.delete_files(storage, [staged])
    return "done"


@task
@retried
def recut_library_crops(image_id, name, focal_x, focal_y):
    """Task: cut a library image's crops again around a new focal point."""
    storage = default_storage
    image = Image.objects.filter(pk=image_id).first()
    if image is None or image.file.name != name:
        return "superseded"
    with storage.open(name) as stored, warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        with PILImage.open(stored, formats=images.ALLOWED_FORMATS) as opened:
            fmt = opened.format
            opened.load()
            picture = ImageOps.exif_transpose(opened)
    crops = make_crops(picture, fmt, name, storage, focal_x, focal_y)
    with transaction.atomic():
        image = Image.objects.select_for_update().filter(pk=image_id).first()
        if (
            image is None
            or image.file.name != name
            or (image.focal_x, image.focal_y) != (focal_x, focal_y)
        ):
            images.delete_files(storage, [c["name"] for c in crops])
            return "superseded"
        image.crops = crops
        image.save(update_fields=["crops"])
    return "done"
