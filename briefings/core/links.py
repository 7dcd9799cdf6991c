"""Addresses reversed once per process, for the reader pages' hot path.

A reader page holds some thirty links (navigation, footer, story, tag and
author addresses), and Django's reverse() matches the URL patterns afresh for
each, 10-20 microseconds apiece: a tenth of an uncached story page. `reverse()`
here remembers each answer per view name, arguments, script prefix and URLconf,
so a process pays for each address once. Only addresses that depend on nothing
else belong here (no `current_app`, no query strings).
"""

from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse

#: Addresses remembered at most; past it the memory starts again (one story
#: link is ~200 bytes, so this is about 2 MB).
MAX_ADDRESSES = 10_000

_addresses = {}


def reverse(viewname, args=()):
    """`django.urls.reverse(viewname, args=args)`, remembered."""
    key = (viewname, *args, get_script_prefix(), get_urlconf())
    try:
        return _addresses[key]
    except KeyError:
        pass
    except TypeError:  # an argument that cannot be a key: ask Django each time
        return django_reverse(viewname, args=args)
    address = django_reverse(viewname, args=args)
    if len(_addresses) >= MAX_ADDRESSES:
        _addresses.clear()
    _addresses[key] = address
    return address


def forget_addresses(**kwargs):
    """Tests that change settings (ROOT_URLCONF, ADMIN_URL...) start afresh."""
    _addresses.clear()
