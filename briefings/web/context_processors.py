from django.conf import settings
from django.utils.functional import SimpleLazyObject

from briefings.consent.cookies import EMBEDS, get_state


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "site_description": settings.SITE_DESCRIPTION,
    }


def consent(request):
    """The reader's consent, worked out only by templates that use it."""

    def show_banner():
        match = getattr(request, "resolver_match", None)
        on_settings = (
            match is not None and match.view_name == "briefings:cookie-settings"
        )
        return not get_state(request).decided and not on_settings

    return {
        "consent": SimpleLazyObject(lambda: get_state(request)),
        "embeds_allowed": lambda: get_state(request).allows(EMBEDS),
        "show_consent_banner": show_banner,
    }
