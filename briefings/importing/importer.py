"""Seed import: a parsed scraped page becomes a story, one transaction per file.

The parser (`seedformat`) knows the scraped format, this module knows the models,
and the `loadseed` command knows the terminal. Stories are keyed on their seed
file's name plus a hash of their parsed content, so a second run changes nothing,
a changed seed updates its story, and a story an editor touched since its import
is left alone unless the caller forces it.
"""

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import slugify
from taggit.models import Tag

from briefings.core.freshness import bump_version
from briefings.core.textsafety import strip_unsafe_characters
from briefings.importing import importsql, seedformat
from briefings.importing.seedfiles import SeedFile
from briefings.search.engine import update_search_vectors
from briefings.stories.body import figure_marker, heading_markdown, paragraph_markdown
from briefings.stories.models import (
    Article,
    ArticleStatus,
    Author,
    AuthorUsage,
    Byline,
    Figure,
    FigurePlace,
    RelatedLink,
    SlugRedirect,
    TagAlias,
    TaggedArticle,
    TagUsage,
    tag_key,
)
from briefings.stories.tags import tag_for_key

CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED = (
    "created",
    "updated",
    "unchanged",
    "skipped",
    "failed",
)
OUTCOMES = (CREATED, UPDATED, UNCHANGED, SKIPPED, FAILED)

# Bump when the import mapping changes, so every story is rewritten once.
IMPORT_VERSION = 2
# Attempts per file: a unique index's refusal or a deadlock is retried.
RETRIES = 3
# PostgreSQL: deadlock detected, serialization failure.
RETRY_SQLSTATES = {"40P01", "40001"}
SLUG_MAX = Article._meta.get_field("slug").max_length
SOURCE_MAX = Article._meta.get_field("source_name").max_length


@dataclass(frozen=True)
class ImportResult:
    source: str
    outcome: str
    message: str = ""
    headline: str = ""
    warnings: tuple[str, ...] = ()


def source_key(path: Path) -> str:
    """The key a seed file's story is found by: where the file is, not its name.

    Two files called 200_same.txt in two folders are two stories; the same
    file imported again is the same story. Inside the project the key is
    relative ("seeds/000_x.txt"), so a checkout may move; elsewhere absolute.
    """
    resolved = path.resolve()
    try:
        key = resolved.relative_to(Path(settings.BASE_DIR).resolve()).as_posix()
    except ValueError:
        key = resolved.as_posix()
    if len(key) > SOURCE_MAX:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        key = f"{digest}:{key[-(SOURCE_MAX - 17) :]}"
    return key


def seed_time_zone():
    return ZoneInfo(getattr(settings, "SEED_TIME_ZONE", "UTC"))


def localise(when: datetime | None) -> datetime | None:
    """A seed time as an aware time: a zone-less one is in SEED_TIME_ZONE."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=seed_time_zone())


def figure_dict(figure):
    return {"caption": figure.caption, "credit": figure.credit}


def block_dict(block):
    if isinstance(block, seedformat.Figure):
        return {"type": "figure", **figure_dict(block)}
    kind = "heading" if isinstance(block, seedformat.Heading) else "paragraph"
    return {"type": kind, "text": block.text}


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def story_tags(parsed: seedformat.ParsedArticle, suggested) -> list[str]:
    """The page's sections first, then the suggested tags, one per tag key."""
    names = {}
    for name in [*parsed.sections, *suggested]:
        if name.islower():
            name = name.title()  # '["china"]' names the section China
        names.setdefault(tag_key(name), name)
    return list(names.values())


def article_dict(parsed: seedformat.ParsedArticle, tags: list[str]) -> dict:
    """The parsed story as plain data: the dry-run JSON and the content hash.

    `published_at` and `updated_at` are null for a page without a time, and
    `authors` is [] for a page without a byline.
    """
    updated = localise(parsed.updated_at)
    published = localise(parsed.published_at) or updated
    return {
        "headline": parsed.headline,
        "authors": list(parsed.authors),
        "dateline": parsed.dateline,
        "published_at": _iso(published),
        "updated_at": _iso(updated),
        "hero": figure_dict(parsed.hero) if parsed.hero else None,
        "body": [block_dict(block) for block in parsed.blocks],
        "related": [{"title": title} for title in parsed.related],
        "tags": story_tags(parsed, tags),
        "kind": parsed.kind,
        "duration": parsed.duration,
        "editors_note": parsed.editors_note,
        "source_agency": parsed.source,  # "source" is the seed file
        "sections": list(parsed.sections),
        "affiliation": parsed.affiliation,
        "organisation_byline": parsed.organisation,
        "warnings": list(parsed.warnings),
    }


