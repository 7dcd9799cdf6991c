"""Story bodies: a small Markdown subset in, safe HTML out.

Editors write the body in a textarea: paragraphs separated by blank lines, `## `
subheadings, `> ` quotations, lists, *emphasis* and [links](https://...). Raw HTML
is switched off (typed HTML shows as text), as are images, code blocks and rules.
A line `[figure N]` places the body figure whose position is N.

This module is the only place in Briefings that marks HTML as safe.
"""

import re
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

_markdown = MarkdownIt("commonmark", {"html": False, "typographer": False}).disable(
    ["code", "fence", "hr", "lheading", "html_block", "html_inline", "image"]
)

FIGURE_MARKER = re.compile(r"^[ \t]*\[figure[ \t]+(\d{1,4})\][ \t]*$", re.I | re.M)


def _demote_headings(tokens):
    # The story's headline is the page's only <h1>: `#` and `##` become <h2>,
    # deeper levels <h3>.
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = "h2" if token.tag in ("h1", "h2") else "h3"
    return tokens


def render_markdown(text: str) -> SafeString:
    tokens = _demote_headings(_markdown.parse(text))
    return mark_safe(_markdown.renderer.render(tokens, _markdown.options, {}))  # noqa: S308


@dataclass(frozen=True)
class BodyPart:
    """A run of rendered text, or a figure to render with the figure template."""

    html: SafeString | None = None
    figure: object | None = None


def render_body(text: str, body_figures) -> list[BodyPart]:
    """Split the body at `[figure N]` lines and render the text between them.

    Body figures that no line places come after the text, so nothing an editor
    attached disappears; markers naming no figure render nothing.
    """
    by_position = {}
    for figure in body_figures:
        by_position.setdefault(figure.position, figure)
    placed = set()
    parts = []
    last = 0
    for match in FIGURE_MARKER.finditer(text):
        chunk = text[last : match.start()]
        if chunk.strip():
            parts.append(BodyPart(html=render_markdown(chunk)))
        figure = by_position.get(int(match.group(1)))
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
