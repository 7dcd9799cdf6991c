"""Storyboard editions: compose, preview, schedule and send, exactly once each.

- `compose()` makes this week's draft: the week's most-read and latest
  published stories, in that order, without repeats.
- `schedule(edition, when)` / `send_now(edition)` queue `send_edition`, which
  marks the edition *sending*, notes the last subscriber id (later sign-ups
  wait for the next edition) and queues one `send_batch` task per
  STORYBOARD_BATCH_SIZE confirmed subscribers.
- `send_batch` sends one message per subscriber over one SMTP connection. For
  each, in one transaction: the subscriber is still confirmed (its row locked,
  so an unsubscribe either happens before the check or after the message),
  the `Delivery` row is inserted (unique per edition and subscriber), and the
  message is handed to the SMTP server up to, not including, its end-of-data
  mark. The transaction commits, then the mark goes out. A server accepts a
  message only at that mark, so a worker killed before the commit leaves no
  row and no message (the subscriber is still pending), and one killed after
  it leaves a row for a message that is out or about to be: nobody is sent
  the edition twice, and at most the message of the very instant is lost.
- `watch_edition` runs every STORYBOARD_WATCH_SECONDS while the edition is
  sending: with nobody pending it marks the edition sent; with no delivery
  for STORYBOARD_STALL_SECONDS (a worker died holding a batch) it queues the
  pending subscribers again.
"""

import logging
import re
import smtplib
import socket
from datetime import datetime, time, timedelta
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.utils import DNS_NAME
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, Sum
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from briefings.analytics.models import StoryDay
from briefings.core import freshness
from briefings.core.background import can_defer, enqueue_with_data, later, retried
from briefings.core.seo import absolute
from briefings.newsletter.editions import (
    Delivery,
    DeliveryStatus,
    Edition,
    EditionItem,
    EditionStatus,
)
from briefings.newsletter.subscribers import (
    NEWSLETTER_NAME,
    Subscriber,
    SubscriberStatus,
)
from briefings.stories.models import Article

logger = logging.getLogger(__name__)

MOST_READ = 5  # stories the draft starts with, by last week's page views
LATEST = 5  # then the latest published stories not already in
# Stands for each subscriber's own unsubscribe link in a rendered edition.
UNSUBSCRIBE_MARK = "https://unsubscribe.invalid/storyboard"


# --- Composing -------------------------------------------------------------------


def next_friday_morning(now=None) -> datetime:
    """The next Friday 09:00 in the site's time zone (today's, if still ahead)."""
    now = timezone.localtime(now or timezone.now())
    days = (4 - now.weekday()) % 7
    when = datetime.combine(
        now.date() + timedelta(days=days), time(9), tzinfo=now.tzinfo
    )
    if when <= now:
        when += timedelta(days=7)
    return when


def week_stories(now=None) -> list[Article]:
    """The week's most-read published stories, then the latest ones."""
    now = now or timezone.now()
    published = Article.objects.published(now=now)
    since = timezone.localdate(now) - timedelta(days=6)
    most_read = list(
        StoryDay.objects.filter(day__gte=since, article__in=published)
        .values("article")
        .annotate(total=Sum("views"))
        .order_by("-total", "-article")
        .values_list("article", flat=True)[:MOST_READ]
    )
    stories = {a.pk: a for a in published.filter(pk__in=most_read)}
    chosen = [stories[pk] for pk in most_read if pk in stories]
    latest = published.exclude(pk__in=most_read).order_by("-published_at", "-pk")
    return chosen + list(latest[:LATEST])


