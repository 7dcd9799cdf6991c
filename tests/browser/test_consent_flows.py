"""Cookie consent in a real browser: what a reader sees, sets and sends."""

from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import signing
from django.utils import timezone

from briefings.consent import META_COOKIE, META_SALT
from briefings.models import ConsentMethod, ConsentRecord
from tests.factories import ArticleFactory, BylineFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
EMBED_SRC = "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
# Headless chromium says "HeadlessChrome", which read counting ignores as a bot;
# these readers present themselves as the desktop browser a person would use.
PERSON = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@pytest.fixture
def story():
    story = ArticleFactory(
        published=True,
        headline="Ferries return to the harbour",
        body=f"The first paragraph.\n\n{YOUTUBE}\n\nThe second paragraph.",
    )
    BylineFactory(article=story)
    story.tags.add("Harbour")
    return story


class Reader:
    """One browser profile: its page, console errors and the hosts it asked."""

    def __init__(self, browser, base, **options):
        self.base = base
        self.context = browser.new_context(user_agent=PERSON, **options)
        # Embedded players must not reach the network (there is none here).
        self.context.route(
            "**/*youtube-nocookie.com/**",
            lambda route: route.fulfill(body="<html></html>", content_type="text/html"),
        )
        self.page = self.context.new_page()
        self.errors, self.hosts = [], set()
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("request", lambda r: self.hosts.add(urlsplit(r.url).netloc))

    def open(self, path):
        response = self.page.goto(self.base + path)
        assert response.status == 200, path
        return response

    def cookie_names(self):
        return {cookie["name"] for cookie in self.context.cookies()}

    def banner(self):
        return self.page.locator("#consent-banner")

    def iframes(self):
        return self.page.locator(f'iframe[src="{EMBED_SRC}"]')


@pytest.fixture
def reader(browser, live_server):
    readers = []

    def make(**options):
        readers.append(Reader(browser, live_server.url, **options))
        return readers[-1]

    yield make
    for one in readers:
        one.context.close()


def test_a_first_visit_sets_nothing_and_asks_first(reader, story, live_server):
    one = reader()
    tag = story.tags.get()
    for path in ["/", story.get_absolute_url(), f"/tags/{tag.slug}/"]:
        one.open(path)
        assert one.banner().is_visible()
    assert one.cookie_names() == set()
    storage = one.page.evaluate("[localStorage.length, sessionStorage.length]")
    assert storage == [0, 0]
    assert one.hosts == {urlsplit(live_server.url).netloc}
    assert one.iframes().count() == 0
    accept = one.page.get_by_role("button", name="Accept all")
    reject = one.page.get_by_role("button", name="Reject all")
    assert accept.bounding_box()["height"] == reject.bounding_box()["height"]
    assert accept.evaluate("e => getComputedStyle(e).fontWeight") == reject.evaluate(
        "e => getComputedStyle(e).fontWeight"
    )
    # The banner comes first when tabbing, and Escape accepts nothing.
    one.page.keyboard.press("Tab")
    assert one.page.evaluate(
        "document.getElementById('consent-banner').contains(document.activeElement)"
    )
    one.page.keyboard.press("Escape")
    assert one.banner().is_visible()
    assert one.cookie_names() == set()
    assert one.errors == []


