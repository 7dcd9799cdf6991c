"""The Storyboard newsletter: double opt-in, unsubscribing, no address enumeration."""

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from email.policy import SMTP

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.newsletter.subscribers import (
    CONSENT_WORDINGS,
    CURRENT_CONSENT_VERSION,
    Subscriber,
    SubscriberStatus,
)
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("briefings:newsletter")
THANKS = reverse("briefings:newsletter-thanks")
SAME_ORIGIN = {"Origin": "http://testserver"}
SITE = "https://news.example"
LINK = re.compile(r"https://news\.example(/newsletter/(confirm|unsubscribe)/[^/\s]+/)")
# A script element that runs: no src, and not a JSON-LD data block.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", re.IGNORECASE
)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE
    settings.NEWSLETTER_SIGNUPS_PER_HOUR = 5
    settings.NEWSLETTER_RESEND_MINUTES = 10
    settings.NEWSLETTER_CONFIRM_DAYS = 7


def sign_up(client, email, *, headers=SAME_ORIGIN, **extra):
    data = {"email": email, "consent_version": CURRENT_CONSENT_VERSION, **extra}
    return client.post(SIGNUP, data, headers=headers)


def links(message):
    """The (confirm, unsubscribe) paths in an e-mail, in the order they appear."""
    found = {kind: path for path, kind in LINK.findall(message.body)}
    return found.get("confirm"), found.get("unsubscribe")


def subscriber(email, status, **kwargs):
    now = timezone.now()
    return Subscriber.objects.create(
        email=email,
        status=status,
        consent_version=CURRENT_CONSENT_VERSION,
        consent_text=CONSENT_WORDINGS[CURRENT_CONSENT_VERSION],
        consented_at=now,
        confirmed_at=now if status == SubscriberStatus.CONFIRMED else None,
        **kwargs,
    )


# --- The whole flow -------------------------------------------------------------


def test_sign_up_confirm_and_only_then_count(client):
    """A sign-up e-mails a link; the address counts only once the reader confirms."""
    response = sign_up(client, "Reader@Example.COM")
    assert response.status_code == 302 and response["Location"] == THANKS
    assertContains(client.get(THANKS), "Check your inbox")

    person = Subscriber.objects.get()
    assert person.email == "Reader@example.com"  # domain normalised
    assert person.status == SubscriberStatus.PENDING
    assert person.consent_text == CONSENT_WORDINGS[CURRENT_CONSENT_VERSION]
    assert person.consented_at is not None
    assert not Subscriber.objects.confirmed().exists()

    [message] = mail.outbox
    assert message.to == ["Reader@example.com"]
    assert "Confirm your Storyboard subscription" in message.subject
    assert "testserver" not in message.body  # links use BRIEFINGS_SITE_URL
    confirm, unsubscribe = links(message)
    assert confirm and unsubscribe

    # Opening the link (as a mail scanner would) only shows a button.
    page = client.get(confirm)
    assertContains(page, "Confirm my subscription")
    assert page["Cache-Control"] == "private, no-store"
    person.refresh_from_db()
    assert person.status == SubscriberStatus.PENDING

    done = client.post(confirm)
    assertContains(done, "You are subscribed")
    person.refresh_from_db()
    assert person.status == SubscriberStatus.CONFIRMED
    assert person.confirmed_at is not None
    assert list(Subscriber.objects.confirmed()) == [person]

    # Clicking again later is harmless.
    assertContains(client.get(confirm), "You are subscribed")


def test_every_email_carries_one_click_unsubscribe_headers(client):
    sign_up(client, "reader@example.com")
    [message] = mail.outbox
    _, unsubscribe = links(message)
    assert message.extra_headers["List-Unsubscribe"] == f"<{SITE}{unsubscribe}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    # The message the SMTP backend sends carries the URL as it is, on one line: not
    # split into encoded words, which mail clients would not read as a link.
    sent = message.message(policy=SMTP).as_bytes().decode()
    assert f"\r\nList-Unsubscribe: <{SITE}{unsubscribe}>\r\n" in sent
    assert "=?utf-8?" not in sent
    # No address appears in the links (they end up in servers' logs).
    assert "reader" not in unsubscribe


