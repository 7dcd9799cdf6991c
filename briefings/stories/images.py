"""Uploaded pictures: checked by decoding, cleaned of metadata, cut to sizes once.

- `check_image(file)` accepts JPEG, PNG and WebP only, found by decoding the
  bytes with Pillow (never by the file name or the browser's content type),
  within BRIEFINGS_MAX_UPLOAD_MB and BRIEFINGS_MAX_IMAGE_PIXELS. Anything else
  raises a ValidationError that says what is wrong. `validate_image_upload` is
  the same check as a field validator (the model field and the admin use it).
- `clean_original(file)` re-encodes the upload upright (EXIF orientation
  applied), in sRGB, with no EXIF, GPS, XMP, ICC profile or trailing bytes.
- `make_renditions(...)` writes the responsive widths in the original format and
  WebP through a storage backend, and returns their record for the database.

Everything goes through Django's storage API, so media can live on object
storage (django-storages) by settings alone.
"""

import io
import posixpath
import warnings
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Widths cut from every picture (never wider than the original).
RENDITION_WIDTHS = (480, 800, 1200, 1600)
# News discovery surfaces want a lead picture at least this wide.
HERO_WIDTH = 1200
SAVE_OPTIONS = {
    "JPEG": {"quality": 85, "optimize": True, "progressive": True},
    "PNG": {"optimize": False, "compress_level": 6},
    "WEBP": {"quality": 80, "method": 4},
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def max_upload_bytes() -> int:
    return int(settings.BRIEFINGS_MAX_UPLOAD_MB * 1024 * 1024)


def max_pixels() -> int:
    return int(settings.BRIEFINGS_MAX_IMAGE_PIXELS)


def apply_pixel_limit() -> None:
    """Pillow's decompression-bomb guard follows our setting, process-wide."""
    Image.MAX_IMAGE_PIXELS = max_pixels()


def pixel_limit_changed(setting, **kwargs):
    if setting == "BRIEFINGS_MAX_IMAGE_PIXELS":
        apply_pixel_limit()


@dataclass(frozen=True)
class CheckedImage:
    format: str  # one of ALLOWED_FORMATS
    width: int  # as stored, i.e. before the EXIF orientation is applied
    height: int


def _too_many_pixels() -> ValidationError:
    return ValidationError(
        "Image too large: more than %(limit)s pixels. "
        "Upload a smaller version (for example, at most 8,000 px wide).",
        code="too_many_pixels",
        params={"limit": max_pixels()},
    )


def _not_an_accepted_image(head: bytes) -> ValidationError:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<") and b"<svg" in head.lower():
        return ValidationError(
            "SVG files are not accepted (they can carry scripts). "
            "Upload the picture as JPEG, PNG or WebP.",
            code="svg",
        )
    if text.startswith(b"<"):
        return ValidationError(
            "This file is HTML or XML text, not a picture. "
            "Upload a JPEG, PNG or WebP image.",
            code="not_an_image",
        )
    return ValidationError(
        "Unsupported image format: upload a JPEG, PNG or WebP image. This file "
        "is not one of them, whatever its name says (GIF, TIFF, HEIC, SVG, PDF "
        "and text files are refused).",
        code="unsupported_format",
    )


def _open(file) -> Image.Image:
    """Open an upload as one of the accepted formats, header only."""
    file.seek(0)
    return Image.open(file, formats=ALLOWED_FORMATS)


def check_image(file) -> CheckedImage:
    """Decode `file` fully and say whether it is a picture we accept.

    Raises ValidationError with a message for the editor; returns the real
    format and size. The result is remembered on the file object, so the form
    field and the model field do not decode the same upload twice.
    """
    cached = getattr(file, "_briefings_checked", None)
    if cached is not None:
        return cached
    size = getattr(file, "size", None)
    if size is not None and size > max_upload_bytes():
        raise ValidationError(
            "The file is %(size).1f MB; the limit is %(limit)s MB. "
            "Upload a smaller export of the picture.",
            code="file_too_big",
            params={
                "size": size / 1024 / 1024,
                "limit": settings.BRIEFINGS_MAX_UPLOAD_MB,
            },
        )
    if size == 0:
        raise ValidationError("The file is empty.", code="empty")
    file.seek(0)
    head = file.read(1024)
    limit = max_pixels()
    with warnings.catch_warnings():
        # Over the limit is a refusal, not a warning in a log.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with _open(file) as image:
                fmt, (width, height) = image.format, image.size
                if width * height > limit:
                    raise _too_many_pixels()
                if getattr(image, "n_frames", 1) > 1:
                    raise ValidationError(
                        "Animated images are not accepted: upload a still "
                        "JPEG, PNG or WebP.",
                        code="animated",
                    )
                image.verify()
            # verify() leaves the image unusable: decode it again, in full,
            # which finds truncated or corrupt pixel data verify() misses.
            with _open(file) as image:
                image.load()
        except ValidationError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels() from None
        except UnidentifiedImageError:
            raise _not_an_accepted_image(head) from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ValidationError(
                "The image is damaged or incomplete (%(detail)s). "
                "Export it again and upload the new file.",
                code="damaged",
                params={"detail": error},
            ) from None
        finally:
            file.seek(0)
    checked = CheckedImage(fmt, width, height)
    try:
        file._briefings_checked = checked
    except AttributeError:  # pragma: no cover - objects without a __dict__
        pass
    return checked


def validate_image_upload(value) -> None:
    """Field validator: checks a new upload; a file already stored passes.

    Works on an UploadedFile (forms) and on a FieldFile (models, where an
    unchanged image is `_committed` and is not opened again on every save).
    """
    if not value:
        return
    if getattr(value, "_committed", False):
        return
    check_image(getattr(value, "file", value))


# --- Cleaning and renditions --------------------------------------------------


def _to_srgb(image: Image.Image) -> Image.Image:
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def _normalise_mode(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode in ("P", "L", "RGB") and "transparency" in image.info
    )
    if has_alpha and fmt != "JPEG":
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if image.mode == "L":
        return image
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # Fresh info: nothing of the upload's metadata reaches the encoder.
    image.info = {}
    image.save(buffer, fmt, **SAVE_OPTIONS[fmt])
    return buffer.getvalue()


@dataclass
class CleanImage:
    image: Image.Image  # upright, sRGB, normalised mode, no metadata
    format: str
    content: bytes  # the original, re-encoded

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def clean_original(file) -> CleanImage:
    """Re-encode a checked upload: upright, sRGB, and with no metadata at all.

    Re-encoding also drops whatever followed the image data (a script appended
    to a JPEG, say), so the stored bytes are only the picture.
    """
    checked = check_image(file)
    file.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(file) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)
    file.seek(0)
    image = _normalise_mode(_to_srgb(image), checked.format)
    return CleanImage(image, checked.format, _encode(image, checked.format))


