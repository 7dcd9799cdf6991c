"""Pictures: what uploads are accepted, what is stored, and how pages show them."""

import os
import re
from io import BytesIO, StringIO

import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import Figure, FigurePlace
from briefings.models import Image as LibraryImage
from briefings.stories import images
from briefings.stories.images import check_image
from tests.factories import ArticleFactory, BylineFactory, FigureFactory
from tests.test_admin import change_url, form_values, staff

pytestmark = pytest.mark.django_db

GPS_IFD, MAKE, MODEL, ORIENTATION = 0x8825, 0x010F, 0x0110, 0x0112


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor(client):
    client.force_login(staff("picture-editor", "Editors"))
    return client


def stored_files(media):
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def picture(fmt="PNG", size=(1000, 500), colour="teal", **save_options):
    buffer = BytesIO()
    mode = "RGB" if fmt == "JPEG" else "RGBA"
    Image.new(mode, size, colour).save(buffer, fmt, **save_options)
    return buffer.getvalue()


def noisy_png(size):
    """A PNG that does not compress, so its size on disk is known."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def jpeg_with_gps():
    """A 1600x900 camera JPEG, rotated by EXIF, with GPS, make and model."""
    exif = Image.Exif()
    exif[MAKE] = "Camera maker"
    exif[MODEL] = "Model X"
    exif[ORIENTATION] = 6  # the pixels lie on their side: turn 90 degrees
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (40.0, 10.0, 37.0), 3: "E", 4: (44.0, 30.0, 53.0)})
    exif[GPS_IFD] = gps
    return picture("JPEG", (1600, 900), "olive", exif=exif)


def upload_through_admin(client, filename, content, *, place=FigurePlace.BODY):
    """Post the story form with one new figure, as an editor's browser does."""
    story = ArticleFactory(headline="A story with a picture")
    BylineFactory(article=story)
    data = form_values(client, change_url(story))
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": place,
            "figures-0-position": "1",
            "figures-0-caption": "Delegates arrive.",
            "figures-0-credit": "Jane Photographer/Agency",
            "figures-0-alt_text": "Delegates walk up the steps.",
            "figures-0-upload": SimpleUploadedFile(filename, content, "image/jpeg"),
        }
    )
    return story, client.post(change_url(story), data)


def reopen(name):
    with default_storage.open(name) as file:
        data = file.read()
    image = Image.open(BytesIO(data))
    image.load()
    return data, image


# --- What is accepted ----------------------------------------------------------


def test_a_real_png_named_jpg_is_accepted_and_stored_as_png(editor, media):
    story, response = upload_through_admin(editor, "photo.jpg", picture("PNG"))
    assert response.status_code == 302
    image = story.figures.get().library_image  # uploads go into the library
    assert image.file.name.endswith(".png")  # named by what it is
    assert reopen(image.file.name)[1].format == "PNG"
    assert (image.width, image.height) == (1000, 500)
    # The form shows the picture from its smallest rendition, with its size.
    thumbnail = default_storage.url(image.file.name.replace(".png", "-480w.png"))
    form = editor.get(change_url(story))
    assertContains(form, f'<img src="{thumbnail}" alt="Delegates walk up the steps."')
    assertContains(form, "1000 × 500 px")


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("notes.jpg", b"Just some text, not a picture at all.\n" * 20, "Unsupported"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "SVG files are not accepted",
        ),
        (
            "page.jpg",
            b"<html><body><script>alert(1)</script></body></html>",
            "HTML or XML text, not a picture",
        ),
        ("animation.jpg", picture("GIF", (20, 20)), "Unsupported image format"),
        ("scan.jpg", picture("TIFF", (20, 20)), "Unsupported image format"),
        ("broken.png", picture("PNG")[:200], "damaged or incomplete"),
    ],
)
def test_what_is_not_a_jpeg_png_or_webp_is_refused_and_not_stored(
    editor, media, filename, content, message
):
    story, response = upload_through_admin(editor, filename, content)
    assert response.status_code == 200
    assertContains(response, message)
    assert not story.figures.exists() and not LibraryImage.objects.exists()
    assert stored_files(media) == []


def test_an_oversized_file_is_refused_before_decoding(editor, media, settings):
    settings.BRIEFINGS_MAX_UPLOAD_MB = 0.1
    content = noisy_png((200, 200))  # 120 KB
    assert len(content) > 0.1 * 1024 * 1024
    story, response = upload_through_admin(editor, "big.png", content)
    assert response.status_code == 200
    assertContains(response, "the limit is 0.1 MB")
    assert not story.figures.exists() and not LibraryImage.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("side", [1500, 4000])
