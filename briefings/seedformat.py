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

This module knows nothing about Django: it turns bytes or text into a
:class:`ParsedArticle` (or raises :class:`SeedFormatError` with a message an editor
can act on) and :func:`dump` writes a :class:`ParsedArticle` back in the same format.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import NamedTuple

__all__ = [
    "MAX_BYTES",
    "MAX_HEADLINE",
    "Block",
    "Figure",
    "Heading",
    "Paragraph",
    "ParsedArticle",
    "SeedFormatError",
    "dump",
    "parse_bytes",
    "parse_text",
]

MAX_BYTES = 2_000_000  # bigger files are rejected before decoding
MAX_HEADLINE = 300  # characters

# Boilerplate of the scraped site. Matching is on normalised, case-folded lines.
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

_PROMO_PREFIX = "subscribe to storyboard"
_BANNER_BODY_PREFIX = "by continuing to browse"

# A line longer than this is prose even when the scrape lost its final punctuation.
LONG_LINE = 120
# A line that ends in "?" or "!" right after an NBSP-only line is a subheading
# (rather than a paragraph) when it is at most this long and a single sentence.
_SHORT_QUESTION = 100
# Longer adjacent lines are not taken for figure captions (also bounds the work).
_MAX_CAPTION_LINE = 1_000
# Longest author line we accept; anything longer is prose, not a byline.
_MAX_AUTHOR_LINE = 200

_SENTENCE_END = ".?!…"
_CLOSERS = "\"'”’)]»"

# Separator between a caption and its credit: "/", " /" or a stray '". '.
_SEPARATOR = re.compile(r'\s*/\s*|"\.\s+')
# Where a caption may end inside a copy that carries its credit: a slash preceded by
# sentence punctuation, a closing quote/bracket or a space (so not "24/7" or
# "and/or"), or the stray '". ' separator.
_CREDIT_SPLIT = re.compile(r'(?<=[.?!…"\'”’)\]])\s*/\s*|\s+/\s*|"\.\s+')
# "word. Next" inside a text: a sentence break (abbreviations like "U.S." or "Co."
# do not count because they lack two lowercase letters before the period).
# (Lookbehinds rather than a leading "[a-z]{2,}" keep the search linear.)
_SENTENCE_BREAK = re.compile(
    r'(?:(?<=[a-z]{2})|(?<=[a-z]{2}["\'”’)]))[.?!…]["\'”’)]*\s+\S'
)
_READ_MORE = re.compile(r"read\s*more", re.IGNORECASE)

# C0 controls other than tab, LF and CR, plus DEL: dropped silently when rare.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes([*range(1, 9), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NEWLINE = re.compile(r"\r\n|\r|\n")

_MONTHS = {
    name: number
    for number, name in enumerate(
        "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1
    )
}
_MONTH_NAMES = {number: name.title() for name, number in _MONTHS.items()}
_DATE_LINE = re.compile(
    r"""
    (?P<place>.*?) \s*,\s*
    (?:(?:updated|published)\s+)?
    (?P<hour>\d{1,2}) : (?P<minute>\d{2}) \s*,\s*
    (?P<day>\d{1,2}) - (?P<month>[a-z]{3}) - (?P<year>\d{4})
    """,
    re.IGNORECASE | re.VERBOSE,
)
_DATE_EXAMPLE = '", Updated 17:51, 04-Feb-2024"'


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
    """Everything the importer needs from one seed file."""

    headline: str
    authors: tuple[str, ...]
    dateline: str  # the place before ", Updated"; "" when empty
    updated_at: datetime  # naive: seed times carry no zone
    hero: Figure | None
    blocks: tuple[Block, ...]  # body in source order (hero excluded)
    related: tuple[str, ...]  # headlines listed under READ MORE labels


# --------------------------------------------------------------------------------
# Reading lines


class _Line(NamedTuple):
    number: int  # 1-based line number in the file
    text: str  # normalised text; "" for blank and marker lines
    kind: str  # _TEXT, _BLANK or _MARKER


_TEXT, _BLANK, _MARKER = "text", "blank", "marker"


def _normalise(text: str) -> str:
    """Collapse every run of (Unicode) whitespace, NBSP included, to one space."""
    return " ".join(text.split())


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
    """Show (the start of) a line inside an error message."""
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


def _is_sidebar(text: str) -> bool:
    return _casefold_is(text, SIDEBAR)


def _is_promo(text: str) -> bool:
    return text.casefold().startswith(_PROMO_PREFIX)


def _is_read_more(text: str) -> bool:
    return _READ_MORE.fullmatch(text) is not None


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


def _looks_like_credit(credit: str) -> bool:
    """A photographer/agency chain: short, one phrase, mostly capitalised words."""
    if not credit or len(credit) > 200 or _SENTENCE_BREAK.search(credit):
        return False
    if "/" in credit:
        return True
    words = [word for word in credit.split() if word[0].isalpha()]
    capitalised = sum(word[0].isupper() for word in words)
    return capitalised * 2 >= len(words)


