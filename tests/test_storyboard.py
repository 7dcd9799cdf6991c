"""Storyboard editions: composing, previewing, sending once each, the archive."""

import re
import smtplib
from datetime import date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import Delivery, DeliveryStatus, Edition, EditionStatus, StoryDay
from briefings.newsletter import storyboard
from briefings.newsletter.subscribers import (
    Subscriber,
    SubscriberStatus,
    subscriber_from_token,
)
from tests.factories import ArticleFactory, SubscriberFactory
from tests.test_admin import as_user, staff

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
UNSUBSCRIBE = re.compile(r"https?://[^\s\"<>]+/newsletter/unsubscribe/([^/\s]+)/")


def edition_with_stories(stories=2):
    ArticleFactory.create_batch(stories, published=True)
    return storyboard.compose()


def recipients():
    return sorted(address for m in mail.outbox for address in m.to)


# --- Composing ----------------------------------------------------------------


def test_a_new_edition_starts_with_the_weeks_most_read_then_the_latest():
    old_hit, quiet, newest = (
        ArticleFactory(published=True, headline=h) for h in ("Hit", "Quiet", "Newest")
    )
    ArticleFactory(headline="A draft")  # never in an edition
    StoryDay.objects.create(article=old_hit, day=timezone.localdate(), views=500)
    StoryDay.objects.create(article=quiet, day=timezone.localdate(), views=3)
    edition = storyboard.compose()
    headlines = [item.article.headline for item in edition.items.all()]
    assert headlines == ["Hit", "Quiet", "Newest"]
    assert edition.number == 1 and edition.status == EditionStatus.DRAFT
    assert storyboard.compose().number == 2


def test_the_default_send_time_is_friday_nine_in_the_sites_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    paris = ZoneInfo("Europe/Paris")
    wednesday = datetime(2026, 12, 2, 15, 0, tzinfo=paris)
    assert storyboard.next_friday_morning(wednesday) == datetime(
        2026, 12, 4, 9, 0, tzinfo=paris
    )
    friday_noon = datetime(2026, 12, 4, 12, 0, tzinfo=paris)
    assert storyboard.next_friday_morning(friday_noon).date() == date(2026, 12, 11)


# --- Sending ----------------------------------------------------------------------


def test_every_confirmed_subscriber_gets_one_message_with_their_own_link():
    readers = SubscriberFactory.create_batch(3)
    SubscriberFactory(email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED)
    SubscriberFactory(email="later@example.com", status=SubscriberStatus.PENDING)
    edition = edition_with_stories()
    storyboard.send_now(edition)

    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT
    assert recipients() == sorted(r.email for r in readers)
    for message in mail.outbox:
        [owner] = message.to
        token = UNSUBSCRIBE.search(message.body).group(1)
        assert subscriber_from_token(token, salt="briefings.newsletter-unsubscribe")
        assert subscriber_from_token(
            token, salt="briefings.newsletter-unsubscribe"
        ).email == (owner)
        assert message.extra_headers["List-Unsubscribe"].startswith("<http")
        assert token in message.extra_headers["List-Unsubscribe"]
        assert message.extra_headers["List-Unsubscribe-Post"] == (
            "List-Unsubscribe=One-Click"
        )
        html, kind = message.alternatives[0]
        assert kind == "text/html" and token in html
    assert storyboard.counts(edition) == {"sent": 3, "failed": 0, "pending": 0}


def test_running_a_batch_again_sends_nobody_twice():
    SubscriberFactory.create_batch(2)
    edition = edition_with_stories()
    storyboard.send_now(edition)
    assert len(mail.outbox) == 2
    Edition.objects.filter(pk=edition.pk).update(status=EditionStatus.SENDING)
    storyboard.send_batch.call(edition.pk, 0, 10**9)
    assert len(mail.outbox) == 2


def test_someone_who_unsubscribes_while_it_sends_gets_nothing(monkeypatch):
    """Both are in one batch, listed before the first message goes out."""
    first, second = SubscriberFactory.create_batch(2)
    real_start = storyboard.MailSession.start

    def start(session, message, raw=None):
        if message.to == [first.email]:  # while the first message goes out...
            Subscriber.objects.get(pk=second.pk).unsubscribe()
        real_start(session, message, raw)

    monkeypatch.setattr(storyboard.MailSession, "start", start)
    edition = edition_with_stories()
    storyboard.send_now(edition)
    assert recipients() == [first.email]
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT


def test_an_address_the_server_refuses_is_counted_failed_not_retried(monkeypatch):
    good, bad = SubscriberFactory.create_batch(2)
    real_start = storyboard.MailSession.start

    def start(session, message, raw=None):
        if message.to == [bad.email]:
            raise smtplib.SMTPRecipientsRefused({bad.email: (550, b"No such user")})
        real_start(session, message, raw)

    monkeypatch.setattr(storyboard.MailSession, "start", start)
    edition = edition_with_stories()
    storyboard.send_now(edition)
    assert recipients() == [good.email]
    failure = Delivery.objects.get(subscriber=bad)
    assert failure.status == DeliveryStatus.FAILED and "No such user" in failure.error
    assert storyboard.counts(edition) == {"sent": 1, "failed": 1, "pending": 0}


def test_a_scheduled_edition_waits_for_its_time(settings):
    settings.TASKS = DUMMY
    SubscriberFactory()
    edition = edition_with_stories()
    storyboard.schedule(edition)
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SCHEDULED
    [queued] = default_task_backend.results
    assert queued.task.name == "send_edition"
    assert queued.task.run_after == edition.send_at
    assert timezone.localtime(edition.send_at).weekday() == 4  # a Friday
    assert timezone.localtime(edition.send_at).hour == 9
    assert mail.outbox == []


