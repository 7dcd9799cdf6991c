"""Cookie consent as readers meet it: the banner, the settings page, the cache.

Each test drives chromium against the live server and checks what a person
would notice: whether the banner is there, which cookies the browser holds,
whether a video loads, and which hosts the browser talked to.
"""

import time
from importlib import import_module
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from briefings.analytics import reads
from briefings.consent.cookies import META_COOKIE, META_SALT, READER_COOKIE
from briefings.models import ConsentMethod, ConsentRecord
from tests.factories import story_with_video

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PLAYER_PREFIX = "https://www.youtube-nocookie.com/embed/"
PLAYER = f'iframe[src^="{PLAYER_PREFIX}"]'
# Headless chromium calls itself "HeadlessChrome", which read counting skips as
# a bot (no reader id for bots); these readers use a desktop browser's name.
DESKTOP_CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0.0.0 Safari/537.36"
)
DAY = 24 * 60 * 60


@pytest.fixture(autouse=True)
def _consent_data(live_server, transactional_db):
    """The cookie groups from the data migration, and no cache left from before."""
    migration = import_module("briefings.migrations.0005_cookie_groups")
    migration.create_groups(apps, None)
    cache.clear()  # the package's cookie groups and our page cache live there
    reads.discard()  # reads of stories an earlier test's flush removed
    CookieGroup = apps.get_model("cookie_consent", "CookieGroup")
    assert set(CookieGroup.objects.values_list("varname", flat=True)) == {
        "necessary",
        "analytics",
        "embeds",
    }
    assert (
        apps.get_model("cookie_consent", "Cookie")
        .objects.filter(name=READER_COOKIE, cookiegroup__varname="analytics")
        .exists()
    )
    yield
    reads.discard()


@pytest.fixture
def story():
    return story_with_video(
        "Ferries return to the harbour after the storm", tag="Harbour"
    )


class Reader:
    """One person's browser profile, with what it logged and whom it asked."""

    def __init__(self, browser, base, **options):
        self.base = base
        self.server = urlsplit(base).netloc
        options.setdefault("user_agent", DESKTOP_CHROME)
        self.context = browser.new_context(**options)
        # There is no internet here: answer the video player with an empty page.
        self.context.route(
            "**/*youtube-nocookie.com/**",
            lambda route: route.fulfill(body="<html></html>", content_type="text/html"),
        )
        self.page = self.context.new_page()
        self.errors = []
        self.hosts = set()
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("request", lambda r: self.hosts.add(urlsplit(r.url).netloc))

    def open(self, path):
        response = self.page.goto(self.base + path)
        assert response.ok, (path, response.status)
        return response

    def cookies(self):
        return {c["name"]: c for c in self.context.cookies()}

    def banner(self):
        return self.page.locator("#consent-banner")

    def players(self):
        return self.page.locator(PLAYER)

    def choose(self, button):
        """Click a banner button; the script closes the banner once saved."""
        self.page.get_by_role("button", name=button, exact=True).click()
        self.banner().wait_for(state="detached")

    def storage(self):
        return self.page.evaluate("[localStorage.length, sessionStorage.length]")


@pytest.fixture
def reader(browser, live_server):
    made = []

    def make(**options):
        made.append(Reader(browser, live_server.url, **options))
        return made[-1]

    yield make
    for one in made:
        one.context.close()


def test_a_fresh_visit_stores_nothing_and_asks_first(reader, story):
    one = reader()
    tag = story.tags.get()
    paths = [
        "/",
        story.get_absolute_url(),
        reverse("briefings:tag-detail", args=[tag.slug]),
    ]
    for path in paths:
        one.open(path)
        assert one.cookies() == {}, path
        assert one.storage() == [0, 0], path
        banner = one.banner()
        assert banner.is_visible(), path
        assert banner.get_by_role("button", name="Accept all", exact=True).is_visible()
        assert banner.get_by_role("button", name="Reject all", exact=True).is_visible()
        assert banner.get_by_role("link", name="Settings", exact=True).is_visible()
    assert one.hosts == {one.server}
    assert one.players().count() == 0

    # Rejecting is exactly as easy to see and hit as accepting.
    banner = one.banner()
    accept = banner.get_by_role("button", name="Accept all", exact=True)
    reject = banner.get_by_role("button", name="Reject all", exact=True)
    look = "e => [getComputedStyle(e).fontWeight, getComputedStyle(e).backgroundColor]"
    assert accept.evaluate(look) == reject.evaluate(look)
    assert accept.bounding_box()["height"] == reject.bounding_box()["height"]
    assert accept.bounding_box()["width"] == reject.bounding_box()["width"]

    # The banner comes first in the focus order, and Escape agrees to nothing.
    one.page.keyboard.press("Tab")
    assert one.page.evaluate(
        "document.getElementById('consent-banner').contains(document.activeElement)"
    )
    one.page.keyboard.press("Escape")
    assert one.banner().is_visible()
    assert one.cookies() == {}
    assert not ConsentRecord.objects.exists()
    assert one.hosts == {one.server}
    assert one.errors == []


