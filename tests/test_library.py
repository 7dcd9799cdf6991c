"""The image library: upload once, find again, use in any number of stories."""

import json
from importlib import import_module
from io import BytesIO
from types import SimpleNamespace

import factory
import pytest
import reversion
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image as PILImage
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from briefings import models
from briefings.models import ArticleStatus, Figure, FigurePlace, Image
from briefings.stories import images, library
from briefings.stories.library import crop_box
from tests.factories import ArticleFactory, BylineFactory, FigureFactory
from tests.test_admin import change_url, form_values, staff
from tests.test_images import picture

pytestmark = pytest.mark.django_db


class ImageFactory(factory.django.DjangoModelFactory):
    """A library image with a real, processed picture."""

    class Meta:
        model = Image

    title = factory.Sequence(lambda n: f"Harbour scene {n}")
    file = factory.LazyFunction(
        lambda: SimpleUploadedFile("harbour.png", picture("PNG", (900, 600)))
    )
    alt_text = "Fishing boats moored in the harbour at dawn"
    credit = "Ana Lens/Coast Agency"
    default_caption = "The harbour before the ferries return."


def stored_image(**fields):
    """A library row pointing at a file name, without processing (fast)."""
    return Image(file="library/2026/01/x.png", width=900, height=600, **fields)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def writer():
    return staff("writer", "Writers")


@pytest.fixture
def editor():
    return staff("editor", "Editors")


