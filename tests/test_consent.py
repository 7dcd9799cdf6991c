"""Cookie consent through the Django test client (browser flows: tests/browser)."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from cookie_consent.models import Cookie, CookieGroup
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import ConsentMethod, ConsentRecord, CookieDeclaration, StoryDay
from briefings.newsroom.admin.common import csv_safe
from tests.factories import ArticleFactory, BylineFactory, story_with_video

pytestmark = pytest.mark.django_db

CONSENT = reverse("briefings:consent")
HOME = reverse("briefings:home")
SAME_ORIGIN = {"Origin": "http://testserver"}
BY_SCRIPT = {**SAME_ORIGIN, "X-Consent-Fetch": "1"}


@pytest.fixture
def story():
    return story_with_video()


def choose(client, choice, *, headers=BY_SCRIPT, **extra):
    return client.post(CONSENT, {"choice": choice, **extra}, headers=headers)


def test_a_first_visit_sets_no_cookie_and_shows_the_banner(client, story):
    tag = story.tags.get()
    for url in [
        HOME,
        story.get_absolute_url(),
        reverse("briefings:tag-detail", args=[tag.slug]),
    ]:
        response = client.get(url)
        assert response.cookies == {}, url
        assertContains(response, 'id="consent-banner"')
    banner = client.get(HOME)
    for choice in ("accept_all", "reject_all"):
        button = f'name="choice" value="{choice}" class="consent__button">'
        assertContains(banner, f'<button type="submit" {button}')
    assertContains(
        banner, f'href="{reverse("briefings:cookie-settings")}" class="consent__button'
    )
    assertContains(banner, reverse("briefings:cookie-policy"))


def test_reject_all_without_javascript_returns_to_the_page(client, story):
    response = choose(
        client, "reject_all", headers=SAME_ORIGIN, next=story.get_absolute_url()
    )
    assert response.status_code == 302
    assert response["Location"] == story.get_absolute_url()
    assert response["Cache-Control"] == "private, no-store"
    consent, meta = response.cookies["cookie_consent"], response.cookies["consent_meta"]
    assert consent.value == "analytics=-1|embeds=-1"
    for cookie in (consent, meta):
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert int(cookie["max-age"]) == 182 * 24 * 3600
    record = ConsentRecord.objects.get()
    assert record.method == ConsentMethod.BANNER_NO_JS
    assert record.accepted_groups == []
    page = client.get(story.get_absolute_url())
    assertNotContains(page, 'id="consent-banner"')
    assertContains(
        page, 'data-embed-src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"'
    )
    assertNotContains(page, "<iframe")


def test_accept_all_by_script_then_analytics_and_embeds_work(client, story):
    response = choose(client, "accept_all")
    assert response.status_code == 200
    assert response.json() == {"accepted": ["analytics", "embeds"]}
    record = ConsentRecord.objects.get()
    assert record.method == ConsentMethod.BANNER
    assert record.accepted_groups == ["analytics", "embeds"]
    assert set(record.decisions["analytics"]) == {"accepted", "version"}

    page = client.get(story.get_absolute_url())
    assert "briefings_reader" in page.cookies
    assert page.cookies["briefings_reader"]["httponly"]
    assertContains(
        page,
        '<iframe class="embed__frame" src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"',
    )
    client.get(story.get_absolute_url())
    day = StoryDay.objects.get(article=story)
    assert (day.views, day.readers) == (2, 1)


def test_withdrawing_deletes_the_analytics_cookie_on_that_response(client, story):
    choose(client, "accept_all")
    client.get(story.get_absolute_url())
    assert client.cookies["briefings_reader"].value
    response = client.post(
        CONSENT,
        {"choice": "save", "groups": ["embeds"], "source": "settings"},
        headers=SAME_ORIGIN,
    )
    deleted = response.cookies["briefings_reader"]
    assert deleted.value == "" and deleted["max-age"] == 0
    assert (
        ConsentRecord.objects.latest("given_at").method == ConsentMethod.SETTINGS_NO_JS
    )
    page = client.get(story.get_absolute_url())
    # No new id is handed out (the test client, unlike a browser, still sends
    # the emptied cookie, which the site deletes again).
    assert page.cookies.get("briefings_reader", None) is None or (
        page.cookies["briefings_reader"].value == ""
    )
    assert StoryDay.objects.get(article=story).readers == 1  # no longer counted


def test_the_settings_page_starts_with_nothing_ticked(client):
    page = client.get(reverse("briefings:cookie-settings"))
    assert page["Cache-Control"] == "private, no-store"
    assertContains(page, 'name="groups" value="analytics">', html=False)
    assertNotContains(page, "checked")
    assertContains(page, "Always on")
    assertNotContains(page, 'id="consent-banner"')  # the page is the second layer
    choose(client, "save", groups=["analytics"])
    assertContains(
        client.get(reverse("briefings:cookie-settings")), 'value="analytics" checked'
    )


def test_the_cookie_policy_lists_every_declared_cookie(client):
    page = client.get(reverse("briefings:cookie-policy"))
    for declaration in CookieDeclaration.objects.select_related("cookie"):
        assertContains(page, f"<code>{declaration.cookie.name}</code>")
        assertContains(page, declaration.provider)
    assertContains(page, "Readable by a third party")


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Origin, no Fetch Metadata: not a browser POST from this site
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_a_choice_forged_from_another_site_is_refused(client, headers):
    response = client.post(CONSENT, {"choice": "accept_all"}, headers=headers)
    assert response.status_code == 403
    assert "cookie_consent" not in response.cookies
    assert not ConsentRecord.objects.exists()


def test_the_csrf_middleware_is_not_what_lets_a_real_choice_through():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        CONSENT, {"choice": "reject_all"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 302
    assert client.post(CONSENT, {"choice": "reject_all"}).status_code == 403


@pytest.mark.parametrize(
    "target",
    [
        "http://example.com",
        "//example.com",
        "///example.com",
        "/\\example.com",
        "https:example.com",
        "javascript:alert(1)",
    ],
)
def test_the_return_address_never_leaves_the_site(client, target):
    response = choose(client, "reject_all", headers=SAME_ORIGIN, next=target)
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_unknown_choice_is_a_clear_400(client):
    response = choose(client, "maybe")
    assert response.status_code == 400
    assert b"Accept all, Reject all or Save" in response.content


def test_consent_cookies_are_secure_outside_debug(client, settings):
    settings.COOKIE_CONSENT_SECURE = True
    response = choose(client, "reject_all")
    assert response.cookies["cookie_consent"]["secure"]
    assert response.cookies["consent_meta"]["secure"]


def test_a_choice_lapses_after_six_months(client, story):
    choose(client, "reject_all")
    assertNotContains(client.get(HOME), 'id="consent-banner"')
    with time_machine.travel(timedelta(days=7 * 30)):
        assertContains(client.get(HOME), 'id="consent-banner"')


def test_a_lapsed_consent_deletes_the_reader_id(client, story, settings):
    choose(client, "accept_all")
    client.get(story.get_absolute_url())
    assert client.cookies["briefings_reader"].value
    settings.CONSENT_POLICY_REVISION += 1
    page = client.get(story.get_absolute_url())
    assert page.cookies["briefings_reader"].value == ""
    assert page.cookies["briefings_reader"]["max-age"] == 0


def test_a_new_policy_revision_asks_everyone_again(client, settings):
    choose(client, "accept_all")
    settings.CONSENT_POLICY_REVISION += 1
    assertContains(client.get(HOME), 'id="consent-banner"')
    choose(client, "reject_all")
    assert (
        ConsentRecord.objects.latest("given_at").policy_revision
        == settings.CONSENT_POLICY_REVISION
    )


def test_a_cookie_added_to_a_group_asks_again(client):
    choose(client, "accept_all")
    assertNotContains(client.get(HOME), 'id="consent-banner"')
    with time_machine.travel(timedelta(minutes=5)):
        Cookie.objects.create(
            cookiegroup=CookieGroup.objects.get(varname="analytics"), name="new_one"
        )
        assertContains(client.get(HOME), 'id="consent-banner"')


def test_the_same_consent_id_follows_a_reader_across_decisions(client):
    choose(client, "accept_all")
    choose(client, "reject_all")
    first, second = ConsentRecord.objects.order_by("given_at")
    assert first.consent_id == second.consent_id
    assert (
        first.accepted_groups == ["analytics", "embeds"]
        and second.accepted_groups == []
    )


def test_records_survive_the_deletion_of_a_group(client):
    choose(client, "accept_all")
    CookieGroup.objects.get(varname="embeds").delete()
    assert ConsentRecord.objects.get().decisions["embeds"]["accepted"] is True


def test_a_group_without_cookies_is_never_taken_as_accepted(client, story):
    group = CookieGroup.objects.get(varname="embeds")
    choose(client, "accept_all")
    group.cookie_set.all().delete()
    with pytest.raises(SystemCheckError, match="'embeds' declares no cookie"):
        call_command("check", "--database", "default")
    page = client.get(story.get_absolute_url())
    assertNotContains(page, "<iframe")


def test_a_cookie_without_its_declaration_fails_the_check():
    CookieDeclaration.objects.filter(cookie__name="briefings_reader").update(
        lifetime=""
    )
    with pytest.raises(SystemCheckError, match="briefings_reader.*lifetime"):
        call_command("check", "--database", "default")


def test_prune_consent_deletes_only_old_records(client):
    with time_machine.travel(timedelta(days=-4 * 365)):
        choose(client, "accept_all")
    choose(Client(), "reject_all")
    out = io.StringIO()
    call_command("prune_consent", stdout=out)
    assert "Deleted 1 consent record(s) older than 1095 days." in out.getvalue()
    assert ConsentRecord.objects.get().accepted_groups == []


def test_editors_export_records_as_csv_safely(client):
    choose(client, "accept_all")
    editor = User.objects.create_superuser("boss", password="long-enough-password-1")
    client.force_login(editor)
    response = client.post(
        reverse("admin:briefings_consentrecord_changelist"),
        {
            "action": "export_csv",
            "_selected_action": ConsentRecord.objects.values_list("pk", flat=True),
        },
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["consent_id", "given_at", "method", "policy_revision"]
    assert rows[1][2] == "banner" and rows[1][4:6] == ["True", "True"]
    assert csv_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_safe("-1") == "'-1" and csv_safe("plain") == "plain"


# --- Caching never mixes readers ---------------------------------------------------


def test_readers_with_different_choices_never_share_a_cached_page(story):
    accepting, rejecting, undecided = Client(), Client(), Client()
    choose(accepting, "accept_all")
    choose(rejecting, "reject_all")
    url = story.get_absolute_url()
    for _ in range(2):
        a, r, u = accepting.get(url), rejecting.get(url), undecided.get(url)
        assertContains(a, "<iframe")
        assertNotContains(r, "<iframe")
        assertContains(r, "data-embed-src")
        assertContains(u, 'id="consent-banner"')
        assertNotContains(a, 'id="consent-banner"')
        assertNotContains(r, 'id="consent-banner"')
    assert r["X-Page-Cache"] == "hit" and u["X-Page-Cache"] == "hit"
    assert StoryDay.objects.get(article=story).views == 6  # cache hits count too


def test_an_edit_refreshes_cached_pages_at_once(client, story):
    url = story.get_absolute_url()
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    story.headline = "Talks collapse"
    story.save()
    response = client.get(url)
    assert response["X-Page-Cache"] == "miss"
    assertContains(response, "Talks collapse")
    assertContains(client.get(HOME), "Talks collapse")


def test_a_scheduled_story_appears_at_its_time_without_a_save(client, story):
    later = ArticleFactory(scheduled=True, headline="Embargoed story")
    BylineFactory(article=later)
    assertNotContains(client.get(HOME), "Embargoed story")
    assert client.get(HOME)["X-Page-Cache"] == "hit"
    with time_machine.travel(later.published_at + timedelta(seconds=1)):
        assertContains(client.get(HOME), "Embargoed story")


def test_signed_in_staff_are_never_served_from_the_cache(client, story):
    url = story.get_absolute_url()
    Client().get(url)  # an anonymous reader fills the cache
    editor = User.objects.create_superuser("ed", password="long-enough-password-1")
    client.force_login(editor)
    response = client.get(url)
    assert "X-Page-Cache" not in response
    anonymous = Client().get(url)
    assert anonymous["X-Page-Cache"] == "hit"
    assert "sessionid" not in anonymous.cookies and "csrftoken" not in anonymous.cookies


def test_bots_are_not_counted(client, story):
    client.get(story.get_absolute_url(), headers={"User-Agent": "Googlebot/2.1"})
    assert not StoryDay.objects.exists()
