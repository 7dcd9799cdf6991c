"""An editor corrects a live story and fixes its address, in a real browser.

The editor sees the pre-publish checklist, adds a correction in the story
form and fixes a typo in the slug; a reader who follows the old link lands on
the story's new address and sees the correction, dated, under the story.
"""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import ArticleFactory, BylineFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "long-enough-password-1"
HEADLINE = "Ferry timetable changes from Monday"
NOTE = "An earlier version gave the wrong day. The timetable changes on Monday."


def test_editor_corrects_a_story_and_readers_follow_the_old_link(
    live_server, page, browser
):
    editor = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    story = ArticleFactory(
        headline=HEADLINE,
        slug="ferry-timetable-chnages",
        standfirst="",
        published=True,
        published_at=timezone.now() - timedelta(hours=5),
    )
    BylineFactory(article=story)
    base = live_server.url

    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/admin/briefings/article/{story.pk}/change/")

    # The checklist says what is missing, without stopping anything.
    checklist = page.locator(".field-checklist")
    expect(checklist).to_contain_text("The standfirst is empty")

    page.get_by_label("Slug").fill("ferry-timetable-changes")
    page.get_by_role("button", name=re.compile("Add another Correction")).click()
    row = page.locator("#corrections-0")
    row.locator("select[name='corrections-0-kind']").select_option(label="Correction")
    row.locator("textarea[name='corrections-0-text']").fill(NOTE)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed")
    expect(page.locator(".messagelist .warning")).to_contain_text(
        "The standfirst is empty"
    )
    expect(page.locator(".field-past_addresses")).to_contain_text(
        "/stories/ferry-timetable-chnages/"
    )

    # A reader follows the old link (no cookies, no session).
    context = browser.new_context(
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0 Safari/537.36"
    )
    reader = context.new_page()
    reader.goto(f"{base}/stories/ferry-timetable-chnages/")
    expect(reader).to_have_url(f"{base}/stories/ferry-timetable-changes/")
    corrections = reader.get_by_role(
        "complementary", name="Corrections and clarifications"
    )
    expect(corrections).to_contain_text(NOTE)
    expect(reader.locator(".story__meta .updated")).to_be_visible()
    corrections.get_by_role("link", name="All corrections").click()
    expect(reader.get_by_role("heading", level=1)).to_have_text(
        "Corrections and clarifications"
    )
    expect(reader.get_by_role("link", name=HEADLINE)).to_have_attribute(
        "href", "/stories/ferry-timetable-changes/"
    )
    context.close()
