"""manage.py loadseed: seeds become stories, safely and repeatably."""

import json
import shutil
from datetime import datetime
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from pytest_django.asserts import assertContains, assertNotContains

from briefings.importing import importsql, seedformat
from briefings.importing.seedformat import Figure as SeedFigure
from briefings.importing.seedformat import Heading, Paragraph, ParsedArticle
from briefings.management.commands.loadseed import ANALYZE_MIN_STORIES
from briefings.models import (
    Article,
    ArticleQuerySet,
    Author,
    AuthorUsage,
    Figure,
    FigurePlace,
    RelatedLink,
    TagUsage,
)

pytestmark = pytest.mark.django_db

SEED = Path(settings.BASE_DIR) / "seeds" / "000_bc1b607ab5b064c2.txt"
HEADLINE = "Armenia looks to build security ties with the U.S. and its allies"


def run(*args):
    """Run loadseed; return (stdout, stderr, error or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("loadseed", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def write_seed(folder, name, headline, *, related=(), author="Ann Reporter", text=""):
    article = ParsedArticle(
        headline=headline,
        authors=(author,),
        dateline="Yerevan",
        updated_at=datetime(2024, 3, 1, 9, 30),
        hero=SeedFigure("Delegates arrive for talks.", "Jane Photographer/Agency"),
        blocks=(
            Paragraph(text or f"The first paragraph of {headline.lower()} is here."),
            Heading("What comes next"),
            Paragraph("Talks continue into the night, officials said."),
        ),
        related=tuple(related),
    )
    path = Path(folder) / name
    path.write_text(seedformat.dump(article), encoding="utf-8")
    return path


@pytest.fixture
def seed_dir(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    return folder


def test_the_seed_becomes_a_complete_story(client, seed_dir):
    out, err, error = run(seed_dir)
    assert error is None, err
    assert f"created   {seed_dir}/{SEED.name}  {HEADLINE}" in out
    assert "1 created, 0 updated, 0 unchanged, 0 skipped, 0 failed." in out

    story = Article.objects.get()
    assert story.headline == HEADLINE
    assert story.is_public
    assert story.published_at.isoformat() == "2024-02-04T17:51:00+00:00"
    assert [a.name for a in story.byline_authors] == ["Louise Greenwood"]
    assert story.dateline == ""
    figures = list(story.figures.all())
    assert [(f.place, f.position) for f in figures] == [
        (FigurePlace.BODY, 1),
        (FigurePlace.BODY, 2),
        (FigurePlace.HERO, 1),
    ]
    assert story.hero.credit == (
        "Armenian Prime Minister Press Service/Tigran Mehrabyan/PAN Photo/Reuters"
    )
    assert [link.title for link in story.related_links.all()] == [
        "Gen Z gender poll shock as boys reject feminism",
        "French erdu player reaches out to China",
        "France and China deepen science and space ties",
    ]
    tags = set(story.tags.names())
    assert {"Armenia", "Russia", "CSTO", "ICC"} <= tags

    response = client.get(story.get_absolute_url())
    assertContains(response, f'<h1 class="story__headline">{HEADLINE}</h1>')
    assertContains(response, "<figure", count=3)
    assertContains(response, "Sputnik/Mikhail Klimentyev/Kremlin/Reuters")
    assertContains(response, "<h2>&quot;This cannot go on&quot;</h2>")
    assertContains(response, "<h2>ICC Membership</h2>")
    body = response.content.decode().split('<div class="story__body">')[1]
    body = body.split("</div>")[0]
    assert body.count("<p>") == 12
    for boilerplate in [
        "By continuing to browse",
        "I agree",
        "READ MORE",
        "Subscribe to Storyboard",
        "Search Trends",
        "[figure",
    ]:
        # The page itself may offer a sign-up or trends; the story text may not.
        assert boilerplate not in body
    # None of the related stories exist yet, so readers see no "Read more".
    assertNotContains(response, "Read more")


def test_second_run_changes_nothing(seed_dir):
    run(seed_dir)
    first = Article.objects.get()
    out, _, error = run(seed_dir)
    assert error is None
    assert f"unchanged {seed_dir}/{SEED.name}" in out
    assert "0 created, 0 updated, 1 unchanged" in out
    again = Article.objects.get()
    assert again.edited_at == first.edited_at
    assert Figure.objects.count() == 3 and Author.objects.count() == 1


def test_a_changed_seed_updates_its_story_and_keeps_its_address(seed_dir):
    run(seed_dir)
    slug = Article.objects.get().slug
    path = seed_dir / SEED.name
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("landlocked nation", "mountainous nation"), "utf-8")
    out, _, _ = run(seed_dir)
    assert "updated" in out and "1 updated" in out
    story = Article.objects.get()
    assert "mountainous nation" in story.body
    assert story.slug == slug
    assert story.figures.count() == 3 and story.related_links.count() == 3


def test_editors_work_is_never_overwritten_without_force(seed_dir):
    run(seed_dir)
    story = Article.objects.get()
    story.standfirst = "An editor's standfirst."
    story.save()
    path = seed_dir / SEED.name
    path.write_text(path.read_text("utf-8").replace("landlocked", "small"), "utf-8")

    out, _, error = run(seed_dir)
    assert error is None
    assert "skipped" in out and "edited in the admin since it was imported" in out
    assert "use --force" in out
    assert Article.objects.get().standfirst == "An editor's standfirst."

    out, _, _ = run(seed_dir, "--force")
    assert "1 updated" in out
    assert "small nation" in Article.objects.get().body


def test_an_unchanged_seed_never_touches_an_edited_story(seed_dir):
    run(seed_dir)
    story = Article.objects.get()
    story.status = "withdrawn"
    story.save()
    out, _, _ = run(seed_dir)
    assert "unchanged" in out
    assert Article.objects.get().status == "withdrawn"


@pytest.mark.parametrize("order", ["linking story first", "linked story first"])
def test_related_links_resolve_whichever_story_loads_first(client, tmp_path, order):
    first = write_seed(
        tmp_path, "a.txt", "Talks open in Geneva", related=["Talks close in Geneva"]
    )
    second = write_seed(tmp_path, "b.txt", "Talks close in Geneva")
    paths = [first, second] if order == "linking story first" else [second, first]
    for path in paths:
        run(path)
    story = Article.objects.get(headline="Talks open in Geneva")
    target = Article.objects.get(headline="Talks close in Geneva")
    assertContains(
        client.get(story.get_absolute_url()),
        f'<a href="{target.get_absolute_url()}">Talks close in Geneva</a>',
    )


def test_authors_and_tags_are_reused(tmp_path):
    write_seed(
        tmp_path,
        "a.txt",
        "Armenia and Russia talk",
        text="Officials from Armenia met envoys from Russia.",
    )
    write_seed(
        tmp_path,
        "b.txt",
        "Armenia and Russia talk again",
        text="Officials from Armenia met envoys from Russia.",
    )
    _, _, error = run(tmp_path)
    assert error is None
    assert Author.objects.count() == 1
    assert Article.objects.count() == 2
    from taggit.models import Tag

    assert Tag.objects.filter(name__iexact="Armenia").count() == 1


def test_same_headline_gets_a_distinct_address(tmp_path):
    write_seed(tmp_path, "a.txt", "Ministers meet")
    write_seed(tmp_path, "b.txt", "Ministers meet")
    run(tmp_path)
    assert sorted(Article.objects.values_list("slug", flat=True)) == [
        "ministers-meet",
        "ministers-meet-2",
    ]


def test_status_option_imports_drafts_that_readers_cannot_see(client, seed_dir):
    run(seed_dir, "--status", "draft")
    story = Article.objects.get()
    assert story.status == "draft"
    assert client.get(story.get_absolute_url()).status_code == 404


def test_no_path_means_the_projects_seeds_folder():
    out, _, error = run()
    assert error is None
    assert f"created   seeds/{SEED.name}" in out


def test_dry_run_json_describes_the_seed_and_writes_nothing(seed_dir):
    out, _, error = run(seed_dir, "--dry-run", "--format", "json")
    assert error is None
    assert Article.objects.count() == 0
    [entry] = json.loads(out)
    assert entry["source"] == f"{seed_dir}/{SEED.name}"
    assert entry["headline"] == HEADLINE
    assert (
        entry["slug"]
        == "armenia-looks-to-build-security-ties-with-the-us-and-its-allies"
    )
    assert entry["authors"] == ["Louise Greenwood"]
    assert entry["dateline"] == ""
    assert entry["published_at"] == entry["updated_at"] == "2024-02-04T17:51:00+00:00"
    assert entry["hero"] == {
        "caption": "Armenia's prime minister says his country must reassess its "
        "military ties.",
        "credit": "Armenian Prime Minister Press Service/Tigran Mehrabyan/PAN "
        "Photo/Reuters",
    }
    kinds = [block["type"] for block in entry["body"]]
    assert kinds.count("paragraph") == 12
    assert [b["text"] for b in entry["body"] if b["type"] == "heading"] == [
        '"This cannot go on"',
        "ICC Membership",
    ]
    assert [
        {k: b[k] for k in ("caption", "credit")}
        for b in entry["body"]
        if b["type"] == "figure"
    ] == [
        {
            "caption": "Relations between Yerevan and Moscow have come under strain",
            "credit": "Sputnik/Mikhail Klimentyev/Kremlin/Reuters",
        },
        {
            "caption": "Pashinyan has forged closer ties with EU leaders.",
            "credit": "Philippe Wojazer/Reuters",
        },
    ]
    assert entry["related"] == [
        {"title": "Gen Z gender poll shock as boys reject feminism"},
        {"title": "French erdu player reaches out to China"},
        {"title": "France and China deepen science and space ties"},
    ]
    assert "Armenia" in entry["tags"]


def test_seed_time_zone_setting_reads_seed_times(seed_dir, settings):
    settings.SEED_TIME_ZONE = "Asia/Yerevan"
    out, _, _ = run(seed_dir, "--dry-run", "--format", "json")
    assert json.loads(out)[0]["published_at"] == "2024-02-04T17:51:00+04:00"


# --- Bad input: a clear error naming the file; nothing stored for it ---------


BAD_INPUTS = {
    "empty.txt": (b"", "empty"),
    "blank.txt": (b"  \n\xc2\xa0\n\t\n", "whitespace"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    "banner.txt": (
        b"Our Privacy Statement & Cookie Policy\n\nBy continuing to browse our site "
        b"you agree to our use of cookies.\n\nI agree",
        "cookie banner",
    ),
    "latin1.txt": ("Caf\u00e9 owners protest\n\nAnn\n".encode("latin-1"), "UTF-8"),
    "long.txt": (
        (
            "A" * 5000 + "\n\nAnn Reporter\n\n, Updated 17:51, 04-Feb-2024\n\nText."
        ).encode(),
        "headline",
    ),
    "furniture.txt": (
        b"CHOOSE YOUR LANGUAGE\n\nDownload\n\n02:47\n\nSearch Trends\n",
        "no article text: the page holds only site furniture",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_fails_clearly_and_stores_nothing(tmp_path, name):
    data, reason = BAD_INPUTS[name]
    (tmp_path / name).write_bytes(data)
    good = write_seed(tmp_path, "zz-good.txt", "A good story")
    out, err, error = run(tmp_path)
    assert str(error) == "1 of 2 seed file(s) failed."
    assert f"failed    {tmp_path}/{name}: " in err
    assert reason.lower() in err.lower()
    assert "Traceback" not in err
    assert list(Article.objects.values_list("source_name", flat=True)) == [
        str(good.resolve())
    ]
    assert "1 created, 0 updated, 0 unchanged, 0 skipped, 1 failed." in out


def test_a_huge_file_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_bytes(b"A headline\n\n" + b"x" * (20 * 1024 * 1024))
    _, err, error = run(path)
    assert error is not None
    assert "huge.txt" in err and "bytes" in err
    assert Article.objects.count() == 0


def test_missing_path_and_empty_folder_are_named(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    _, err, error = run(tmp_path / "nope.txt", empty)
    assert str(error) == "2 of 2 seed file(s) failed."
    assert f"{tmp_path}/nope.txt: no such file or folder" in err
    assert f"{empty}: no .txt files in this folder" in err


def test_a_failure_half_way_through_a_file_leaves_nothing_behind(seed_dir, tmp_path):
    write_seed(seed_dir, "zz-other.txt", "Another story")
    calls = []
    if connection.vendor == "postgresql":
        # The story, its children and counts are one statement there: it
        # runs, then the next statement of the file's transaction fails.
        real_create = importsql.create_story

        def fail_after_first_story(*args, **kwargs):
            real_create(*args, **kwargs)
            calls.append(1)
            if len(calls) == 1:
                raise DatabaseError("disk I/O error")

        patch = mock.patch.object(
            importsql, "create_story", side_effect=fail_after_first_story
        )
    else:
        real_insert = importsql.insert

        def fail_first_related_links(objs, *args, **kwargs):
            # The story, its bylines and figures are written; its related
            # links fail.
            if objs and isinstance(objs[0], RelatedLink):
                calls.append(1)
                if len(calls) == 1:
                    raise DatabaseError("disk I/O error")
            return real_insert(objs, *args, **kwargs)

        patch = mock.patch.object(
            importsql, "insert", side_effect=fail_first_related_links
        )
    with patch:
        _, err, error = run(seed_dir)
    assert str(error) == "1 of 2 seed file(s) failed."
    assert "database error: disk I/O error" in err
    assert list(Article.objects.values_list("headline", flat=True)) == ["Another story"]
    assert Figure.objects.count() == 1  # only the other story's hero
    assert Author.objects.filter(name="Louise Greenwood").count() == 0
    # The failed story was counted for nobody.
    assert {
        u.author_id: u.stories for u in AuthorUsage.objects.filter(stories__gt=0)
    } == {Author.objects.get(name="Ann Reporter").pk: 1}
    story = Article.objects.get()
    assert {u.tag_id: u.stories for u in TagUsage.objects.filter(stories__gt=0)} == {
        tag.pk: 1 for tag in story.tags.all()
    }


def test_cached_pages_show_the_imported_stories(client, seed_dir):
    """The cached pages' version moves once the files are written."""
    assertNotContains(client.get("/"), HEADLINE)  # now cached, without it
    run(seed_dir)
    assertContains(client.get("/"), HEADLINE)


