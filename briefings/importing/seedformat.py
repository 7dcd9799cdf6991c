"""Parse (and write back) the scraped news-page format of the seed files.

The format is described in ``shared/FORMAT.md``. In short, a seed file is UTF-8 text
made of single-line "units" separated by blank lines::

    Our Privacy Statement & Cookie Policy        <- optional cookie banner ...
    By continuing to browse our site ...
    I agree                                      <- ... ending with its button
    Headline
    Author One and Author Two
    <place>, Updated 17:51, 04-Feb-2024          <- date line
    Caption./Agency/Reuters                      <- hero: two copies on touching
    Caption./Agency/Reuters                         lines, right under the date,
    Caption./Agency/Reuters                      <- and usually a third copy
    A paragraph ends with sentence punctuation.
    READ MORE                                    <- label, then related headlines
    A related headline without punctuation
    <NBSP-only line>                             <- hint: a subheading follows
    A subheading
    ...
    Headline                                     <- trailer: headline repeated,
    Subscribe to Storyboard: ...                    newsletter promo,
    Search Trends                                   sidebar heading (and sidebar)

The site's other layouts (FORMAT.md section 4) vary the header: every header field
is optional (byline, date, dateline, hero), a video page has a duration line and
player text, a share page starts with a section word and a "2024.02.02 21:17 GMT+8"
time, an older page writes "Updated 17:12, 28-Feb-2019" and a tag line, and a newer
page may have no headline that stands apart (a provisional one is taken from the
text). The site's furniture (banner, player text, promos, widgets...) is listed
once, as data, in FURNITURE below: add a widget there, not in the grammar.

This module knows nothing about Django: it turns bytes or text into a
:class:`ParsedArticle` (or raises :class:`SeedFormatError` with a message an editor
can act on) and :func:`dump` writes a :class:`ParsedArticle` back in the same format.
What the parser guessed or dropped comes back in ``ParsedArticle.warnings``.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice
from typing import NamedTuple

__all__ = [
    "FURNITURE",
    "KINDS",
    "MAX_BYTES",
    "MAX_HEADLINE",
    "Block",
    "Figure",
    "Furniture",
    "Heading",
    "Paragraph",
    "ParsedArticle",
    "SeedFormatError",
    "dump",
    "parse_bytes",
    "parse_text",
    "strip_unsafe",
]

MAX_BYTES = 2_000_000  # bigger files are rejected before decoding
MAX_HEADLINE = 300  # characters

# Boilerplate of the scraped site, as dump() writes it.
BANNER_HEADING = "Our Privacy Statement & Cookie Policy"
BANNER_BODY = (
    "By continuing to browse our site you agree to our use of cookies, revised "
    "Privacy Policy and Terms of Use. You can change your cookie settings through "
    "your browser."
)
BANNER_BUTTON = "I agree"
READ_MORE = "READ MORE"
PROMO = (
    "Subscribe to Storyboard: A weekly newsletter bringing you the best of CGTN "
    "every Friday"
)
SIDEBAR = "Search Trends"
PLAYER_ERROR = "Error loading player: No playable sources found"

ARTICLE, VIDEO, LIVE, GALLERY = "article", "video", "live", "gallery"
KINDS = (ARTICLE, VIDEO, LIVE, GALLERY)

# --------------------------------------------------------------------------------
# The site's furniture: one table of patterns, matched (fullmatch, ignoring case)
# against each normalised line. Roles:
#   drop     not article text; dropped silently (every page has it)
#   note     not article text; dropped, and named in the warnings
#   player   a video player's text; dropped; the page is a video (unless live)
#   end      the sidebar starts here: nothing after it is the article
#   related  "READ MORE": the short lines that follow are related headlines
#   duration a video's running time (only in the header; elsewhere a lone
#            timestamp, dropped with a warning); the page is a video
#   sections a tag line: section names, kept as tags
#   source   "Source(s): ...": the agency the story comes from, kept
#   note_ed  "Editor's note: ...": kept apart from the body
# A group named "value" is what the line tells (the metadata kept).


class Furniture(NamedTuple):
    name: str  # what it is, as the warnings name it
    role: str
    pattern: re.Pattern[str]


def _furniture(name: str, role: str, pattern: str) -> Furniture:
    return Furniture(name, role, re.compile(pattern, re.IGNORECASE))


FURNITURE: tuple[Furniture, ...] = (
    # Cookie banner: heading, sentence (also alone, on newer pages) and button.
    _furniture("cookie banner", "drop", r"our privacy statement & cookie policy"),
    _furniture("cookie banner", "drop", r"by continuing to browse our site\b.*"),
    _furniture("cookie banner", "drop", r"i agree"),
    # "READ MORE" label before related headlines, in the middle of the body.
    _furniture("read more", "related", r"read\s*more"),
    # Newsletter promo of the trailer.
    _furniture("newsletter promo", "drop", r"subscribe to storyboard\b.*"),
    # Sidebar heading: every page ends here (a live page repeats its header after).
    _furniture("sidebar", "end", r"search trends"),
    # Sidebar widgets that can come before "Search Trends".
    _furniture("sidebar", "end", r"more from cgtn|top news"),
    # Widget label, alone on its line.
    _furniture("video label", "drop", r"video"),
    # Video player: its button label (often before the headline), its
    # translation notice and messages, and its share buttons.
    _furniture("player label", "player", r"download"),
    _furniture("player text", "player", r"translating\s*(?:\.\.\.|…)?"),
    _furniture(
        "machine-translation notice",
        "player",
        r"content is automatically generated by\b.{0,200}",
    ),
    _furniture("player error", "player", r"error loading player\b.{0,100}"),
    _furniture("share buttons", "drop", r"share|copied"),
    # Newer pages (2025): language chooser, licence and hotline lines.
    _furniture("language chooser", "drop", r"choose your language"),
    _furniture(
        "language chooser",
        "drop",
        r"(?:(?:english|español|espanol|français|francais|русский|العربية|"
        r"中文|简体中文|繁體中文|日本語|한국어|deutsch|português|italiano|"
        r"türkçe|tiếng việt|bahasa indonesia|ไทย|kiswahili|हिन्दी)[\s|/·,]*){1,20}",
    ),
    _furniture(
        "licence line",
        "drop",
        r".{0,60}ICP\s*(?:备|证|licen[cs]e|filing|record).{0,80}",
    ),
    _furniture(
        "hotline", "drop", r".{0,60}\b(?:hotline|tel)\b\s*:?\s*[\d+\-() ]{5,}.{0,40}"
    ),
    _furniture("copyright line", "drop", r"(?:copyright\s*)?©.{0,120}"),
    # US-edition promo inside the text.
    _furniture("US-edition promo", "note", r".{0,300}\bsubscribe here!"),
    # Programme furniture inside the text.
    _furniture("air date", "note", r"aired\s*:?\s*\d{1,2}/\d{1,2}/\d{2,4}"),
    _furniture("link to more", "note", r"for more\s*:\s*https?://\S+"),
    # Video running time: "00:58", "28:53", "1:02:03" (header only).
    _furniture("duration", "duration", r"(?P<value>(?:\d{1,2}:)?\d{1,2}:\d{2})"),
    # Tag lines: "Europe;France" and the older pages' JSON-like '["china"]'.
    _furniture(
        "tag line",
        "sections",
        r"(?P<value>[^\W\d_][\w &'-]{0,40}(?:;[^\W\d_][\w &'-]{0,40})+);?",
    ),
    _furniture(
        "tag line",
        "sections",
        r"""\[\s*(?P<value>"[^"\[\]{}]{1,60}"(?:\s*,\s*"[^"\[\]{}]{1,60}")*)\s*\]""",
    ),
    # The agency a story comes from, at its end (older pages).
    _furniture("source", "source", r"sources?\s*(?:\(s\))?\s*:\s*(?P<value>.{1,120})"),
    # Opinion pieces (newer pages) open with an editor's note.
    _furniture("editor's note", "note_ed", r"editor['’]s\s+note\s*:\s*(?P<value>.+)"),
)

# Short lines that look like furniture but are in no table entry: dropped, with a
# warning, never turned into a heading (a JSON object, a lone timestamp or count).
_FURNITURE_LIKE = re.compile(
    r"""
    \{.*\}                                          # a JSON object
    | \[\s*[\[{"\d].*\]                             # a JSON array
    | (?:\d{1,2}:)?\d{1,2}:\d{2}(?::\d{2})?         # a lone timestamp
    | \d{4}[-./]\d{1,2}[-./]\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?
      (?:\s*(?:GMT|UTC)[+-]?\d{0,2})?               # a lone date
    | \d{1,2}/\d{1,2}/\d{2,4}                       # a lone date, US style
    | \d+                                            # a lone count: "3"
    """,
    re.VERBOSE,
)
_MAX_FURNITURE_LINE = 400  # longer lines are text, whatever they look like

# Organisations and programmes that sign stories: a byline naming one alone is an
# organisation byline; "Name, CGTN" names one as the author's affiliation.
ORGANISATIONS = frozenset(
    (
        "CGTN",
        "CGTN Digital",
        "CGTN Europe",
        "CGTN America",
        "CGTN Africa",
        "CCTV",
        "CMG",
        "China Media Group",
        "Xinhua",
        "Reuters",
        "AFP",
        "AP",
        "Associated Press",
    )
)
# Photo agencies: a caption that is only one of these is a credit (newer pages).
AGENCIES = frozenset(
    (
        "CFP",
        "VCG",
        "IC",
        "CNSPHOTO",
        "Xinhua",
        "Reuters",
        "AFP",
        "AP",
        "EPA",
        "Getty Images",
        "CGTN",
        "CMG",
    )
)

# A line longer than this is prose even when the scrape lost its final punctuation.
LONG_LINE = 120
# A line that ends in "?" or "!" right after an NBSP-only line is a subheading
# (rather than a paragraph) when it is at most this long and a single sentence.
_SHORT_QUESTION = 100
# Longer adjacent lines are not taken for figure captions (also bounds the work).
_MAX_CAPTION_LINE = 1_000
# Longest byline we accept; anything longer is prose, not a byline.
_MAX_AUTHOR_LINE = 120
# A provisional headline (taken from the text) is cut at a word near this length.
_PROVISIONAL_HEADLINE = 100

_SENTENCE_END = ".?!…"
_CLOSERS = "\"'”’)]»"

# Separator between a caption and its credit: "/", " /" or a stray '". '.
_SEPARATOR = re.compile(r'\s*/\s*|"\.\s+')
# Where a caption may end inside a copy that carries its credit: a slash preceded by
# sentence punctuation, a closing quote/bracket or a space (so not "24/7" or
# "and/or"), or the stray '". ' separator.
_CREDIT_SPLIT = re.compile(r'(?<=[.?!…"\'”’)\]])\s*/\s*|\s+/\s*|"\.\s+')
# The same without the '". ' separator, which prose uses too: for a caption
# shown once (share pages), only a slash separates it from its credit.
_SLASH_SPLIT = re.compile(r'(?<=[.?!…"\'”’)\]])\s*/\s*|\s+/\s*')
# "word. Next" inside a text: a sentence break (abbreviations like "U.S." or "Co."
# do not count because they lack two lowercase letters before the period).
# (Lookbehinds rather than a leading "[a-z]{2,}" keep the search linear.)
_SENTENCE_BREAK = re.compile(
    r'(?:(?<=[a-z]{2})|(?<=[a-z]{2}["\'”’)]))[.?!…]["\'”’)]*\s+\S'
)
# A text ending a sentence the way prose does (not "U.S." in a headline).
_PROSE_END = re.compile(r'(?:(?<=[a-z]{2})|(?<=[a-z]{2}["\'”’)]))[.!…]["\'”’)]*$')

# C0 controls other than tab, LF and CR, plus DEL: dropped silently when rare.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# C1 controls (U+009B opens a terminal escape sequence) and bidirectional
# overrides and isolates (they reorder what a reader or a terminal shows):
# never part of a story, always dropped.
_UNSAFE = re.compile("[\x80-\x9f\u202a-\u202e\u2066-\u2069]")
_NEWLINE = re.compile(r"\r\n|\r|\n")

_MONTHS = {
    name: number
    for number, name in enumerate(
        "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1
    )
}
_MONTH_NAMES = {number: name.title() for name, number in _MONTHS.items()}
# "<place> , Updated 17:51, 04-Feb-2024", ", Updated ...", "Updated 17:51, ...".
_DATE_LINE = re.compile(
    r"""
    (?: (?P<place>.{0,100}?) \s*,\s* (?:(?:updated|published)\s+)?
      | (?:updated|published)\s+ )
    (?P<hour>\d{1,2}) : (?P<minute>\d{2}) \s*,\s*
    (?P<day>\d{1,2}) - (?P<month>[a-z]{3}) - (?P<year>\d{4})
    """,
    re.IGNORECASE | re.VERBOSE,
)
# "2024.02.02 21:17 GMT+8" and "Updated 2024.02.02 21:17 GMT+8" (share pages).
_STAMP_LINE = re.compile(
    r"""
    (?P<updated>(?:updated|published)\s+)?
    (?P<year>\d{4}) \. (?P<month>\d{1,2}) \. (?P<day>\d{1,2}) \s+
    (?P<hour>\d{1,2}) : (?P<minute>\d{2})
    (?: \s* (?:GMT|UTC) \s*
      (?: (?P<sign>[+-]) (?P<zh>\d{1,2}) (?::?(?P<zm>\d{2}))? )? )?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_DATE_EXAMPLE = '", Updated 17:51, 04-Feb-2024"'
_LIVE = re.compile(r"live\s*[:|]\s*\S", re.IGNORECASE)
# Words that may sit lowercase inside a person's name.
_NAME_PARTICLES = frozenset("de da del di du la le van von der den al bin ibn".split())


class SeedFormatError(ValueError):
    """The input is not an article in the scraped format.

    ``str(err)`` is a message for a human, starting with "line N: " when the problem
    sits on a particular (1-based) line (unless the message already names that
    line). The line number is also kept in ``err.line`` and the bare message in
    ``err.message``.
    """

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        if line is not None and not re.search(rf"\bline {line}\b", message):
            message = f"line {line}: {message}"
        super().__init__(message)


@dataclass(frozen=True)
class Paragraph:
    """A body paragraph (one line of prose in the source)."""

    text: str


@dataclass(frozen=True)
class Heading:
    """A subheading inside the body, quotes kept verbatim."""

    text: str


@dataclass(frozen=True)
class Figure:
    """A photo: its caption and its credit ("" when no copy carried one)."""

    caption: str
    credit: str


Block = Paragraph | Heading | Figure


@dataclass(frozen=True)
class ParsedArticle:
    """Everything the importer needs from one seed file.

    Two articles are equal when their stories are: `warnings` (what the parser
    guessed or dropped) does not take part in comparisons.
    """

    headline: str
    authors: tuple[str, ...]  # may be empty
    dateline: str  # the place before ", Updated" (or of "Name, in Berlin"); or ""
    # The page's time: naive when the page gives no zone (read it in the seed
    # time zone), aware when it does ("GMT+8"); None when the page has none.
    updated_at: datetime | None
    hero: Figure | None
    blocks: tuple[Block, ...]  # body in source order (hero excluded)
    related: tuple[str, ...]  # headlines listed under READ MORE labels
    # An earlier publication time, when the page gives one apart from its
    # "Updated" time (share pages); None when it is the same as updated_at.
    published_at: datetime | None = None
    affiliation: str = ""  # "CGTN" of "Name, CGTN"
    organisation: bool = False  # the byline is an organisation or a programme
    kind: str = ARTICLE  # one of KINDS
    duration: str = ""  # a video's running time, as printed ("28:53")
    editors_note: str = ""
    source: str = ""  # "Xinhua News Agency" of "Source(s): Xinhua News Agency"
    sections: tuple[str, ...] = ()  # from tag lines and a share page's section
    headline_provisional: bool = False  # taken from the text: none stood apart
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def needs_review(self) -> bool:
        """No publication time, or no real headline: an editor must look first."""
        return self.updated_at is None or self.headline_provisional


# --------------------------------------------------------------------------------
# Reading lines


class _Line(NamedTuple):
    number: int  # 1-based line number in the file
    text: str  # normalised text; "" for blank and marker lines
    kind: str  # _TEXT, _BLANK or _MARKER


_TEXT, _BLANK, _MARKER = "text", "blank", "marker"
# What the furniture pass leaves of a line besides text and markers.
_RELATED, _END, _DURATION = "related", "end", "duration"


def _normalise(text: str) -> str:
    """Collapse every run of (Unicode) whitespace, NBSP included, to one space."""
    return " ".join(text.split())


def strip_unsafe(text: str) -> str:
    """`text` without C1 controls and bidirectional overrides (never story text)."""
    return _UNSAFE.sub("", text)


def _read_line(number: int, raw: str) -> _Line:
    text = _normalise(raw)
    if text:
        return _Line(number, text, _TEXT)
    # A whitespace-only line carries nothing; but one holding an NBSP (or another
    # non-ASCII space) is how the site announces a subheading.
    if raw.strip(" \t"):
        return _Line(number, "", _MARKER)
    return _Line(number, "", _BLANK)


def _quote(text: str, limit: int = 80) -> str:
    """Show (the start of) a line inside a message."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f'"{text}"'


def _binary_error() -> SeedFormatError:
    return SeedFormatError("binary data, not a text article")


def _too_many_controls(count: int, total: int) -> bool:
    # A stray form feed or vertical tab is noise; many of them mean binary data.
    return count >= 2 and count * 10 > total


# --------------------------------------------------------------------------------
# Public entry points


def parse_bytes(data: bytes) -> ParsedArticle:
    """Check and decode a seed file's bytes (strict UTF-8), then parse the text."""
    size = len(data)
    if size > MAX_BYTES:
        raise SeedFormatError(
            f"file is {size:,} bytes ({size / 1_000_000:.1f} MB); "
            f"at most {MAX_BYTES:,} bytes are allowed"
        )
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    data = data[bom:]
    if b"\x00" in data:
        raise _binary_error()
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if _too_many_controls(controls, len(data)):
        raise _binary_error()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        head = data[: err.start]
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        raise SeedFormatError(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} at line {line} "
            f"(byte offset {bom + err.start}); save the file as UTF-8",
            line=line,
        ) from None
    return parse_text(text)


def parse_text(text: str) -> ParsedArticle:
    """Parse one article in the scraped format (see the module docstring).

    Text longer than MAX_BYTES characters is rejected before any work is done.
    """
    if len(text) > MAX_BYTES:
        raise SeedFormatError(
            f"text is {len(text):,} characters long; "
            f"at most {MAX_BYTES:,} bytes are allowed"
        )
    if "\x00" in text:
        raise _binary_error()
    text = text.replace("\ufeff", "")  # the BOM, and any stray copies of it
    cleaned, controls = _CONTROL.subn("", text)
    if _too_many_controls(controls, len(text)):
        raise _binary_error()
    cleaned = strip_unsafe(cleaned)
    if not cleaned.strip():
        raise SeedFormatError(
            "the file is empty" if not text else "the file holds only whitespace"
        )
    lines = [
        _read_line(number, raw)
        for number, raw in enumerate(_NEWLINE.split(cleaned), start=1)
    ]
    return _Parser(lines).parse()


# --------------------------------------------------------------------------------
# The parser


def _casefold_is(text: str, expected: str) -> bool:
    return text.casefold() == expected.casefold()


# The table as one pattern (one regex call per line): entry i is group "e<i>",
# its value group "v<i>".
_FURNITURE_ALL = re.compile(
    "|".join(
        f"(?P<e{i}>{entry.pattern.pattern.replace('(?P<value>', f'(?P<v{i}>')})"
        for i, entry in enumerate(FURNITURE)
    ),
    re.IGNORECASE,
)


# Entries that scan the whole line for a word ("... ICP licence ...", "...
# Subscribe here!") cost most of the table's time on prose lines. Each needs
# one of these words somewhere in the line; in an ASCII line (where ignoring
# case is plain str.lower()) that has none of them, the table without those
# entries gives the same answer, faster.
_FURNITURE_HINTS = {
    "licence line": ("icp",),
    "hotline": ("hotline", "tel"),
    "US-edition promo": ("subscribe here!",),
}
_HINTS = tuple(hint for hints in _FURNITURE_HINTS.values() for hint in hints)
_FURNITURE_UNHINTED = re.compile(
    "|".join(
        f"(?P<e{i}>{entry.pattern.pattern.replace('(?P<value>', f'(?P<v{i}>')})"
        for i, entry in enumerate(FURNITURE)
        if entry.name not in _FURNITURE_HINTS
    ),
    re.IGNORECASE,
)


def _furniture_of(text: str) -> tuple[Furniture, str] | None:
    """The FURNITURE entry this (normalised) line is, with its value, or None."""
    if len(text) > _MAX_FURNITURE_LINE:
        return None
    table = _FURNITURE_ALL
    if text.isascii():
        lower = text.lower()
        if not any(hint in lower for hint in _HINTS):
            table = _FURNITURE_UNHINTED
    match = table.fullmatch(text)
    if match is None:
        return None
    index = int(match.lastgroup[1:])
    return FURNITURE[index], match.groupdict().get(f"v{index}") or ""


def _ends_sentence(text: str) -> bool:
    """Does the text end with . ? ! or …, possibly inside closing quotes/brackets?"""
    core = text.rstrip(_CLOSERS)
    return bool(core) and core[-1] in _SENTENCE_END


def _is_paragraph(text: str, heading_hint: bool = False) -> bool:
    """Prose (a paragraph) rather than a short title (a heading, a related link).

    Sentence punctuation at the end makes prose, and so does length (scrapes lose
    final punctuation). Right after an NBSP-only line, which announces a
    subheading, a short single question or exclamation is a heading.
    """
    if len(text) > LONG_LINE:
        return True
    if not _ends_sentence(text):
        return False
    if (
        heading_hint
        and text.rstrip(_CLOSERS)[-1] in "?!"
        and len(text) <= _SHORT_QUESTION
        and not _SENTENCE_BREAK.search(text)
    ):
        return False
    return True


def _reads_as_prose(text: str) -> bool:
    """Is the first line of a page a sentence of the text rather than a headline?

    Headlines carry no final period ("... with the U.S." is no sentence end), and
    a short question is a headline too.
    """
    if _PROSE_END.search(text):
        return True
    if not _ends_sentence(text):
        return False
    return len(text) > _SHORT_QUESTION or bool(_SENTENCE_BREAK.search(text))


def _looks_like_credit(credit: str) -> bool:
    """A photographer/agency chain: short, one phrase, mostly capitalised words."""
    if not credit or len(credit) > 200 or _SENTENCE_BREAK.search(credit):
        return False
    if "/" in credit:
        return True
    words = [word for word in credit.split() if word[0].isalpha()]
    capitalised = sum(word[0].isupper() for word in words)
    return capitalised * 2 >= len(words)


def _split_credit(copy: str, splitter: re.Pattern[str] = _CREDIT_SPLIT):
    """Split one copy of a caption into (caption, credit) without a reference copy.

    The caption ends at the first separator after which a credit-like text follows:
    "ties./Agency/Reuters", "leaders. /Reuters", 'strain". Sputnik/Reuters'. Slashes
    inside the caption ("24/7", "and/or") are not separators, and the credit keeps
    its own inner slashes. Without a separator the whole copy is the caption.
    """
    for match in islice(splitter.finditer(copy), 20):
        caption = copy[: match.start()].rstrip()
        credit = copy[match.end() :].strip()
        if caption and _looks_like_credit(credit):
            return caption, credit
    return copy, ""


def _after_separator(short: str, long: str) -> str | None:
    """If `long` is `short` + separator + credit, return the credit."""
    if not long.startswith(short):
        return None
    match = _SEPARATOR.match(long, len(short))
    if match is None or match.end() == len(long):
        return None
    return long[match.end() :].strip()


def _agency_only(figure: Figure) -> Figure:
    """A "caption" that is only an agency's name ("CFP") is the photo's credit."""
    if not figure.credit and figure.caption in AGENCIES:
        return Figure("", figure.caption)
    return figure


def _figure_from_pair(first: str, second: str) -> Figure | None:
    """The figure two lines are copies of, or None if they are not."""
    if max(len(first), len(second)) > _MAX_CAPTION_LINE:
        return None
    if first == second:
        return _agency_only(Figure(*_split_credit(first)))
    # One copy is the caption alone: it tells exactly where the caption ends.
    for short, long in ((first, second), (second, first)):
        credit = _after_separator(short, long)
        if credit is not None:
            return Figure(short, credit)
    # Two copies with different separators, or a caption-only copy that keeps a
    # final period the other copy lost to a '". ' separator.
    (caption1, credit1), (caption2, credit2) = map(_split_credit, (first, second))
    if caption1.rstrip(".") != caption2.rstrip("."):
        return None
    if credit1 and not credit2:
        caption1 = caption2
    return Figure(caption1, credit1 or credit2)


def _may_be_copies(first: str, second: str) -> bool:
    """A cheap test before _figure_from_pair: could these be one caption twice?"""
    if first == second or first.startswith(second) or second.startswith(first):
        return True
    return ("/" in first or '". ' in first) and ("/" in second or '". ' in second)


def _single_figure(text: str, loose: bool = False) -> Figure | None:
    """A caption shown once with its credit ("Caption. /Credit"), or an agency.

    Only a slash separates them (prose has '". ' too), and the credit ends
    without sentence punctuation; `loose` (a copy right under the date line)
    allows the '". ' separator as before.
    """
    if len(text) > _MAX_CAPTION_LINE:
        return None
    if text in AGENCIES:
        return Figure("", text)
    if "/" not in text and not loose:
        return None
    caption, credit = _split_credit(text, _CREDIT_SPLIT if loose else _SLASH_SPLIT)
    if not credit or (not loose and (_ends_sentence(credit) or len(credit) > 120)):
        return None
    return Figure(caption, credit)


def _is_copy(text: str, figure: Figure, copies: tuple[str, ...]) -> bool:
    """Is this line one more copy of the figure just read?"""
    if text in copies or (figure.caption and text == figure.caption):
        return True
    return bool(figure.credit and figure.caption) and _after_separator(
        figure.caption, text
    ) == (figure.credit)


def _split_authors(line: str) -> tuple[str, ...]:
    """ "A", "By A", "A and B", "A & B", "A, B and C", "A, B, and C"."""
    if line[:3].casefold() == "by ":
        line = line[3:]
    parts = re.split(r"\s*,\s*(?:(?:and|&)\s+)?|\s+(?:and|&)\s+", line)
    return tuple(part.strip() for part in parts if part.strip())


def _is_name(name: str) -> bool:
    """A person's name as bylines print it: a few capitalised words."""
    words = name.split()
    if not 1 <= len(words) <= 5 or words[0] in _NAME_PARTICLES:
        return False
    return all(
        word in _NAME_PARTICLES
        or (word[0].isupper() and _NAME_WORD.fullmatch(word) is not None)
        for word in words
    )


# A word of a name: initials ("J.", "J.K.") or letters with inner apostrophes and
# hyphens ("O'Neil", "Jean-Paul").
_NAME_WORD = re.compile(r"(?:[^\W\d_]\.){1,3}|[^\W\d_](?:[\w'’-]{0,28}[^\W\d_])?")


class _Byline(NamedTuple):
    authors: tuple[str, ...]
    affiliation: str = ""
    place: str = ""
    organisation: bool = False


_PROGRAMME = re.compile(r"(?P<show>[^\W\d_][^,]{1,60}?) with (?P<host>[^\W\d_].{1,60})")
_BYLINE_PLACE = re.compile(r"(?P<names>.+?)\s*,\s*in\s+(?P<place>[^\W\d_][^,]{0,60})")


def _read_byline(text: str) -> _Byline | None:
    """The byline this line is, or None if it is no byline.

    "Name", "Name and Name", "Name, CGTN" (an affiliation, not a second author),
    "Name, in Berlin" (the dateline), "CGTN" alone or a programme ("World Insight
    with Host"): an organisation byline.
    """
    line = text[3:] if text[:3].casefold() == "by " else text
    if not line or len(line) > _MAX_AUTHOR_LINE or line[-1] in ".?!…:;":
        return None
    place = ""
    located = _BYLINE_PLACE.fullmatch(line)
    if located and _is_name(located["place"]):
        line, place = located["names"], located["place"]
    if line in ORGANISATIONS:
        return _Byline((line,), place=place, organisation=True)
    programme = _PROGRAMME.fullmatch(line)
    if programme and _is_name(programme["show"]) and _is_name(programme["host"]):
        return _Byline((line,), place=place, organisation=True)
    affiliation = ""
    head, comma, tail = line.rpartition(",")
    tail = tail.strip()
    if comma and (tail in ORGANISATIONS or re.fullmatch(r"[A-Z]{2,6}", tail or "")):
        line, affiliation = head.strip(), tail
    authors = _split_authors(line)
    if not authors or len(authors) > 8 or not all(map(_is_name, authors)):
        return None
    return _Byline(authors, affiliation, place)


def _read_time(text: str) -> tuple[str, datetime, bool] | None:
    """(place, time, says "Updated") for a date or time line, else None.

    Raises SeedFormatError (without a line) for a date line with impossible values.
    """
    if ":" not in text:
        return None  # both forms have a time, "17:51"
    match = _DATE_LINE.fullmatch(text)
    if match is not None:
        stamp = (
            f"{match['hour']}:{match['minute']}, "
            f"{match['day']}-{match['month']}-{match['year']}"
        )
        month = _MONTHS.get(match["month"].casefold())
        if month is None:
            raise SeedFormatError(
                f'unknown month "{match["month"]}" in the date {stamp}; '
                "use Jan, Feb, ... Dec"
            )
        fields = (match["year"], month, match["day"], match["hour"], match["minute"])
        place = (match["place"] or "").strip()
        return place, _datetime(stamp, fields), True
    match = _STAMP_LINE.fullmatch(text)
    if match is None:
        return None
    stamp = text.removeprefix(match["updated"] or "")
    fields = (match[name] for name in ("year", "month", "day", "hour", "minute"))
    zone = None
    if match["sign"]:
        offset = timedelta(hours=int(match["zh"]), minutes=int(match["zm"] or 0))
        if offset >= timedelta(hours=24):
            raise SeedFormatError(f"invalid time zone in {stamp}")
        zone = timezone(-offset if match["sign"] == "-" else offset)
    elif re.search(r"GMT|UTC", text, re.IGNORECASE):
        zone = UTC
    when = _datetime(stamp, fields)
    return "", when.replace(tzinfo=zone), bool(match["updated"])


def _datetime(stamp: str, fields) -> datetime:
    year, month, day, hour, minute = map(int, fields)
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError as err:
        raise SeedFormatError(f"invalid date {stamp}: {err}") from None


def _is_section_word(text: str) -> bool:
    """A share page's section name above its time: "Culture", "World", "China"."""
    words = text.split()
    return (
        1 <= len(words) <= 3
        and len(text) <= 30
        and text[0].isupper()
        and (not _ends_sentence(text))
    )


def _sections_of(value: str) -> list[str]:
    """The names in a tag line's value: "Europe;France" or '"china", "world"'."""
    if '"' in value:
        names = re.findall(r'"([^"]*)"', value)
    else:
        names = value.split(";")
    return [name.strip() for name in names if name.strip()]


def _provisional_headline(text: str) -> str:
    """A headline taken from the text: its first sentence, cut at a word."""
    match = _SENTENCE_BREAK.search(text)
    sentence = text[: match.start() + 1] if match else text
    sentence = sentence.rstrip(".").strip()
    if len(sentence) <= _PROVISIONAL_HEADLINE:
        return sentence
    cut = sentence[:_PROVISIONAL_HEADLINE].rsplit(" ", 1)[0].rstrip(",;:")
    return (cut or sentence[:_PROVISIONAL_HEADLINE]) + "…"


class _Item(NamedTuple):
    """A line the furniture pass kept."""

    number: int
    text: str
    kind: str  # _TEXT, _MARKER, _RELATED, _END or _DURATION
    touches: bool  # a _TEXT line with no blank line since the previous _TEXT one


class _Parser:
    """Three passes: furniture out (metadata kept), the header, then the body."""

    def __init__(self, lines: list[_Line]):
        self.lines = lines
        self.warnings: list[str] = []
        self.sections: list[str] = []
        self.source = ""
        self.editors_notes: list[str] = []
        self.player = False
        self.banner = False
        self.noted: list[str] = []  # furniture worth naming in the warnings
        self.share = False  # a share page: times like "2024.02.02 21:17 GMT+8"

    # -- pass 1: furniture --------------------------------------------------------

    def _furniture_pass(self) -> list[_Item]:
        items: list[_Item] = []
        touching = False  # the last kept or dropped line was text, no blank since
        has_text = False
        skipped = self._banner_body()
        for line in self.lines:
            if line.number in skipped:
                continue
            if line.kind == _BLANK:
                touching = False
                continue
            if line.kind == _MARKER:
                items.append(_Item(line.number, "", _MARKER, False))
                touching = False
                continue
            found = _furniture_of(line.text)
            if found is None:
                if (
                    _FURNITURE_LIKE.fullmatch(line.text)
                    and len(line.text) <= 200
                    and not _read_time_quietly(line.text)  # a header's time
                ):
                    self.warnings.append(
                        f"line {line.number}: dropped a line that looks like site "
                        f"furniture: {_quote(line.text, 40)}"
                    )
                    continue
                items.append(_Item(line.number, line.text, _TEXT, touching))
                touching = has_text = True
                continue
            entry, value = found
            value = value.strip()
            match entry.role:
                case "drop":
                    self.banner |= entry.name == "cookie banner"
                case "note":
                    self.noted.append(f"{entry.name} (line {line.number})")
                case "player":
                    self.player = True
                case "end" if has_text:
                    items.append(_Item(line.number, "", _END, False))
                    break
                case "related":
                    items.append(_Item(line.number, "", _RELATED, False))
                    touching = False
                case "duration":
                    items.append(_Item(line.number, value, _DURATION, False))
                case "sections":
                    self.sections += _sections_of(value)
                case "source":
                    self.source = self.source or value
                case "note_ed":
                    self.editors_notes.append(value)
        return items

    def _banner_body(self) -> set[int]:
        """Numbers of lines between the banner heading and its button.

        The banner ends with its "I agree" button, normally two lines further
        on; a different body line in between is the banner's all the same.
        """
        texts = [line for line in self.lines if line.kind == _TEXT][:5]
        for at, line in enumerate(texts):
            if _casefold_is(line.text, BANNER_HEADING):
                for end in range(at + 1, min(at + 4, len(texts))):
                    if _casefold_is(texts[end].text, BANNER_BUTTON):
                        return {text.number for text in texts[at + 1 : end]}
                break
        return set()

    # -- pass 2: the header -------------------------------------------------------

    def parse(self) -> ParsedArticle:
        items = self._furniture_pass()
        if not any(item.kind == _TEXT for item in items):
            if self.editors_notes:
                items.append(_Item(0, self.editors_notes.pop(), _TEXT, False))
            elif self.banner and not self.noted and not self.player:
                raise SeedFormatError(
                    "no article text: only a cookie banner, no article"
                )
            else:
                raise SeedFormatError(
                    "no article text: the page holds only site furniture"
                )
        headline: _Item | None = None
        byline: _Byline | None = None
        first_time: datetime | None = None  # a time line above the headline
        updated: datetime | None = None
        dateline = ""
        duration = ""
        summary_next = False  # a video's summary follows its duration line
        header_end = 0  # number of the last header line
        count = len(items)

        def next_text(start: int) -> _Item | None:
            for item in islice(items, start, None):
                if item.kind == _TEXT:
                    return item
                if item.kind not in (_MARKER, _DURATION):
                    return None
            return None

        i = 0
        while i < count:
            item = items[i]
            if item.kind == _MARKER:
                i += 1
                continue
            if item.kind == _DURATION:
                duration = duration or item.text
                summary_next = True
                header_end = item.number
                i += 1
                continue
            if item.kind != _TEXT:
                break
            try:
                when = _read_time(item.text)
            except SeedFormatError as err:
                raise SeedFormatError(err.message, line=item.number) from None
            if when is not None:
                place, moment, _ = when
                self.share |= _STAMP_LINE.fullmatch(item.text) is not None
                if headline is None and first_time is None:
                    first_time = moment
                elif updated is None:
                    updated = moment
                else:
                    self.warnings.append(
                        f"line {item.number}: dropped a second date line"
                    )
                dateline = dateline or place
                header_end = item.number
                i += 1
                continue
            if headline is None:
                following = next_text(i + 1)
                if (
                    first_time is None
                    and following is not None
                    and _is_section_word(item.text)
                    and (stamp := _STAMP_LINE.fullmatch(following.text))
                    and not stamp["updated"]
                ):
                    self.sections.insert(0, item.text)  # a share page's section
                    i += 1
                    continue
                if _reads_as_prose(item.text):
                    break  # no headline stands apart: the text starts here
                if len(item.text) > MAX_HEADLINE:
                    raise SeedFormatError(
                        f"headline is {len(item.text):,} characters long; "
                        f"at most {MAX_HEADLINE} are allowed",
                        line=item.number,
                    )
                headline = item
                header_end = item.number
                summary_next = False
                i += 1
                continue
            touches_next = (
                i + 1 < count and items[i + 1].kind == _TEXT and items[i + 1].touches
            )
            after_marker = i > 0 and items[i - 1].kind == _MARKER
            if (
                byline is None
                and not (
                    touches_next  # two copies of a caption, not a byline
                    and _figure_from_pair(item.text, items[i + 1].text) is not None
                )
                and not after_marker  # an NBSP-only line announces a subheading
            ):
                byline = _read_byline(item.text)
                if byline is not None:
                    header_end = item.number
                    i += 1
                    continue
            break
        if updated is None:
            updated, first_time = first_time, None
        if first_time == updated:
            first_time = None

        while i > 0 and items[i - 1].kind == _MARKER:
            i -= 1  # the body's first subheading keeps its NBSP-only line
        hero, blocks, related, ended = self._body(
            items[i:], headline.text if headline else "", summary_next
        )
        paragraphs = [block for block in blocks if isinstance(block, Paragraph)]
        if not paragraphs:
            raise SeedFormatError(
                "no article text: no body paragraph after the header; "
                "an article needs at least one",
                line=header_end or None,
            )
        provisional = headline is None
        title = headline.text if headline else _provisional_headline(paragraphs[0].text)
        kind = ARTICLE
        if _LIVE.match(title):
            kind = LIVE
        elif duration or self.player:
            kind = VIDEO
        elif _is_gallery(hero, blocks):
            kind = GALLERY
        if byline is not None:
            dateline = dateline or byline.place
        self._warn(
            provisional=provisional,
            title=title,
            byline=byline,
            updated=updated,
            hero=hero,
            blocks=blocks,
            ended=ended,
        )
        return ParsedArticle(
            headline=title,
            authors=byline.authors if byline else (),
            dateline=dateline[:100],
            updated_at=updated,
            hero=hero,
            blocks=blocks,
            related=related,
            published_at=first_time,
            affiliation=byline.affiliation if byline else "",
            organisation=bool(byline and byline.organisation),
            kind=kind,
            duration=duration,
            editors_note=" ".join(self.editors_notes),
            source=self.source,
            sections=tuple(dict.fromkeys(self.sections)),
            headline_provisional=provisional,
            warnings=tuple(self.warnings),
        )

    def _warn(self, *, provisional, title, byline, updated, hero, blocks, ended):
        found = []
        if provisional:
            found.append(
                f"no headline stands apart on the page: {_quote(title)} is a "
                "provisional headline taken from the text; the story waits in "
                "review for an editor to write one"
            )
        if byline is None:
            found.append("no byline on the page: the story has no author")
        if updated is None:
            found.append(
                "no date on the page: the story has no publication time and waits "
                "in review, not published"
            )
        if self.noted:
            found.append("dropped site furniture: " + ", ".join(self.noted))
        figures = [hero] if hero else []
        figures += [block for block in blocks if isinstance(block, Figure)]
        for figure in figures:
            if not figure.credit:
                found.append(f"caption without credit: {_quote(figure.caption, 60)}")
        if not ended:
            last = blocks[-1] if blocks else None
            if isinstance(last, Paragraph) and not _ends_sentence(last.text):
                found.append(
                    "the page is cut short mid-sentence: "
                    f"{_quote(last.text[-40:])} ends it"
                )
            else:
                found.append(
                    "the page ends without the site's sidebar: it may be cut short"
                )
        self.warnings[:0] = found

    # -- pass 3: the body ---------------------------------------------------------

    def _body(
        self, body: list[_Item], headline: str, summary_next: bool
    ) -> tuple[Figure | None, tuple[Block, ...], tuple[str, ...], bool]:
        # A duration line below the header is a lone timestamp: not text.
        for item in body:
            if item.kind == _DURATION:
                self.warnings.append(
                    f"line {item.number}: dropped a line that looks like site "
                    f"furniture: {_quote(item.text)}"
                )
        body = [item for item in body if item.kind != _DURATION]
        count = len(body)
        live_title = _LIVE.sub("", headline, count=1) if _LIVE.match(headline) else ""

        def touches_next(i: int) -> bool:
            # Only copies of a caption sit on touching (non-blank) lines.
            return (
                i + 1 < count
                and body[i].kind == body[i + 1].kind == _TEXT
                and body[i + 1].touches
            )

        def standalone(i: int) -> bool:
            return not touches_next(i) and not (i > 0 and touches_next(i - 1))

        def is_headline(text: str) -> bool:
            return bool(headline) and (
                _casefold_is(text, headline)
                or bool(live_title and _casefold_is(text, live_title))
            )

        # The headline repeated on its own line ends the article: everything from
        # its last such repetition on is trailer.
        repeats = [
            i
            for i, item in enumerate(body)
            if item.kind == _TEXT and is_headline(item.text) and standalone(i)
        ]
        trailer_at = repeats[-1] if repeats else None

        hero: Figure | None = None
        blocks: list[Block] = []
        related: list[str] = []
        paragraphs = 0
        heading_hint = False  # the previous line was NBSP-only
        in_related = False  # inside a READ MORE list
        ended = False

        def add_figure(figure: Figure) -> None:
            nonlocal hero
            if hero is None and paragraphs == 0:
                hero = figure
            else:
                blocks.append(figure)

        def skip_copies(i: int, figure: Figure, copies: tuple[str, ...]) -> int:
            # Further copies on their own lines (the usual third copy); a new
            # pair of touching copies is another photo (a gallery).
            while (
                i < count
                and body[i].kind == _TEXT
                and not touches_next(i)
                and _is_copy(body[i].text, figure, copies)
            ):
                i += 1
            return i

        i = 0
        while i < count:
            item = body[i]
            text = item.text
            if item.kind == _MARKER:
                heading_hint, in_related = True, False
                i += 1
                continue
            if item.kind == _END:
                ended = True
                break
            if item.kind == _RELATED:
                in_related = True
                i += 1
                continue
            if touches_next(i):
                following = body[i + 1].text
                figure = _figure_from_pair(text, following)
                if figure is not None:
                    add_figure(figure)
                    i = skip_copies(i + 2, figure, (text, following))
                    heading_hint = in_related = summary_next = False
                    continue
            if standalone(i) and not is_headline(text):
                figure = None
                after = body[i + 1] if i + 1 < count else None
                if (
                    not self.share
                    and after is not None
                    and after.kind == _TEXT
                    and standalone(i + 1)
                ):
                    # Copies separated by a blank line (older pages); a share page
                    # shows each caption once, so its twins are two photos.
                    figure = (
                        _figure_from_pair(text, after.text)
                        if _may_be_copies(text, after.text)
                        else None
                    )
                    if (
                        figure is not None
                        and (figure.credit or (text == after.text and not in_related))
                        and not (not figure.credit and _is_paragraph(text))
                    ):
                        add_figure(figure)
                        i = skip_copies(i + 2, figure, (text, after.text))
                        heading_hint = in_related = summary_next = False
                        continue
                figure = _single_figure(text, loose=i == 0 and item.touches)
                if figure is not None:
                    add_figure(figure)
                    i = skip_copies(i + 1, figure, (text,))
                    heading_hint = in_related = summary_next = False
                    continue
            if standalone(i) and _read_time_quietly(text):
                self.warnings.append(f"line {item.number}: dropped a stray date line")
                i += 1
                continue
            if is_headline(text):
                if i == trailer_at and paragraphs and standalone(i):
                    ended = True
                    break
                i += 1  # a stray repetition of the headline is not body text
                continue
            if summary_next and not heading_hint and not in_related:
                blocks.append(Paragraph(text))  # a video's summary
                paragraphs += 1
                summary_next = in_related = False
            elif in_related and not _is_paragraph(text):
                related.append(text)
            elif _is_paragraph(text, heading_hint):
                blocks.append(Paragraph(text))
                paragraphs += 1
                in_related = False
            else:
                blocks.append(Heading(text))
                in_related = False
            heading_hint = summary_next = False
            i += 1

        if not ended and blocks and isinstance(blocks[-1], Heading):
            # The scrape stopped: the last line is a broken sentence, no heading.
            blocks[-1] = Paragraph(blocks[-1].text)
        return hero, tuple(blocks), tuple(related), ended


def _read_time_quietly(text: str) -> bool:
    try:
        return _read_time(text) is not None
    except SeedFormatError:
        return True


def _is_gallery(hero: Figure | None, blocks: tuple[Block, ...]) -> bool:
    """Several photos with one identical caption, or more photos than text."""
    figures = [hero] if hero else []
    figures += [block for block in blocks if isinstance(block, Figure)]
    paragraphs = sum(isinstance(block, Paragraph) for block in blocks)
    if len(figures) != len(set(figures)):
        return True
    return len(figures) >= 4 and len(figures) > paragraphs


# --------------------------------------------------------------------------------
# Writing


def _authors_text(authors: tuple[str, ...]) -> str:
    if len(authors) <= 1:
        return "".join(authors)
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def _date_text(dateline: str, updated_at: datetime) -> str:
    # The site starts an empty place with an NBSP: "\u00a0, Updated 17:51, ...".
    place = dateline or "\u00a0"
    stamp = (
        f"{updated_at:%H:%M}, {updated_at.day:02d}-"
        f"{_MONTH_NAMES[updated_at.month]}-{updated_at.year:04d}"
    )
    return f"{place}, Updated {stamp}"


def _stamp_text(when: datetime, updated: bool) -> str:
    """A share page's time line: "[Updated ]2024.02.02 21:17 GMT+8"."""
    offset = when.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    zone = f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")
    text = (
        f"{when.year:04d}.{when.month:02d}.{when.day:02d} "
        f"{when.hour:02d}:{when.minute:02d} {zone}"
    )
    return f"Updated {text}" if updated else text


def _figure_copies(figure: Figure) -> tuple[str, str]:
    """The two touching copies: the caption alone, then caption/credit."""
    if not figure.caption:
        return figure.credit, figure.credit
    if not figure.credit:
        return figure.caption, figure.caption
    return figure.caption, f"{figure.caption}/{figure.credit}"


def dump(article: ParsedArticle) -> str:
    """Write the article in the scraped format, cookie banner and trailer included.

    ``parse_text(dump(article)) == article`` for every article the parser can
    produce (warnings aside). The related headlines go after the first
    paragraph, as on the site. A time with a zone is written as a share page
    writes it; a dateline that no date line carries goes into the byline.
    """
    units = [BANNER_HEADING, BANNER_BODY, BANNER_BUTTON]
    aware = article.updated_at is not None and article.updated_at.tzinfo is not None
    if article.published_at is not None:
        units.append(_stamp_text(article.published_at, updated=False))
    units.append(article.headline)
    if article.duration:
        units.append(article.duration)
    elif article.kind == VIDEO:
        units.append(PLAYER_ERROR)
    byline = (
        article.authors[0] if article.organisation else _authors_text(article.authors)
    )
    if article.affiliation:
        byline += f", {article.affiliation}"
    place_in_byline = article.dateline and (aware or article.updated_at is None)
    if place_in_byline:
        byline += f", in {article.dateline}"
    date_line = None
    if article.updated_at is not None:
        date_line = (
            _stamp_text(article.updated_at, updated=True)
            if aware or article.published_at is not None
            else _date_text(article.dateline, article.updated_at)
        )
    sections = ""
    if article.sections:
        names = article.sections
        sections = (
            ";".join(names)
            if len(names) > 1
            else "[" + ", ".join(f'"{name}"' for name in names) + "]"
        )
    units += [line for line in (byline, sections, date_line) if line]
    if article.hero is not None:
        # The hero touches the date line; its third copy follows a blank line.
        first, second = _figure_copies(article.hero)
        if date_line:
            units[-1] += f"\n{first}\n{second}"
        else:
            units.append(f"{first}\n{second}")
        units.append(second)
    if article.editors_note:
        units.append(f"Editor's note: {article.editors_note}")

    def related_list() -> list[str]:
        return [READ_MORE, *article.related] if article.related else []

    related_written = False
    for block in article.blocks:
        match block:
            case Paragraph(text):
                units.append(text)
                if not related_written:
                    units += related_list()
                    related_written = True
            case Heading(text):
                units += ["\u00a0", text]  # the NBSP-only line announces it
            case Figure():
                first, second = _figure_copies(block)
                units += [f"{first}\n{second}", second]
    if not related_written:
        units += related_list()
    if article.source:
        units.append(f"Source(s): {article.source}")
    units += [article.headline, PROMO, SIDEBAR]
    return "\n\n".join(units)
