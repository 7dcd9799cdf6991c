"""The image library in a real browser: several pictures uploaded at once and
described, a focal point set by clicking, and a library picture chosen for a
story from the figure row and from the body toolbar; axe on every page."""

import re

import pytest
from playwright.sync_api import expect

from briefings.models import Figure, FigurePlace, Image
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import ArticleFactory
from tests.test_images import picture
from tests.test_library import ImageFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_several_pictures_uploaded_at_once_then_described(live_server, browser):
    writer = newsroom_user("wendy", "Writers")
    base = live_server.url
    page = sign_in(browser, base, "wendy")
    errors = console_errors(page)
    page.goto(f"{base}/admin/briefings/image/")
    assert_accessible(browser, page)
    page.get_by_role("link", name="Upload several pictures").click()
    assert_accessible(browser, page)

    # One refused file: nothing is added, and the message names it.
    files = page.get_by_label("Pictures")
    files.set_input_files(
        [
            {"name": "ferry.png", "mimeType": "image/png", "buffer": picture("PNG")},
            {"name": "drawing.svg", "mimeType": "image/svg+xml", "buffer": b"<svg/>"},
        ]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("alert")).to_contain_text("drawing.svg: SVG files")
    assert Image.objects.count() == 0
    assert_accessible(browser, page)

    page.get_by_label("Pictures").set_input_files(
        [
            {"name": "ferry.png", "mimeType": "image/png", "buffer": picture("PNG")},
            {
                "name": "harbour.jpg",
                "mimeType": "image/jpeg",
                "buffer": picture("JPEG", (640, 480)),
            },
        ]
    )
    page.get_by_label("Credit").fill("Coast Agency")
    page.get_by_role("button", name="Upload").click()
    expect(
        page.get_by_role("heading", name="Describe the new pictures")
    ).to_be_visible()
    assert_accessible(browser, page)
    alts = page.get_by_label("Alt text")
    expect(alts).to_have_count(2)
    alts.nth(0).fill("A ferry at the quay")
    alts.nth(1).fill("The harbour at dawn")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist .success")).to_contain_text("described")
    expect(page.locator("img.library-thumbnail")).to_have_count(2)
    assert sorted(Image.objects.values_list("alt_text", flat=True)) == [
        "A ferry at the quay",
        "The harbour at dawn",
    ]
    assert set(Image.objects.values_list("uploaded_by", flat=True)) == {writer.pk}
    assert real_errors(errors) == []


def test_focal_point_set_by_clicking_on_the_picture(live_server, browser):
    newsroom_user("eddie", "Editors")
    image = ImageFactory()
    base = live_server.url
    page = sign_in(browser, base, "eddie", viewport={"width": 1280, "height": 1000})
    errors = console_errors(page)
    page.goto(f"{base}/admin/briefings/image/{image.pk}/change/")
    assert_accessible(browser, page)
    picker = page.locator(".focal-picker__image")
    box = picker.bounding_box()
    # Near the bottom-left corner of the picture.
    picker.click(position={"x": box["width"] * 0.2, "y": box["height"] * 0.9})
    across = float(page.get_by_label("Focal point across").input_value())
    down = float(page.get_by_label("Focal point down").input_value())
    assert across == pytest.approx(0.2, abs=0.03)
    assert down == pytest.approx(0.9, abs=0.03)
    mark = page.locator(".focal-picker__mark")
    mark_box = mark.bounding_box()
    assert mark_box["x"] + mark_box["width"] / 2 == pytest.approx(
        box["x"] + box["width"] * 0.2, abs=3
    )
    # The keyboard way: typing the numbers moves the mark too.
    page.get_by_label("Focal point across").fill("0.8")
    moved = mark.bounding_box()
    assert moved["x"] > mark_box["x"] + box["width"] * 0.5
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    image.refresh_from_db()
    assert image.focal_x == pytest.approx(0.8)
    assert image.focal_y == pytest.approx(down)
    assert {c["kind"] for c in image.crops} == {"card", "social"}
    assert real_errors(errors) == []