def rendition_widths(original_width: int) -> list[int]:
    """The widths to cut: the standard ones below the original, and the original
    itself when it is narrower than the largest (never upscaled)."""
    widths = [w for w in RENDITION_WIDTHS if w < original_width]
    if original_width <= RENDITION_WIDTHS[-1]:
        widths.append(original_width)
    return widths


def rendition_name(original_name: str, width: int, fmt: str) -> str:
    stem, _ = posixpath.splitext(original_name)
    return f"{stem}-{width}w.{EXTENSIONS[fmt]}"


def make_renditions(clean: CleanImage, original_name: str, storage) -> list[dict]:
    """Write every rendition through `storage`; return their record. If one
    fails, those already written are deleted.

    Each entry: {"name", "width", "height", "format"} with format "JPEG", "PNG"
    or "WEBP". Ordered by format, then width.
    """
    formats = [clean.format] if clean.format == "WEBP" else [clean.format, "WEBP"]
    renditions = []
    try:
        for width in rendition_widths(clean.width):
            height = max(1, round(clean.height * width / clean.width))
            if width == clean.width:
                resized = clean.image.copy()
            else:
                resized = clean.image.resize(
                    (width, height), Image.Resampling.LANCZOS, reducing_gap=3.0
                )
            for fmt in formats:
                name = storage.save(
                    rendition_name(original_name, width, fmt),
                    ContentFile(_encode(resized.copy(), fmt)),
                )
                renditions.append(
                    {"name": name, "width": width, "height": height, "format": fmt}
                )
    except BaseException:
        # No half set: the ones written go (a retry writes them all again).
        delete_files(storage, [r["name"] for r in renditions])
        raise
    renditions.sort(key=lambda r: (r["format"], r["width"]))
    return renditions


