"""The image library: upload once, find again, use in any number of stories."""

from io import BytesIO
from types import SimpleNamespace

import factory
import pytest
from django.apps import apps
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import render_to_string
from django.urls import reverse
from PIL import Image as PILImage
from pytest_django.asserts import assertContains, assertNotContains

from briefings import models
from briefings.models import ArticleStatus, Figure, FigurePlace, Image
from briefings.stories import library
from briefings.stories.library import crop_box
from tests.factories import ArticleFactory, BylineFactory, FigureFactory
from tests.test_admin import change_url, form_values, staff
from tests.test_images import picture

pytestmark = pytest.mark.django_db

MIGRATION = __import__(
    "briefings.migrations.0020_image_library", fromlist=["move_figures_to_library"]
)


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


def rendered(figure):
    figure = Figure.objects.select_related("library_image").get(pk=figure.pk)
    return render_to_string("includes/figure.html", {"figure": figure, "hero": False})


def test_existing_figures_move_into_the_library_without_loss(media):
    story = ArticleFactory()
    with_picture = FigureFactory(
        article=story,
        image=SimpleUploadedFile("delegates.png", picture("PNG", (1300, 700))),
        alt_text="Delegates on the steps",
        caption="Delegates arrive.",
        credit="Jane Photographer/Agency",
    )
    note_only = FigureFactory(article=story, caption="A captioned note.")
    before = {f.pk: rendered(f) for f in (with_picture, note_only)}
    files_before = sorted(str(p) for p in media.rglob("*") if p.is_file())
    original = with_picture.image.name

    MIGRATION.move_figures_to_library(apps, SimpleNamespace(connection=connection))

    with_picture.refresh_from_db()
    note_only.refresh_from_db()
    image = with_picture.library_image
    assert image.file.name == original
    assert (image.width, image.height) == (1300, 700)
    assert image.alt_text == "Delegates on the steps"
    assert image.default_caption == "Delegates arrive."
    assert image.credit == "Jane Photographer/Agency"
    assert image.renditions and with_picture.renditions == []
    assert not with_picture.image
    assert note_only.library_image is None
    assert Image.objects.count() == 1
    # Readers see exactly what they saw; every file is still there.
    assert {f.pk: rendered(f) for f in (with_picture, note_only)} == before
    assert sorted(str(p) for p in media.rglob("*") if p.is_file()) == files_before

    # Running it again moves nothing twice; the reverse puts the picture back.
    MIGRATION.move_figures_to_library(apps, SimpleNamespace(connection=connection))
    assert Image.objects.count() == 1
    MIGRATION.move_figures_back(apps, SimpleNamespace(connection=connection))
    with_picture.refresh_from_db()
    assert with_picture.image.name == original and with_picture.library_image is None
    assert rendered(with_picture) == before[with_picture.pk]


def test_deleting_a_migrated_figure_keeps_the_library_files(
    django_capture_on_commit_callbacks,
):
    figure = FigureFactory(
        image=SimpleUploadedFile("a.png", picture("PNG", (600, 400))),
        alt_text="A picture",
    )
    MIGRATION.move_figures_to_library(apps, SimpleNamespace(connection=connection))
    figure.refresh_from_db()
    names = figure.library_image.stored_files()
    with django_capture_on_commit_callbacks(execute=True):
        figure.delete()
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
    assert figure.library_image == image and not figure.image
    assert figure.shown_alt == image.alt_text
    page = client.get(change_url(story))
    assertContains(page, image.picture.src_thumb)


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
