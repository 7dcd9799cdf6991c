from django import template

from briefings.newsletter.subscribers import CONSENT_WORDINGS, CURRENT_CONSENT_VERSION

register = template.Library()


@register.simple_tag
def newsletter_wording():
    """The sign-up wording readers agree to now, and its version."""
    return {
        "version": CURRENT_CONSENT_VERSION,
        "text": CONSENT_WORDINGS[CURRENT_CONSENT_VERSION],
    }
