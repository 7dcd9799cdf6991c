"""Editor text without invisible control characters.

A vertical tab or form feed in one author name made every feed answer 500
(XML 1.0 has no such characters) and the news sitemap invalid; bidi overrides
(U+202A-U+202E, U+2066-U+2069) make text read differently from what it is.
Two layers keep them out:

- on the way in, `strip_unsafe_characters` runs before every save of a
  newsroom model (and of taggit's tags and the cookie groups), whatever
  writes it: an admin form, the history's revert, an import, a shell. C0 and
  C1 controls and bidi overrides are dropped; line-like controls (vertical
  tab, form feed, NEL...) become a line break in multi-line fields and a
  space in one-line ones; tab and line breaks stay in multi-line fields only.
  (A `QuerySet.update()` writes around model saves: code that bulk-updates
  text passes it through `clean_line` / `clean_text` itself.)
- on the way out, feeds and sitemaps pass every string through `xml_safe`,
  so a value stored before this existed (or by raw SQL) never breaks them.
"""

import re

from django.apps import apps
from django.db import models

BIDI_OVERRIDES = "\u202a-\u202e\u2066-\u2069"
# Controls that separate lines or pages: kept as a break, not run together.
_LINE_LIKE = "\x0b\x0c\x1c-\x1e\x85\u2028\u2029"
_DROPPED = re.compile(f"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f{BIDI_OVERRIDES}]")
_LINE_LIKE_RE = re.compile(f"[{_LINE_LIKE}]")
_ONE_LINE_BREAKS = re.compile(f"\r\n|[\t\n\r{_LINE_LIKE}]")
_ANY_UNSAFE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI_OVERRIDES}\u2028\u2029]"
)
_NOT_XML = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff{BIDI_OVERRIDES}]"
)


def clean_text(text: str) -> str:
    """Multi-line text (a story's body): tab, CR and LF kept, line-like
    controls made line breaks, other controls and bidi overrides dropped."""
    if not _ANY_UNSAFE.search(text):
        return text
    return _DROPPED.sub("", _LINE_LIKE_RE.sub("\n", text))


def clean_line(text: str) -> str:
    """One-line text (a headline, a name): every break a space, other
    controls and bidi overrides dropped."""
    if not _ANY_UNSAFE.search(text) and not re.search("[\t\n\r]", text):
        return text
    return _DROPPED.sub("", _ONE_LINE_BREAKS.sub(" ", text))


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 refuses (and bidi overrides) dropped."""
    return _NOT_XML.sub("", text)


def xml_safe_value(value):
    """`xml_safe` over strings inside dicts, lists and tuples; other values as given."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, dict):
        return {key: xml_safe_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(xml_safe_value(item) for item in value)
    return value


def _text_fields(model):
    """(attname, multi-line?) of the model's editable text columns."""
    return [
        (field.attname, isinstance(field, models.TextField))
        for field in model._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField)) and not field.choices
    ]


def strip_unsafe_characters(sender, instance, **kwargs):
    """pre_save: clean every text column of `instance` (raw saves too, e.g. a
    revert from the history)."""
    for attname, multi_line in _text_fields(sender):
        value = getattr(instance, attname)
        if isinstance(value, str):
            setattr(
                instance, attname, (clean_text if multi_line else clean_line)(value)
            )


def guarded_models():
    """The models editors write: ours, taggit's tags, the cookie groups."""
    return [
        *apps.get_app_config("briefings").get_models(),
        apps.get_model("taggit", "Tag"),
        apps.get_model("cookie_consent", "CookieGroup"),
        apps.get_model("cookie_consent", "Cookie"),
    ]