def halves(size, first, second):
    """A portrait PNG whose top half is `first` and bottom half `second`."""
    image = PILImage.new("RGB", size, first)
    image.paste(PILImage.new("RGB", (size[0], size[1] // 2), second), (0, size[1] // 2))
    buffer = BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def crop_colour(image, kind):
    crop = next(c for c in image.crops if c["kind"] == kind)
    with default_storage.open(crop["name"]) as file:
        opened = PILImage.open(BytesIO(file.read())).convert("RGB")
    return opened.getpixel((opened.width // 2, opened.height // 2)), opened.size


# --- The model -----------------------------------------------------------------


def test_the_two_lists_of_open_statuses_agree():
    """library.py repeats models.OPEN_STATUSES (it imports nothing from models)."""
    assert set(library.OPEN_STATUSES) == set(models.OPEN_STATUSES)


@pytest.mark.parametrize(
    ("focal", "box"),
    [
        ((0.5, 0.5), (0, 166, 1000, 833)),
        ((0.5, 0.0), (0, 0, 1000, 667)),
        ((0.5, 1.0), (0, 333, 1000, 1000)),
        ((0.1, 0.3), (0, 0, 1000, 667)),
        ((0.5, 0.6), (0, 266, 1000, 933)),
    ],
)
def test_crop_box_keeps_the_focal_point_in_view(focal, box):
    assert crop_box(1000, 1000, 3 / 2, *focal) == box


def test_crop_box_of_a_wide_picture_moves_across():
    assert crop_box(3000, 1000, 3 / 2, 0.0, 0.5) == (0, 0, 1500, 1000)
    assert crop_box(3000, 1000, 3 / 2, 1.0, 0.5) == (1500, 0, 3000, 1000)


def test_an_upload_is_cleaned_cut_and_cropped_around_the_focal_point(
    django_capture_on_commit_callbacks,
):
    image = Image(
        file=SimpleUploadedFile(
            "Quay_at-dawn.png", halves((1000, 2000), "red", "blue")
        ),
        alt_text="The quay",
        focal_y=0.0,
    )
    image.save()
    image.refresh_from_db()
    assert image.title == "Quay at dawn"
    assert image.file.name.startswith("library/") and not image.pending_file
    assert (image.width, image.height) == (1000, 2000)
    assert {r["width"] for r in image.renditions} == {480, 800, 1000}
    assert {c["kind"] for c in image.crops} == {"card", "social"}
    assert crop_colour(image, "card") == ((255, 0, 0), (480, 320))

    old_crops = [c["name"] for c in image.crops]
    image.focal_y = 1.0
    with django_capture_on_commit_callbacks(execute=True):
        image.save()
    assert crop_colour(image, "card")[0] == (0, 0, 255)
    assert crop_colour(image, "social")[0] == (0, 0, 255)
    # The crops of the old focal point are gone from storage.
    assert not any(default_storage.exists(name) for name in old_crops)


def test_a_refused_upload_stores_no_row_and_no_file(media):
    image = Image(file=SimpleUploadedFile("evil.png", b"<svg><script>x</script></svg>"))
    with pytest.raises(Exception, match="SVG"):
        image.save()
    assert Image.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_deleting_an_image_deletes_its_files(django_capture_on_commit_callbacks):
    image = ImageFactory()
    names = image.stored_files()
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=True):
        image.delete()
    assert not any(default_storage.exists(name) for name in names)


# --- Figures using the library ---------------------------------------------------


def test_one_picture_in_two_stories_with_its_defaults_and_an_override(client):
    image = ImageFactory()
    first = ArticleFactory(published=True, body="Text.\n\n[figure 1]")
    second = ArticleFactory(published=True)
    Figure.objects.create(article=first, position=1, library_image=image)
    Figure.objects.create(
        article=second,
        place=FigurePlace.HERO,
        library_image=image,
        caption="Boats wait for the storm to pass.",
        alt_text="Boats moored under a dark sky",
    )
    page = client.get(first.get_absolute_url())
    assertContains(page, 'alt="Fishing boats moored in the harbour at dawn"')
    assertContains(page, "The harbour before the ferries return.")
    assertContains(page, "Ana Lens/Coast Agency")
    assertContains(page, image.picture.srcset)

    page = client.get(second.get_absolute_url())
    assertContains(page, 'alt="Boats moored under a dark sky"')
    assertContains(page, "Boats wait for the storm to pass.")
    assertNotContains(page, "The harbour before the ferries return.")
    assertContains(page, "Ana Lens/Coast Agency")
    # Social sites get the 1.91:1 crop around the focal point.
    social = next(c for c in image.crops if c["kind"] == "social")
    assertContains(page, social["name"])


def test_story_cards_show_the_crop_around_the_focal_point(client):
    image = ImageFactory()
    story = ArticleFactory(published=True)
    Figure.objects.create(article=story, place=FigurePlace.HERO, library_image=image)
    page = client.get(reverse("briefings:home"))
    card = next(c for c in image.crops if c["kind"] == "card" and c["width"] == 480)
    assertContains(page, card["name"])


@pytest.mark.parametrize("heroes", [1, 20])
def test_home_page_queries_do_not_grow_with_library_heroes(
    client, django_assert_max_num_queries, heroes
):
    image = ImageFactory()
    for _ in range(heroes):
        story = ArticleFactory(published=True)
        BylineFactory(article=story)
        Figure.objects.create(
            article=story, place=FigurePlace.HERO, library_image=image
        )
    client.get(reverse("briefings:privacy"))  # steady state: cookie groups cached
    # As tests/test_pages.py's listing ceiling (8 cold), less the cold boxes'
    # two queries, plus one for the heroes' library images.
    with django_assert_max_num_queries(7):
        assert client.get(reverse("briefings:home")).status_code == 200


def test_story_page_queries_with_library_figures(
    client, django_assert_max_num_queries, settings
):
    settings.READS_FLUSH_SECONDS = 3600  # reads are written in batches, as live
    story = ArticleFactory(published=True, body="[figure 1]\n\n[figure 2]")
    for position in (1, 2):
        Figure.objects.create(
            article=story, position=position, library_image=ImageFactory()
        )
    Figure.objects.create(
        article=story, place=FigurePlace.HERO, library_image=ImageFactory()
    )
    client.get(reverse("briefings:home"))  # steady state, as tests/test_pages.py
    # tests/test_pages.py's story ceiling (8) plus one for the library images.
    with django_assert_max_num_queries(9):
        assert client.get(story.get_absolute_url()).status_code == 200


# --- Existing figures move into the library ---------------------------------------


def migrate(target):
    """Move the test database to `target` (None: the latest); the state's models."""
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes() if target is None else [target]
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def stored_picture(name, size=(1300, 700)):
    """A picture as an upload processed before 0021: a clean original and its
    renditions in storage. Returns (name, width, height, renditions)."""
    clean = images.clean_original(BytesIO(picture("PNG", size)))
    name = default_storage.save(name, ContentFile(clean.content))
    return (
        name,
        clean.width,
        clean.height,
        images.make_renditions(clean, name, default_storage),
    )


@pytest.mark.django_db(transaction=True)
def test_figures_with_their_own_pictures_move_into_the_library_without_loss(
    media, migration_rows
):
    """0020 moved figures' pictures into the library; figures that still hold
    one (uploaded after it, or waiting for the worker then) move with 0021,
    and 0022 drops the fields that held them. Nothing is lost either way."""
    story = ArticleFactory(headline="Delegates arrive")
    old = migrate(("briefings", "0020_image_library"))
    OldFigure = old.get_model("briefings", "Figure")
    name, width, height, renditions = stored_picture("figures/2026/11/steps.png")
    with_picture = OldFigure.objects.create(
        article_id=story.pk,
        image=name,
        image_width=width,
        image_height=height,
        renditions=renditions,
        alt_text="Delegates on the steps",
        caption="Delegates arrive.",
        credit="Jane Photographer/Agency",
    )
    staged = default_storage.save(
        "incoming/abc/late.png", BytesIO(picture("PNG", (800, 500)))
    )
    waiting = OldFigure.objects.create(
        article_id=story.pk, position=2, pending_image=staged, alt_text="Late"
    )
    note_only = OldFigure.objects.create(
        article_id=story.pk, position=3, caption="A captioned note."
    )
    files_before = sorted(str(p) for p in media.rglob("*") if p.is_file())

    migrate(None)

    moved = Figure.objects.select_related("library_image").get(pk=with_picture.pk)
    image = moved.library_image
    assert image.file.name == name and (image.width, image.height) == (1300, 700)
    assert image.renditions == renditions
    assert (image.alt_text, image.default_caption, image.credit) == (
        "Delegates on the steps",
        "Delegates arrive.",
        "Jane Photographer/Agency",
    )
    assert (moved.alt_text, moved.caption) == (
        "Delegates on the steps",
        "Delegates arrive.",
    )
    assert Figure.objects.get(pk=note_only.pk).library_image is None
    assert sorted(str(p) for p in media.rglob("*") if p.is_file()) == files_before
    # Readers see the picture, with its renditions, as before.
    html = render_to_string("includes/figure.html", {"figure": moved, "hero": False})
    assert default_storage.url(renditions[0]["name"]) in html
    assert "Delegates arrive." in html

    # The upload that waited for the worker is the library's now; the task
    # queued for the figure before the migration finishes it there.
    pending = Figure.objects.get(pk=waiting.pk).library_image
    assert pending.pending_file == staged and not pending.file
    assert models.process_figure_image.call(waiting.pk, staged) == "done"
    pending.refresh_from_db()
    assert (pending.width, pending.height) == (800, 500) and pending.renditions
    assert not default_storage.exists(staged)

    # Backwards, every picture is back on its figure.
    old = migrate(("briefings", "0019_desk_review_promotion"))
    back = old.get_model("briefings", "Figure").objects.get(pk=with_picture.pk)
    assert (back.image.name, back.renditions) == (name, renditions)
    migrate(None)


def test_deleting_a_figure_keeps_its_picture_in_the_library(
    django_capture_on_commit_callbacks,
):
    figure = FigureFactory(
        upload=SimpleUploadedFile("a.png", picture("PNG", (600, 400))),
        alt_text="A picture",
    )
    names = figure.library_image.stored_files()
    with django_capture_on_commit_callbacks(execute=True):
        figure.delete()
    assert Image.objects.count() == 1
    assert all(default_storage.exists(name) for name in names)


# --- The chooser -------------------------------------------------------------------


def choose(client, **params):
    return client.get(reverse("admin:briefings_image_choose"), params)


@pytest.mark.parametrize(
    "words",
    ["harbour", "HARBOUR dawn", "coast agency", "ferries return", "scene 7"],
)
def test_the_chooser_finds_a_picture_by_title_alt_credit_or_caption(
    client, writer, words
):
    wanted = ImageFactory.build(title="Harbour scene 7")
    wanted.save()
    other = Image(
        file=SimpleUploadedFile("o.png", picture("PNG", (300, 200))),
        title="Parliament",
        alt_text="Members vote",
    )
    other.save()
    client.force_login(writer)
    response = choose(client, q=words, fragment="1")
    assertContains(response, f'data-id="{wanted.pk}"')
    assertNotContains(response, f'data-id="{other.pk}"')


def test_the_chooser_without_javascript_shows_numbers_and_pages(client, writer):
    Image.objects.bulk_create([stored_image(title=f"Scene {n}") for n in range(30)])
    client.force_login(writer)
    response = choose(client)
    assertContains(response, "Number: <strong>", count=24)
    assertContains(response, "page=2")
    assertContains(choose(client, page="2"), "Number: <strong>", count=6)
    assertContains(choose(client, q="no such thing"), "No picture in the library")


@pytest.mark.parametrize("count", [1, 1000])
@pytest.mark.parametrize("query", ["", "scene"])
def test_chooser_query_ceiling(
    client, writer, django_assert_max_num_queries, count, query
):
    Image.objects.bulk_create([stored_image(title=f"Scene {n}") for n in range(count)])
    client.force_login(writer)
    # Session, user, two-factor devices (2), permissions (2), the page of
    # pictures, cookie groups (2), the session's save (3): never a count.
    with django_assert_max_num_queries(12):
        response = choose(client, q=query, fragment="1")
    assert response.content.count(b"image-chooser__choice") == min(count, 24)


@pytest.mark.parametrize("count", [1, 1000])
def test_library_list_query_ceiling(
    client, editor, django_assert_max_num_queries, count
):
    Image.objects.bulk_create([stored_image(title=f"Scene {n}") for n in range(count)])
    client.force_login(editor)
    # Session, user, devices, permissions, the page, a capped count, the
    # cookie groups and the session's save: the same at 1 and at 1,000.
    with django_assert_max_num_queries(13):
        response = client.get(
            reverse("admin:briefings_image_changelist"), {"q": "scene"}
        )
    assert response.status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL index")
def test_the_chooser_search_is_served_by_the_trigram_index():
    Image.objects.bulk_create([stored_image(title=f"Scene {n}") for n in range(200)])
    sql, params = Image.objects.search("harbour").query.sql_with_params()
    with connection.cursor() as cursor:
        # Small tables are read whole; with that (and a walk in date order)
        # ruled out, the filter must still have an index that serves it.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "image_search_trgm_idx" in plan


def test_the_chooser_needs_a_newsroom_account(client):
    response = choose(client)
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- Uploading several pictures ------------------------------------------------------


def upload(client, *files, **fields):
    return client.post(
        reverse("admin:briefings_image_upload"), {"files": list(files), **fields}
    )


def test_a_writer_uploads_several_pictures_then_describes_them(client, writer):
    client.force_login(writer)
    response = upload(
        client,
        SimpleUploadedFile("ferry-one.png", picture("PNG", (800, 500))),
        SimpleUploadedFile("ferry-two.jpg", picture("JPEG", (640, 480))),
        credit="Coast Agency",
    )
    made = list(Image.objects.order_by("pk"))
    assert [i.title for i in made] == ["ferry one", "ferry two"]
    assert all(i.credit == "Coast Agency" and i.renditions for i in made)
    assert all(i.uploaded_by == writer for i in made)
    describe = response["Location"]
    assert describe.endswith(f"?ids={made[0].pk},{made[1].pk}")

    data = form_values(client, describe)
    assert client.post(describe, data).status_code == 200  # alt text is required
    data.update({"form-0-alt_text": "The first ferry", "form-1-alt_text": "The second"})
    assert client.post(describe, data).status_code == 302
    assert [i.alt_text for i in Image.objects.order_by("pk")] == [
        "The first ferry",
        "The second",
    ]


def test_one_bad_file_refuses_the_whole_upload_and_names_it(client, writer, media):
    client.force_login(writer)
    response = upload(
        client,
        SimpleUploadedFile("good.png", picture("PNG", (800, 500))),
        SimpleUploadedFile("drawing.svg", b"<svg><script>alert(1)</script></svg>"),
        SimpleUploadedFile("notes.jpg", b"just text"),
    )
    assert response.status_code == 200
    assertContains(response, "Nothing was added")
    assertContains(response, "drawing.svg: SVG files are not accepted")
    assertContains(response, "notes.jpg: ")
    assertNotContains(response, "good.png:")
    assert Image.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


# --- Using a picture in a story through the story form ------------------------------


def test_a_writer_chooses_a_library_picture_for_a_draft(client, writer):
    image = ImageFactory()
    story = ArticleFactory(headline="Ferries return", created_by=writer)
    client.force_login(writer)
    data = form_values(client, change_url(story))
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": FigurePlace.HERO,
            "figures-0-position": "1",
            "figures-0-library_image": str(image.pk),
        }
    )
    response = client.post(change_url(story), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    figure = story.figures.get()
    assert figure.library_image == image
    assert figure.shown_alt == image.alt_text
    page = client.get(change_url(story))
    assertContains(page, image.picture.src_thumb)


def figure_row(**fields):
    """One new figure row of the story form."""
    return {
        "figures-TOTAL_FORMS": "1",
        "figures-0-place": FigurePlace.HERO,
        "figures-0-position": "1",
        **{f"figures-0-{name}": value for name, value in fields.items()},
    }


def upload_in_story(client, story, **fields):
    data = form_values(client, change_url(story))
    data.update(
        figure_row(
            upload=SimpleUploadedFile(
                "ferry-at-dawn.png", picture("PNG", (1300, 700)), "image/png"
            ),
            **fields,
        )
    )
    return client.post(change_url(story), data)


def test_a_picture_uploaded_in_a_figure_row_goes_into_the_library(client, writer):
    story = ArticleFactory(headline="Ferries return", published=True)
    BylineFactory(article=story)
    editor = staff("editor", "Editors")
    client.force_login(editor)
    response = upload_in_story(
        client,
        story,
        caption="The first ferry leaves Gyumri harbour.",
        credit="Ana Lens/Coast Agency",
        alt_text="A white ferry pulling away from the quay",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    figure = story.figures.get()
    image = figure.library_image
    # The library picture takes the row's words as its own; the figure keeps them.
    assert image.alt_text == "A white ferry pulling away from the quay"
    assert image.default_caption == "The first ferry leaves Gyumri harbour."
    assert image.credit == "Ana Lens/Coast Agency"
    assert image.uploaded_by == editor and image.title == "ferry at dawn"
    assert figure.caption == "The first ferry leaves Gyumri harbour."

    # The chooser finds it by words of its caption or of its alt text.
    for words in ("gyumri harbour", "white ferry", "coast agency"):
        found = choose(client, q=words, fragment="1")
        assertContains(found, f'data-id="{image.pk}"')

    # Readers see it, from the library, with the figure's caption.
    page = client.get(story.get_absolute_url())
    assertContains(page, image.picture.src_hero)
    assertContains(page, "The first ferry leaves Gyumri harbour.")
    assertContains(page, 'alt="A white ferry pulling away from the quay"')


def test_a_second_story_uses_the_uploaded_picture_with_its_own_caption(client, writer):
    first = ArticleFactory(headline="Ferries return", created_by=writer)
    client.force_login(writer)
    assert (
        upload_in_story(
            client,
            first,
            caption="The first ferry.",
            alt_text="A white ferry pulling away from the quay",
        ).status_code
        == 302
    )
    image = first.figures.get().library_image

    # An editor uses it in a published story, with this story's own caption.
    second = ArticleFactory(headline="Timetable", published=True)
    BylineFactory(article=second)
    client.force_login(staff("editor", "Editors"))
    data = form_values(client, change_url(second))
    data.update(
        figure_row(library_image=str(image.pk), caption="Ferries run hourly again.")
    )
    assert client.post(change_url(second), data).status_code == 302
    assert second.figures.get().library_image == image
    assert Image.objects.count() == 1  # one picture, two uses
    page = client.get(second.get_absolute_url())
    assertContains(page, image.picture.src_hero)
    assertContains(page, "Ferries run hourly again.")
    assertNotContains(page, "The first ferry.")
    used_in = client.get(reverse("admin:briefings_image_change", args=[image.pk]))
    assertContains(used_in, "Ferries return")
    assertContains(used_in, "Timetable")


def test_a_form_error_adds_no_picture_to_the_library(client, writer, media):
    story = ArticleFactory(created_by=writer)
    client.force_login(writer)
    # The row's own error (no alt text) and another part's error (the slug).
    response = upload_in_story(client, story, caption="No alt text given.")
    assertContains(response, "Describe the picture for readers who cannot see it.")
    data = form_values(client, change_url(story))
    data.update(
        figure_row(
            alt_text="A ferry",
            upload=SimpleUploadedFile("ferry.png", picture("PNG"), "image/png"),
        ),
        slug="not a slug!",
    )
    assert client.post(change_url(story), data).status_code == 200
    assert not story.figures.exists()
    assert not Image.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_when_processing_fails_nothing_is_half_written(
    client, writer, media, monkeypatch
):
    """Processing is the worker's (here run at once): when it fails, the
    picture waits for the retry as it was, with no stray file, and pages
    show the figure as a captioned note meanwhile."""
    story = ArticleFactory(created_by=writer)
    client.force_login(writer)
    real = library.make_crops

    def fails(*args):
        raise OSError("the disk is full")  # after the original and renditions

    monkeypatch.setattr(library, "make_crops", fails)
    response = upload_in_story(client, story, caption="Cap", alt_text="A ferry")
    assert response.status_code == 302
    image = story.figures.get().library_image
    staged = image.pending_file
    assert staged and not image.file and image.renditions == []
    assert sorted(p for p in media.rglob("*") if p.is_file()) == [media / staged]
    assertContains(client.get(change_url(story)), "being prepared")

    monkeypatch.setattr(library, "make_crops", real)
    assert library.process_library_image.call(image.pk, staged) == "done"
    image.refresh_from_db()
    assert image.file and image.renditions and not image.pending_file
    assert not default_storage.exists(staged)


def test_a_failed_figure_save_leaves_no_picture_in_the_library(media):
    """The library picture and the figure are written together or not at all."""
    story = ArticleFactory()
    FigureFactory(article=story, place=FigurePlace.HERO)
    with pytest.raises(IntegrityError):  # a second hero
        FigureFactory(
            article=story,
            place=FigurePlace.HERO,
            upload=SimpleUploadedFile("quay.png", picture("PNG", (900, 600))),
            alt_text="The quay",
        )
    assert not Image.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_a_figure_made_in_code_with_an_upload_goes_into_the_library_too():
    figure = FigureFactory(
        upload=SimpleUploadedFile("quay.png", picture("PNG", (900, 600))),
        alt_text="The quay",
        caption="The quay at noon.",
    )
    assert figure.library_image.default_caption == "The quay at noon."
    assert figure.upload is None  # saving again adds nothing
    figure.save()
    assert Image.objects.search("quay noon").get() == figure.library_image


def test_a_library_picture_without_alt_text_needs_it_in_the_story(client, writer):
    image = ImageFactory(alt_text="")
    story = ArticleFactory(created_by=writer)
    client.force_login(writer)
    data = form_values(client, change_url(story))
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": FigurePlace.BODY,
            "figures-0-position": "1",
            "figures-0-library_image": str(image.pk),
        }
    )
    response = client.post(change_url(story), data)
    assertContains(response, "The library picture has no alt text")
    assert not story.figures.exists()


# --- Who may change and delete --------------------------------------------------------


def image_url(image, action="change"):
    return reverse(f"admin:briefings_image_{action}", args=[image.pk])


def test_a_writer_cannot_change_a_picture_a_live_story_shows(client, writer, editor):
    image = ImageFactory()
    live = ArticleFactory(published=True)
    Figure.objects.create(article=live, library_image=image)
    client.force_login(writer)
    page = client.get(image_url(image))
    assert page.status_code == 200
    assertNotContains(page, 'name="alt_text"')  # read-only for them
    response = client.post(
        image_url(image), {"alt_text": "Changed", "focal_x": "0", "focal_y": "0"}
    )
    assert response.status_code == 403
    image.refresh_from_db()
    assert image.alt_text != "Changed"
    with pytest.raises(Exception, match="Only editors"):
        image.save_by(writer)

    client.force_login(editor)
    data = form_values(client, image_url(image))
    data["alt_text"] = "Boats in the harbour"
    assert client.post(image_url(image), data).status_code == 302
    image.refresh_from_db()
    assert image.alt_text == "Boats in the harbour"


def test_a_writer_changes_a_picture_only_drafts_use(client, writer):
    image = ImageFactory()
    Figure.objects.create(
        article=ArticleFactory(status=ArticleStatus.DRAFT), library_image=image
    )
    client.force_login(writer)
    data = form_values(client, image_url(image))
    data.update({"alt_text": "Boats at dawn", "focal_x": "0.2"})
    assert client.post(image_url(image), data).status_code == 302
    image.refresh_from_db()
    assert (image.alt_text, image.focal_x) == ("Boats at dawn", 0.2)


def test_a_picture_a_published_story_uses_is_not_deleted(client, editor):
    image = ImageFactory()
    Figure.objects.create(
        article=ArticleFactory(published=True, headline="Ferries return"),
        library_image=image,
    )
    client.force_login(editor)
    response = client.get(image_url(image, "delete"), follow=True)
    assertContains(response, "used by published stories (“Ferries return”)")
    response = client.post(image_url(image, "delete"), {"post": "yes"}, follow=True)
    assertContains(response, "not deleted")
    assert Image.objects.filter(pk=image.pk).exists()


def test_an_unused_picture_is_deleted_by_an_editor_not_a_writer(client, writer, editor):
    image = ImageFactory()
    client.force_login(writer)
    assert client.post(image_url(image, "delete"), {"post": "yes"}).status_code == 403
    client.force_login(editor)
    response = client.post(image_url(image, "delete"), {"post": "yes"})
    assert response.status_code == 302
    assert not Image.objects.filter(pk=image.pk).exists()


def test_the_library_list_shows_thumbnails_and_finds_by_credit(client, writer):
    image = ImageFactory()
    Image(
        file=SimpleUploadedFile("p.png", picture("PNG", (300, 200))),
        title="Parliament",
        credit="Other Agency",
        alt_text="Members vote",
    ).save()
    client.force_login(writer)
    response = client.get(reverse("admin:briefings_image_changelist"), {"q": "coast"})
    assertContains(response, image.picture.src_thumb)
    assertNotContains(response, "Parliament")
    assertContains(response, "Upload several pictures")


DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def test_an_upload_rolled_back_with_its_story_leaves_no_file(media, settings):
    """A picture staged inside a larger transaction (the admin saves a story
    and all its rows in one) goes when that transaction rolls back."""
    settings.TASKS = DUMMY_TASKS  # the worker would process it after the commit
    story = ArticleFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        FigureFactory(
            article=story,
            upload=SimpleUploadedFile("quay.png", picture("PNG", (900, 600))),
            alt_text="The quay",
        )
        staged = Image.objects.get().pending_file
        assert default_storage.exists(staged)
        raise RuntimeError("a later row of the story failed to save")
    assert not Image.objects.exists()
    assert not any(p.is_file() for p in media.rglob("*"))


def test_an_upload_committed_keeps_its_file_for_the_worker(
    media, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = DUMMY_TASKS
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        FigureFactory(
            upload=SimpleUploadedFile("quay.png", picture("PNG", (900, 600))),
            alt_text="The quay",
        )
    staged = Image.objects.get().pending_file
    assert default_storage.exists(staged)


def test_a_figure_revision_from_before_the_library_restores_its_picture():
    """A revision stored before 0020 names the figure's picture by its file;
    0023 names the library picture 0020 made of it, so a restore brings the
    picture back (it came back without one)."""
    migration = import_module(
        "briefings.migrations.0023_figure_revisions_name_library_pictures"
    )
    old_file = "figures/2025/11/quay.jpg"
    moved = Image.objects.create(title="quay", file=old_file, alt_text="The quay")
    figure = FigureFactory(caption="The quay at noon.", alt_text="The quay")
    gone = FigureFactory(caption="Deleted since.", alt_text="A ferry")
    with reversion.create_revision():
        figure.save()
        gone.save()
    old_shape = {
        figure.pk: {"image": old_file, "image_width": 1200, "renditions": []},
        gone.pk: {"image": "figures/2025/11/gone.jpg"},
    }
    for version in Version.objects.get_for_model(Figure):
        rows = json.loads(version.serialized_data)
        for row in rows:  # as stored before 0020: no library picture
            row["fields"].pop("library_image")
            row["fields"].update(old_shape[row["pk"]])
        version.serialized_data = json.dumps(rows)
        version.save()
    Figure.objects.filter(pk=figure.pk).update(library_image=None)

    migration.name_library_pictures(apps, SimpleNamespace(connection=connection))

    Version.objects.get_for_object(figure).get().revert()
    figure.refresh_from_db()
    assert figure.library_image == moved
    # A file the library does not hold is left as it was.
    (unmatched,) = json.loads(
        Version.objects.get_for_object(gone).get().serialized_data
    )
    assert "library_image" not in unmatched["fields"]
