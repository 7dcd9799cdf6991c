"""Tag completion and suggestions in a real browser, before the first save."""

import pytest
from playwright.sync_api import expect
from taggit.models import Tag

from briefings.models import Article, TagAlias
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tags_complete_from_tags_and_aliases_and_are_suggested_before_saving(
    live_server, browser
):
    newsroom_user("wendy", "Writers")
    karabakh = Tag.objects.create(name="Nagorno-Karabakh", slug="nagorno-karabakh")
    TagAlias.objects.create(name="Artsakh", tag=karabakh)
    Tag.objects.create(name="Armenia", slug="armenia")
    Tag.objects.create(name="Elections", slug="elections")
    page = sign_in(browser, live_server.url, "wendy")
    errors = console_errors(page)
    page.goto(f"{live_server.url}/admin/briefings/article/add/")

    # Suggestions from the text as it is typed, before any save.
    page.get_by_label("Headline").fill("Elections called in Armenia")
    page.get_by_label("Body").fill("The vote is in June.")
    suggested = page.get_by_role("group", name="Suggested from the text")
    expect(suggested.get_by_role("button", name="Add the tag Armenia")).to_be_visible()
    suggested.get_by_role("button", name="Add the tag Armenia").click()
    tags = page.get_by_role("combobox", name="Tags")
    expect(tags).to_have_value("Armenia, ")
    expect(suggested.get_by_role("button", name="Add the tag Armenia")).to_have_count(0)

    # Completion by keyboard: an alias brings its tag.
    tags.press_sequentially("Arts")
    listbox = page.get_by_role("listbox", name="Existing tags")
    expect(listbox.get_by_role("option")).to_have_text(["Artsakh → Nagorno-Karabakh"])
    expect(tags).to_have_attribute("aria-expanded", "true")
    assert_accessible(browser, page, page.url)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(tags).to_have_value("Armenia, Nagorno-Karabakh, ")
    expect(listbox).to_be_hidden()

    page.get_by_label("Slug").fill("elections-called")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    story = Article.objects.get(slug="elections-called")
    assert sorted(t.name for t in story.tags.all()) == ["Armenia", "Nagorno-Karabakh"]
    assert real_errors(errors) == []