def test_a_library_picture_chosen_for_hero_and_body(live_server, browser):
    writer = newsroom_user("wendy", "Writers")
    harbour = ImageFactory(title="Harbour at dawn")
    ImageFactory(title="Parliament", alt_text="Members vote", default_caption="")
    story = ArticleFactory(headline="Ferries return", body="", created_by=writer)
    base = live_server.url
    page = sign_in(browser, base, "wendy", viewport={"width": 1400, "height": 1000})
    errors = console_errors(page)
    page.goto(f"{base}/admin/briefings/article/{story.pk}/change/")

    # The hero: a new figure row, its picture chosen by a search.
    page.get_by_role("button", name="Add another Figure").click()
    row = page.locator("#figures-group .inline-related:not(.empty-form)").last
    row.locator("select[name$='-place']").select_option(FigurePlace.HERO)
    row.get_by_role("button", name="Choose from the library").click()
    dialog = page.get_by_role("dialog", name="Choose a picture from the library")
    expect(dialog.locator(".image-chooser__choice")).to_have_count(2)
    dialog.get_by_label("Search the library").fill("harbour")
    expect(dialog.locator(".image-chooser__choice")).to_have_count(1)
    assert_accessible(browser, page, page.url)
    dialog.get_by_role("button", name=re.compile("Harbour at dawn")).click()
    expect(dialog).to_be_hidden()
    expect(row.locator("input.image-chooser-input")).to_have_value(str(harbour.pk))
    expect(row.locator(".image-chooser__chosen")).to_contain_text("Harbour at dawn")

    # The body: the toolbar's Figure button places a picture from the library.
    page.get_by_label("Body").fill("The ferries are back.")
    page.get_by_label("Body").press("End")
    toolbar = page.get_by_role("toolbar", name="Text formatting")
    toolbar.get_by_role("button", name="Figure").click()
    page.get_by_role("dialog", name="Place a picture").get_by_role(
        "button", name="Choose from the library…"
    ).click()
    dialog = page.get_by_role("dialog", name="Choose a picture from the library")
    dialog.get_by_label("Search the library").fill("members")
    dialog.get_by_role("button", name=re.compile("Parliament")).click()
    expect(page.get_by_label("Body")).to_have_value(
        "The ferries are back.\n\n[figure 1]\n\n"
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    figures = {f.place: f for f in Figure.objects.filter(article=story)}
    assert figures[FigurePlace.HERO].library_image == harbour
    assert figures[FigurePlace.BODY].library_image.title == "Parliament"
    assert figures[FigurePlace.BODY].position == 1
    # Saved rows show the library picture.
    expect(page.locator("img.figure-thumbnail")).to_have_count(2)
    assert real_errors(errors) == []
    assert_accessible(browser, page)


def test_the_chooser_page_works_without_javascript(live_server, browser):
    newsroom_user("wendy", "Writers")
    image = ImageFactory(title="Harbour at dawn")
    base = live_server.url
    page = sign_in(browser, base, "wendy", java_script_enabled=False)
    page.goto(f"{base}/admin/briefings/image/choose/")
    page.get_by_label("Search the library").fill("harbour")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".image-chooser__number")).to_have_text(f"Number: {image.pk}")
    assert_accessible(browser, page)


def test_a_picture_uploaded_in_a_figure_row_is_chosen_for_another_story(
    live_server, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    writer = newsroom_user("wendy", "Writers")
    first = ArticleFactory(headline="Ferries return", created_by=writer)
    second = ArticleFactory(headline="Timetable", created_by=writer)
    base = live_server.url
    page = sign_in(browser, base, "wendy", viewport={"width": 1400, "height": 1000})
    errors = console_errors(page)

    page.goto(f"{base}/admin/briefings/article/{first.pk}/change/")
    page.get_by_role("button", name="Add another Figure").click()
    row = page.locator("#figures-group .inline-related:not(.empty-form)").last
    row.get_by_label("Caption").fill("Gulls follow the morning ferry")
    row.get_by_label("Alt text").fill("A ferry with gulls above it")
    row.get_by_label("Or upload a new picture").set_input_files(
        files=[{"name": "gulls.png", "mimeType": "image/png", "buffer": picture()}]
    )
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    # The row now uses the new library picture (its number, its thumbnail).
    saved = page.locator("#figures-0")
    expect(saved.locator("img.figure-thumbnail")).to_be_visible()
    number = saved.locator("input.image-chooser-input").input_value()
    assert number.isdigit()

    page.goto(f"{base}/admin/briefings/article/{second.pk}/change/")
    page.get_by_role("button", name="Add another Figure").click()
    row = page.locator("#figures-group .inline-related:not(.empty-form)").last
    row.get_by_role("button", name="Choose from the library").click()
    dialog = page.get_by_role("dialog", name="Choose a picture from the library")
    dialog.get_by_label("Search the library").fill("morning ferry")
    expect(dialog.locator(".image-chooser__choice")).to_have_count(1)
    dialog.locator(".image-chooser__choice").click()
    expect(row.locator("input.image-chooser-input")).to_have_value(number)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert real_errors(errors) == []
    page.goto("about:blank")  # no request of the page's meets the queries below
    image = Image.objects.get()  # one picture, in two stories
    assert image.pk == int(number)
    assert image.default_caption == "Gulls follow the morning ferry"
    assert Figure.objects.get(article=second).library_image == image
