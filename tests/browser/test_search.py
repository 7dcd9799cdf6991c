"""Searching from the header in a real browser, on a phone-sized screen."""

import pytest

from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reader_searches_from_the_header_and_sees_highlighted_results(
    live_server, page
):
    ArticleFactory(published=True, headline="Volcano erupts near the coast")
    ArticleFactory(published=True, headline="Ministers meet", body="No lava.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url)
    page.get_by_role("button", name="Reject all").click()
    page.locator("#consent-banner").wait_for(state="detached")

    box = page.get_by_role("searchbox", name="Search stories")
    box.fill("volcano")
    box.press("Enter")
    page.wait_for_url("**/search/?q=volcano")

    results = page.locator(".search-result")
    assert results.count() == 1
    assert results.locator("mark").first.inner_text() == "Volcano"
    assert page.get_by_role("searchbox", name="Search the stories").input_value() == (
        "volcano"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
