"""Safety nets of the story form in a real browser.

Two people open the same story and each is told the other is editing it; a
writer's typing is autosaved after 30 seconds (the page clock is moved on),
survives the page being closed, and is restored; leaving with unsaved changes
asks first.
"""

import pytest
from playwright.sync_api import expect
from reversion.models import Version

from briefings.models import Article, Autosave, Image
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import ArticleFactory
from tests.test_images import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TYPED = "The ferries are back after three weeks in port."


@pytest.mark.story_form_timers
def test_presence_autosave_restore_and_the_leave_warning(live_server, browser):
    newsroom_user("wendy", "Writers", first_name="Wendy", last_name="Hale")
    newsroom_user("eddie", "Editors", first_name="Eddie", last_name="Marsh")
    story = ArticleFactory(headline="Ferries return", body="Saved text.")
    url = f"{live_server.url}/admin/briefings/article/{story.pk}/change/"
    revisions = Version.objects.count()

    wendy = sign_in(browser, live_server.url, "wendy")
    wendy.clock.install()
    wendy_errors = console_errors(wendy)
    wendy.goto(url)
    expect(wendy.locator("#story-presence")).to_be_hidden()

    eddie = sign_in(browser, live_server.url, "eddie")
    eddie_errors = console_errors(eddie)
    eddie.goto(url)
    presence = eddie.locator("#story-presence")
    expect(presence).to_contain_text("Someone else is editing this story")
    expect(presence).to_contain_text("Wendy Hale")
    # Wendy's next heartbeat tells her too.
    wendy.clock.run_for(16_000)
    expect(wendy.locator("#story-presence")).to_contain_text("Eddie Marsh")
    assert_accessible(browser, eddie)
    eddie.context.close()

    # Typing is autosaved after 30 seconds, without a revision.
    wendy.get_by_label("Body").fill(TYPED)
    wendy.clock.run_for(1_000)  # the live preview first, on its own
    expect(wendy.locator(".body-preview__content")).to_contain_text(TYPED)
    wendy.clock.run_for(30_000)
    expect(wendy.locator("#autosave-status")).to_contain_text("Draft autosaved at")
    assert Autosave.objects.get().data["body"] == TYPED
    assert Version.objects.count() == revisions
    assert Article.objects.get(pk=story.pk).body == "Saved text."

    # Leaving asks first.
    dialogs = []
    wendy.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    wendy.get_by_role("link", name="Home").first.click()
    wendy.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    expect(wendy).to_have_url(url)

    # The browser "crashes"; opening the story again offers the autosave.
    state = wendy.context.storage_state()
    wendy.context.close()
    again = browser.new_context(storage_state=state).new_page()
    again_errors = console_errors(again)
    again.goto(url)
    offer = again.get_by_role("region", name="You have unsaved changes")
    expect(offer).to_be_visible()
    assert_accessible(browser, again)
    expect(again.get_by_label("Body")).to_have_value("Saved text.")
    offer.get_by_role("button", name="Restore them").click()
    expect(again.get_by_label("Body")).to_have_value(TYPED)
    again.get_by_role("button", name="Save and continue editing").click()
    expect(again.locator(".messagelist .success")).to_be_visible()
    assert Article.objects.get(pk=story.pk).body == TYPED
    expect(again.get_by_role("region", name="You have unsaved changes")).to_have_count(
        0
    )

    assert real_errors(wendy_errors) == []
    assert real_errors(eddie_errors) == []
    assert real_errors(again_errors) == []


def test_a_chosen_picture_survives_a_form_error(
    live_server, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    newsroom_user("eddie", "Editors")
    story = ArticleFactory(headline="Ferries return", slug="ferries-return")
    page = sign_in(browser, live_server.url, "eddie")
    errors = console_errors(page)
    page.goto(f"{live_server.url}/admin/briefings/article/{story.pk}/change/")
    page.get_by_role("button", name="Add another Figure").click()
    figure = page.locator("#figures-0")
    figure.get_by_label("Caption").fill("The first ferry")
    figure.get_by_label("Alt text").fill("A ferry leaving the harbour")
    figure.locator("input[type=file]").set_input_files(
        files=[{"name": "ferry.png", "mimeType": "image/png", "buffer": picture()}]
    )
    page.get_by_label("Slug").fill("not a slug!")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#figures-0")).to_contain_text("Chosen: ferry.png")
    assert_accessible(browser, page)
    page.get_by_label("Slug").fill("ferries-return")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    saved = Article.objects.get(pk=story.pk).figures.get()
    # Into the library, once: the failed try added nothing.
    assert saved.library_image.file and saved.library_image.width == 1000
    assert Image.objects.count() == 1
    expect(page.locator("#figures-0 img.figure-thumbnail")).to_be_visible()
    assert real_errors(errors) == []