def test_reject_all_closes_the_banner_and_keeps_embeds_away(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.page.get_by_role("button", name="Reject all").click()
    one.banner().wait_for(state="detached")
    assert "briefings_reader" not in one.cookie_names()
    assert one.iframes().count() == 0
    assert one.page.get_by_text("Video from YouTube", exact=True).is_visible()
    assert one.page.get_by_role(
        "button", name="Load this video from YouTube"
    ).is_visible()
    one.page.reload()
    assert one.banner().count() == 0
    assert one.iframes().count() == 0
    record = ConsentRecord.objects.get()
    assert record.method == ConsentMethod.BANNER
    assert record.accepted_groups == []
    assert one.errors == []


def test_accept_all_sets_the_reader_id_and_loads_embeds(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.page.get_by_role("button", name="Accept all").click()
    one.banner().wait_for(state="detached")
    assert one.iframes().count() == 1  # loaded at once, without a reload
    one.open(story.get_absolute_url())
    assert "briefings_reader" in one.cookie_names()
    assert one.iframes().count() == 1
    assert ConsentRecord.objects.get().accepted_groups == ["analytics", "embeds"]
    assert one.errors == []  # no CSP violation before or after accepting


def test_withdrawing_deletes_the_reader_id(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.page.get_by_role("button", name="Accept all").click()
    one.banner().wait_for(state="detached")
    one.open(story.get_absolute_url())
    assert "briefings_reader" in one.cookie_names()
    one.open("/cookies/")
    one.page.get_by_role("button", name="Reject all").click()
    one.page.get_by_text("Your choice is saved.").wait_for()
    assert "briefings_reader" not in one.cookie_names()
    assert not one.page.get_by_label("Allow analytics cookies").is_checked()


def test_without_javascript_the_forms_still_decide(reader, story):
    one = reader(java_script_enabled=False)
    one.open(story.get_absolute_url())
    one.page.get_by_role("button", name="Reject all").click()
    one.page.wait_for_url("**" + story.get_absolute_url())
    assert one.banner().count() == 0
    one.open("/")
    assert one.banner().count() == 0
    one.open("/cookies/")
    one.page.get_by_label("Allow analytics cookies").check()
    one.page.get_by_role("button", name="Save my choices").click()
    one.page.wait_for_url("**/cookies/")
    assert one.page.get_by_label("Allow analytics cookies").is_checked()
    one.open(story.get_absolute_url())
    assert "briefings_reader" in one.cookie_names()
    assert one.iframes().count() == 0  # embeds were not allowed
    methods = list(
        ConsentRecord.objects.order_by("given_at").values_list("method", flat=True)
    )
    assert methods == [ConsentMethod.BANNER_NO_JS, ConsentMethod.SETTINGS_NO_JS]


def test_readers_in_different_states_never_share_a_cached_page(reader, story):
    accepting, rejecting, undecided = reader(), reader(), reader()
    for one, button in [(accepting, "Accept all"), (rejecting, "Reject all")]:
        one.open(story.get_absolute_url())
        one.page.get_by_role("button", name=button).click()
        one.banner().wait_for(state="detached")
    cache_states = []
    for _ in range(2):
        for one in (accepting, rejecting, undecided):
            response = one.open(story.get_absolute_url())
            cache_states.append(response.headers.get("x-page-cache"))
        assert accepting.iframes().count() == 1 and accepting.banner().count() == 0
        assert rejecting.iframes().count() == 0 and rejecting.banner().count() == 0
        assert undecided.iframes().count() == 0 and undecided.banner().is_visible()
    assert "hit" in cache_states  # the page cache was on


def test_no_accessibility_violations_with_the_banner_or_the_settings(reader, story):
    one = reader(bypass_csp=True)  # axe-core is injected as an inline script
    axe = Axe()
    for path in ["/", story.get_absolute_url(), "/cookies/"]:
        one.open(path)
        results = axe.run(
            one.page,
            options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}},
        )
        assert results.violations_count == 0, results.generate_report()


def test_an_old_choice_or_a_new_policy_brings_the_banner_back(reader, story, settings):
    one = reader()
    one.open("/")
    one.page.get_by_role("button", name="Reject all").click()
    one.banner().wait_for(state="detached")
    one.open("/")
    assert one.banner().count() == 0

    # A choice recorded seven months ago has lapsed.
    meta = next(c for c in one.context.cookies() if c["name"] == META_COOKIE)
    long_ago = (timezone.now() - timedelta(days=7 * 30)).timestamp()
    value = signing.loads(meta["value"], salt=META_SALT)
    with mock.patch("django.core.signing.time.time", return_value=long_ago):
        old = signing.dumps(value, salt=META_SALT)
    one.context.add_cookies([{**meta, "value": old}])
    one.open("/")
    assert one.banner().is_visible()

    one.page.get_by_role("button", name="Reject all").click()
    one.banner().wait_for(state="detached")
    settings.CONSENT_POLICY_REVISION += 1
    one.open("/")
    assert one.banner().is_visible()
