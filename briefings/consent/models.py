"""Proof of readers' cookie decisions, and the declared cookies."""

from django.db import models
from django.utils import timezone


class ConsentMethod(models.TextChoices):
    BANNER = "banner", "Banner"
    SETTINGS = "settings", "Cookie settings page"
    BANNER_NO_JS = "banner_nojs", "Banner (without JavaScript)"
    SETTINGS_NO_JS = "settings_nojs", "Cookie settings page (without JavaScript)"


class ConsentRecord(models.Model):
    """Proof of one consent decision. Holds no IP address or other identifier.

    `decisions` maps each optional cookie group to {"accepted": bool, "version":
    str}. Rows keep no link to the cookie groups, so deleting a group keeps the
    proof of what readers agreed to.
    """

    consent_id = models.UUIDField(db_index=True, editable=False)
    given_at = models.DateTimeField(default=timezone.now, editable=False)
    policy_revision = models.PositiveIntegerField(editable=False)
    method = models.CharField(max_length=20, choices=ConsentMethod)
    decisions = models.JSONField(default=dict)

    class Meta:
        ordering = ["-given_at", "-pk"]
        indexes = [models.Index(fields=["given_at"], name="consent_given_at_idx")]

    def __str__(self):
        return f"Consent {self.consent_id} at {self.given_at:%Y-%m-%d %H:%M}"

    @property
    def accepted_groups(self):
        return sorted(k for k, v in self.decisions.items() if v.get("accepted"))


class CookieDeclaration(models.Model):
    """What readers are told about one cookie (django-cookie-consent's Cookie)."""

    cookie = models.OneToOneField(
        "cookie_consent.Cookie", on_delete=models.CASCADE, related_name="declaration"
    )
    provider = models.CharField(max_length=100, help_text="Who sets and reads it.")
    purpose = models.TextField(help_text="What it is for, in plain words.")
    lifetime = models.CharField(max_length=50, help_text="e.g. '6 months'.")
    third_party = models.BooleanField(
        "readable by a third party",
        help_text="Can a company other than Briefings read this cookie?",
    )

    class Meta:
        ordering = ["cookie__cookiegroup__ordering", "cookie__name"]

    def __str__(self):
        return f"About {self.cookie}"


# The newsletter's model lives with its logic; importing it registers it here.
