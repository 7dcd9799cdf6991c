"""loadseed on every layout: stories, warnings, review, the JSON contract, the
admin's import notes, the reader page; and the importer's inputs (issue 14.10)."""

import json
import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains
from taggit.models import Tag

from briefings.models import Article, ArticleStatus, Author, TagAlias
from tests.test_admin import form_values

pytestmark = pytest.mark.django_db

PAGES = Path(__file__).resolve().parent / "fixtures" / "pages"
LAYOUT_FILES = sorted(path.name for path in PAGES.glob("*.txt"))


def run(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("loadseed", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def pages(tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(PAGES, folder)
    return folder


def story(name):
    return Article.objects.get(source_name__endswith=f"/{name}")


def test_every_layout_becomes_a_story(pages):
    out, err, error = run(pages)
    assert error is None, err
    assert f"{len(LAYOUT_FILES)} created, 0 updated" in out
    assert Article.objects.count() == len(LAYOUT_FILES)
    for article in Article.objects.all():
        for furniture in ["Search Trends", "Translating", "CHOOSE YOUR", "Download"]:
            assert furniture not in article.body


def test_warnings_are_printed_under_their_file(pages):
    out, _, _ = run(pages)
    lines = out.splitlines()
    at = next(
        i
        for i, line in enumerate(lines)
        if line.endswith("N_newer.txt  ") or "N_newer.txt" in line
    )
    assert lines[at].startswith("created   ")
    assert lines[at + 1].startswith(" " * 10 + "no headline stands apart")
    assert lines[at + 2] == " " * 10 + "no byline on the page: the story has no author"
    # A page that needs nothing from an editor prints no warning.
    at = next(i for i, line in enumerate(lines) if "A_article.txt" in line)
    assert not lines[at + 1].startswith(" " * 10)


def test_a_page_without_a_time_or_headline_waits_in_review(pages, client):
    run(pages, "--status", "published")
    for name in ["Aprime_nodate.txt", "N_newer.txt", "V_video.txt"]:
        article = story(name)
        assert article.status == ArticleStatus.IN_REVIEW, name
        assert article.published_at is None or name == "N_newer.txt"
        assert client.get(article.get_absolute_url()).status_code == 404
    # The import time is never taken for a publication time.
    assert story("V_video.txt").published_at is None
    assert story("V_video.txt").updated_at is None
    assert any("waits in review" in note for note in story("V_video.txt").import_notes)
    dated = story("A_article.txt")
    assert dated.status == ArticleStatus.PUBLISHED and dated.is_public


def test_gmt_plus_8_is_honoured_and_zoneless_times_use_the_seed_zone(pages, settings):
    settings.SEED_TIME_ZONE = "Europe/Paris"
    run(pages)
    share = story("S_share.txt")
    assert share.published_at.isoformat() == "2024-02-02T13:17:00+00:00"
    assert share.updated_at.isoformat() == "2024-02-02T14:05:00+00:00"
    older = story("O_older.txt")
    assert older.published_at.isoformat() == "2019-02-28T16:12:00+00:00"


def test_metadata_is_kept_on_the_story(pages):
    Tag.objects.create(name="China")
    farming = Tag.objects.create(name="Agriculture")
    TagAlias.objects.create(name="Farming", tag=farming)
    run(pages)
    video = story("P_player_first.txt")
    assert (video.kind, video.duration) == ("video", "1:02:03")
    assert story("L_live.txt").kind == "live"
    assert story("G_gallery.txt").kind == "gallery"
    assert story("G_gallery.txt").figures.count() == 3
    older = story("O_older.txt")
    assert older.source_agency == "Xinhua News Agency"
    assert "China" in older.tags.names()  # '["china"]', through the tag's key
    assert Tag.objects.filter(name__iexact="china").count() == 1
    orchard = story("Aprime_nodate.txt")
    assert {"Europe", "Agriculture"} <= set(orchard.tags.names())  # alias rules
    assert orchard.byline_affiliation == "CGTN"
    assert [a.name for a in orchard.byline_authors] == ["Tomas Berrow"]
    assert story("S_share.txt").dateline == "Kellam"
    assert "Culture" in story("S_share.txt").tags.names()
    newer = story("N_newer.txt")
    assert newer.editors_note.startswith("Wen Aldous is a commentator")
    assert "Editor's note" not in newer.body
    assert Author.objects.get(name="CGTN").is_organisation


def test_json_contract(pages):
    out, _, error = run(pages, "--dry-run", "--format", "json")
    assert error is None
    entries = {Path(entry["source"]).name: entry for entry in json.loads(out)}
    keys = {
        "source", "slug", "headline", "authors", "dateline", "published_at",
        "updated_at", "hero", "body", "related", "tags",
    }  # fmt: skip
    new = {"kind", "duration", "editors_note", "source_agency", "sections", "warnings"}
    for entry in entries.values():
        assert keys | new <= set(entry)
    video = entries["V_video.txt"]
    assert video["published_at"] is None and video["updated_at"] is None
    assert video["authors"] == [] and video["hero"] is None
    assert (video["kind"], video["duration"]) == ("video", "02:47")
    assert video["warnings"][0] == "no byline on the page: the story has no author"
    older = entries["O_older.txt"]
    assert older["source_agency"] == "Xinhua News Agency"
    assert older["sections"] == ["china"]
    assert entries["N_newer.txt"]["editors_note"].startswith("Wen Aldous")
    assert entries["A_article.txt"]["warnings"] == []
    assert Article.objects.count() == 0


def test_reimporting_the_layouts_changes_nothing(pages):
    run(pages)
    out, _, error = run(pages)
    assert error is None
    assert f"0 created, 0 updated, {len(LAYOUT_FILES)} unchanged" in out


# -- The admin: import notes beside the checklist, until dismissed ----------------


def test_import_notes_show_beside_the_checklist_until_dismissed(pages, client):
    run(pages)
    editor = User.objects.create_superuser("ed", "ed@example.org", "x" * 16)
    client.force_login(editor)
    article = story("V_video.txt")
    url = reverse("admin:briefings_article_change", args=[article.pk])
    response = client.get(url)
    assertContains(response, "Import notes")
    assertContains(response, "no byline on the page: the story has no author")
    assertContains(response, 'name="dismiss_import_notes"')

    data = form_values(client, url)
    data["dismiss_import_notes"] = "on"
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Article.objects.get(pk=article.pk).import_notes_dismissed
    response = client.get(url)
    assertNotContains(response, "no byline on the page")
    assertNotContains(response, 'name="dismiss_import_notes"')
    assert Article.objects.get(pk=article.pk).import_notes  # kept in the record


# -- The reader page ----------------------------------------------------------------


def publish(article):
    article.status = ArticleStatus.PUBLISHED
    if article.published_at is None:
        article.published_at = article.imported_at
    article.save()
    return article


def test_reader_page_shows_editors_note_source_and_organisation_byline(pages, client):
    run(pages)
    newer = publish(story("N_newer.txt"))
    response = client.get(newer.get_absolute_url())
    html = response.content.decode()
    note = html.index('class="editors-note"')
    assert note < html.index('class="story__body"')
    body = html.split('class="story__body">')[1].split("</div>")[0]
    assert "Wen Aldous" not in body

    older = story("O_older.txt")
    response = client.get(older.get_absolute_url())
    assertContains(response, '<p class="story__source">Source: Xinhua News Agency</p>')
    assertContains(response, '<p class="byline"><a href="/authors/cgtn/"')
    assertNotContains(response, "By <a")

    video = publish(story("V_video.txt"))
    assertContains(
        client.get(video.get_absolute_url()),
        '<span class="story__kind story__kind--video">Video &middot; 02:47</span>',
    )
    orchard = publish(story("Aprime_nodate.txt"))
    assertContains(
        client.get(orchard.get_absolute_url()),
        'rel="author">Tomas Berrow</a>, <span class="byline__affiliation">CGTN</span>',
    )


# -- Importer inputs (issue 14, item 10) ----------------------------------------


def test_a_link_out_of_the_folder_is_refused_and_never_echoed(tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root-password-line\n\nsecond secret line\n", "utf-8")
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(PAGES / "A_article.txt", folder / "a.txt")
    os.symlink(secret, folder / "x.txt")
    out, err, error = run(folder)
    assert str(error) == "1 of 2 seed file(s) failed."
    assert f"failed    {folder}/x.txt: a symbolic link to a file outside" in err
    assert "root-password-line" not in out + err
    assert "secret line" not in out + err
    assert Article.objects.count() == 1
    # Named on the command line, the same link is refused too.
    _, err, error = run(folder / "x.txt")
    assert error is not None and "root-password-line" not in err


def test_a_link_inside_the_folder_is_read(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(PAGES / "A_article.txt", folder / "real.md")
    os.symlink(folder / "real.md", folder / "a.txt")
    _, err, error = run(folder)
    assert error is None, err
    assert Article.objects.count() == 1


def test_c1_controls_and_bidi_overrides_are_stripped_from_stories_and_terminal(
    tmp_path,
):
    folder = tmp_path / "seeds"
    folder.mkdir()
    text = (PAGES / "A_article.txt").read_text("utf-8")
    text = text.replace("Harbour towns", "Harbour\u009b[2J towns\u202e", 1)
    (folder / "evil\u202e\u009b.txt").write_text(text, "utf-8")
    out, err, error = run(folder)
    assert error is None, err
    article = Article.objects.get()
    assert "\u009b" not in article.headline and "\u202e" not in article.headline
    for char in "\u009b\u202e\u2066":
        assert char not in out and char not in err
    assert "evil.txt" in out


def test_two_files_of_one_name_in_two_folders_are_two_stories(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    shutil.copy(PAGES / "A_article.txt", first / "200_same.txt")
    shutil.copy(PAGES / "S_share.txt", second / "200_same.txt")
    out, _, error = run(first, second)
    assert error is None
    assert "2 created" in out
    assert sorted(Article.objects.values_list("headline", flat=True)) == [
        "Harbour towns test a floating tide barrier",
        "Puppet theatre returns to the old mill",
    ]
    out, _, _ = run(first, second)  # the same files again: nothing changes
    assert "0 created, 0 updated, 2 unchanged" in out


def test_a_story_keyed_by_file_name_alone_is_taken_over_once(tmp_path):
    folder = tmp_path / "seeds"
    folder.mkdir()
    shutil.copy(PAGES / "A_article.txt", folder / "000_old.txt")
    run(folder)
    # As an import from before sources were keyed by place would have left it.
    Article.objects.update(source_name="000_old.txt")
    out, _, _ = run(folder)
    assert "1 unchanged" in out
    assert Article.objects.get().source_name == str((folder / "000_old.txt").resolve())
    out, _, _ = run(folder)
    assert "1 unchanged" in out and Article.objects.count() == 1