def test_the_one_click_header_stays_readable_with_a_long_site_address(client, settings):
    settings.SITE_URL = "https://newsletter.a-rather-long-domain-name.example.org"
    sign_up(client, "a.reader.with.a.long.address@example.com")
    sent = mail.outbox[0].message(policy=SMTP).as_bytes().decode()
    header = re.search(r"\r\nList-Unsubscribe: (.*?)\r\n", sent).group(1)
    assert header.startswith(f"<{settings.SITE_URL}/newsletter/unsubscribe/")
    assert header.endswith("/>")


def test_an_expired_link_offers_to_sign_up_again(client):
    sign_up(client, "reader@example.com")
    confirm, _ = links(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.post(confirm)
    assert response.status_code == 410
    assertContains(response, "This link has expired", status_code=410)
    assertContains(response, f'href="{SIGNUP}"', status_code=410)
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_a_link_still_works_within_its_days(client):
    sign_up(client, "reader@example.com")
    confirm, _ = links(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assertContains(client.post(confirm), "You are subscribed")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda path: path.replace("/confirm/", "/confirm/x"),
        lambda path: path.replace("/confirm/", "/confirm/9"),
        lambda path: path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:],
        lambda path: path.replace("/confirm/", "/confirm/..%2F"),
    ],
)
def test_a_tampered_link_is_a_clear_error(client, tamper):
    sign_up(client, "reader@example.com")
    confirm, _ = links(mail.outbox[0])
    response = client.post(tamper(confirm))
    assert response.status_code in (400, 404)
    assert b"Traceback" not in response.content
    if response.status_code == 400:
        assertContains(response, "This link does not work", status_code=400)
    assert Subscriber.objects.get().status == SubscriberStatus.PENDING


def test_an_unsubscribe_link_is_no_confirmation_link(client):
    sign_up(client, "reader@example.com")
    _, unsubscribe = links(mail.outbox[0])
    token = unsubscribe.split("/")[-2]
    response = client.post(reverse("briefings:newsletter-confirm", args=[token]))
    assertContains(response, "This link does not work", status_code=400)


def test_unsubscribe_without_logging_in(client):
    """GET asks (link scanners change nothing); POST unsubscribes."""
    sign_up(client, "reader@example.com")
    confirm, unsubscribe = links(mail.outbox[0])
    client.post(confirm)

    page = client.get(unsubscribe)
    assertContains(page, "Unsubscribe from Storyboard?")
    assertContains(page, "reader@example.com")
    assert Subscriber.objects.get().status == SubscriberStatus.CONFIRMED

    assertContains(client.post(unsubscribe), "You are unsubscribed")
    person = Subscriber.objects.get()
    assert person.status == SubscriberStatus.UNSUBSCRIBED
    assert person.unsubscribed_at is not None
    assert not Subscriber.objects.confirmed().exists()
    # An old confirmation link cannot bring the address back.
    assertContains(client.post(confirm), "expired", status_code=410)
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED


def test_one_click_unsubscribe_from_the_mail_provider():
    """RFC 8058: the provider POSTs from its own servers, with no token or cookie."""
    browser = Client()
    sign_up(browser, "reader@example.com")
    confirm, unsubscribe = links(mail.outbox[0])
    browser.post(confirm)
    provider = Client(enforce_csrf_checks=True)
    response = provider.post(
        unsubscribe,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "https://mail.provider.example"},
    )
    assert response.status_code == 200
    assert Subscriber.objects.get().status == SubscriberStatus.UNSUBSCRIBED


def test_unsubscribe_links_never_expire(client):
    sign_up(client, "reader@example.com")
    _, unsubscribe = links(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        assertContains(client.post(unsubscribe), "You are unsubscribed")


def test_a_broken_unsubscribe_link_is_a_clear_error(client):
    url = reverse("briefings:newsletter-unsubscribe", args=["not-a-token"])
    assertContains(client.get(url), "This link does not work", status_code=400)
    assertContains(client.post(url), "This link does not work", status_code=400)


def test_an_unsubscribed_reader_can_sign_up_again(client):
    person = subscriber("reader@example.com", SubscriberStatus.UNSUBSCRIBED)
    sign_up(client, "reader@example.com")
    person.refresh_from_db()
    assert person.status == SubscriberStatus.PENDING
    confirm, _ = links(mail.outbox[0])
    client.post(confirm)
    person.refresh_from_db()
    assert person.status == SubscriberStatus.CONFIRMED
    assert person.unsubscribed_at is None


# --- No enumeration ---------------------------------------------------------------


def test_responses_reveal_nothing_about_the_list(client):
    """New, pending, confirmed and unsubscribed addresses get identical answers."""
    subscriber("pending@example.com", SubscriberStatus.PENDING)
    subscriber("confirmed@example.com", SubscriberStatus.CONFIRMED)
    subscriber("gone@example.com", SubscriberStatus.UNSUBSCRIBED)
    answers = []
    for email in [
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ]:
        response = sign_up(client, email)
        answers.append(
            (
                response.status_code,
                response["Location"],
                response.content,
                sorted(response.cookies),
                response["Cache-Control"],
            )
        )
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][:2] == (302, THANKS)