def test_reject_all_closes_the_banner_and_keeps_the_video_out(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.page.evaluate("window.sameDocument = true")
    one.choose("Reject all")
    assert one.page.evaluate("window.sameDocument === true")  # no reload
    assert READER_COOKIE not in one.cookies()
    assert one.players().count() == 0
    placeholder = one.page.locator(".embed")
    assert placeholder.count() == 1
    assert "YouTube" in placeholder.inner_text()

    one.page.reload()
    assert one.banner().count() == 0
    assert one.players().count() == 0
    assert READER_COOKIE not in one.cookies()
    assert "YouTube" in one.page.locator(".embed").inner_text()
    record = ConsentRecord.objects.get()
    assert record.method == ConsentMethod.BANNER
    assert record.decisions["analytics"]["accepted"] is False
    assert record.decisions["embeds"]["accepted"] is False
    assert one.hosts == {one.server}
    assert one.errors == []


def test_accept_all_sets_the_reader_id_and_loads_the_video(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.choose("Accept all")
    assert one.page.locator(PLAYER).count() == 1  # at once, by the script
    assert one.page.locator(".embed").count() == 0

    one.open(story.get_absolute_url())
    assert READER_COOKIE in one.cookies()
    assert one.banner().count() == 0
    assert one.players().count() == 1  # now straight from the server
    assert one.players().get_attribute("src").startswith(PLAYER_PREFIX)
    record = ConsentRecord.objects.get()
    assert record.method == ConsentMethod.BANNER
    assert record.decisions["analytics"]["accepted"] is True
    assert record.decisions["embeds"]["accepted"] is True
    assert one.errors == []


@pytest.mark.parametrize("how", ["untick and save", "reject all"])
def test_withdrawing_on_the_settings_page_deletes_the_reader_id(reader, story, how):
    one = reader()
    one.open(story.get_absolute_url())
    one.choose("Accept all")
    one.open(story.get_absolute_url())
    assert READER_COOKIE in one.cookies()

    one.open(reverse("briefings:cookie-settings"))
    assert one.banner().count() == 0  # the settings page is the banner's place
    analytics = one.page.get_by_label("Allow analytics cookies")
    embeds = one.page.get_by_label("Allow embeds cookies")
    assert analytics.is_checked() and embeds.is_checked()
    with one.page.expect_response("**/cookies/consent/") as answer:
        if how == "untick and save":
            analytics.uncheck()
            embeds.uncheck()
            one.page.get_by_role("button", name="Save my choices").click()
        else:
            one.page.get_by_role("button", name="Reject all").click()
    one.page.get_by_text("Your choice is saved.").wait_for()
    deleting = [
        line
        for line in answer.value.headers_array()
        if line["name"].lower() == "set-cookie"
        and line["value"].startswith(f'{READER_COOKIE}=""')
    ]
    assert deleting and "1970" in deleting[0]["value"], answer.value.headers_array()
    assert READER_COOKIE not in one.cookies()
    assert not analytics.is_checked() and not embeds.is_checked()

    one.open(story.get_absolute_url())
    assert READER_COOKIE not in one.cookies()
    assert one.players().count() == 0
    assert one.banner().count() == 0
    assert ConsentRecord.objects.order_by("given_at", "pk").last().accepted_groups == []


def test_without_javascript_the_forms_still_work(reader, story):
    one = reader(java_script_enabled=False)
    one.open(story.get_absolute_url())
    assert one.banner().is_visible()
    one.page.get_by_role("button", name="Reject all").click()
    one.page.wait_for_url(one.base + story.get_absolute_url())
    assert one.banner().count() == 0
    assert one.players().count() == 0
    one.open("/")
    assert one.banner().count() == 0
    assert READER_COOKIE not in one.cookies()

    one.open(reverse("briefings:cookie-settings"))
    assert not one.page.get_by_label("Allow analytics cookies").is_checked()
    one.page.get_by_role("button", name="Accept all").click()
    one.page.wait_for_url(one.base + reverse("briefings:cookie-settings"))
    assert one.page.get_by_label("Allow analytics cookies").is_checked()
    assert one.page.get_by_label("Allow embeds cookies").is_checked()

    one.open(story.get_absolute_url())
    assert READER_COOKIE in one.cookies()
    assert one.players().count() == 1
    assert one.banner().count() == 0
    records = ConsentRecord.objects.order_by("given_at", "pk")
    assert [(r.method, r.accepted_groups) for r in records] == [
        (ConsentMethod.BANNER_NO_JS, []),
        (ConsentMethod.SETTINGS_NO_JS, ["analytics", "embeds"]),
    ]


def test_cached_pages_never_carry_another_readers_choice(reader, story):
    accepting, rejecting, undecided = reader(), reader(), reader()
    for one, button in [(accepting, "Accept all"), (rejecting, "Reject all")]:
        one.open(story.get_absolute_url())
        one.choose(button)
    cache_states = []
    for _ in range(2):
        for one in (accepting, rejecting, undecided):
            response = one.open(story.get_absolute_url())
            cache_states.append(response.headers.get("x-page-cache"))
        assert accepting.players().count() == 1
        assert accepting.banner().count() == 0
        assert rejecting.players().count() == 0
        assert rejecting.page.locator(".embed").count() == 1
        assert rejecting.banner().count() == 0
        assert undecided.players().count() == 0
        assert undecided.banner().is_visible()
    # A second person who accepts gets the first one's page from the cache.
    another = reader()
    another.open(story.get_absolute_url())
    another.choose("Accept all")
    response = another.open(story.get_absolute_url())
    cache_states.append(response.headers.get("x-page-cache"))
    assert another.players().count() == 1
    assert "hit" in cache_states, cache_states  # the page cache was on
    assert READER_COOKIE in accepting.cookies()
    assert READER_COOKIE in another.cookies()
    assert (
        accepting.cookies()[READER_COOKIE]["value"]
        != (another.cookies()[READER_COOKIE]["value"])
    )
    assert READER_COOKIE not in rejecting.cookies()
    assert undecided.cookies() == {}


def test_no_accessibility_violations_in_the_banner_or_the_settings(reader, story):
    from axe_playwright_python.sync_playwright import Axe

    one = reader(bypass_csp=True)  # axe-core is injected as a script
    axe = Axe()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}
    one.open("/")
    assert one.banner().is_visible()
    results = axe.run(one.page, options=options)
    assert results.violations_count == 0, results.generate_report()
    one.open(reverse("briefings:cookie-settings"))
    assert one.page.get_by_label("Allow analytics cookies").is_visible()
    results = axe.run(one.page, options=options)
    assert results.violations_count == 0, results.generate_report()


def _meta_signed_days_ago(value, days):
    """The consent_meta cookie value as the server would have signed it then."""
    then = int(time.time() - days * DAY)
    with mock.patch.object(
        signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(then)
    ):
        return signing.dumps(value, salt=META_SALT)


def test_an_old_choice_brings_the_banner_back(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    one.choose("Accept all")
    one.open(story.get_absolute_url())
    assert one.banner().count() == 0
    meta = one.cookies()[META_COOKIE]
    assert "cookie_consent" in one.cookies()
    value = signing.loads(meta["value"], salt=META_SALT)

    # Five months on, the choice still holds.
    one.context.add_cookies([{**meta, "value": _meta_signed_days_ago(value, 150)}])
    one.open(story.get_absolute_url())
    assert one.banner().count() == 0
    assert one.players().count() == 1

    # Seven months on, it has lapsed: ask again, and load no video meanwhile.
    one.context.add_cookies([{**meta, "value": _meta_signed_days_ago(value, 213)}])
    assert "cookie_consent" in one.cookies()
    one.open(story.get_absolute_url())
    assert one.banner().is_visible()
    assert one.players().count() == 0
    one.open("/")
    assert one.banner().is_visible()


def test_a_new_policy_revision_brings_the_banner_back(reader, story, settings):
    one = reader()
    one.open(story.get_absolute_url())
    one.choose("Reject all")
    one.open(story.get_absolute_url())
    assert one.banner().count() == 0

    settings.CONSENT_POLICY_REVISION = 2
    one.open(story.get_absolute_url())
    assert one.banner().is_visible()
    one.choose("Reject all")
    one.open(story.get_absolute_url())
    assert one.banner().count() == 0
    assert [r.policy_revision for r in ConsentRecord.objects.order_by("pk")] == [1, 2]
    # The same consent id, so both decisions prove one reader's history.
    assert len({r.consent_id for r in ConsentRecord.objects.all()}) == 1


def test_no_csp_violation_before_or_after_accepting(reader, story):
    one = reader()
    one.open(story.get_absolute_url())
    assert one.errors == []
    assert one.hosts == {one.server}
    # The player is asked for at once (and answered by the route, offline).
    with one.page.expect_request(f"{PLAYER_PREFIX}**"):
        one.choose("Accept all")
    with one.page.expect_request(f"{PLAYER_PREFIX}**"):
        one.open(story.get_absolute_url())
    one.page.wait_for_load_state("load")
    assert one.players().count() == 1
    assert one.errors == []  # Chromium reports CSP violations as console errors
    assert one.hosts <= {one.server, "www.youtube-nocookie.com"}