@transaction.atomic
def compose(now=None) -> Edition:
    """A new draft edition with this week's stories; the next number."""
    now = now or timezone.now()
    number = (Edition.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    edition = Edition.objects.create(
        number=number,
        subject=f"{NEWSLETTER_NAME} #{number}: the week at {settings.SITE_NAME}",
        send_at=next_friday_morning(now),
    )
    EditionItem.objects.bulk_create(
        EditionItem(edition=edition, article=article, position=position)
        for position, article in enumerate(week_stories(now), start=1)
    )
    return edition


# --- Rendering -------------------------------------------------------------------


def edition_context(edition) -> dict:
    items = list(
        edition.items.select_related("article").order_by("position", "pk").all()
    )
    return {
        "edition": edition,
        "items": [
            {
                "headline": item.article.headline,
                "url": absolute(item.article.get_absolute_url()),
                "blurb": item.blurb.strip() or item.article.standfirst,
            }
            for item in items
        ],
        "newsletter": NEWSLETTER_NAME,
        "site_name": settings.SITE_NAME,
        "archive_url": absolute(reverse("briefings:storyboard")),
        "edition_url": absolute(edition.get_absolute_url()),
        "unsubscribe_url": UNSUBSCRIBE_MARK,
    }


def render(edition) -> tuple[str, str]:
    """The HTML and plain-text parts, with UNSUBSCRIBE_MARK for the link."""
    context = edition_context(edition)
    return (
        render_to_string("briefings/email/storyboard.html", context),
        render_to_string("briefings/email/storyboard.txt", context),
    )


class EditionMessage(EmailMultiAlternatives):
    """Long headers stay on one line (a List-Unsubscribe URL must not be split)."""

    def message(self, *, policy=SMTP_POLICY):
        return super().message(policy=policy.clone(max_line_length=998))


def message_for(edition, parts, email, unsubscribe_url, subject_prefix=""):
    html, text = parts
    message = EditionMessage(
        subject=f"{subject_prefix}{edition.subject}",
        body=text.replace(UNSUBSCRIBE_MARK, unsubscribe_url),
        to=[email],
        headers={
            "List-Id": f"{NEWSLETTER_NAME} <storyboard.{settings.SITE_NAME.lower()}>",
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        html.replace(UNSUBSCRIBE_MARK, unsubscribe_url), "text/html"
    )
    return message


class RawMessages:
    """An edition's message as bytes, made once and filled in per subscriber.

    Generating a MIME message costs milliseconds; replacing three marks in
    its bytes costs microseconds. Used only when the marks come out intact
    (plain 8-bit parts) and the address is ASCII; otherwise `raw` is None
    and the message is generated in full.
    """

    TO = "recipient@storyboard.invalid"
    MESSAGE_ID = "<message-id@storyboard.invalid>"

    def __init__(self, edition, parts):
        template = message_for(edition, parts, self.TO, UNSUBSCRIBE_MARK)
        template.extra_headers["Message-ID"] = self.MESSAGE_ID
        data = template.message().as_bytes()
        html, text = parts
        links = 1 + html.count(UNSUBSCRIBE_MARK) + text.count(UNSUBSCRIBE_MARK)
        intact = (
            data.count(UNSUBSCRIBE_MARK.encode()) == links
            and data.count(self.TO.encode()) == 1
            and data.count(self.MESSAGE_ID.encode()) == 1
        )
        self.template = data if intact else None

    def raw(self, email, unsubscribe_url):
        if self.template is None or not (email + unsubscribe_url).isascii():
            return None
        return (
            self.template.replace(self.TO.encode(), email.encode())
            .replace(UNSUBSCRIBE_MARK.encode(), unsubscribe_url.encode())
            .replace(
                self.MESSAGE_ID.encode(),
                make_msgid(domain=DNS_NAME.get_fqdn()).encode(),
            )
        )


# --- Handing messages to the mail server --------------------------------------


class MailSession:
    """One connection to the site's mailer, sending a message in two steps.

    `start(message)` hands over everything but the end of the message;
    `finish()` ends it, and only then does an SMTP server take it. Mailers
    that are not SMTP (console, tests' memory) send the whole message in
    `finish()`.
    """

    def __init__(self):
        self.mailer = mailers.default
        self.smtp = None
        self.message = None

    def _connection(self):
        if self.smtp is None:
            self.mailer.open()
            self.smtp = self.mailer.connection
            # The end-of-data mark is a small write right after the message:
            # without this, Nagle's algorithm holds it for the server's
            # delayed ACK (some 40 ms a message).
            self.smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.smtp

    def start(self, message, raw=None) -> None:
        """Hand over `message` (as `raw` bytes, if given) but for its end."""
        self.message = message
        if not isinstance(self.mailer, SMTPBackend):
            return
        smtp = self._connection()
        sender = self.mailer.prep_address(message.from_email)
        recipient = self.mailer.prep_address(message.to[0])
        code, reply = smtp.mail(sender)
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        smtp.putcmd("data")
        code, reply = smtp.getreply()
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        data = raw or message.message().as_bytes()
        data = re.sub(rb"(?m)^\.", b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        smtp.send(data)

    def finish(self) -> None:
        message, self.message = self.message, None
        if not isinstance(self.mailer, SMTPBackend):
            self.mailer.send_messages([message])
            return
        self.smtp.send(b".\r\n")
        code, reply = self.smtp.getreply()
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)

    def close(self) -> None:
        if self.smtp is not None:
            self.mailer.close()
            self.smtp = None


# --- Sending ---------------------------------------------------------------------


def pending(edition):
    """Confirmed subscribers this edition is for and has not reached."""
    return (
        Subscriber.objects.confirmed()
        .filter(pk__lte=edition.last_subscriber_id or 0)
        .exclude(deliveries__edition=edition)
    )


def counts(edition) -> dict:
    """{"sent", "failed", "pending"} for the admin and `storyboard status`."""
    edition = Edition.objects.get(pk=edition.pk)
    done = edition.deliveries.aggregate(
        sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
    )
    if edition.status == EditionStatus.SENDING:
        done["pending"] = pending(edition).count()
    elif edition.status == EditionStatus.SENT:
        done["pending"] = 0
    else:
        done["pending"] = Subscriber.objects.confirmed().count()
    return done


def schedule(edition, when=None) -> Edition:
    """Queue `edition` for `when` (its send time, or next Friday 09:00)."""
    with transaction.atomic():
        edition = Edition.objects.select_for_update().get(pk=edition.pk)
        if edition.status not in (EditionStatus.DRAFT, EditionStatus.SCHEDULED):
            raise ValueError(f"Edition {edition.number} is already {edition.status}.")
        if not edition.items.exists():
            raise ValueError(f"Edition {edition.number} has no stories.")
        edition.status = EditionStatus.SCHEDULED
        edition.send_at = when or edition.send_at or next_friday_morning()
        edition.save(update_fields=["status", "send_at"])
        task = send_edition
        if edition.send_at > timezone.now() and can_defer(send_edition):
            task = send_edition.using(run_after=edition.send_at)
        enqueue_with_data(task, edition.pk)
    edition.refresh_from_db()
    return edition


def send_now(edition) -> Edition:
    return schedule(edition, timezone.now())


def _batches(edition, subscribers):
    """(first id, last id) ranges of STORYBOARD_BATCH_SIZE subscribers."""
    ids = list(subscribers.order_by("pk").values_list("pk", flat=True))
    size = settings.STORYBOARD_BATCH_SIZE
    return [
        (ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)
    ]


@task
@retried
def send_edition(edition_id):
    """Task: start sending a scheduled edition, in batches."""
    with transaction.atomic():
        edition = Edition.objects.select_for_update().filter(pk=edition_id).first()
        if edition is None or edition.status != EditionStatus.SCHEDULED:
            return "not scheduled"
        if edition.send_at and edition.send_at > timezone.now() + timedelta(minutes=1):
            return "rescheduled"  # the task queued for the new time sends it
        edition.status = EditionStatus.SENDING
        edition.started_at = timezone.now()
        edition.last_subscriber_id = (
            Subscriber.objects.confirmed().aggregate(m=Max("pk"))["m"] or 0
        )
        edition.save(update_fields=["status", "started_at", "last_subscriber_id"])
        batches = _batches(edition, pending(edition))
        for first, last in batches:
            enqueue_with_data(send_batch, edition.pk, first, last)
        watch = later(watch_edition, settings.STORYBOARD_WATCH_SECONDS)
        if watch is not None:
            enqueue_with_data(watch, edition.pk)
    finish_if_done(edition)
    return {"batches": len(batches)}


def _record_failure(edition, subscriber_id, error) -> None:
    Delivery.objects.update_or_create(
        edition=edition,
        subscriber_id=subscriber_id,
        defaults={"status": DeliveryStatus.FAILED, "error": str(error)[:500]},
    )


@task
@retried
def send_batch(edition_id, first_id, last_id):
    """Task: send the edition to its pending subscribers with ids in a range."""
    edition = Edition.objects.filter(pk=edition_id).first()
    if edition is None or edition.status != EditionStatus.SENDING:
        return "not sending"
    parts = render(edition)
    raw = RawMessages(edition, parts)
    session = MailSession()
    sent = failed = 0
    subscribers = (
        pending(edition)
        .filter(pk__gte=first_id, pk__lte=last_id)
        .order_by("pk")
        .only("pk", "email")
    )
    try:
        for subscriber in subscribers.iterator(chunk_size=500):
            unsubscribe_url = subscriber.unsubscribe_url()
            message = message_for(edition, parts, subscriber.email, unsubscribe_url)
            try:
                with transaction.atomic():
                    still_confirmed = (
                        Subscriber.objects.select_for_update()
                        .filter(pk=subscriber.pk, status=SubscriberStatus.CONFIRMED)
                        .exists()
                    )
                    if not still_confirmed:
                        continue
                    Delivery.objects.create(edition=edition, subscriber=subscriber)
                    session.start(message, raw.raw(subscriber.email, unsubscribe_url))
            except IntegrityError:
                continue  # another worker has it
            except smtplib.SMTPResponseException as error:
                if 400 <= error.smtp_code < 500:
                    continue  # a passing refusal: still pending, tried again
                _record_failure(edition, subscriber.pk, error)
                failed += 1
                continue
            except smtplib.SMTPRecipientsRefused as error:
                code = next(iter(error.recipients.values()))[0]
                if 400 <= code < 500:
                    continue
                _record_failure(edition, subscriber.pk, error)
                failed += 1
                continue
            try:
                session.finish()
            except smtplib.SMTPResponseException as error:
                _record_failure(edition, subscriber.pk, error)
                failed += 1
                continue
            except (smtplib.SMTPException, OSError) as error:
                # Cut off at the very end: out or not, it is not sent again.
                _record_failure(edition, subscriber.pk, error)
                raise
            sent += 1
    finally:
        session.close()
    finish_if_done(edition)
    return {"sent": sent, "failed": failed}


def finish_if_done(edition) -> bool:
    """Mark a sending edition sent once nobody is pending; True if it is sent."""
    if pending(edition).exists():
        return False
    marked = Edition.objects.filter(pk=edition.pk, status=EditionStatus.SENDING).update(
        status=EditionStatus.SENT, sent_at=timezone.now()
    )
    if marked:
        freshness.bump_version()  # the archive lists it now
    return Edition.objects.filter(pk=edition.pk, status=EditionStatus.SENT).exists()


@task
def watch_edition(edition_id):
    """Task: while sending, finish the edition or take over a dead worker's part."""
    edition = Edition.objects.filter(pk=edition_id).first()
    if edition is None or edition.status != EditionStatus.SENDING:
        return "not sending"
    if finish_if_done(edition):
        return "sent"
    # The next look is queued first: a worker killed here leaves it queued.
    watch = later(watch_edition, settings.STORYBOARD_WATCH_SECONDS)
    if watch is not None:
        watch.enqueue(edition.pk)
    last = edition.deliveries.aggregate(m=Max("at"))["m"] or edition.started_at
    stalled = timezone.now() - last > timedelta(
        seconds=settings.STORYBOARD_STALL_SECONDS
    )
    requeued = 0
    if stalled:
        for first, last_id in _batches(edition, pending(edition)):
            send_batch.enqueue(edition.pk, first, last_id)
            requeued += 1
        logger.warning(
            "Storyboard #%s made no progress for %ss: queued %s batch(es) again",
            edition.number,
            settings.STORYBOARD_STALL_SECONDS,
            requeued,
        )
    return {"requeued": requeued}


@task
@retried
def send_test(edition_id, email):
    """Task: the edition, marked as a test, to one address (an editor's)."""
    edition = Edition.objects.get(pk=edition_id)
    unsubscribe = absolute(reverse("briefings:newsletter"))
    message = message_for(edition, render(edition), email, unsubscribe, "[Test] ")
    message.send()
    return "sent"