def test_an_edition_cannot_be_sent_twice():
    SubscriberFactory()
    edition = edition_with_stories()
    storyboard.send_now(edition)
    with pytest.raises(ValueError, match="already sent"):
        storyboard.send_now(edition)
    assert len(mail.outbox) == 1


# --- Archive ----------------------------------------------------------------------


def test_the_archive_lists_sent_editions_only(client):
    SubscriberFactory()
    sent = edition_with_stories()
    storyboard.send_now(sent)
    draft = storyboard.compose()
    archive = client.get(reverse("briefings:storyboard"))
    assertContains(archive, sent.subject)
    assertNotContains(archive, draft.get_absolute_url())
    page = client.get(sent.get_absolute_url())
    for item in sent.items.all():
        assertContains(page, item.article.headline)
    assertNotContains(page, "/newsletter/unsubscribe/")
    assert client.get(draft.get_absolute_url()).status_code == 404
    # Cached like other public pages.
    assert client.get(sent.get_absolute_url()).headers.get("X-Page-Cache") == "hit"


def test_the_sign_up_form_links_to_the_archive(client):
    assertContains(
        client.get(reverse("briefings:newsletter")), reverse("briefings:storyboard")
    )


# --- Admin ------------------------------------------------------------------------


@pytest.fixture
def editor_client(client):
    user = staff("editor", "Editors")
    user.email = "editor@news.example"
    user.save()
    return as_user(client, user)


def test_new_edition_in_the_admin_composes_this_weeks_draft(editor_client):
    ArticleFactory(published=True, headline="Lead story")
    add = reverse("admin:briefings_edition_add")
    assertContains(editor_client.get(add), "Compose this week")
    response = editor_client.post(add)
    edition = Edition.objects.get()
    assert response.url == reverse("admin:briefings_edition_change", args=[edition.pk])
    assertContains(editor_client.get(response.url), "Lead story")


def test_preview_shows_both_parts_and_sends_a_test_to_the_editor(editor_client):
    SubscriberFactory()
    edition = edition_with_stories()
    edition.intro = "Hello from the desk."
    edition.save()
    preview = reverse("admin:briefings_edition_preview", args=[edition.pk])
    page = editor_client.get(preview)
    assertContains(page, "Hello from the desk.")
    html = editor_client.get(
        reverse("admin:briefings_edition_preview_html", args=[edition.pk])
    )
    assertContains(html, "Hello from the desk.")
    editor_client.post(preview)
    [test] = mail.outbox
    assert test.to == ["editor@news.example"]
    assert test.subject.startswith("[Test] ")
    edition.refresh_from_db()
    assert edition.status == EditionStatus.DRAFT  # nobody else got it


def test_the_edition_list_shows_sent_failed_and_pending(editor_client, monkeypatch):
    SubscriberFactory.create_batch(2)
    bad = SubscriberFactory()
    real_start = storyboard.MailSession.start

    def start(session, message, raw=None):
        if message.to == [bad.email]:
            raise smtplib.SMTPRecipientsRefused({bad.email: (550, b"No such user")})
        real_start(session, message, raw)

    monkeypatch.setattr(storyboard.MailSession, "start", start)
    storyboard.send_now(edition_with_stories())
    page = editor_client.get(reverse("admin:briefings_edition_changelist"))
    assertContains(page, '<td class="field-sent_count">2</td>', html=True)
    assertContains(page, '<td class="field-failed_count">1</td>', html=True)
    assertContains(page, '<td class="field-pending_count">0</td>', html=True)


def test_a_writer_cannot_send_an_edition(client):
    SubscriberFactory()
    edition = edition_with_stories()
    as_user(client, staff("writer", "Writers"))
    response = client.post(
        reverse("admin:briefings_edition_changelist"),
        {"action": "send_now", "_selected_action": [edition.pk]},
    )
    assert response.status_code in (200, 302, 403)
    edition.refresh_from_db()
    assert edition.status == EditionStatus.DRAFT and mail.outbox == []


# --- Command line -----------------------------------------------------------------


def test_the_storyboard_command_composes_sends_and_reports():
    SubscriberFactory.create_batch(2)
    ArticleFactory(published=True)
    out = StringIO()
    call_command("storyboard", "compose", stdout=out)
    number = int(out.getvalue())
    call_command("storyboard", "send", str(number), "--now", stdout=StringIO())
    out = StringIO()
    call_command("storyboard", "status", str(number), stdout=out)
    assert "2 sent, 0 failed, 0 pending" in out.getvalue()
    assert len(mail.outbox) == 2


def test_the_command_names_a_missing_edition():
    with pytest.raises(Exception, match="There is no edition 99"):
        call_command("storyboard", "status", "99", stdout=StringIO())


def test_a_stalled_edition_is_taken_over(settings):
    """A batch whose worker died leaves people pending; the watcher queues them."""
    SubscriberFactory.create_batch(2)
    edition = edition_with_stories()
    Edition.objects.filter(pk=edition.pk).update(
        status=EditionStatus.SENDING,
        started_at=timezone.now() - timedelta(hours=1),
        last_subscriber_id=Subscriber.objects.order_by("-pk").first().pk,
    )
    storyboard.watch_edition.call(edition.pk)
    assert len(mail.outbox) == 2
    edition.refresh_from_db()
    assert edition.status == EditionStatus.SENT