def test_a_confirmed_reader_is_told_so_and_nothing_changes(client):
    person = subscriber("reader@example.com", SubscriberStatus.CONFIRMED)
    confirmed_at = person.confirmed_at
    sign_up(client, "READER@example.com")
    [message] = mail.outbox
    assert "already subscribed" in message.subject
    confirm, unsubscribe = links(message)
    assert confirm is None and unsubscribe
    person.refresh_from_db()
    assert person.status == SubscriberStatus.CONFIRMED
    assert person.confirmed_at == confirmed_at
    assert Subscriber.objects.count() == 1


def test_case_variants_are_one_subscriber(client):
    first = sign_up(client, "Reader@Example.com")
    second = sign_up(client, "reader@example.com")
    assert Subscriber.objects.count() == 1
    assert (first.status_code, first["Location"], first.content) == (
        second.status_code,
        second["Location"],
        second.content,
    )


def test_addresses_equal_in_lower_case_but_not_upper_case_are_one_subscriber(client):
    """The lookup compares as the unique constraint does (lower case): the
    Kelvin sign lower-cases to "k" but upper-cases to itself."""
    sign_up(client, "k@example.com")
    response = sign_up(client, "\u212a@example.com")
    assert response.status_code == 302  # not a 500 from the unique constraint
    assert response["Location"] == THANKS


def test_confirmation_is_not_resent_within_minutes(client):
    sign_up(client, "reader@example.com")
    sign_up(client, "reader@example.com")
    assert len(mail.outbox) == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        sign_up(client, "reader@example.com")
    assert len(mail.outbox) == 2


# --- Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "email, error",
    [
        ("a@b", "Enter a valid email address."),
        ("root@localhost", "Enter a valid email address."),
        ("x@example.com\r\nBcc: y@evil.com", "Enter a valid email address."),
        ("x@example.com\nBcc: y@evil.com", "Enter a valid email address."),
        ("a" * 310 + "@example.com", "Enter a valid email address."),
        ("not an address", "Enter a valid email address."),
        ("", "Enter your e-mail address."),
        ("x\x00@example.com", "Null characters are not allowed."),
    ],
)
def test_invalid_addresses_get_a_clear_error_and_no_email(client, email, error):
    response = sign_up(client, email)
    assertContains(response, error)
    assertContains(response, 'aria-invalid="true"')
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


@pytest.mark.parametrize("version", ["99", "", "abc"])
def test_an_unknown_wording_is_refused(client, version):
    response = sign_up(client, "reader@example.com", consent_version=version)
    assertContains(response, "This form was out of date")
    assert Subscriber.objects.count() == 0 and mail.outbox == []


def test_a_huge_field_is_refused_cleanly(client):
    response = sign_up(client, "a" * 3_000_000 + "@example.com")
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0 and mail.outbox == []


def test_too_many_fields_are_refused_cleanly(client):
    extra = {f"f{n}": "x" for n in range(1001)}
    response = sign_up(client, "reader@example.com", **extra)
    assert response.status_code == 400
    assert Subscriber.objects.count() == 0 and mail.outbox == []


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example"])
def test_the_answer_never_sends_readers_elsewhere(client, target):
    response = sign_up(client, "reader@example.com", next=target)
    assert response["Location"] == THANKS


# --- Abuse -------------------------------------------------------------------------


