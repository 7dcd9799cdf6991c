"""The story list and form in a real browser, at 1280 px.

An editor finds a story by its author's name in a list that stays readable,
adds an author whose slug fills itself in, gives the story its promotion
fields and schedules it with the date-time picker, in the site's time zone.
"""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from briefings.models import Article, Author, FigurePlace
from tests.browser.desk_helpers import (
    assert_accessible,
    console_errors,
    newsroom_user,
    real_errors,
    sign_in,
)
from tests.factories import ArticleFactory, AuthorFactory, BylineFactory, FigureFactory
from tests.test_images import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADLINE = (
    "Harbour ferries return after the winter storms kept the fleet in port for "
    "three weeks"
)
# How many lines a cell's text takes (1 when nothing wraps).
LINES = """el => {
  const tops = new Set();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    for (const rect of range.getClientRects()) tops.add(Math.round(rect.top));
  }
  return tops.size;
}"""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_story_list_promotion_and_schedule(live_server, browser, settings):
    settings.TIME_ZONE = "Asia/Yerevan"
    newsroom_user("eddie", "Editors")
    story = ArticleFactory(headline=HEADLINE, slug="harbour-ferries")
    BylineFactory(article=story, author=AuthorFactory(name="Louise Greenwood"))
    figure = FigureFactory(
        article=story,
        place=FigurePlace.BODY,
        caption="The first ferry",
        upload=SimpleUploadedFile("ferry.png", picture("PNG", (1400, 800))),
        alt_text="A ferry leaving the harbour",
    )
    for n in range(5):
        other = ArticleFactory(headline=f"Another long headline about the port, {n}")
        BylineFactory(article=other)
    base = live_server.url

    page = sign_in(browser, base, "eddie", viewport={"width": 1280, "height": 900})
    errors = console_errors(page)
    page.goto(f"{base}/admin/briefings/article/")
    headline_cell = page.locator("#result_list th.field-headline").first
    assert headline_cell.bounding_box()["width"] >= 300
    for column in ("status_badge", "published_at", "last_edited"):
        cell = page.locator(f"#result_list td.field-{column}").first
        assert cell.evaluate(LINES) == 1, column
    assert_accessible(browser, page)

    page.locator("#searchbar").fill("Greenwood")
    page.locator("#changelist-search").get_by_role("button", name="Search").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text(HEADLINE)

    # Authors get their slug from their name.
    page.goto(f"{base}/admin/briefings/author/add/")
    page.get_by_label("Name").press_sequentially("Anna Vardanyan")
    expect(page.get_by_label("Slug")).to_have_value("anna-vardanyan")
    assert_accessible(browser, page)
    page.get_by_role("button", name="Save", exact=True).click()
    assert Author.objects.filter(slug="anna-vardanyan").exists()

    # Promotion fields, then the Schedule button.
    page.goto(f"{base}/admin/briefings/article/{story.pk}/change/")
    expect(
        page.get_by_text(f"{settings.SITE_URL}/stories/harbour-ferries/")
    ).to_be_visible()
    page.get_by_text("Promotion", exact=True).click()
    expect(page.get_by_label("SEO title")).to_have_attribute("placeholder", HEADLINE)
    page.get_by_label("SEO title").fill("Ferries are back")
    page.get_by_label("Meta description").fill("The timetable from Monday.")
    page.get_by_label("Social image").select_option(label=figure.caption)
    assert_accessible(browser, page)
    tomorrow = timezone.localdate() + timedelta(days=1)
    expect(page.locator(".schedule-zone")).to_have_text("Asia/Yerevan")
    page.get_by_label("Schedule for").fill(f"{tomorrow:%Y-%m-%d}T07:45")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    story = Article.objects.get(pk=story.pk)
    assert story.is_scheduled
    local = timezone.localtime(story.published_at, timezone.get_current_timezone())
    assert (local.date(), local.hour, local.minute) == (tomorrow, 7, 45)
    assert story.social_image == figure
    page.goto(f"{base}/preview/{story.pk}/")
    expect(page.locator("meta[name='description']")).to_have_attribute(
        "content", "The timetable from Monday."
    )
    expect(page.locator("meta[property='og:title']")).to_have_attribute(
        "content", "Ferries are back"
    )
    assert real_errors(errors) == []