def delete_files(storage, names) -> None:
    """Delete stored files, ignoring ones already gone."""
    for name in names:
        if name:
            try:
                storage.delete(name)
            except FileNotFoundError:
                pass


# --- Fields --------------------------------------------------------------------


class PictureFormField(forms.ImageField):
    """An upload field that checks with `check_image`, not by the file name.

    Django's own ImageField opens any format Pillow knows and answers every
    problem with one generic message; this one says what is wrong.
    """

    default_validators = []

    def to_python(self, data):
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        checked = check_image(upload)
        upload.content_type = MIME_TYPES[checked.format]
        return upload


class PictureField(models.ImageField):
    """An ImageField whose uploads must pass `check_image` (and no name check)."""

    default_validators = [validate_image_upload]

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PictureFormField, **kwargs})

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        # Django would open the file whenever a row without a stored size is
        # loaded; sizes are stored when a picture is saved, so loading a figure
        # never touches storage (and a missing old file cannot break a page).
        if force:
            super().update_dimension_fields(instance, force, *args, **kwargs)


# --- What templates and structured data read ----------------------------------


@dataclass(frozen=True)
class Picture:
    """URLs and sizes for a <picture>, built from the stored record only."""

    width: int | None  # of the original, so the page reserves the right box
    height: int | None
    srcset: str  # renditions in the original format: "url 480w, url 800w"
    webp_srcset: str  # WebP renditions; "" when the original is WebP itself
    src_hero: str  # the rendition at least HERO_WIDTH wide, or the largest
    src_body: str  # at least 800 wide, or the largest
    src_thumb: str  # the smallest


def pick(renditions: list[dict], min_width: int) -> dict | None:
    """The narrowest rendition at least `min_width` wide, else the widest."""
    if not renditions:
        return None
    wide_enough = [r for r in renditions if r["width"] >= min_width]
    if wide_enough:
        return min(wide_enough, key=lambda r: r["width"])
    return max(renditions, key=lambda r: r["width"])


def build_picture(field_file, renditions, width, height) -> Picture:
    storage = field_file.storage
    fmt = next((r["format"] for r in renditions if r["format"] != "WEBP"), "WEBP")
    own = sorted(
        (r for r in renditions if r["format"] == fmt), key=lambda r: r["width"]
    )
    webp = sorted(
        (r for r in renditions if r["format"] == "WEBP"), key=lambda r: r["width"]
    )
    if not own:  # stored before renditions existed: the original alone
        url = field_file.url
        return Picture(width, height, "", "", url, url, url)

    def srcset(items):
        return ", ".join(f"{storage.url(r['name'])} {r['width']}w" for r in items)

    return Picture(
        width=width,
        height=height,
        srcset=srcset(own),
        webp_srcset=srcset(webp) if fmt != "WEBP" else "",
        src_hero=storage.url(pick(own, HERO_WIDTH)["name"]),
        src_body=storage.url(pick(own, 800)["name"]),
        src_thumb=storage.url(own[0]["name"]),
    )