def test_a_concurrent_import_of_the_same_file_creates_no_duplicate(seed_dir):
    """The unique source constraint, not luck, stops a racing second insert."""
    run(seed_dir)
    real_from_source = ArticleQuerySet.from_source
    reads = []

    def stale_read(self, name):
        # The first read misses the row, as a process that started before the
        # other one committed would; the insert must then fail and be retried.
        reads.append(name)
        found = real_from_source(self, name)
        return found.none() if len(reads) == 1 else found

    path = seed_dir / SEED.name
    path.write_text(path.read_text("utf-8").replace("landlocked", "small"), "utf-8")
    with mock.patch.object(ArticleQuerySet, "from_source", stale_read):
        out, _, error = run(seed_dir)
    assert error is None
    assert len(reads) == 2  # the stale read, then the retry
    assert "1 updated" in out
    assert Article.objects.count() == 1


def test_many_files_parse_in_worker_processes_and_report_in_order(tmp_path):
    """With many files, worker processes parse ahead; results keep file order."""
    for n in range(24):
        write_seed(tmp_path, f"{n:02d}.txt", f"Story number {n} of the day")
    (tmp_path / "12b.txt").write_bytes(b"\x00binary")
    out, err, error = run(tmp_path, "--workers", "1")
    assert str(error) == "1 of 25 seed file(s) failed."
    assert f"{tmp_path}/12b.txt: binary data" in err
    created = [line.split()[1] for line in out.splitlines() if line[:7] == "created"]
    assert created == [f"{tmp_path}/{n:02d}.txt" for n in range(24)]
    assert Article.objects.count() == 24
    assert "24 created, 0 updated, 0 unchanged, 0 skipped, 1 failed." in out


def planner_rows(table):
    """How many rows the database's planner statistics say `table` holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            return cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return -1
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        row = cursor.fetchone()
        return int(row[0].split()[0]) if row else -1


def test_a_large_import_renews_the_planner_statistics(tmp_path):
    """Without statistics the planner takes the new stories for none at all."""
    few, many = tmp_path / "few", tmp_path / "many"
    few.mkdir()
    many.mkdir()
    for n in range(ANALYZE_MIN_STORIES - 1):
        write_seed(few, f"{n:02d}.txt", f"Story number {n} of the day")
    for n in range(ANALYZE_MIN_STORIES):
        write_seed(many, f"m{n:02d}.txt", f"Another story, number {n}")
    run(few)
    assert planner_rows("briefings_article") < ANALYZE_MIN_STORIES - 1  # not asked
    out, _, error = run(many)
    assert error is None, out
    assert Article.objects.count() == 2 * ANALYZE_MIN_STORIES - 1
    assert planner_rows("briefings_article") == 2 * ANALYZE_MIN_STORIES - 1
