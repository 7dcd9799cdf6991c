"""Storyboard, the weekly newsletter: subscribers, double opt-in and its e-mails.

A sign-up makes (or reuses) a pending `Subscriber` and e-mails (from a worker,
the `send_signup_email` task) a signed link
that expires after `NEWSLETTER_CONFIRM_DAYS`; only confirmed addresses count.
Every e-mail carries a signed unsubscribe link that never expires and needs no
login, plus List-Unsubscribe headers for one-click unsubscribing (RFC 8058).
We store the address, the dates and the exact wording the reader agreed to;
no IP address.
"""

import hashlib
import logging
import re
from datetime import timedelta
from email.policy import default as default_email_policy

from django import forms
from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.mail import EmailMessage
from django.core.validators import EmailValidator
from django.db import models
from django.db.models.functions import Lower
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from briefings.core import limits
from briefings.core.background import enqueue_with_data, retried
from briefings.core.seo import absolute

# `email__lower=`: the lookup the unique constraint's Lower(email) can serve.
models.CharField.register_lookup(Lower)

logger = logging.getLogger(__name__)

NEWSLETTER_NAME = "Storyboard"
GMAIL_DOMAINS = ("gmail.com", "googlemail.com")
CONFIRM_SALT = "briefings.newsletter-confirm"
UNSUBSCRIBE_SALT = "briefings.newsletter-unsubscribe"

# What the reader agrees to, by version. A form sends the version it showed, so
# each subscriber keeps the very words they saw. Never edit a wording: add a new
# version and make it CURRENT_CONSENT_VERSION.
CONSENT_WORDINGS = {
    1: (
        "Send me Storyboard, the weekly newsletter, by e-mail every Friday. "
        "I can unsubscribe at any time with the link in every e-mail."
    ),
}
CURRENT_CONSENT_VERSION = 1


class SubscriberStatus(models.TextChoices):
    PENDING = "pending", "Waiting for confirmation"
    CONFIRMED = "confirmed", "Confirmed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        """The only addresses that count: those whose owner clicked the link."""
        return self.filter(status=SubscriberStatus.CONFIRMED)

    def never_confirmed(self):
        """Pending sign-ups whose confirmation link has expired."""
        cutoff = timezone.now() - timedelta(days=settings.NEWSLETTER_CONFIRM_DAYS)
        return self.filter(status=SubscriberStatus.PENDING, consented_at__lt=cutoff)


class Subscriber(models.Model):
    email = models.EmailField(max_length=254)
    status = models.CharField(
        max_length=20,
        choices=SubscriberStatus.choices,
        default=SubscriberStatus.PENDING,
    )
    created = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.PositiveSmallIntegerField(
        help_text="Version of the sign-up wording the reader agreed to."
    )
    consent_text = models.TextField(
        help_text="The exact sign-up wording the reader agreed to."
    )
    consented_at = models.DateTimeField(
        help_text="When the reader sent the sign-up form with this wording."
    )
    last_sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When we last e-mailed a confirmation link (limits resending).",
    )

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="unique_subscriber_email_ci"),
        ]
        indexes = [models.Index(fields=["status"], name="subscriber_status_idx")]

    def __str__(self):
        return self.email

    # --- Signed links -------------------------------------------------------

    def token_value(self):
        """The id and a short hash of the address: no address in any URL or log."""
        digest = hashlib.sha256(self.email.lower().encode()).hexdigest()[:12]
        return f"{self.pk}.{digest}"

    def confirm_token(self):
        """Signed with the time, so it expires after NEWSLETTER_CONFIRM_DAYS."""
        return signing.TimestampSigner(salt=CONFIRM_SALT).sign(self.token_value())

    def unsubscribe_token(self):
        """Signed without a time: it works for as long as the address is listed."""
        return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(self.token_value())

    def confirm_url(self):
        path = reverse("briefings:newsletter-confirm", args=[self.confirm_token()])
        return absolute(path)

    def unsubscribe_url(self):
        path = reverse(
            "briefings:newsletter-unsubscribe", args=[self.unsubscribe_token()]
        )
        return absolute(path)

    # --- State changes ------------------------------------------------------

    def confirm(self):
        if self.status != SubscriberStatus.CONFIRMED:
            self.status = SubscriberStatus.CONFIRMED
            self.confirmed_at = timezone.now()
            self.unsubscribed_at = None
            self.save(update_fields=["status", "confirmed_at", "unsubscribed_at"])

    def unsubscribe(self):
        if self.status != SubscriberStatus.UNSUBSCRIBED:
            self.status = SubscriberStatus.UNSUBSCRIBED
            self.unsubscribed_at = timezone.now()
            self.save(update_fields=["status", "unsubscribed_at"])


class LinkExpired(Exception):
    """A confirmation link that was genuine but is too old."""


class LinkInvalid(Exception):
    """A link that was altered, or names an address no longer on the list."""


def subscriber_from_token(token, *, salt, max_age=None):
    """The subscriber a signed link names; LinkExpired or LinkInvalid otherwise.

    With max_age the token must carry a signed time (a confirmation link).
    """
    try:
        if max_age is None:
            value = signing.Signer(salt=salt).unsign(token)
        else:
            value = signing.TimestampSigner(salt=salt).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkExpired from None
    except signing.BadSignature:
        raise LinkInvalid from None
    pk, _, _ = value.partition(".")
    subscriber = Subscriber.objects.filter(pk=int(pk)).first() if pk.isdigit() else None
    if subscriber is None or subscriber.token_value() != value:
        raise LinkInvalid
    return subscriber


def confirm_max_age():
    return settings.NEWSLETTER_CONFIRM_DAYS * 24 * 60 * 60


# --- Rate limits ---------------------------------------------------------------


def client_over_limit(request):
    """Count this sign-up against the client; True once over the hourly limit
    (or when the count cannot be kept: see limits.py).

    Counted per clock hour under a keyed hash of the client's address, where
    every worker sees it (Redis, or the database without Redis).
    """
    return limits.hit(
        "newsletter-signups",
        limits.client_address(request),
        limit=settings.NEWSLETTER_SIGNUPS_PER_HOUR,
        window=3600,
    )


def mailbox(email: str) -> str:
    """The inbox an address reaches, so that its variants count as one.

    Case, a quoted local part (`"victim"@x`) and a `+tag` (`victim+1@x`) do
    not make another inbox; at Gmail neither do dots, and googlemail.com is
    gmail.com.
    """
    local, _, domain = email.strip().rpartition("@")
    domain = domain.lower().rstrip(".")
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = re.sub(r"\\(.)", r"\1", local[1:-1])
    local = local.lower().split("+", 1)[0]
    if domain in GMAIL_DOMAINS:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def seconds_to_next_hour():
    return 3600 - int(timezone.now().timestamp()) % 3600


# --- Sign-up and e-mails --------------------------------------------------------


def sign_up(email, consent_version):
    """Handle one valid sign-up, whatever the address's state; returns nothing.

    New, pending or unsubscribed addresses get a confirmation link; confirmed
    ones get a short note saying so. Either e-mail goes out at most once per
    `NEWSLETTER_RESEND_MINUTES` per address. The caller answers every case
    the same way, so nobody learns whether an address is on the list.
    """
    now = timezone.now()
    # Trimmed, the domain in lower case (the local part is the owner's).
    email = BaseUserManager.normalize_email(email)
    subscriber, created = Subscriber.objects.get_or_create(
        email__lower=email.lower(),  # as the unique constraint compares them
        defaults={
            "email": email,
            "consent_version": consent_version,
            "consent_text": CONSENT_WORDINGS[consent_version],
            "consented_at": now,
        },
    )
    resend_after = settings.NEWSLETTER_RESEND_MINUTES * 60
    if (
        subscriber.last_sent_at
        and (now - subscriber.last_sent_at).total_seconds() < resend_after
    ):
        return
    # One e-mail per window for every variant of the mailbox together.
    if limits.hit("newsletter-mailbox", mailbox(email), limit=1, window=resend_after):
        return
    if subscriber.status != SubscriberStatus.CONFIRMED and not created:
        # The wording agreed to now is the one that counts once confirmed.
        subscriber.status = SubscriberStatus.PENDING
        subscriber.consent_version = consent_version
        subscriber.consent_text = CONSENT_WORDINGS[consent_version]
        subscriber.consented_at = now
        subscriber.save()
    # The e-mail goes out from a worker: the reader never waits for SMTP.
    kind = "already" if subscriber.status == SubscriberStatus.CONFIRMED else "confirm"
    subscriber.last_sent_at = now
    subscriber.save(update_fields=["last_sent_at"])
    enqueue_with_data(send_signup_email, subscriber.pk, kind)


@task
@retried
def send_signup_email(subscriber_id, kind):
    """Task: the confirmation link ("confirm") or the already-subscribed note.

    Sent only if the address is still in the state that asked for it (an
    address confirmed or unsubscribed meanwhile gets no stale link).
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return "gone"
    if kind == "already" and subscriber.status == SubscriberStatus.CONFIRMED:
        send_already_subscribed(subscriber)
    elif kind == "confirm" and subscriber.status == SubscriberStatus.PENDING:
        send_confirmation(subscriber)
    else:
        return "skipped"
    return "sent"


