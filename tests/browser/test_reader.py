"""A reader's visit in a real browser: the story reads well and stays on-site."""

from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def visit(page, url):
    """Open url; return (console errors, hosts of every request made)."""
    errors, hosts = [], set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))
    response = page.goto(url)
    assert response.status == 200
    return errors, hosts


def test_the_seed_story_reads_well_on_a_phone_and_stays_on_site(live_server, page):
    call_command("loadseed", verbosity=0)
    page.set_viewport_size({"width": 390, "height": 844})
    errors, hosts = visit(page, live_server.url)
    page.get_by_role("button", name="Reject all").click()
    page.locator("#consent-banner").wait_for(state="detached")
    page.get_by_role("link", name="Armenia looks to build security ties").click()
    page.wait_for_url("**/stories/**")

    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == (
        "Armenia looks to build security ties with the U.S. and its allies"
    )
    assert page.locator("figure figcaption").count() == 3
    assert page.get_by_text("Sputnik/Mikhail Klimentyev/Kremlin/Reuters").is_visible()
    assert page.get_by_role("heading", name="ICC Membership").is_visible()
    # No sideways scrolling on a phone: the text wraps inside the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Our stylesheet loaded (the skip link is off-screen until focused).
    assert page.locator(".skip-link").bounding_box()["x"] < 0
    page.keyboard.press("Tab")
    assert page.locator(".skip-link").bounding_box()["x"] >= 0

    assert errors == []  # no CSP violations, no missing files
    assert hosts == {urlsplit(live_server.url).netloc}
