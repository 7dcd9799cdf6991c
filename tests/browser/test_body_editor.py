"""Writing a story body with the toolbar and the live preview, in a real browser.

The writer formats text from the toolbar (mouse and keyboard), adds a link and
an embed through small dialogs that refuse bad addresses, places a figure by
choosing its picture, and sees the server's rendering beside the text, under
the strict CSP. Without JavaScript the plain textarea still saves.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from briefings.models import Article
from tests.browser.desk_helpers import (
    PASSWORD,
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import ArticleFactory, FigureFactory
from tests.test_images import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_toolbar_dialogs_figure_chooser_and_live_preview(live_server, browser):
    writer = newsroom_user("wendy", "Writers")
    story = ArticleFactory(headline="Ferries return", body="", created_by=writer)
    FigureFactory(
        article=story,
        position=1,
        caption="The first ferry of the season",
        upload=SimpleUploadedFile("ferry.png", picture("PNG", (800, 500))),
        alt_text="A ferry leaving the harbour",
    )
    base = live_server.url
    page = sign_in(browser, base, "wendy", viewport={"width": 1400, "height": 1000})
    errors = console_errors(page)
    page.goto(f"{base}/admin/briefings/article/{story.pk}/change/")

    body = page.get_by_label("Body")
    toolbar = page.get_by_role("toolbar", name="Text formatting")
    preview = page.locator(".body-preview__content")
    # Body figures no line places come after the text, as readers see them.
    expect(preview).to_contain_text("The first ferry of the season")

    body.fill("The ferries are back")
    body.evaluate("el => el.setSelectionRange(4, 11)")  # "ferries"
    toolbar.get_by_role("button", name="Bold").click()
    expect(body).to_have_value("The **ferries** are back")
    expect(preview.locator("strong")).to_have_text("ferries")

    # Keyboard: one tab stop, arrow keys move along the toolbar.
    body.press("End")
    body.press("Enter")
    body.press("Enter")
    body.press_sequentially("A new timetable")
    toolbar.get_by_role("button", name="Bold").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(toolbar.get_by_role("button", name="Subheading")).to_be_focused()
    page.keyboard.press("Enter")
    expect(preview.get_by_role("heading", name="A new timetable")).to_be_visible()

    # A link: a bad address is refused with a message, a good one inserted.
    body.evaluate("el => el.setSelectionRange(0, 3)")  # "The"
    toolbar.get_by_role("button", name="Link").click()
    dialog = page.get_by_role("dialog", name="Add a link")
    dialog.get_by_label("Web address").fill("javascript:alert(1)")
    dialog.get_by_role("button", name="Insert").click()
    expect(dialog.locator(".errornote")).to_contain_text("https://")
    dialog.get_by_label("Web address").fill("https://example.com/ferries")
    dialog.get_by_role("button", name="Insert").click()
    expect(dialog).to_be_hidden()
    expect(preview.get_by_role("link", name="The")).to_have_attribute(
        "href", "https://example.com/ferries"
    )

    # An embed, on a line of its own.
    body.evaluate("el => el.setSelectionRange(el.value.length, el.value.length)")
    toolbar.get_by_role("button", name="Embed").click()
    dialog = page.get_by_role("dialog", name="Embed a video or post")
    dialog.get_by_label("YouTube, Vimeo or X address").fill("https://example.com/x")
    dialog.get_by_role("button", name="Insert").click()
    expect(dialog.locator(".errornote")).to_be_visible()
    dialog.get_by_label("YouTube, Vimeo or X address").fill(
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    )
    dialog.get_by_role("button", name="Insert").click()
    expect(preview).to_contain_text("Video from YouTube")

    # A figure, chosen by its picture.
    toolbar.get_by_role("button", name="Figure").click()
    chooser = page.get_by_role("dialog", name="Place a picture")
    choice = chooser.get_by_role("button", name="Figure 1: The first ferry")
    expect(choice.locator("img")).to_be_visible()
    assert_accessible(browser, page, page.url)
    choice.click()
    expect(body).to_have_value(
        "[The](https://example.com/ferries) **ferries** are back\n\n"
        "## A new timetable\n\n"
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n"
        "[figure 1]\n\n"
    )
    expect(preview.locator("figure img")).to_have_attribute(
        "alt", "A ferry leaving the harbour"
    )

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    story.refresh_from_db()
    assert "[figure 1]" in story.body and "**ferries**" in story.body
    assert real_errors(errors) == []
    assert_accessible(browser, page)


def test_without_javascript_the_plain_textarea_saves(live_server, browser):
    writer = newsroom_user("wendy", "Writers")
    story = ArticleFactory(headline="Ferries return", body="", created_by=writer)
    base = live_server.url
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("wendy")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/admin/briefings/article/{story.pk}/change/")
    expect(page.get_by_role("toolbar")).to_have_count(0)
    page.get_by_label("Body").fill("Plain **text** still works.")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    assert Article.objects.get(pk=story.pk).body == "Plain **text** still works."
    context.close()