class NewsletterMessage(EmailMessage):
    """Headers may run to RFC 5322's 998 characters, so that a long
    List-Unsubscribe URL stays one plain URL instead of being split into
    encoded words that mail clients would not read as a link."""

    def message(self, *, policy=default_email_policy):
        return super().message(policy=policy.clone(max_line_length=998))


def _send(subscriber, subject, template):
    unsubscribe_url = subscriber.unsubscribe_url()
    body = render_to_string(
        template,
        {
            "subscriber": subscriber,
            "newsletter": NEWSLETTER_NAME,
            "site_name": settings.SITE_NAME,
            "confirm_url": subscriber.confirm_url(),
            "confirm_days": settings.NEWSLETTER_CONFIRM_DAYS,
            "unsubscribe_url": unsubscribe_url,
            "signup_url": absolute(reverse("briefings:newsletter")),
        },
    )
    message = NewsletterMessage(
        subject=subject,
        body=body,
        to=[subscriber.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.send()


def send_confirmation(subscriber):
    _send(
        subscriber,
        f"Confirm your {NEWSLETTER_NAME} subscription",
        "briefings/email/newsletter_confirm.txt",
    )


def send_already_subscribed(subscriber):
    _send(
        subscriber,
        f"You are already subscribed to {NEWSLETTER_NAME}",
        "briefings/email/newsletter_already.txt",
    )


# --- The sign-up form -------------------------------------------------------------


class PublicEmailField(forms.EmailField):
    """An address on the internet: Django's check, without allowing localhost."""

    default_validators = [EmailValidator(allowlist=[])]


class SignupForm(forms.Form):
    email = PublicEmailField(
        label="Your e-mail address",
        max_length=254,
        error_messages={"required": "Enter your e-mail address."},
    )
    consent_version = forms.TypedChoiceField(
        coerce=int,
        choices=[(v, v) for v in CONSENT_WORDINGS],
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form was out of date. Please read it and send it again.",
            "invalid_choice": (
                "This form was out of date. Please read it and send it again."
            ),
        },
    )
