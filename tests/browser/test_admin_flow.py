"""An editor's story in a real browser: write it, preview it, publish it.

The editor logs in through the admin's form, writes a story with a byline, a
body figure and a related link, previews it, and publishes it from the story
list; a reader (another browser, no cookies) cannot see it before and finds it
on the home page after.
"""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from briefings.models import Article, ArticleStatus
from tests.factories import ArticleFactory, AuthorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "long-enough-password-1"
HEADLINE = "Harbour ferries return after the winter storms"
SLUG = "harbour-ferries-return-after-the-winter-storms"
EARLIER = "Storms close the harbour for a week"
CAPTION = "The first ferry of the season leaves the harbour at dawn."
CREDIT = "Tom Harker/Harbour Photo"
BODY = (
    "The ferries are back on the water after three weeks in port.\n\n"
    "## A new timetable\n\n"
    "[figure 1]\n\n"
    "Boats leave every hour from seven in the morning."
)


def console_errors(page):
    """Collect the page's console errors and uncaught exceptions from now on."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    return errors


@pytest.fixture
def reader(browser):
    """A reader's page in its own browser context: no session, no cookies."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_an_editor_writes_previews_and_publishes_a_story_readers_then_see(
    live_server, page, reader
):
    editor = User.objects.create_user("editor", password=PASSWORD, is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    author = AuthorFactory(name="Louise Greenwood", slug="louise-greenwood")
    earlier = ArticleFactory(headline=EARLIER, published=True)
    base = live_server.url
    admin_errors = console_errors(page)
    reader_errors = console_errors(reader)

    # The editor logs in through the real form.
    page.goto(f"{base}/admin/login/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # ... and writes a story.
    page.goto(f"{base}/admin/briefings/article/add/")
    page.get_by_label("Headline").fill(HEADLINE)
    page.get_by_label("Standfirst").fill("Three weeks in port are over.")
    expect(page.get_by_label("Slug")).to_have_value(SLUG)  # the admin's JS
    page.get_by_label("Body").fill(BODY)
    expect(page.get_by_label("Status")).to_have_value(ArticleStatus.DRAFT)

    page.get_by_role("button", name="Add another Byline").click()
    byline = page.locator("#bylines-0")
    byline.locator(".select2-selection").click()
    # select2's search box and results open in a dropdown at the end of the page.
    results = "select2-id_bylines-0-author-results"
    page.locator(f"input[aria-controls='{results}']").fill("Greenwood")
    page.locator(f"#{results}").get_by_role("option", name="Louise Greenwood").click()
    expect(byline.locator("select[name='bylines-0-author']")).to_have_value(
        str(author.pk)
    )

    page.get_by_role("button", name="Add another Figure").click()
    figure = page.locator("#figures-0")
    figure.get_by_label("Place").select_option(label="In the body")
    figure.get_by_label("Position").fill("1")
    figure.get_by_label("Caption").fill(CAPTION)
    figure.get_by_label("Credit").fill(CREDIT)

    page.get_by_role("button", name="Add another Related link").click()
    page.locator("input[name='related_links-0-title']").fill(EARLIER)

    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        "was added successfully"
    )
    story = Article.objects.get(slug=SLUG)
    assert story.status == ArticleStatus.DRAFT
    assert [b.author for b in story.bylines.all()] == [author]
    assert [f.caption for f in story.figures.all()] == [CAPTION]
    assert [link.title for link in story.related_links.all()] == [EARLIER]
    expect(page).to_have_url(
        re.compile(rf"/admin/briefings/article/{story.pk}/change/")
    )

    # The preview shows the story as readers will see it, marked as a preview.
    view_on_site = page.get_by_role("link", name="View on site")
    expect(view_on_site).to_have_attribute("href", f"/preview/{story.pk}/")
    view_on_site.click()
    expect(page).to_have_url(f"{base}/preview/{story.pk}/")
    expect(page.get_by_role("status")).to_contain_text("Preview")
    expect(page.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    caption = page.locator("figure figcaption")
    expect(caption).to_contain_text(CAPTION)
    expect(caption).to_contain_text(CREDIT)
    expect(page.get_by_role("heading", name="A new timetable")).to_be_visible()
    read_more = page.get_by_role("complementary", name="Read more")
    expect(read_more.get_by_role("link", name=EARLIER)).to_have_attribute(
        "href", earlier.get_absolute_url()
    )
    expect(page.locator("meta[name='robots']")).to_have_attribute(
        "content", re.compile(r"^noindex")
    )

    # Readers cannot see the draft yet.
    assert reader.request.get(f"{base}/stories/{SLUG}/").status == 404
    assert reader.goto(base).status == 200
    expect(reader.get_by_role("link", name=EARLIER)).to_be_visible()
    expect(reader.get_by_role("link", name=HEADLINE)).to_have_count(0)

    # The editor publishes it from the story list, the newsroom's way.
    page.goto(f"{base}/admin/briefings/article/")
    page.get_by_role(
        "checkbox", name=f"Select this object for an action - {HEADLINE}"
    ).check()
    page.get_by_role("combobox", name="Action").select_option(label="Publish now")
    page.get_by_role("button", name="Run").click()
    expect(page.locator(".messagelist .success")).to_have_text("1 story published.")
    story.refresh_from_db()
    assert story.is_public

    # Now readers find it on the home page, with its figure and related link.
    assert reader.goto(base).status == 200
    reader.get_by_role("link", name=HEADLINE).click()
    expect(reader).to_have_url(f"{base}/stories/{SLUG}/")
    expect(reader.get_by_role("heading", level=1)).to_have_text(HEADLINE)
    expect(reader.locator("figure figcaption")).to_contain_text(CAPTION)
    expect(reader.locator(".preview-banner")).to_have_count(0)
    read_more = reader.get_by_role("complementary", name="Read more")
    expect(read_more.get_by_role("link", name=EARLIER)).to_have_attribute(
        "href", earlier.get_absolute_url()
    )

    assert reader_errors == []  # no CSP violations, no missing files
    # The admin asks for /favicon.ico, which the site does not serve; anything
    # else (a CSP violation, a script error) would show here.
    assert [e for e in admin_errors if "status of 404" not in e] == []

    # The '[figure 1]' line places the figure between the paragraphs. The
    # browser sends the textarea's lines ending in CRLF, as every browser does.
    body = reader.locator(".story__body")
    expect(body).not_to_contain_text("[figure 1]")
    tags = body.locator(":scope > *").evaluate_all("els => els.map(e => e.tagName)")
    assert tags == ["P", "H2", "FIGURE", "P"]
