"""Ordering bylines, figures and related links in a real browser.

By keyboard (arrow keys on a row's handle) and by drag and drop; positions
are written for the editor, and moving body figures keeps each "[figure N]"
line with its picture.
"""

import pytest
from playwright.sync_api import expect

from briefings.models import Article
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    FigureFactory,
    RelatedLinkFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reordering_by_keyboard_and_by_drag_and_drop(live_server, browser):
    newsroom_user("eddie", "Editors")
    story = ArticleFactory(
        headline="Ferries return", body="[figure 1]\n\nThe text.\n\n[figure 2]"
    )
    for n, name in enumerate(["Ann Avery", "Bo Brand", "Cy Cole"]):
        BylineFactory(article=story, author=AuthorFactory(name=name), position=n)
    RelatedLinkFactory(article=story, title="Older story", position=0)
    RelatedLinkFactory(article=story, title="Newer story", position=1)
    first = FigureFactory(article=story, position=1, caption="Harbour at dawn")
    second = FigureFactory(article=story, position=2, caption="Ferry at sea")
    page = sign_in(
        browser, live_server.url, "eddie", viewport={"width": 1400, "height": 1000}
    )
    errors = console_errors(page)
    page.goto(f"{live_server.url}/admin/briefings/article/{story.pk}/change/")
    # The links' story boxes are empty (outside addresses): each still says
    # what it is for, to the eye and to a screen reader.
    expect(page.get_by_role("combobox", name="Choose a story")).to_have_count(2)

    # Keyboard: Cy to the top of the byline.
    handle = page.get_by_role("button", name="Move byline “Cy Cole”")
    handle.focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(handle).to_be_focused()
    expect(
        page.get_by_role("status").filter(has_text="Cy Cole: position 1 of 3")
    ).to_have_count(1)
    expect(page.locator("#bylines-group .field-position").first).to_be_hidden()

    # Drag and drop: the newer related link above the older one.
    page.get_by_role("button", name="Move related link “Newer story”").drag_to(
        page.locator("#related_links-0")
    )
    # A new related link goes last by itself.
    page.get_by_role("button", name="Add another Related link").click()
    page.locator("input[name='related_links-2-title']").fill("Newest story")
    expect(page.locator("input[name='related_links-2-position']")).to_have_value("2")

    # Body figures: moving one keeps each picture where the text places it.
    page.get_by_role("button", name="Move figure “Ferry at sea”").focus()
    page.keyboard.press("ArrowUp")
    expect(page.get_by_label("Body")).to_have_value(
        "[figure 2]\n\nThe text.\n\n[figure 1]"
    )
    assert_accessible(browser, page, page.url)

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    story = Article.objects.get(pk=story.pk)
    assert [b.author.name for b in story.bylines.all()] == [
        "Cy Cole",
        "Ann Avery",
        "Bo Brand",
    ]
    assert [link.title for link in story.related_links.all()] == [
        "Newer story",
        "Older story",
        "Newest story",
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.position, first.position) == (1, 2)
    assert story.body.replace("\r\n", "\n") == "[figure 2]\n\nThe text.\n\n[figure 1]"
    # Readers see the pictures where they were.
    page.goto(f"{live_server.url}/preview/{story.pk}/")
    captions = page.locator(".story__body figcaption .caption").all_inner_texts()
    assert captions == ["Harbour at dawn", "Ferry at sea"]
    assert real_errors(errors) == []
