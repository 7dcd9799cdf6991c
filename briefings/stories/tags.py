"""Keeping tags clean: aliases, merging, pruning and suggestions.

- An alias ("Nagorno Karabakh") is another name for a tag ("Nagorno-Karabakh");
  a name typed in the story form, or found by loadseed, becomes its tag. Names
  that differ only in case, hyphens or spacing are one tag even without an alias.
- Merging tags retags their stories, keeps the old names as aliases and the old
  addresses as redirects (301), in one transaction.
- Suggestions: existing tags and aliases whose words appear in a story.
"""

import re

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from taggit.models import Tag

from briefings.stories.models import (
    TagAlias,
    TaggedArticle,
    TagRedirect,
    TagUsage,
    tag_key,
)

MAX_SUGGESTION_WORDS = 6  # the longest tag name, in words, that is looked for
MAX_SUGGESTION_TEXT = 50_000  # characters of a story read for suggestions
MAX_SUGGESTION_PHRASES = 20_000  # distinct phrases of a story looked up


def tag_for_key(key: str):
    """The tag a name with this key means: by alias, or by its own name."""
    alias = TagAlias.objects.select_related("tag").filter(key=key).first()
    if alias is not None:
        return alias.tag
    # A tag whose own name has the same key ("nagorno karabakh").
    candidates = Tag.objects.filter(name__iregex=_key_regex(key))
    return next((tag for tag in candidates if tag_key(tag.name) == key), None)


def _key_regex(key: str) -> str:
    """A database regex for names with this key: words split by -, _ or spaces."""
    words = [re.escape(word) for word in key.split()]
    return r"^[\s_-]*" + r"[\s_-]+".join(words) + r"[\s_-]*$"


def canonical_names(names) -> list[str]:
    """The names to tag with: aliases and same-key names become their tag's name."""
    result, seen = [], set()
    for name in names:
        name = " ".join(name.split())
        if not name:
            continue
        key = tag_key(name)
        tag = tag_for_key(key)
        canonical = tag.name if tag is not None else name
        if tag_key(canonical) not in seen:
            seen.add(tag_key(canonical))
            result.append(canonical)
    return result


def with_usage():
    """Tags with how many stories use them, and how many of those are live
    (kept as numbers: see models.Usage)."""
    return TagUsage.with_live(
        Tag.objects.annotate(stories=Coalesce(F("usage__stories"), 0)),
        "live_stories",
    )


def unused():
    """Tags on no story at all (what pruning deletes)."""
    return Tag.objects.filter(briefings_taggedarticle_items__isnull=True)


@transaction.atomic
def merge(sources, target) -> int:
    """Fold `sources` into `target`; returns how many stories were retagged.

    Each story keeps one copy of the target tag; each source's name becomes an
    alias of the target and its address a redirect to the target's page,
    as do the aliases and redirects the source already had.
    """
    sources = [tag for tag in sources if tag.pk != target.pk]
    if not sources:
        return 0
    source_ids = [tag.pk for tag in sources]
    stories = set(
        TaggedArticle.objects.filter(tag_id__in=source_ids).values_list(
            "content_object_id", flat=True
        )
    )
    already = set(
        TaggedArticle.objects.filter(
            tag=target, content_object_id__in=stories
        ).values_list("content_object_id", flat=True)
    )
    TaggedArticle.objects.bulk_create(
        TaggedArticle(content_object_id=story, tag=target)
        for story in sorted(stories - already)
    )
    TagAlias.objects.filter(tag_id__in=source_ids).update(tag=target)
    TagRedirect.objects.filter(tag_id__in=source_ids).update(tag=target)
    for source in sources:
        if tag_key(source.name) != tag_key(target.name):
            TagAlias.objects.update_or_create(
                key=tag_key(source.name), defaults={"name": source.name, "tag": target}
            )
        if source.slug != target.slug:
            TagRedirect.objects.update_or_create(
                old_slug=source.slug, defaults={"tag": target}
            )
    # Deleting the tags deletes their TaggedArticle rows (and bumps the page
    # cache through the delete signals).
    Tag.objects.filter(pk__in=source_ids).delete()
    return len(stories)


def _phrases(text: str, longest: int = MAX_SUGGESTION_WORDS) -> list[str]:
    """The distinct runs of 1 to `longest` words of `text` (at most
    MAX_SUGGESTION_WORDS), in the order they appear, at most
    MAX_SUGGESTION_PHRASES of them."""
    longest = min(longest, MAX_SUGGESTION_WORDS)
    words = tag_key(re.sub(r"[^\w\s-]", " ", text[:MAX_SUGGESTION_TEXT])).split()
    phrases = {}
    for i in range(len(words)):
        for n in range(1, longest + 1):
            if i + n <= len(words):
                phrases.setdefault(" ".join(words[i : i + n]))
        if len(phrases) >= MAX_SUGGESTION_PHRASES:
            break
    return list(phrases)[:MAX_SUGGESTION_PHRASES]


def suggest(text: str, exclude=()) -> list[Tag]:
    """Existing tags (or tags of aliases) whose names appear in `text`.

    Tag names and alias keys are read whole, as plain rows (two queries
    without parameters, whatever the text: tags and aliases are few beside
    stories), and the text's runs of words, no longer than the longest name,
    are matched against them in memory.
    """
    rows = {}  # tag id -> (id, name, slug)
    names = {}  # key -> ids of the tags it names
    for row in Tag.objects.values_list("id", "name", "slug"):
        rows[row[0]] = row
        names.setdefault(tag_key(row[1]), set()).add(row[0])
    for key, tag_id in TagAlias.objects.order_by().values_list("key", "tag_id"):
        names.setdefault(key, set()).add(tag_id)
    if not names:
        return []
    longest = max(key.count(" ") + 1 for key in names)
    found = set()
    for phrase in _phrases(text, longest):
        found.update(names.get(phrase, ()))
    excluded = {tag_key(name) for name in exclude}
    tags = (
        Tag.from_db(Tag.objects.db, ["id", "name", "slug"], rows[pk])
        for pk in found
        if pk in rows
    )
    return sorted(
        (tag for tag in tags if tag_key(tag.name) not in excluded),
        key=lambda tag: tag.name.casefold(),
    )


def matching(text: str, limit: int = 10) -> list[dict]:
    """Tags whose name, or one of whose aliases, contains `text` (for the
    story form's tag completion): names starting with it first.

    Each result is {"name": the tag's name, "alias": the alias matched, or ""}.
    Two queries, whatever the number of tags.
    """
    text = " ".join(text.split())[:100]
    if not text:
        return []
    results = {}
    for tag in Tag.objects.filter(name__icontains=text).only("name")[: limit * 3]:
        results.setdefault(tag.pk, {"name": tag.name, "alias": ""})
    aliases = TagAlias.objects.select_related("tag").filter(name__icontains=text)
    for alias in aliases[: limit * 3]:
        results.setdefault(alias.tag.pk, {"name": alias.tag.name, "alias": alias.name})
    folded = text.casefold()

    def order(result):
        shown = (result["alias"] or result["name"]).casefold()
        return (not shown.startswith(folded), result["name"].casefold())

    return sorted(results.values(), key=order)[:limit]
