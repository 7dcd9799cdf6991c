"""Signing up for Storyboard from a story, in a real browser, without any script."""

import re

import pytest
from django.core import mail

from briefings.newsletter.subscribers import Subscriber, SubscriberStatus
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_subscribes_from_a_story_and_confirms(live_server, page, settings):
    settings.SITE_URL = live_server.url
    story = ArticleFactory(published=True, headline="Ministers meet for talks")
    page.goto(live_server.url + story.get_absolute_url())
    page.get_by_role("button", name="Reject all").click()
    page.locator("#consent-banner").wait_for(state="detached")

    form = page.get_by_role("region", name="Subscribe to Storyboard")
    form.get_by_label("Your e-mail address").fill("reader@example.com")
    form.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/thanks/")
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    [message] = mail.outbox
    confirm = re.search(r"http://\S+/newsletter/confirm/\S+/", message.body).group()
    page.goto(confirm)
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED


def test_a_mistyped_address_is_shown_with_its_error(live_server, page):
    story = ArticleFactory(published=True)
    page.goto(live_server.url + story.get_absolute_url())
    form = page.get_by_role("region", name="Subscribe to Storyboard")
    # The browser's own check lets this through; the server's does not.
    form.get_by_label("Your e-mail address").fill("reader@example")
    form.get_by_role("button", name="Subscribe").click()
    page.wait_for_url("**/newsletter/")
    assert (
        page.get_by_role("alert")
        .filter(has_text="Enter a valid email address.")
        .is_visible()
    )
    assert page.get_by_label("Your e-mail address").input_value() == ("reader@example")
    assert mail.outbox == []