def test_a_decompression_bomb_is_refused_cleanly(editor, media, settings, side):
    """Small on disk, huge in memory: refused from its header, never decoded.

    1500x1500 is over the limit (our check); 4000x4000 is over twice the limit,
    where Pillow's own guard raises while opening.
    """
    settings.BRIEFINGS_MAX_IMAGE_PIXELS = 1_000_000
    bomb = picture("PNG", (side, side), "white")
    assert len(bomb) < 100_000
    story, response = upload_through_admin(editor, "bomb.png", bomb)
    assert response.status_code == 200
    assertContains(response, "Image too large: more than 1000000 pixels")
    assert not story.figures.exists() and not LibraryImage.objects.exists()
    assert stored_files(media) == []


def test_a_polyglot_is_re_encoded_without_its_payload(editor, media):
    payload = b"<html><script>alert(1)</script></html>"
    story, response = upload_through_admin(
        editor, "trick.jpg", picture("JPEG", (600, 400)) + payload
    )
    assert response.status_code == 302
    for name in story.figures.get().library_image.stored_files():
        data, image = reopen(name)
        assert b"<script" not in data
        assert image.format in ("JPEG", "WEBP")


def test_the_check_opens_only_the_three_formats(monkeypatch):
    seen = []
    real_open = Image.open

    def spy(fp, mode="r", formats=None):
        seen.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", spy)
    check_image(SimpleUploadedFile("x.webp", picture("WEBP", (30, 20))))
    assert seen and all(tuple(f) == ("JPEG", "PNG", "WEBP") for f in seen)


# --- What is stored --------------------------------------------------------------


def test_exif_and_gps_are_gone_from_every_stored_file(editor, media):
    story, response = upload_through_admin(editor, "camera.jpg", jpeg_with_gps())
    assert response.status_code == 302
    image = story.figures.get().library_image
    # The orientation was applied to the pixels: the stored picture is upright.
    assert (image.width, image.height) == (900, 1600)
    names = image.stored_files()
    # The original, 480/800/900 in JPEG and WebP, and crops: card 480/800, social.
    assert len(names) == 1 + 2 * 3 + 3
    crops = {crop["name"] for crop in image.crops}
    for name in names:
        data, opened = reopen(name)
        exif = opened.getexif()
        assert not {GPS_IFD, MAKE, MODEL, ORIENTATION} & set(exif)
        assert exif.get_ifd(GPS_IFD) == {}
        assert not {"exif", "icc_profile", "xmp"} & set(opened.info)
        assert b"Exif\x00\x00" not in data and b"Camera maker" not in data
        assert name in crops or opened.height > opened.width


def test_renditions_are_made_once_at_their_widths(editor, media, monkeypatch):
    saves = []
    real_save = FileSystemStorage._save
    monkeypatch.setattr(
        FileSystemStorage,
        "_save",
        lambda self, name, content: (
            saves.append(name) or real_save(self, name, content)
        ),
    )
    story, response = upload_through_admin(
        editor, "wide.jpg", picture("JPEG", (2400, 1200))
    )
    assert response.status_code == 302
    figure = story.figures.get()
    image = figure.library_image
    # The upload as sent (kept aside for the worker), the clean original, four
    # widths in two formats, three crops (card 480/800, social 1200); the
    # upload kept aside is gone once they exist.
    assert len(saves) == 1 + 1 + 4 * 2 + 3
    assert saves[0].startswith("incoming/")
    assert not FileSystemStorage(location=media).exists(saves[0])
    assert [(r["format"], r["width"], r["height"]) for r in image.renditions] == [
        ("JPEG", 480, 240),
        ("JPEG", 800, 400),
        ("JPEG", 1200, 600),
        ("JPEG", 1600, 800),
        ("WEBP", 480, 240),
        ("WEBP", 800, 400),
        ("WEBP", 1200, 600),
        ("WEBP", 1600, 800),
    ]
    for rendition in image.renditions:
        assert reopen(rendition["name"])[1].size == (
            rendition["width"],
            rendition["height"],
        )
    mtimes = [p.stat().st_mtime_ns for p in stored_files(media)]

    # Saving the story again, caption changed, image untouched: nothing is redone.
    data = form_values(editor, change_url(story))
    data["figures-0-caption"] = "A new caption."
    assert editor.post(change_url(story), data).status_code == 302
    figure.refresh_from_db()
    assert figure.caption == "A new caption."
    assert len(saves) == 13
    assert [p.stat().st_mtime_ns for p in stored_files(media)] == mtimes


