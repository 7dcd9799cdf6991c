"""The desk and the review loop in a real browser.

A writer finds their draft on the desk, opens it and submits it for review; an
editor sees the notice and the story awaiting review, opens it and sends it
back with a comment; the writer sees the comment on the desk and on the story.
"""

import pytest
from playwright.sync_api import expect

from briefings.models import ArticleStatus, WorkflowAction
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = "Harbour ferries return after the winter storms"
COMMENT = "Please add who runs the ferries, and check the date."


def test_a_writer_submits_an_editor_sends_back_the_writer_sees_why(
    live_server, browser
):
    writer = newsroom_user("wendy", "Writers", first_name="Wendy", last_name="Hale")
    newsroom_user("eddie", "Editors")
    story = ArticleFactory(headline=HEADLINE, created_by=writer)
    base = live_server.url

    wendy = sign_in(browser, base, "wendy")
    wendy_errors = console_errors(wendy)
    drafts = wendy.locator("#desk-drafts")
    expect(drafts).to_contain_text(HEADLINE)
    assert_accessible(browser, wendy)
    drafts.get_by_role("link", name=HEADLINE).click()
    expect(wendy.get_by_label("Headline")).to_have_value(HEADLINE)
    wendy.get_by_label("Status").select_option(label="In review")
    wendy.get_by_role("button", name="Save", exact=True).click()
    expect(wendy.locator(".messagelist .success")).to_be_visible()

    eddie = sign_in(browser, base, "eddie")
    eddie_errors = console_errors(eddie)
    expect(eddie.locator("#desk-notices")).to_contain_text(HEADLINE)
    waiting = eddie.locator("#desk-review")
    expect(waiting).to_contain_text("Wendy Hale")
    waiting.get_by_role("link", name=HEADLINE).click()
    eddie.get_by_role("link", name="Send back to the writer…").click()
    assert_accessible(browser, eddie)
    eddie.get_by_label("What should the writer change?").fill(COMMENT)
    eddie.get_by_role("button", name="Send back to the writer").click()
    expect(eddie.locator(".messagelist .success")).to_contain_text("sent back")
    expect(eddie.locator("#desk-review")).not_to_contain_text(HEADLINE)
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT
    assert story.workflow_events.first().action == WorkflowAction.SENT_BACK

    wendy.goto(f"{base}/admin/")
    expect(wendy.locator("#desk-drafts")).to_contain_text(COMMENT)
    expect(wendy.locator("#desk-notices")).to_contain_text("sent back")
    wendy.locator("#desk-drafts").get_by_role("link", name=HEADLINE).click()
    expect(wendy.get_by_role("note")).to_contain_text(COMMENT)
    assert_accessible(browser, wendy)
    wendy.goto(f"{base}/admin/")
    wendy.locator("#desk-notices").get_by_role("button", name="Dismiss").click()
    expect(wendy.locator("#desk-notices")).to_have_count(0)

    assert real_errors(wendy_errors) == []
    assert real_errors(eddie_errors) == []