def content_hash(data: dict) -> str:
    canonical = json.dumps(
        {"version": IMPORT_VERSION, **data}, sort_keys=True, ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def body_markdown(blocks) -> str:
    """Blocks as the body's Markdown; figures become numbered `[figure N]` lines."""
    lines = []
    position = 0
    for block in blocks:
        if isinstance(block, seedformat.Figure):
            position += 1
            lines.append(figure_marker(position))
        elif isinstance(block, seedformat.Heading):
            lines.append(heading_markdown(block.text))
        else:
            lines.append(paragraph_markdown(block.text))
    return "\n\n".join(lines)


def commit_without_waiting():
    """Let the open transaction commit without waiting for its WAL flush.

    PostgreSQL's asynchronous commit, for loadseed's own transactions only
    (`SET LOCAL`): a file's transaction is still all or nothing, and what
    committed is never lost when loadseed is killed; a crash of the database
    server itself may lose the last fraction of a second of committed files
    (at most three `wal_writer_delay`s, 0.6 s by default), which running
    loadseed again imports again (it is idempotent). The wait for the flush
    was the largest part of a small file's commit.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


class Importer:
    """Writes parsed seeds to the database, reusing authors and tags it has seen.

    `prepare(seeds)` looks up, in a few queries for a whole batch of files,
    what `import_seed` would otherwise ask once per file: which stories
    exist, their authors and tags, and addresses that redirect elsewhere.
    Then an unchanged file costs no query at all, and a new one only its
    inserts (see `_create`). Without `prepare`, every file takes the
    general path (`_write`), which reads and locks its story first.
    """

    def __init__(self, *, status=ArticleStatus.PUBLISHED, force=False):
        self.status = status
        self.force = force
        self._authors: dict[str, Author] = {}
        self._tags: dict[str, Tag] = {}
        self._tags_loaded = False
        # From prepare(): source key -> (content hash, headline) of the
        # stories that exist, keys known to have none, and redirected slugs.
        self._stored: dict[str, tuple[str, str]] = {}
        self._absent: set[str] = set()
        self._redirected: set[str] = set()
        self._keys: dict[Path, str] = {}  # the batch's files' source keys
        # Stories were created since publish_changes() last ran.
        self.changed = False

    @cached_property
    def legacy_sources(self) -> bool:
        """Are there stories keyed by a seed file's name alone (older imports)?"""
        return (
            Article.objects.exclude(source_name="")
            .exclude(source_name__contains="/")
            .exists()
        )

    def slug_for(self, path: Path, parsed) -> str:
        """The story's address: kept from an earlier import, else a free one."""
        existing = (
            Article.objects.from_source(source_key(path)).first()
            or Article.objects.from_source(path.name).first()
        )
        return existing.slug if existing else self._free_slug(parsed.headline)

    def prepare(self, seeds) -> None:
        """Look up what importing `seeds` needs, a few queries for them all.

        Read outside the files' transactions, so each answer is a hint that
        the write checks: a story found here is compared by its hash (equal:
        unchanged, nothing locked), a key found absent is inserted directly
        and the unique source index refuses it if another process got there
        first (the retry then takes the general path).
        """
        parsed = [seed for seed in seeds if not seed.error]
        self._keys = {seed.path: source_key(seed.path) for seed in parsed}
        keys = set(self._keys.values())
        self._stored = {
            key: (digest, headline)
            for key, digest, headline in Article.objects.filter(
                source_name__in=keys
            ).values_list("source_name", "source_hash", "headline")
        }
        self._absent = set(keys) - self._stored.keys()
        slugs = {self._slug(seed.article.headline) for seed in parsed}
        self._redirected = set(
            SlugRedirect.objects.filter(old_slug__in=slugs).values_list(
                "old_slug", flat=True
            )
        )
        wanted = {
            author_slug(name): name for seed in parsed for name in seed.article.authors
        }.keys() - self._authors.keys()
        if wanted:
            self._authors.update(
                (author.slug, author)
                for author in Author.objects.filter(slug__in=wanted)
            )
        self._load_tags()

    def import_seed(self, seed: SeedFile, source: str) -> ImportResult:
        if seed.error:
            return ImportResult(source, FAILED, seed.error)
        data = article_dict(seed.article, list(seed.tags))
        warnings = tuple(data["warnings"])
        key = self._keys.get(seed.path) or source_key(seed.path)
        digest = content_hash(data)
        stored = self._stored.get(key)
        if stored is not None and stored[0] == digest and not self.force:
            # Unchanged since prepare() read it: nothing to lock or write.
            return ImportResult(
                source, UNCHANGED, headline=stored[1], warnings=warnings
            )
        # A concurrent run may create the same story, author or tag between our
        # read and our write; the database's unique constraints refuse the
        # second insert, and a retry then finds the row that won. Two
        # PostgreSQL transactions that wait on each other's rows (a deadlock)
        # are retried too.
        for attempt in range(RETRIES):
            try:
                with transaction.atomic():
                    if connection.vendor == "postgresql":
                        commit_without_waiting()
                    if attempt == 0 and key in self._absent and not self.legacy_sources:
                        result = self._create(key, source, seed.article, data, digest)
                    else:
                        result = self._write(
                            key,
                            seed.path.name,
                            source,
                            seed.article,
                            data,
                            retry=attempt,
                        )
                self._absent.discard(key)
                return replace(result, warnings=warnings)
            except DatabaseError as exc:
                # The transaction rolled back: rows cached from it may not exist.
                self._authors.clear()
                self._tags.clear()
                self._tags_loaded = False
                self._absent.discard(key)
                if not _worth_retrying(exc) or attempt == RETRIES - 1:
                    return ImportResult(source, FAILED, f"database error: {exc}")
        raise AssertionError("unreachable")  # pragma: no cover

    def status_for(self, parsed) -> str:
        """The status asked for, but never live without a time or a headline."""
        return ArticleStatus.IN_REVIEW if parsed.needs_review else self.status

    def _fill(self, article, parsed, digest):
        """Set the story's fields from the parsed page."""
        updated_at = localise(parsed.updated_at)
        article.headline = parsed.headline
        article.dateline = parsed.dateline
        article.body = body_markdown(parsed.blocks)
        article.status = self.status_for(parsed)
        article.published_at = localise(parsed.published_at) or updated_at
        article.updated_at = updated_at
        article.byline_affiliation = parsed.affiliation[:100]
        article.kind = parsed.kind
        article.duration = parsed.duration
        article.editors_note = parsed.editors_note
        article.source_agency = parsed.source[:200]
        article.import_notes = list(parsed.warnings)
        article.import_notes_dismissed = False
        article.source_hash = digest
        article.imported_at = timezone.now()

    def _create(self, key, source, parsed, data, digest) -> ImportResult:
        """A story for a file prepare() found none for: inserts only.

        Does in bulk what Article.save() and the model signals do for one
        new story, once: version 1 (loadseed's own), the text cleaned as
        every save cleans it, the slug taken from any redirect that held
        it, the children inserted, then the search vector and the tags' and
        authors' counts. On PostgreSQL the story, its children, its vector
        and its counts are one statement (importsql.create_story). The
        cached pages' version is bumped once the batch is written
        (`publish_changes`).
        """
        slug = self._slug(parsed.headline)
        article = Article(source_name=key, slug=slug, version=1, imported_version=1)
        self._fill(article, parsed, digest)
        strip_unsafe_characters(Article, article)
        if slug in self._redirected:
            # This address is this story's own now, not a redirect to another.
            SlugRedirect.objects.filter(old_slug=slug).delete()
        if connection.vendor == "postgresql":
            importsql.create_story(
                article,
                [author.pk for author in self._authors_of(parsed)],
                [tag.pk for tag in self._tags_for(data["tags"])],
                figure_rows(parsed),
                related_rows(parsed),
            )
        else:
            importsql.insert([article], returning=True)
            links = self._write_children(article, parsed, data["tags"], count=False)
            for usage, targets in links:
                importsql.count_new_links(usage, targets, article)
        self.changed = True
        return ImportResult(source, CREATED, headline=article.headline)

    def publish_changes(self) -> None:
        """Make cached pages stale if stories were created since the last
        call: once per batch, after its files' transactions committed (an
        update goes through Article.save(), whose signals do it at once)."""
        if self.changed:
            self.changed = False
            bump_version()

    def _write(self, key, name, source, parsed, data, retry=0) -> ImportResult:
        digest = content_hash(data)
        article = Article.objects.select_for_update().from_source(key).first()
        if article is None and self.legacy_sources:
            # Stories imported before sources were keyed by place were keyed
            # by file name alone: the first file of that name takes it over.
            article = (
                Article.objects.select_for_update().filter(source_name=name).first()
            )
            if article is not None:
                # A plain UPDATE: re-keying is no edit (the version stays).
                Article.objects.filter(pk=article.pk).update(source_name=key)
                article.source_name = key
        if article is not None and not self.force:
            if article.source_hash == digest:
                return ImportResult(source, UNCHANGED, headline=article.headline)
            if article.edited_since_import:
                return ImportResult(
                    source,
                    SKIPPED,
                    "edited in the admin since it was imported; "
                    "use --force to replace the editors' changes",
                    headline=article.headline,
                )
        outcome = CREATED if article is None else UPDATED
        if article is None:
            # Most headlines are new: try the plain slug first, and let the
            # unique index send a clash back here to pick a free variant.
            slug = (
                self._free_slug(parsed.headline)
                if retry
                else self._slug(parsed.headline)
            )
            article = Article(source_name=key, slug=slug)
        self._fill(article, parsed, digest)
        # Article.save() adds one to the version; any later save is an editor's.
        article.imported_version = article.version + 1
        article.save()
        if outcome == UPDATED:
            article.bylines.all().delete()
            article.figures.all().delete()
            article.related_links.all().delete()
            article.tagged_items.all().delete()
        self._write_children(article, parsed, data["tags"])
        # The children were bulk-created (no signals): index the story now.
        update_search_vectors([article.pk])
        return ImportResult(source, outcome, headline=article.headline)

    def _write_children(self, article, parsed, tag_names, count=True):
        """Insert the story's bylines, figures, related links and taggings.

        With `count`, through the models' managers, which also count the
        bylines and taggings; without, through importsql, and the links come
        back as [(usage model, tag or author ids)] for the caller to count.
        """
        bylines = [
            Byline(article=article, author=author, position=position)
            for position, author in enumerate(self._authors_of(parsed))
        ]
        figures = [Figure(article=article, **row) for row in figure_rows(parsed)]
        related = [RelatedLink(article=article, **row) for row in related_rows(parsed)]
        taggings = [
            TaggedArticle(content_object=article, tag=tag)
            for tag in self._tags_for(tag_names)
        ]
        if count:
            Byline.objects.bulk_create(bylines)
            Figure.objects.bulk_create(figures)
            RelatedLink.objects.bulk_create(related)
            TaggedArticle.objects.bulk_create(taggings)
            return []
        links = []
        for model, rows in ((Byline, bylines), (TaggedArticle, taggings)):
            model.set_listing_times(rows)
            importsql.insert(rows)
            usage = model.usage_model()
            links.append(
                (usage, [getattr(row, f"{usage.link_target}_id") for row in rows])
            )
        importsql.insert(figures)
        importsql.insert(related)
        return links

    def _authors_of(self, parsed) -> list[Author]:
        """The page's authors, in byline order, each once."""
        return [
            self._author(name, parsed.organisation)
            for name in dict.fromkeys(parsed.authors)
        ]

    def _author(self, name: str, organisation: bool = False) -> Author:
        slug = author_slug(name)
        if slug not in self._authors:
            author, created = Author.objects.get_or_create(
                slug=slug, defaults={"name": name, "is_organisation": organisation}
            )
            if created:
                # Counted from zero: its first story adds one, no recount.
                AuthorUsage.objects.create(author=author)
            self._authors[slug] = author
        return self._authors[slug]

    def _load_tags(self) -> None:
        """Every tag by its key, once: one query however many tags a run uses.

        Aliases are not loaded: a key they name is looked up when first met.
        """
        if self._tags_loaded:
            return
        aliased = set(TagAlias.objects.values_list("key", flat=True))
        for tag in Tag.objects.only("name", "slug").order_by("pk"):
            key = tag_key(tag.name)
            if key not in aliased:
                self._tags.setdefault(key, tag)
        self._tags_loaded = True

    def _tags_for(self, names) -> list[Tag]:
        """The tags for `names`, in order, each once. Tags not met before are
        looked up (and locked) in the order of their keys, so two processes
        creating the same new tags never wait for each other in a circle."""
        for name in sorted(names, key=tag_key):
            self._tag(name)
        return list({tag.pk: tag for tag in map(self._tag, names)}.values())

    def _tag(self, name: str) -> Tag:
        """The tag for `name`: an existing one, through its aliases and spellings."""
        key = tag_key(name)
        if key not in self._tags:
            # Another process may be creating the same tag: one at a time
            # per key, and the second finds the first one's tag.
            lock_key("tag", key)
            tag = tag_for_key(key)
            if tag is None:
                tag = Tag.objects.create(name=name)
                TagUsage.objects.create(tag=tag)
            self._tags[key] = tag
        return self._tags[key]

    @staticmethod
    def _slug(headline: str) -> str:
        return slugify(headline)[: SLUG_MAX - 8].strip("-") or "story"

    @classmethod
    def _free_slug(cls, headline: str) -> str:
        """slugify(headline), or the first free "-2", "-3"... variant of it."""
        base = cls._slug(headline)
        candidates = [base, *(f"{base}-{n}" for n in range(2, 100))]
        taken = set(
            Article.objects.filter(slug__in=candidates).values_list("slug", flat=True)
        )
        for slug in candidates:
            if slug not in taken:
                return slug
        return f"{base}-{uuid.uuid4().hex[:8]}"


CREDIT_MAX = Figure._meta.get_field("credit").max_length


def figure_rows(parsed) -> list[dict]:
    """The page's figures as Figure fields: the hero, then the body's in order."""
    rows = []
    if parsed.hero:
        rows.append(_figure_row(parsed.hero, FigurePlace.HERO, 1))
    body_figures = [b for b in parsed.blocks if isinstance(b, seedformat.Figure)]
    for position, figure in enumerate(body_figures, start=1):
        rows.append(_figure_row(figure, FigurePlace.BODY, position))
    return rows


def _figure_row(figure, place, position) -> dict:
    return {
        "place": place,
        "position": position,
        "caption": figure.caption,
        "credit": figure.credit[:CREDIT_MAX],
    }


def related_rows(parsed) -> list[dict]:
    """The page's related headlines as RelatedLink fields."""
    return [
        {"title": title, "position": position}
        for position, title in enumerate(parsed.related)
    ]


def author_slug(name: str) -> str:
    return slugify(name)[:220] or "author"


def _worth_retrying(exc: DatabaseError) -> bool:
    """A unique index refused a row another process wrote first, or (on
    PostgreSQL) two transactions waited on each other and one was stopped."""
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.__cause__, "sqlstate", None) in RETRY_SQLSTATES


def lock_key(kind: str, key: str) -> None:
    """Hold a lock named by `kind` and `key` until the transaction ends.

    PostgreSQL: an advisory lock. SQLite needs none: a write transaction
    holds the whole database (transaction_mode IMMEDIATE).
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"{kind}:{key}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, signed=True)]
        )


def refresh_planner_statistics():
    """Tell the database's query planner what the tables hold after a big import.

    PostgreSQL's autovacuum would get to it within a minute or so; until then
    the planner takes freshly filled tables for empty and may pick plans that
    read every story (a tag page cost PostgreSQL 2.2 ms instead of 1.2 ms).
    SQLite keeps no statistics until asked. Only the tables an import writes
    are analysed (the whole database, catalogs included, took 100 ms).
    """
    written = [
        Article,
        Author,
        AuthorUsage,
        Byline,
        Figure,
        RelatedLink,
        SlugRedirect,
        Tag,
        TaggedArticle,
        TagUsage,
    ]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            tables = ", ".join(quote(model._meta.db_table) for model in written)
            cursor.execute(f"ANALYZE {tables}")
        else:
            for model in written:
                cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