def test_sign_ups_are_rate_limited_per_client(client, settings):
    settings.NEWSLETTER_SIGNUPS_PER_HOUR = 3
    for n in range(3):
        assert sign_up(client, f"reader{n}@example.com").status_code == 302
    response = sign_up(client, "reader9@example.com")
    assertContains(response, "Too many sign-ups", status_code=429)
    assert 0 < int(response["Retry-After"]) <= 3600
    assert not Subscriber.objects.filter(email="reader9@example.com").exists()
    # Another client is not held back; this one may try again the next hour.
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert sign_up(other, "reader9@example.com").status_code == 302
    with time_machine.travel(timezone.now() + timedelta(minutes=60)):
        assert sign_up(client, "reader10@example.com").status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
    ],
)
def test_a_sign_up_forged_from_another_site_is_refused(client, headers):
    response = sign_up(client, "victim@example.com", headers=headers)
    assert response.status_code == 403
    assert Subscriber.objects.count() == 0 and mail.outbox == []


def test_a_sign_up_from_this_site_needs_no_csrf_token():
    client = Client(enforce_csrf_checks=True)
    response = sign_up(
        client, "reader@example.com", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1


# --- Pages ---------------------------------------------------------------------------


def test_article_pages_carry_the_form_but_no_token_and_no_inline_script(client):
    story = ArticleFactory(published=True)
    for cache_state in ("miss", "hit"):
        response = client.get(story.get_absolute_url())
        assert response["X-Page-Cache"] == cache_state
        html = response.content.decode()
        assert f'action="{SIGNUP}"' in html
        assert 'name="email"' in html
        assert "csrfmiddlewaretoken" not in html
        assert "csrftoken" not in response.cookies
        assert not INLINE_SCRIPT.search(html)


def test_the_sign_up_from_an_article_page_works(client):
    story = ArticleFactory(published=True)
    html = client.get(story.get_absolute_url()).content.decode()
    version = re.search(r'name="consent_version" value="(\d+)"', html).group(1)
    response = client.post(
        SIGNUP,
        {"email": "reader@example.com", "consent_version": version},
        headers={"Origin": "http://testserver", "Referer": story.get_absolute_url()},
    )
    assert response["Location"] == THANKS
    assert len(mail.outbox) == 1


def test_the_sign_up_page_shows_the_wording_and_is_cacheable(client):
    response = client.get(SIGNUP)
    assertContains(response, "Subscribe to Storyboard")
    assertContains(response, CONSENT_WORDINGS[CURRENT_CONSENT_VERSION])
    assertNotContains(response, "csrfmiddlewaretoken")
    assert not INLINE_SCRIPT.search(response.content.decode())
    assert client.get(SIGNUP)["X-Page-Cache"] == "hit"


def test_an_error_page_is_never_cached(client):
    response = sign_up(client, "a@b")
    assert response["Cache-Control"] == "private, no-store"
    assertNotContains(client.get(SIGNUP), "Enter a valid email address.")


def test_query_ceilings(client, django_assert_max_num_queries):
    """Cold caches included: the consent groups and schedule are read once."""
    with django_assert_max_num_queries(4):
        assert client.get(SIGNUP).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(THANKS).status_code == 200
    # Two shared counters (the client's sign-ups, the mailbox's e-mails) and
    # the deletion of ended windows (once a minute per process).
    with django_assert_max_num_queries(9):
        assert sign_up(client, "reader@example.com").status_code == 302
    confirm, unsubscribe = links(mail.outbox[0])
    with django_assert_max_num_queries(1):
        assert client.get(confirm).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.post(confirm).status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get(unsubscribe).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.post(unsubscribe).status_code == 200


def test_prune_newsletter_forgets_only_expired_unconfirmed_sign_ups():
    old = timezone.now() - timedelta(days=8)
    stale = subscriber("stale@example.com", SubscriberStatus.PENDING)
    Subscriber.objects.filter(pk=stale.pk).update(consented_at=old)
    subscriber("fresh@example.com", SubscriberStatus.PENDING)
    kept = subscriber("kept@example.com", SubscriberStatus.CONFIRMED)
    Subscriber.objects.filter(pk=kept.pk).update(consented_at=old)
    out = io.StringIO()
    call_command("prune_newsletter", "--dry-run", stdout=out)
    assert "1 unconfirmed sign-up(s) to delete." in out.getvalue()
    assert Subscriber.objects.count() == 3
    call_command("prune_newsletter", stdout=out)
    assert "Deleted 1 unconfirmed sign-up(s)." in out.getvalue()
    assert sorted(Subscriber.objects.values_list("email", flat=True)) == [
        "fresh@example.com",
        "kept@example.com",
    ]


# --- Admin ---------------------------------------------------------------------


def staff(username, group):
    user = User.objects.create_user(username, password="long-enough-password-1")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=group))
    return user