def _split_credit(copy: str) -> tuple[str, str]:
    """Split one copy of a caption into (caption, credit) without a reference copy.

    The caption ends at the first separator after which a credit-like text follows:
    "ties./Agency/Reuters", "leaders. /Reuters", 'strain". Sputnik/Reuters'. Slashes
    inside the caption ("24/7", "and/or") are not separators, and the credit keeps
    its own inner slashes. Without a separator the whole copy is the caption.
    """
    for match in islice(_CREDIT_SPLIT.finditer(copy), 20):
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


def _figure_from_pair(first: str, second: str) -> Figure | None:
    """The figure two touching lines are copies of, or None if they are not."""
    if max(len(first), len(second)) > _MAX_CAPTION_LINE:
        return None
    if first == second:
        return Figure(*_split_credit(first))
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


def _is_copy(text: str, figure: Figure, copies: tuple[str, str]) -> bool:
    """Is this line one more copy of the figure just read?"""
    if text in copies or text == figure.caption:
        return True
    return bool(figure.credit) and _after_separator(figure.caption, text) == (
        figure.credit
    )


def _split_authors(line: str) -> tuple[str, ...]:
    """ "A", "By A", "A and B", "A & B", "A, B and C", "A, B, and C"."""
    if line[:3].casefold() == "by ":
        line = line[3:]
    parts = re.split(r"\s*,\s*(?:(?:and|&)\s+)?|\s+(?:and|&)\s+", line)
    return tuple(part.strip() for part in parts if part.strip())


