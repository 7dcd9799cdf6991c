"""Story bodies: the Markdown subset, figure placement and escaping."""

import html

from hypothesis import given
from hypothesis import strategies as st

from briefings.stories.body import (
    escape_markdown,
    heading_markdown,
    render_body,
    render_markdown,
)


class FakeFigure:
    def __init__(self, pk, position):
        self.pk = pk
        self.position = position


def test_subset_renders_paragraphs_headings_quotes_and_links():
    out = render_markdown(
        "First.\n\n## Sub\n\n> Said.\n\n*it* **b** [x](https://example.com)"
    )
    assert "<p>First.</p>" in out
    assert "<h2>Sub</h2>" in out
    assert "<blockquote>\n<p>Said.</p>\n</blockquote>" in out
    assert '<a href="https://example.com">x</a>' in out
    assert "<em>it</em> <strong>b</strong>" in out


def test_headings_never_compete_with_the_headline():
    out = render_markdown("# Top\n\n#### Deep")
    assert "<h1>" not in out
    assert "<h2>Top</h2>" in out and "<h3>Deep</h3>" in out


def test_raw_html_and_script_urls_stay_text():
    out = render_markdown(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[x](javascript:alert(1)) ![i](https://evil.example/i.png)"
    )
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert 'href="javascript' not in out


def test_figure_markers_place_figures_and_unplaced_ones_follow():
    one, two, three = FakeFigure(1, 1), FakeFigure(2, 2), FakeFigure(3, 3)
    parts = render_body(
        "Intro.\n\n[figure 2]\n\nMiddle.\n\n[Figure 9]\n\nEnd.", [one, two, three]
    )
    kinds = [p.figure.pk if p.figure else str(p.html).strip() for p in parts]
    assert kinds == ["<p>Intro.</p>", 2, "<p>Middle.</p>", "<p>End.</p>", 1, 3]


def test_markers_work_with_the_crlf_line_breaks_browsers_send():
    one = FakeFigure(1, 1)
    body = "Intro.\r\n\r\n[figure 1]\r\n\r\nhttps://youtu.be/dQw4w9WgXcQ\r\n\r\nEnd."
    parts = render_body(body, [one])
    assert [p.figure.pk if p.figure else p.embed or str(p.html).strip() for p in parts][
        :2
    ] == ["<p>Intro.</p>", 1]
    assert parts[2].embed.src == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert str(parts[3].html).strip() == "<p>End.</p>"
    assert len(parts) == 4


def test_heading_markdown_round_trips():
    assert render_markdown(heading_markdown('"This cannot go on"')).strip() == (
        "<h2>&quot;This cannot go on&quot;</h2>"
    )


plain_text = (
    st.text(
        alphabet=st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]),
        min_size=1,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(bool)
)


@given(plain_text)
def test_escaped_text_renders_as_exactly_that_text(text):
    """Whatever a scraped paragraph holds, it reaches the page as the same text."""
    out = str(render_markdown(escape_markdown(text))).strip()
    assert out.startswith("<p>") and out.endswith("</p>")
    assert html.unescape(out[3:-4]) == text


@given(plain_text)
def test_escaped_heading_renders_as_exactly_that_text(text):
    out = str(render_markdown(heading_markdown(text))).strip()
    assert out.startswith("<h2>") and out.endswith("</h2>")
    assert html.unescape(out[4:-5]) == text.strip()