def test_small_pictures_are_never_upscaled(media):
    figure = FigureFactory(
        upload=SimpleUploadedFile("small.png", picture("PNG", (700, 350))),
        alt_text="A small picture",
    )
    assert sorted({r["width"] for r in figure.library_image.renditions}) == [480, 700]


def test_a_new_upload_replaces_the_figures_picture_and_keeps_the_old_one(
    editor, media, django_capture_on_commit_callbacks
):
    """The library keeps every upload: another story may use the first picture.
    Only deleting an unused picture from the library removes its files."""
    with django_capture_on_commit_callbacks(execute=True):
        story, _ = upload_through_admin(editor, "first.png", picture("PNG", (900, 600)))
    first = story.figures.get().library_image
    assert len(first.stored_files()) == 7 + 3  # original, 3 widths x 2, 3 crops

    data = form_values(editor, change_url(story))
    data["figures-0-library_image"] = ""  # a new upload instead
    data["figures-0-upload"] = SimpleUploadedFile(
        "second.png", picture("PNG", (500, 400))
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(change_url(story), data).status_code == 302
    second = story.figures.get().library_image
    assert second != first
    assert not set(first.stored_files()) & set(second.stored_files())
    assert stored_files(media) == sorted(
        media / name for name in [*first.stored_files(), *second.stored_files()]
    )

    with django_capture_on_commit_callbacks(execute=True):
        first.delete_by(staff("picture-desk", "Editors"))
    assert stored_files(media) == sorted(media / n for n in second.stored_files())

    data = form_values(editor, change_url(story))
    data["figures-0-library_image"] = ""  # the figure stays, as text
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(change_url(story), data).status_code == 302
    assert story.figures.get().library_image is None
    assert LibraryImage.objects.get() == second  # still in the library


def test_deleting_a_figure_or_its_story_keeps_the_picture_in_the_library(
    editor, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        story, _ = upload_through_admin(editor, "first.png", picture("PNG", (900, 600)))
    image = story.figures.get().library_image
    data = form_values(editor, change_url(story))
    data["figures-0-DELETE"] = "on"
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.post(change_url(story), data).status_code == 302
    assert not story.figures.exists()
    assert stored_files(media) == sorted(media / n for n in image.stored_files())

    FigureFactory(article=story, library_image=image)
    with django_capture_on_commit_callbacks(execute=True):
        story.delete()
    assert LibraryImage.objects.get() == image
    with django_capture_on_commit_callbacks(execute=True):
        image.delete_by(staff("picture-desk", "Editors"))  # unused now
    assert stored_files(media) == []


def test_a_figure_saved_outside_the_admin_is_checked_too(media):
    with pytest.raises(Exception, match="Unsupported image format"):
        FigureFactory(
            upload=SimpleUploadedFile("x.jpg", b"GIF89a not really"), alt_text="x"
        )
    assert not Figure.objects.exists() and not LibraryImage.objects.exists()
    assert stored_files(media) == []


# --- How pages show them -----------------------------------------------------------


def story_with_pictures():
    story = ArticleFactory(published=True, body="Intro.\n\n[figure 1]\n\nMore.")
    hero = FigureFactory(
        article=story,
        place=FigurePlace.HERO,
        upload=SimpleUploadedFile("hero.jpg", picture("JPEG", (2000, 1000))),
        alt_text="The square at dawn",
    )
    body = FigureFactory(
        article=story,
        position=1,
        upload=SimpleUploadedFile("body.png", picture("PNG", (1000, 750))),
        alt_text="A map of the region",
    )
    return story, hero, body


def img_tag(html, alt):
    return re.search(rf'<img [^>]*alt="{alt}"[^>]*>', html).group(0)


def test_story_page_serves_sized_responsive_pictures(client):
    story, hero, body = story_with_pictures()
    response = client.get(story.get_absolute_url())
    html = response.content.decode()
    url = default_storage.url

    hero_img = img_tag(html, "The square at dawn")
    assert 'width="2000" height="1000"' in hero_img
    hero_file = hero.library_image.file.name
    assert f'src="{url(hero_file.replace(".jpg", "-1200w.jpg"))}"' in hero_img
    assert "loading=" not in hero_img and 'fetchpriority="high"' in hero_img
    assert 'sizes="(min-width: 42rem) 40rem, calc(100vw - 2rem)"' in hero_img
    srcset = ", ".join(
        f"{url(r['name'])} {r['width']}w"
        for r in hero.library_image.renditions
        if r["format"] == "JPEG"
    )
    assert f'srcset="{srcset}"' in hero_img
    webp = ", ".join(
        f"{url(r['name'])} {r['width']}w"
        for r in hero.library_image.renditions
        if r["format"] == "WEBP"
    )
    assertContains(response, f'<source type="image/webp" srcset="{webp}"')

    body_img = img_tag(html, "A map of the region")
    assert 'width="1000" height="750"' in body_img
    assert 'loading="lazy"' in body_img and 'decoding="async"' in body_img
    assert "480w" in body_img and "1000w" in body_img
    assertContains(response, "<picture>", count=2)
    assertNotContains(response, "figures/hero.jpg")  # no raw upload name anywhere


def test_story_page_never_opens_a_picture_file(client, monkeypatch):
    story, _, _ = story_with_pictures()

    def refuse(*args, **kwargs):
        raise AssertionError("a page render opened a media file")

    monkeypatch.setattr(FileSystemStorage, "open", refuse)
    monkeypatch.setattr(FileSystemStorage, "exists", refuse)
    assert client.get(story.get_absolute_url()).status_code == 200
    assert client.get(reverse("briefings:home")).status_code == 200


@pytest.mark.parametrize("size", [1, 12])
def test_article_page_query_ceiling_with_pictures(
    client, django_assert_max_num_queries, settings, size
):
    settings.READS_FLUSH_SECONDS = 3600
    story = ArticleFactory(published=True, body="Text.")
    BylineFactory(article=story)
    content = picture("PNG", (500, 300))
    for n in range(size):
        FigureFactory(
            article=story,
            position=n + 1,
            upload=SimpleUploadedFile(f"p{n}.png", content),
            alt_text=f"Picture {n}",
        )
    client.get(reverse("briefings:home"))  # steady state: cookie groups cached
    with django_assert_max_num_queries(8):
        response = client.get(story.get_absolute_url())
    assertContains(response, "<picture>", count=size)


def test_clean_images_brings_old_uploads_up_to_date(media):
    old = default_storage.save("library/2025/01/old.jpg", BytesIO(jpeg_with_gps()))
    image = LibraryImage.objects.create(file=old, alt_text="An old picture")
    broken = LibraryImage.objects.create(
        file="library/2025/01/gone.jpg", alt_text="A lost picture"
    )

    out = StringIO()
    with pytest.raises(CommandError, match="1 of 2 picture"):
        call_command("clean_images", stdout=out, stderr=StringIO())
    assert "Cleaned 1 picture(s); 1 failed." in out.getvalue()
    image.refresh_from_db()
    assert image.renditions and (image.width, image.height) == (900, 1600)
    for name in image.stored_files():
        assert GPS_IFD not in reopen(name)[1].getexif()

    broken.delete()
    out = StringIO()
    call_command("clean_images", "--dry-run", stdout=out)
    assert "0 picture(s) to clean." in out.getvalue()


def test_an_old_picture_whose_file_is_lost_does_not_break_the_page(client, media):
    story = ArticleFactory(published=True)
    lost = LibraryImage.objects.create(file="library/2025/01/lost.jpg")
    FigureFactory(
        article=story, place=FigurePlace.HERO, library_image=lost, alt_text="Lost"
    )
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    assert 'src="/media/library/2025/01/lost.jpg"' in img_tag(
        response.content.decode(), "Lost"
    )


def test_an_embedded_colour_profile_is_dropped_and_the_colours_kept():
    """The profile goes (like all metadata); pixels are converted to sRGB first.

    Only an sRGB profile is at hand here, so this shows the colours survive
    the trip, not a wide-gamut conversion.
    """
    from PIL import ImageCms

    from briefings.stories.images import clean_original

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    content = picture("PNG", (40, 30), (200, 40, 90, 255), icc_profile=srgb)
    assert "icc_profile" in Image.open(BytesIO(content)).info
    clean = clean_original(SimpleUploadedFile("p.png", content))
    stored = Image.open(BytesIO(clean.content))
    assert "icc_profile" not in stored.info
    red, green, blue, _ = stored.getpixel((5, 5))
    assert abs(red - 200) + abs(green - 40) + abs(blue - 90) <= 6


def test_renditions_cut_short_leave_no_file_behind(media, monkeypatch):
    clean = images.clean_original(BytesIO(picture("PNG", (1000, 500))))
    real = images._encode
    calls = []

    def encode(image, fmt):
        calls.append(fmt)
        if len(calls) == 3:
            raise OSError("the disk is full")
        return real(image, fmt)

    monkeypatch.setattr(images, "_encode", encode)
    with pytest.raises(OSError, match="the disk is full"):
        images.make_renditions(clean, "library/x.png", default_storage)
    assert stored_files(media) == []