class _Parser:
    """One pass over the lines: header, then body, then (ignored) trailer."""

    def __init__(self, lines: list[_Line]):
        self.lines = lines

    def _next_text(self, start: int) -> int | None:
        for index in range(start, len(self.lines)):
            if self.lines[index].kind == _TEXT:
                return index
        return None

    def parse(self) -> ParsedArticle:
        start = self._skip_banner()
        headline_at = self._next_text(start)
        assert headline_at is not None  # _skip_banner checked that text remains
        headline = self.lines[headline_at]
        if len(headline.text) > MAX_HEADLINE:
            raise SeedFormatError(
                f"headline is {len(headline.text):,} characters long; "
                f"at most {MAX_HEADLINE} are allowed",
                line=headline.number,
            )
        authors_at = self._authors_line(headline_at)
        authors = _split_authors(self.lines[authors_at].text)
        date_at = self._date_line(authors_at)
        dateline, updated_at = self._read_date(self.lines[date_at])
        hero, blocks, related = self._body(date_at, headline.text)
        return ParsedArticle(
            headline=headline.text,
            authors=authors,
            dateline=dateline,
            updated_at=updated_at,
            hero=hero,
            blocks=blocks,
            related=related,
        )

    # -- header ------------------------------------------------------------------

    def _skip_banner(self) -> int:
        """Index of the first line after the cookie banner, if there is one."""
        first = self._next_text(0)
        assert first is not None  # parse_text rejected whitespace-only input
        if not _casefold_is(self.lines[first].text, BANNER_HEADING):
            return first
        # The banner ends with its "I agree" button, normally two lines further
        # on; tolerate a missing or different body line in between.
        button_at = None
        index: int | None = first
        for _ in range(3):
            index = self._next_text(index + 1)
            if index is None:
                break
            if _casefold_is(self.lines[index].text, BANNER_BUTTON):
                button_at = index
                break
        if button_at is not None:
            end = button_at + 1
        else:  # no button: drop the heading and any banner body after it
            end = first + 1
            while (at := self._next_text(end)) is not None and self.lines[
                at
            ].text.casefold().startswith(_BANNER_BODY_PREFIX):
                end = at + 1
        # Only trailer boilerplate after the banner is no article either.
        for line in self.lines[end:]:
            if line.kind != _TEXT or _is_promo(line.text):
                continue
            if _is_sidebar(line.text):
                break
            return end
        raise SeedFormatError("only a cookie banner, no article")

    def _authors_line(self, headline_at: int) -> int:
        index = self._next_text(headline_at + 1)
        expected = "expected an author line after the headline"
        if index is None:
            raise SeedFormatError(
                f"{expected}, found the end of the file",
                line=self.lines[headline_at].number,
            )
        line = self.lines[index]
        if _DATE_LINE.fullmatch(line.text):
            raise SeedFormatError(
                f"{expected}, found the date line {_quote(line.text)}",
                line=line.number,
            )
        if len(line.text) > _MAX_AUTHOR_LINE or not _split_authors(line.text):
            raise SeedFormatError(
                f"{expected}, found {_quote(line.text)}", line=line.number
            )
        return index

    def _date_line(self, authors_at: int) -> int:
        index = self._next_text(authors_at + 1)
        expected = f"expected a date line like {_DATE_EXAMPLE}"
        if index is None:
            raise SeedFormatError(
                f"{expected} after the author line, found the end of the file",
                line=self.lines[authors_at].number,
            )
        line = self.lines[index]
        if not _DATE_LINE.fullmatch(line.text):
            raise SeedFormatError(
                f"{expected}, found {_quote(line.text)}", line=line.number
            )
        return index

    @staticmethod
    def _read_date(line: _Line) -> tuple[str, datetime]:
        match = _DATE_LINE.fullmatch(line.text)
        assert match is not None  # _date_line checked it
        stamp = (
            f"{match['hour']}:{match['minute']}, "
            f"{match['day']}-{match['month']}-{match['year']}"
        )
        month = _MONTHS.get(match["month"].casefold())
        if month is None:
            raise SeedFormatError(
                f'unknown month "{match["month"]}" in the date {stamp}; '
                "use Jan, Feb, ... Dec",
                line=line.number,
            )
        try:
            updated_at = datetime(
                int(match["year"]),
                month,
                int(match["day"]),
                int(match["hour"]),
                int(match["minute"]),
            )
        except ValueError as err:
            raise SeedFormatError(
                f"invalid date {stamp}: {err}", line=line.number
            ) from None
        return match["place"].strip(), updated_at

    # -- body --------------------------------------------------------------------

    def _body(
        self, date_at: int, headline: str
    ) -> tuple[Figure | None, tuple[Block, ...], tuple[str, ...]]:
        date_number = self.lines[date_at].number
        body = [line for line in self.lines[date_at + 1 :] if line.kind != _BLANK]
        count = len(body)

        def touches_next(i: int) -> bool:
            # Only copies of a caption sit on touching (non-blank) lines.
            return (
                i + 1 < count
                and body[i].kind == body[i + 1].kind == _TEXT
                and body[i + 1].number == body[i].number + 1
            )

        def standalone(i: int) -> bool:
            return not touches_next(i) and not (i > 0 and touches_next(i - 1))

        # The headline repeated on its own line ends the article: everything from
        # its last such repetition on is trailer.
        repeats = [
            i
            for i, line in enumerate(body)
            if line.kind == _TEXT
            and _casefold_is(line.text, headline)
            and standalone(i)
        ]
        trailer_at = repeats[-1] if repeats else None

        hero: Figure | None = None
        blocks: list[Block] = []
        related: list[str] = []
        paragraphs = 0
        heading_hint = False  # the previous line was NBSP-only
        in_related = False  # inside a READ MORE list

        def add_figure(figure: Figure) -> None:
            nonlocal hero
            if hero is None and paragraphs == 0:
                hero = figure
            else:
                blocks.append(figure)

        i = 0
        while i < count:
            line = body[i]
            text = line.text
            if line.kind == _MARKER:
                heading_hint, in_related = True, False
                i += 1
                continue
            if _is_sidebar(text):
                break  # the sidebar heading, and the sidebar after it
            if _is_promo(text):
                i += 1
                continue
            if _is_read_more(text):
                in_related = True
                i += 1
                continue
            if touches_next(i):
                following = body[i + 1].text
                figure = _figure_from_pair(text, following)
                if figure is not None:
                    add_figure(figure)
                    # Skip the usual third copy (and any further one).
                    i += 2
                    while (
                        i < count
                        and body[i].kind == _TEXT
                        and _is_copy(body[i].text, figure, (text, following))
                    ):
                        i += 1
                    heading_hint = in_related = False
                    continue
            if i == 0 and line.number == date_number + 1 and standalone(0):
                # A single copy right under the date line: a hero if it has a credit.
                caption, credit = _split_credit(text)
                if credit:
                    add_figure(Figure(caption, credit))
                    i += 1
                    continue
            if _casefold_is(text, headline) and standalone(i):
                if i == trailer_at and paragraphs:
                    break
                i += 1  # a stray repetition of the headline is not body text
                continue
            if in_related and not _is_paragraph(text):
                related.append(text)
            elif _is_paragraph(text, heading_hint):
                blocks.append(Paragraph(text))
                paragraphs += 1
                in_related = False
            else:
                blocks.append(Heading(text))
                in_related = False
            heading_hint = False
            i += 1

        if not paragraphs:
            raise SeedFormatError(
                "no body paragraph after the date line; an article needs at least one",
                line=date_number,
            )
        return hero, tuple(blocks), tuple(related)


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


def _figure_copies(figure: Figure) -> tuple[str, str]:
    """The two touching copies: the caption alone, then caption/credit."""
    if not figure.credit:
        return figure.caption, figure.caption
    return figure.caption, f"{figure.caption}/{figure.credit}"


def dump(article: ParsedArticle) -> str:
    """Write the article in the scraped format, cookie banner and trailer included.

    ``parse_text(dump(article)) == article`` for every article the parser can
    produce. The related headlines go after the first paragraph, as on the site.
    """
    units = [BANNER_HEADING, BANNER_BODY, BANNER_BUTTON, article.headline]
    units.append(_authors_text(article.authors))
    date_line = _date_text(article.dateline, article.updated_at)
    if article.hero is None:
        units.append(date_line)
    else:
        # The hero touches the date line; its third copy follows a blank line.
        first, second = _figure_copies(article.hero)
        units += [f"{date_line}\n{first}\n{second}", second]

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
    units += [article.headline, PROMO, SIDEBAR]
    return "\n\n".join(units)