def test_editors_export_confirmed_subscribers_as_formula_safe_csv(client):
    subscriber("=HYPERLINK(1)@example.com", SubscriberStatus.CONFIRMED)
    subscriber("+cmd@example.com", SubscriberStatus.CONFIRMED)
    subscriber("plain@example.com", SubscriberStatus.CONFIRMED)
    subscriber("pending@example.com", SubscriberStatus.PENDING)
    subscriber("gone@example.com", SubscriberStatus.UNSUBSCRIBED)
    client.force_login(staff("editor", "Editors"))
    response = client.post(
        reverse("admin:briefings_subscriber_changelist"),
        {
            "action": "export_confirmed_csv",
            "_selected_action": Subscriber.objects.values_list("pk", flat=True),
        },
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "email",
        "confirmed_at",
        "consent_version",
        "consented_at",
        "consent_text",
    ]
    emails = sorted(row[0] for row in rows[1:])
    assert emails == [
        "'+cmd@example.com",
        "'=HYPERLINK(1)@example.com",
        "plain@example.com",
    ]
    assert all(row[4] == CONSENT_WORDINGS[CURRENT_CONSENT_VERSION] for row in rows[1:])


def test_editors_see_subscribers_but_writers_do_not(client):
    subscriber("reader@example.com", SubscriberStatus.CONFIRMED)
    changelist = reverse("admin:briefings_subscriber_changelist")
    client.force_login(staff("writer", "Writers"))
    assert client.get(changelist).status_code == 403
    client.force_login(staff("editor", "Editors"))
    page = client.get(changelist + "?status__exact=confirmed&q=reader")
    assertContains(page, "reader@example.com")
    assert client.get(reverse("admin:briefings_subscriber_add")).status_code == 403
    person = Subscriber.objects.get()
    delete = reverse("admin:briefings_subscriber_delete", args=[person.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Subscriber.objects.count() == 1


def test_the_admin_list_has_a_query_ceiling(client, django_assert_max_num_queries):
    for n in range(30):
        subscriber(f"reader{n}@example.com", SubscriberStatus.CONFIRMED)
    client.force_login(User.objects.create_superuser("boss", password="x" * 16))
    # 12, plus the session save (and its savepoint) and the two-factor app lookup
    with django_assert_max_num_queries(16):
        page = client.get(reverse("admin:briefings_subscriber_changelist"))
    assertContains(page, "reader29@example.com")


# --- Settings --------------------------------------------------------------------


MAILER_PROBE = (
    "import json, config.settings as s; "
    "print(json.dumps([s.MAILERS['default'], s.SITE_URL, s.DEFAULT_FROM_EMAIL]))"
)


def mail_settings(**env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "BRIEFINGS_", "DATABASE_URL", "REDIS_URL"))
    }
    done = subprocess.run(
        [sys.executable, "-c", MAILER_PROBE],
        env={**clean, "DJANGO_SECRET_KEY": "s3cret-for-this-test", **env},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def test_email_is_printed_to_the_console_by_default():
    mailer, site, sender = mail_settings()
    assert mailer == {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    assert site == "http://127.0.0.1:8000"
    assert "Storyboard" in sender


def test_smtp_and_site_address_come_from_the_environment():
    mailer, site, sender = mail_settings(
        DJANGO_EMAIL_HOST="smtp.news.example",
        DJANGO_EMAIL_PORT="465",
        DJANGO_EMAIL_HOST_USER="mailer",
        DJANGO_EMAIL_HOST_PASSWORD="pw-for-this-test",
        DJANGO_EMAIL_USE_TLS="0",
        DJANGO_DEFAULT_FROM_EMAIL="Storyboard <storyboard@news.example>",
        BRIEFINGS_SITE_URL="https://news.example",
    )
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "smtp.news.example",
        "port": 465,
        "username": "mailer",
        "password": "pw-for-this-test",
        "use_tls": False,
        "timeout": 10,
    }
    assert site == "https://news.example"
    assert sender == "Storyboard <storyboard@news.example>"
