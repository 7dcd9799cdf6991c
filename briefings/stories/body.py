"""Story bodies: a small Markdown subset in, safe HTML out.

Editors write the body in a textarea: paragraphs separated by blank lines, `## `
subheadings, `> ` quotations, lists, *emphasis* and [links](https://...). Raw HTML
is switched off (typed HTML shows as text), as are images, code blocks and rules.
A line `[figure N]` places the body figure whose position is N, and a line that
is only a YouTube, Vimeo or X link becomes an embed (loaded only with consent).

This module is the only place in Briefings that marks HTML as safe.
"""

import functools
import re
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).disable(
    ["code", "fence", "hr", "lheading", "html_block", "html_inline", "image"]
)

FIGURE_MARKER = r"\[figure[ \t]+(?P<figure>\d{1,4})\]"
# A line holding only a link to a YouTube or Vimeo video or an X post.
EMBED_URL = (
    r"(?P<url>https?://(?:www\.|m\.)?"
    r"(?:youtube\.com/(?:watch\?v=|shorts/)(?P<youtube>[\w-]{6,20})[^\s]*"
    r"|youtu\.be/(?P<youtu_be>[\w-]{6,20})[^\s]*"
    r"|vimeo\.com/(?P<vimeo>\d{4,12})[^\s]*"
    r"|(?:twitter|x)\.com/\w{1,15}/status/(?P<post>\d{5,25})[^\s]*))"
)
SPECIAL_LINE = re.compile(
    rf"^[ \t]*(?:{FIGURE_MARKER}|{EMBED_URL})[ \t]*$", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class Embed:
    """A video or post from another site, shown only with the reader's consent."""

    provider: str
    kind: str
    url: str
    src: str

    @property
    def title(self):
        return f"{self.kind.capitalize()} from {self.provider}"


def embed_for(match) -> Embed:
    url = match.group("url")
    if video := match.group("youtube") or match.group("youtu_be"):
        src = f"https://www.youtube-nocookie.com/embed/{video}"
        return Embed("YouTube", "video", url, src)
    if video := match.group("vimeo"):
        return Embed("Vimeo", "video", url, f"https://player.vimeo.com/video/{video}")
    post = match.group("post")
    src = f"https://platform.twitter.com/embed/Tweet.html?id={post}"
    return Embed("X", "post", url, src)


def _demote_headings(tokens):
    # The story's headline is the page's only <h1>: `#` and `##` become <h2>,
    # deeper levels <h3>.
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h2" if token.tag in ("h1", "h2") else "h3"
    return tokens


@functools.lru_cache(maxsize=1024)
def render_markdown(text: str) -> SafeString:
    """The HTML for a run of body text.

    A pure function of the text, so each process remembers its last thousand
    answers: a story read again renders its paragraphs without parsing them
    (a tenth of an uncached story page), and an edited paragraph is new text,
    so nothing remembered can be out of date.
    """
    tokens = _demote_headings(_markdown.parse(text))
    return mark_safe(_markdown.renderer.render(tokens, _markdown.options, {}))  # noqa: S308


@dataclass(frozen=True)
class BodyPart:
    """A run of rendered text, a figure, or an embed, in reading order."""

    html: SafeString | None = None
    figure: object | None = None
    embed: Embed | None = None


def render_body(text: str, body_figures) -> list[BodyPart]:
    """Split the body at `[figure N]` and embed lines; render the text between.

    Body figures that no line places come after the text, so nothing an editor
    attached disappears; markers naming no figure render nothing.
    """
    # Browsers send a textarea's line breaks as CRLF; the patterns expect LF.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    by_position = {}
    for figure in body_figures:
        by_position.setdefault(figure.position, figure)
    placed = set()
    parts = []
    last = 0
    for match in SPECIAL_LINE.finditer(text):
        chunk = text[last : match.start()]
        if chunk.strip():
            parts.append(BodyPart(html=render_markdown(chunk)))
        if match.group("url"):
            parts.append(BodyPart(embed=embed_for(match)))
        else:
            figure = by_position.get(int(match.group("figure")))
            if figure is not None and figure.pk not in placed:
                placed.add(figure.pk)
                parts.append(BodyPart(figure=figure))
        last = match.end()
    tail = text[last:]
    if tail.strip():
        parts.append(BodyPart(html=render_markdown(tail)))
    parts.extend(BodyPart(figure=f) for f in body_figures if f.pk not in placed)
    return parts


# --- Writing plain text as Markdown (used by loadseed) -----------------------

_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<])")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINE_START_SPECIAL = re.compile(r"^(#|>|[-+*]|\d{1,9}(?=[.)]))")


def escape_markdown(text: str) -> str:
    """Return Markdown that renders as exactly `text`, one paragraph's worth.

    Only what this Markdown subset would read as syntax is escaped, so imported
    stories stay pleasant to edit ("U.S." stays "U.S.").
    """
    text = " ".join(text.split())
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = _ENTITY_LIKE.sub(r"\\&", text)
    match = _LINE_START_SPECIAL.match(text)
    if match:
        if match.group(1)[0].isdigit():
            end = match.end()
            text = text[:end] + "\\" + text[end:]
        else:
            text = "\\" + text
    return text


def paragraph_markdown(text: str) -> str:
    return escape_markdown(text)


def heading_markdown(text: str) -> str:
    escaped = escape_markdown(text)
    if escaped.endswith("#") and not escaped.endswith("\\#"):
        # A trailing run of '#' would be read as the heading's closing sequence.
        escaped = escaped[:-1] + "\\#"
    return "## " + escaped


def figure_marker(position: int) -> str:
    return f"[figure {position}]"
