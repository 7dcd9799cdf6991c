"""Template tags for what surrounds a story: most read, structured data."""

import json

from django import template
from django.utils.safestring import mark_safe

from briefings.analytics.readership import most_read_for_page

register = template.Library()

# As Django's json_script: these three cannot end or confuse the element.
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def most_read_stories(limit=5):
    """The most read published stories of the last 48 hours (headline, url)."""
    return most_read_for_page(limit)


@register.filter
def json_ld(data):
    """A JSON-LD block: valid JSON, and nothing in it can close the element.

    `<`, `>` and `&` become \\u escapes (as in Django's json_script), so a
    headline holding `</script>` stays inside the block.
    """
    text = json.dumps(data, ensure_ascii=False, sort_keys=False)
    return mark_safe(  # noqa: S308 - escaped just above
        '<script type="application/ld+json">' + text.translate(_ESCAPES) + "</script>"
    )
