"""The site's layouts (FORMAT.md section 4) and its furniture, on our own fixtures.

Every fixture under tests/fixtures/pages/ is written for these tests (invented
places, people and text), one per layout. Plain strings: no database.
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefings.importing.seedformat import (
    FURNITURE,
    Figure,
    Heading,
    Paragraph,
    ParsedArticle,
    SeedFormatError,
    dump,
    parse_bytes,
    parse_text,
)

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
BANNER = (
    "Our Privacy Statement & Cookie Policy\n\nBy continuing to browse our site you "
    "agree to our use of cookies, revised Privacy Policy and Terms of Use. You can "
    "change your cookie settings through your browser.\n\nI agree\n\n"
)
GMT8 = timezone(timedelta(hours=8))
NO_DATE = "no date on the page: the story has no publication time"
NO_BYLINE = "no byline on the page: the story has no author"
PROVISIONAL = "no headline stands apart on the page"

HARBOUR_HERO = Figure(
    "Engineers lower the first barrier section at Port Ellery.",
    "Dana Whitlow/Coastline Images",
)
SNOW = Figure("Snow sculptors carve figures in the park at Hollin.", "Pia Marsh/CGTN")

# layout: (fixture, the story it holds, what its warnings start with)
LAYOUTS = {
    "A article": (
        "A_article.txt",
        ParsedArticle(
            headline="Harbour towns test a floating tide barrier",
            authors=("Mira Castell",),
            dateline="",
            updated_at=datetime(2024, 3, 12, 8, 40),
            hero=HARBOUR_HERO,
            blocks=(
                Paragraph(
                    "Three harbour towns on the Norvale coast began testing a "
                    "floating barrier on Tuesday."
                ),
                Paragraph(
                    "The barrier rises with the tide and folds flat when the water "
                    "is calm."
                ),
                Heading("What the trial will show"),
                Paragraph("Officials said the test would last six weeks."),
                Figure(
                    "Tide gauges along the quay record each surge",
                    "Norvale Port Authority",
                ),
                Paragraph("Results are expected before the summer storms."),
            ),
            related=(
                "Fishing fleets return early after calm winter",
                "Lighthouse keepers mark a century of service",
            ),
        ),
        [],
    ),
    "A' article, no date": (
        "Aprime_nodate.txt",
        ParsedArticle(
            headline="Orchard growers try frost fans in the valley",
            authors=("Tomas Berrow",),
            affiliation="CGTN",
            dateline="",
            updated_at=None,
            hero=None,
            blocks=(
                Paragraph(
                    "Growers in the Lessing valley switched on tall frost fans for "
                    "the first time this spring."
                ),
                Paragraph(
                    "The fans push warmer air down onto the blossom before dawn."
                ),
                # Known limit: a question subheading without its NBSP-only line
                # reads as a one-line paragraph.
                Paragraph("Will the fans pay for themselves?"),
                Paragraph("Growers say one saved harvest would cover the cost."),
            ),
            related=(),
            sections=("Europe", "Farming"),
        ),
        [NO_DATE],
    ),
    "V video": (
        "V_video.txt",
        ParsedArticle(
            headline="River ferry crews rehearse a night rescue",
            authors=(),
            dateline="",
            updated_at=None,
            hero=None,
            blocks=(
                Paragraph(
                    "Crews on the Ardel river practised lifting passengers from the "
                    "water after dark."
                ),
            ),
            related=(),
            kind="video",
            duration="02:47",
        ),
        [NO_BYLINE, NO_DATE],
    ),
    "L live": (
        "L_live.txt",
        ParsedArticle(
            headline="Live: Lantern boats drift down the Ardel at dusk",
            authors=("CGTN",),
            organisation=True,
            dateline="",
            updated_at=None,
            hero=None,
            blocks=(
                Paragraph(
                    "Watch the lantern boats float past the old bridge as the "
                    "festival closes."
                ),
                Paragraph(
                    "Boat builders spent a month folding paper shades for the parade."
                ),
            ),
            related=(),
            kind="live",
        ),
        [NO_DATE],
    ),
    "G gallery": (
        "G_gallery.txt",
        ParsedArticle(
            headline="Snow sculptors shape a winter garden",
            authors=("CGTN",),
            organisation=True,
            dateline="",
            updated_at=None,
            hero=SNOW,
            blocks=(
                SNOW,
                SNOW,
                Paragraph(
                    "The garden opens to visitors next week and stays until the thaw."
                ),
            ),
            related=(),
            kind="gallery",
        ),
        [NO_DATE],
    ),
    "P player label first": (
        "P_player_first.txt",
        ParsedArticle(
            headline="Beekeepers move hives to the high meadows",
            authors=(),
            dateline="",
            updated_at=None,
            hero=None,
            blocks=(
                Paragraph(
                    "Beekeepers in the Corran hills carried their hives uphill "
                    "before the clover bloomed."
                ),
            ),
            related=(),
            kind="video",
            duration="1:02:03",
        ),
        [NO_BYLINE, NO_DATE],
    ),
    "S share page": (
        "S_share.txt",
        ParsedArticle(
            headline="Puppet theatre returns to the old mill",
            authors=("Ilse Brandt",),
            dateline="Kellam",
            updated_at=datetime(2024, 2, 2, 22, 5, tzinfo=GMT8),
            published_at=datetime(2024, 2, 2, 21, 17, tzinfo=GMT8),
            hero=None,
            blocks=(
                Paragraph(
                    "A puppet company reopened its stage in a converted mill in "
                    "Kellam this weekend."
                ),
                Figure("Carved puppets hang along the mill wall.", "Rowan Pike"),
                Paragraph("The company plans two shows a week through the spring."),
                Figure(
                    "A painter retouches a puppet's face before the show.", "Rowan Pike"
                ),
                Paragraph("Tickets sold out within a day, the company said."),
            ),
            related=(),
            sections=("Culture",),
        ),
        [],
    ),
    "O older page": (
        "O_older.txt",
        ParsedArticle(
            headline="Rail link to the northern ports opens",
            authors=("CGTN",),
            organisation=True,
            dateline="",
            updated_at=datetime(2019, 2, 28, 17, 12),
            hero=None,
            blocks=(
                Paragraph(
                    "The first freight train crossed the new Feldspar viaduct on "
                    "Thursday."
                ),
                Figure(
                    "Workers test the viaduct's signals.", "Orla Finch/Feldspar Rail"
                ),
                Paragraph(
                    "The line shortens the trip to the northern ports by four hours."
                ),
            ),
            related=(),
            source="Xinhua News Agency",
            sections=("china",),
        ),
        [],
    ),
    "N newer page": (
        "N_newer.txt",
        ParsedArticle(
            headline="Quiet streets are the cheapest public health measure a city "
            "can buy, and Brennick has finally…",
            headline_provisional=True,
            authors=(),
            dateline="",
            updated_at=None,
            hero=None,
            blocks=(
                Paragraph(
                    "Quiet streets are the cheapest public health measure a city "
                    "can buy, and Brennick has finally noticed."
                ),
                Figure("", "CFP"),
                Paragraph(
                    "The council closed four streets to through traffic last year "
                    "and counted fewer injuries."
                ),
                Paragraph(
                    "Other towns should copy the plan before their budgets shrink "
                    "further."
                ),
            ),
            related=(),
            editors_note="Wen Aldous is a commentator on city planning. The "
            "article reflects the author's opinions.",
        ),
        [PROVISIONAL, NO_BYLINE, NO_DATE],
    ),
}


def page_text(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def without_banner(text: str) -> str:
    return text.removeprefix(BANNER)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_parses_exactly(layout):
    name, expected, warnings = LAYOUTS[layout]
    article = parse_bytes((PAGES / name).read_bytes())
    for got, wanted in zip(article.blocks, expected.blocks, strict=True):
        assert got == wanted
    assert article == expected
    assert len(article.warnings) == len(warnings), article.warnings
    for warning, start in zip(article.warnings, warnings, strict=True):
        assert warning.startswith(start)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_with_and_without_the_banner(layout):
    name, expected, _ = LAYOUTS[layout]
    text = without_banner(page_text(name))
    assert parse_text(text) == expected
    assert parse_text(BANNER + text) == expected


def test_a_story_needing_review_says_why():
    article = parse_text(page_text("N_newer.txt"))
    assert article.needs_review
    assert not parse_text(page_text("A_article.txt")).needs_review


# --------------------------------------------------------------------------------
# Furniture: what it is, and that it never reaches a story


# One line per furniture kind, and the story fields (besides warnings) it may set.
FURNITURE_LINES = {
    "banner heading": ("Our Privacy Statement & Cookie Policy", set()),
    "banner sentence": (BANNER.split("\n\n")[1], set()),
    "banner button": ("I agree", set()),
    "newsletter promo": ("Subscribe to Storyboard: A weekly letter of our own", set()),
    "video label": ("Video", set()),
    "player label": ("Download", {"kind"}),
    "player text": ("Translating...", {"kind"}),
    "translation notice": (
        "Content is automatically generated by Sample Translate API. Nobody here "
        "checks it.",
        {"kind"},
    ),
    "player error": ("Error loading player: No playable sources found", {"kind"}),
    "share buttons": ("Copied", set()),
    "language chooser": ("CHOOSE YOUR LANGUAGE", set()),
    "language names": ("English Français Español", set()),
    "licence line": ("京ICP备12345678号-1", set()),
    "hotline": ("Hotline: 020-5550199", set()),
    "copyright": ("© 2025 Example Broadcasting", set()),
    "US-edition promo": ("Get the weekly digest in your inbox. Subscribe here!", set()),
    "air date": ("Aired: 04/18/2024", set()),
    "link to more": ("For more: https://example.org/more", set()),
    "duration": ("04:12", {"duration", "kind"}),
    "tag line": ("Oceans;Weather", {"sections"}),
    "JSON tag line": ('["science"]', {"sections"}),
    "source": ("Source(s): Zedland Wire", {"source"}),
    "editor's note": (
        "Editor's note: The writer keeps bees in Corran.",
        {"editors_note"},
    ),
    # Not in the table, but furniture all the same: dropped with a warning.
    "JSON object": ('{"type":2,"id":"k9"}', set()),
    "lone date": ("2024-05-06 10:11", set()),
    "lone count": ("12", set()),
}
STORY_FIELDS = [
    "headline",
    "authors",
    "dateline",
    "updated_at",
    "hero",
    "blocks",
    "related",
    "published_at",
    "affiliation",
    "organisation",
    "kind",
    "duration",
    "editors_note",
    "source",
    "sections",
    "headline_provisional",
]


def test_every_table_role_has_a_sample_line():
    roles = {entry.role for entry in FURNITURE} - {"end", "related"}
    sampled = set()
    for line, _ in FURNITURE_LINES.values():
        for entry in FURNITURE:
            if entry.pattern.fullmatch(line):
                sampled.add(entry.role)
                break
    assert roles <= sampled


def same_story(got: ParsedArticle, expected: ParsedArticle, may_change: set[str]):
    for name in STORY_FIELDS:
        if name not in may_change:
            assert getattr(got, name) == getattr(expected, name), name


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.sampled_from(sorted(LAYOUTS)),
    st.sampled_from(sorted(FURNITURE_LINES)),
    st.integers(min_value=0),
)
def test_furniture_at_any_line_boundary_changes_no_story_field(layout, kind, where):
    name, expected, _ = LAYOUTS[layout]
    lines = page_text(name).split("\n")
    line, may_change = FURNITURE_LINES[kind]
    at = where % (len(lines) + 1)
    article = parse_text("\n".join([*lines[:at], line, *lines[at:]]))
    same_story(article, expected, may_change)
    for block in article.blocks:
        assert line not in getattr(block, "text", "")


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(LAYOUTS)), st.integers(min_value=0))
def test_a_page_cut_at_any_line_still_parses(layout, where):
    name, expected, _ = LAYOUTS[layout]
    lines = page_text(name).split("\n")
    cut = "\n".join(lines[: where % (len(lines) + 1)])
    first = next(b.text for b in expected.blocks if isinstance(b, Paragraph))
    try:
        article = parse_text(cut)
    except SeedFormatError as err:
        # Refused only when no article text is left.
        assert first not in cut, str(err)
        assert "no article text" in str(err) or "empty" in str(err)
    else:
        assert article.headline and article.blocks


@pytest.mark.parametrize("widget", ["MORE FROM CGTN", "TOP NEWS", "Search Trends"])
def test_sidebar_widgets_end_the_article(widget):
    name, expected, _ = LAYOUTS["A article"]
    text = page_text(name).replace(
        "Harbour towns test a floating tide barrier\n\nSubscribe",
        f"{widget}\n\nA headline from the sidebar\n\n12:45\n\nVideo\n\nSubscribe",
    )
    assert parse_text(text) == expected


@pytest.mark.parametrize(
    "junk", ['{"type":2,"items":[1,2]}', "07:15", "2024.05.06", "3"]
)
def test_furniture_like_lines_are_dropped_with_a_warning(junk):
    name, expected, _ = LAYOUTS["A article"]
    text = page_text(name).replace(
        "What the trial will show", f"What the trial will show\n\n{junk}"
    )
    article = parse_text(text)
    assert article == expected
    assert any("looks like site furniture" in w for w in article.warnings)
    assert Heading(junk) not in article.blocks


def test_furniture_inside_the_text_is_named_in_the_warnings():
    text = page_text("A_article.txt").replace(
        "What the trial will show",
        "Aired: 01/02/2024\n\nWhat the trial will show",
    )
    article = parse_text(text)
    assert "dropped site furniture: air date (line 29)" in article.warnings


# --------------------------------------------------------------------------------
# Bylines, dates, figures

HEAD = "Ferry timetable changes for the summer"
BODY = "The first summer ferry leaves at six in the morning."


def header_page(*header: str, body: str = BODY) -> str:
    return "\n\n".join([HEAD, *header, body, "Search Trends"])


@pytest.mark.parametrize(
    ("line", "authors", "affiliation", "dateline", "organisation"),
    [
        ("Ada Quill", ("Ada Quill",), "", "", False),
        ("Ada Quill and Ben Orr", ("Ada Quill", "Ben Orr"), "", "", False),
        ("Ada Quill, CGTN", ("Ada Quill",), "CGTN", "", False),
        ("Ada Quill and Ben Orr, CGTN", ("Ada Quill", "Ben Orr"), "CGTN", "", False),
        ("Ada Quill, in Berlin", ("Ada Quill",), "", "Berlin", False),
        ("CGTN", ("CGTN",), "", "", True),
        (
            "Harbour Talk with Ada Quill",
            ("Harbour Talk with Ada Quill",),
            "",
            "",
            True,
        ),
    ],
)
def test_bylines(line, authors, affiliation, dateline, organisation):
    article = parse_text(header_page(line))
    assert article.authors == authors
    assert article.affiliation == affiliation
    assert article.dateline == dateline
    assert article.organisation is organisation
    assert article.blocks == (Paragraph(BODY),)


@pytest.mark.parametrize(
    ("line", "dateline", "when"),
    [
        ("Kellam , Updated 17:51, 04-Feb-2024", "Kellam", datetime(2024, 2, 4, 17, 51)),
        (", Updated 17:51, 04-Feb-2024", "", datetime(2024, 2, 4, 17, 51)),
        ("Updated 17:12, 28-Feb-2019", "", datetime(2019, 2, 28, 17, 12)),
        (
            "2024.02.02 21:17 GMT+8",
            "",
            datetime(2024, 2, 2, 21, 17, tzinfo=GMT8),
        ),
        (
            "Updated 2024.02.02 21:17 GMT+8",
            "",
            datetime(2024, 2, 2, 21, 17, tzinfo=GMT8),
        ),
    ],
)
def test_the_written_date_forms(line, dateline, when):
    article = parse_text(header_page("Ada Quill", line))
    assert article.updated_at == when
    assert article.dateline == dateline
    assert article.blocks == (Paragraph(BODY),)
    assert not article.needs_review


def test_no_date_means_no_time():
    article = parse_text(header_page("Ada Quill"))
    assert article.updated_at is None and article.published_at is None
    assert article.needs_review


@pytest.mark.parametrize(
    ("figure_lines", "figure"),
    [
        # Copies that touch, the third after a blank line.
        (
            "Gulls over the pier.\nGulls over the pier./Ada Quill/Coastline\n\n"
            "Gulls over the pier./Ada Quill/Coastline",
            Figure("Gulls over the pier.", "Ada Quill/Coastline"),
        ),
        # Copies separated by blank lines (older pages).
        (
            "Gulls over the pier. /Coastline\n\nGulls over the pier. /Coastline",
            Figure("Gulls over the pier.", "Coastline"),
        ),
        # A caption shown once with its credit (share pages).
        (
            "Gulls over the pier. /Ada Quill",
            Figure("Gulls over the pier.", "Ada Quill"),
        ),
        # A bare agency name is a credit.
        ("CFP", Figure("", "CFP")),
        ("CFP\nCFP", Figure("", "CFP")),
    ],
)
def test_figures(figure_lines, figure):
    text = header_page("Ada Quill", body=f"{BODY}\n\n{figure_lines}\n\n{BODY}")
    assert parse_text(text).blocks == (Paragraph(BODY), figure, Paragraph(BODY))


def test_a_gallery_of_one_caption_is_several_photos():
    pair = "Gulls over the pier./Coastline\nGulls over the pier./Coastline"
    text = header_page("CGTN", body=f"{BODY}\n\n{pair}\n\n{pair}\n\n{pair}")
    article = parse_text(text)
    photo = Figure("Gulls over the pier.", "Coastline")
    assert article.blocks == (Paragraph(BODY), photo, photo, photo)
    assert article.kind == "gallery"


def test_a_caption_without_credit_is_a_warning():
    caption = "Gulls over the pier"
    text = header_page("Ada Quill", body=f"{BODY}\n\n{caption}\n{caption}")
    article = parse_text(text)
    assert article.blocks == (Paragraph(BODY), Figure(caption, ""))
    assert 'caption without credit: "Gulls over the pier"' in article.warnings


def test_a_page_cut_mid_sentence_keeps_its_last_line_as_text():
    text = "\n\n".join([HEAD, "Ada Quill", BODY, "The second ferry was due at"])
    article = parse_text(text)
    assert article.blocks == (Paragraph(BODY), Paragraph("The second ferry was due at"))
    assert any(
        w.startswith("the page is cut short mid-sentence") for w in article.warnings
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CHOOSE YOUR LANGUAGE\n\nEnglish\n\nSearch Trends", "only site furniture"),
        ("Download\n\n02:47\n\nTranslating...", "only site furniture"),
    ],
)
def test_a_page_of_furniture_only_is_refused(text, message):
    with pytest.raises(
        SeedFormatError, match=f"no article text: the page holds {message}"
    ):
        parse_text(text)


def test_c1_controls_and_bidi_overrides_never_reach_a_story():
    text = header_page("Ada\u202e Quill", body="The ferry\u009b leaves\u2066 at six.")
    article = parse_text(text)
    assert article.authors == ("Ada Quill",)
    assert article.blocks == (Paragraph("The ferry leaves at six."),)


def test_dump_writes_the_new_fields_back():
    for _, expected, _ in LAYOUTS.values():
        if expected.headline_provisional or expected.kind == "gallery":
            continue
        assert parse_text(dump(expected)) == expected
    article = replace(LAYOUTS["S share page"][1], kind="video", duration="28:53")
    assert parse_text(dump(article)) == article
