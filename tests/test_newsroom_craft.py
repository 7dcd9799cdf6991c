"""URLs that never break, clean tags, and the pre-publish checklist."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pytest_django.asserts import assertContains, assertNotContains
from taggit.models import Tag

from briefings.models import (
    Article,
    ArticleStatus,
    FigurePlace,
    SlugRedirect,
    TagAlias,
    TagRedirect,
)
from briefings.models import Image as LibraryImage
from briefings.newsroom import prepublish
from briefings.stories import tags
from tests.factories import (
    ArticleFactory,
    BylineFactory,
    FigureFactory,
    RelatedLinkFactory,
)
from tests.test_admin import as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db

TAGS = reverse("admin:taggit_tag_changelist")


def live(**kwargs):
    story = ArticleFactory(
        published=True, published_at=timezone.now() - timedelta(hours=2), **kwargs
    )
    BylineFactory(article=story)
    return story


# --- URLs never break ------------------------------------------------------------


def test_every_past_slug_of_a_published_story_redirects(client):
    story = live(slug="first-name")
    story.slug = "second-name"
    story.save()
    story = Article.objects.get(pk=story.pk)
    story.slug = "third-name"
    story.save()
    for old in ("first-name", "second-name"):
        response = client.get(f"/stories/{old}/")
        assert response.status_code == 301
        assert response["Location"] == "/stories/third-name/"
    assert client.get("/stories/third-name/").status_code == 200


def test_a_redirect_costs_one_lookup_on_the_404_path(
    client, django_assert_max_num_queries
):
    story = live(slug="old")
    story.slug = "new"
    story.save()
    client.get("/stories/new/")  # warm the per-process caches
    with django_assert_max_num_queries(3):
        assert client.get("/stories/old/").status_code == 301
    with django_assert_max_num_queries(3):
        assert client.get("/stories/never-existed/").status_code == 404


def test_a_draft_renamed_before_publication_leaves_no_redirect():
    draft = ArticleFactory(slug="working-title")
    draft.slug = "final-title"
    draft.save()
    assert not SlugRedirect.objects.exists()


def test_a_story_that_takes_an_old_address_owns_it(client):
    story = live(slug="budget")
    story.slug = "budget-2026"
    story.save()
    newer = live(slug="budget", headline="A newer budget story")
    assert not SlugRedirect.objects.filter(old_slug="budget").exists()
    assertContains(client.get("/stories/budget/"), "A newer budget story")
    assert newer.get_absolute_url() == "/stories/budget/"


def test_old_addresses_of_withdrawn_stories_do_not_redirect(client):
    story = live(slug="pulled")
    story.slug = "pulled-renamed"
    story.save()
    story.status = ArticleStatus.WITHDRAWN
    story.save()
    assert client.get("/stories/pulled/").status_code == 404


def test_renaming_in_the_admin_keeps_the_old_address(client):
    story = live(slug="typo-in-slgu")
    editor = staff("editor", "Editors")
    data = form_values(as_user(client, editor), change_url(story))
    data["slug"] = "typo-in-slug"
    assert client.post(change_url(story), data).status_code == 302
    client.logout()
    response = client.get("/stories/typo-in-slgu/")
    assert (response.status_code, response["Location"]) == (
        301,
        "/stories/typo-in-slug/",
    )
    as_user(client, editor)
    assertContains(client.get(change_url(story)), "/stories/typo-in-slgu/")


# --- Tags ----------------------------------------------------------------------


def test_aliases_and_spellings_become_the_tag():
    karabakh = Tag.objects.create(name="Nagorno-Karabakh")
    TagAlias.objects.create(name="Artsakh", tag=karabakh)
    assert tags.canonical_names(
        ["nagorno karabakh", "Artsakh", "Nagorno  Karabakh", "Armenia"]
    ) == ["Nagorno-Karabakh", "Armenia"]


def test_an_alias_typed_in_the_story_form_becomes_its_tag(client):
    karabakh = Tag.objects.create(name="Nagorno-Karabakh")
    TagAlias.objects.create(name="Nagorno Karabakh", tag=karabakh)
    story = ArticleFactory()
    BylineFactory(article=story)
    editor = staff("editor", "Editors")
    data = form_values(as_user(client, editor), change_url(story))
    data["tags"] = "Nagorno Karabakh, Armenia"
    assert client.post(change_url(story), data).status_code == 302
    assert sorted(story.tags.names()) == ["Armenia", "Nagorno-Karabakh"]
    assert Tag.objects.count() == 2


def test_merging_tags_retags_stories_and_redirects_the_old_page(client):
    karabakh = Tag.objects.create(name="Nagorno-Karabakh")
    spaced = Tag.objects.create(name="Nagorno Karabakh 2")
    both, only_old = live(headline="Both"), live(headline="Only the old tag")
    both.tags.add(karabakh, spaced)
    only_old.tags.add(spaced)
    old_slug = spaced.slug
    editor = staff("editor", "Editors")
    as_user(client, editor)
    selected = {"action": "merge_tags", ACTION_CHECKBOX_NAME: [karabakh.pk, spaced.pk]}
    assertContains(client.post(TAGS, selected), "These tags become one")
    response = client.post(
        TAGS, {**selected, "apply": "1", "target": karabakh.pk}, follow=True
    )
    assertContains(response, "2 stories retagged")
    assert not Tag.objects.filter(pk=spaced.pk).exists()
    assert list(both.tags.names()) == ["Nagorno-Karabakh"]
    assert list(only_old.tags.names()) == ["Nagorno-Karabakh"]
    assert TagAlias.objects.get().tag == karabakh
    client.logout()
    response = client.get(f"/tags/{old_slug}/")
    assert response.status_code == 301
    assert response["Location"] == f"/tags/{karabakh.slug}/"
    page = client.get(f"/tags/{karabakh.slug}/")
    assertContains(page, "Only the old tag")
    assertContains(page, "Both", count=1)
    # The merged name is an alias now: typing it again finds the tag.
    assert tags.canonical_names(["Nagorno Karabakh 2"]) == ["Nagorno-Karabakh"]


def test_writers_cannot_merge_tags(client):
    first, second = Tag.objects.create(name="One"), Tag.objects.create(name="Two")
    as_user(client, staff("writer", "Writers"))
    client.post(
        TAGS,
        {
            "action": "merge_tags",
            "apply": "1",
            "target": first.pk,
            ACTION_CHECKBOX_NAME: [first.pk, second.pk],
        },
    )
    assert Tag.objects.count() == 2
    assert not TagRedirect.objects.exists()


def test_tag_admin_shows_usage_and_prunes_unused_tags(client):
    used = Tag.objects.create(name="Used")
    Tag.objects.create(name="Forgotten")
    live().tags.add(used)
    ArticleFactory().tags.add(used)  # a draft counts as a use, not as live
    as_user(client, staff("editor", "Editors"))
    listing = client.get(TAGS).content.decode()
    row = listing[listing.index(">Used<") :]
    assert '<td class="field-live_stories">1</td>' in row
    assert '<td class="field-stories">2</td>' in row
    response = client.post(
        TAGS,
        {
            "action": "delete_unused",
            ACTION_CHECKBOX_NAME: list(Tag.objects.values_list("pk", flat=True)),
        },
        follow=True,
    )
    assertContains(response, "Deleted 1 unused tag(s): Forgotten. 1 tag(s) in use")
    assert list(Tag.objects.values_list("name", flat=True)) == ["Used"]


def test_the_story_form_suggests_existing_tags_found_in_the_text(client):
    Tag.objects.create(name="Armenia")
    georgia = Tag.objects.create(name="Georgia")
    TagAlias.objects.create(name="EU", tag=Tag.objects.create(name="European Union"))
    Tag.objects.create(name="Azerbaijan")  # not in the story
    story = ArticleFactory(
        headline="Armenia looks west",
        body="Talks with the EU resumed, and Georgia watched.",
    )
    story.tags.add(georgia)  # already on the story: not suggested again
    BylineFactory(article=story)
    editor = staff("editor", "Editors")
    response = as_user(client, editor).get(change_url(story))
    assertContains(response, 'name="suggested_tags" value="Armenia"')
    assertContains(response, 'name="suggested_tags" value="European Union"')
    assertNotContains(response, 'name="suggested_tags" value="Azerbaijan"')
    assertNotContains(response, 'name="suggested_tags" value="Georgia"')
    data = form_values(client, change_url(story))
    data["suggested_tags"] = ["Armenia", "European Union"]
    assert client.post(change_url(story), data).status_code == 302
    assert sorted(story.tags.names()) == ["Armenia", "European Union", "Georgia"]


def test_loadseed_maps_aliases_to_their_tags():
    from briefings.importing.importer import Importer

    karabakh = Tag.objects.create(name="Nagorno-Karabakh")
    TagAlias.objects.create(name="Nagorno Karabakh", tag=karabakh)
    importer = Importer()
    assert importer._tag("Nagorno Karabakh") == karabakh
    assert importer._tag("nagorno-karabakh") == karabakh


# --- Pre-publish checks -------------------------------------------------------


def png(width, height=400):
    buffer = BytesIO()
    Image.new("RGB", (width, height), "gray").save(buffer, "PNG")
    return SimpleUploadedFile("picture.png", buffer.getvalue(), "image/png")


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_complete_story_passes_every_check(media):
    story = live(headline="Clean story", standfirst="All there.")
    FigureFactory(
        article=story,
        place=FigurePlace.HERO,
        upload=png(1600),
        alt_text="A crowd",
        credit="Photographer/Agency",
    )
    RelatedLinkFactory(article=story, title="Elsewhere", url="https://example.org/")
    assert prepublish.warnings(story) == []


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda s: setattr(s, "standfirst", ""), "The standfirst is empty"),
        (lambda s: setattr(s, "headline", "H" * 111), "is 111 characters long"),
        (
            lambda s: live(headline=s.headline.upper(), slug="other"),
            "has the same headline",
        ),
        (
            lambda s: RelatedLinkFactory(article=s, title="Nowhere", url=""),
            "“Nowhere” goes nowhere yet",
        ),
        (
            lambda s: FigureFactory(
                article=s, place=FigurePlace.HERO, upload=png(800), alt_text="A hall"
            ),
            "The hero image is 800 px wide",
        ),
        (
            lambda s: FigureFactory(
                article=s, upload=png(1600), alt_text="x", credit=""
            ),
            "Image 1 has no credit.",
        ),
    ],
    ids=[
        "standfirst",
        "long-headline",
        "duplicate",
        "dead-link",
        "narrow-hero",
        "credit",
    ],
)
def test_each_check_names_the_problem(media, setup, expected):
    story = live(headline="Checked story", standfirst="Present.")
    setup(story)
    found = prepublish.warnings(story)
    assert len(found) == 1 and expected in found[0], found


def test_missing_alt_text_is_reported():
    story = live(standfirst="Present.")
    # A library picture nobody described, used without this story's own alt.
    undescribed = LibraryImage.objects.create(
        file="library/x.png", width=1600, height=900
    )
    FigureFactory(article=story, library_image=undescribed, alt_text="")
    assert prepublish.warnings(story) == ["Image 1 has no alt text."]


def test_publishing_with_warnings_warns_but_publishes(client):
    story = ArticleFactory(headline="Lonely story", standfirst="")
    BylineFactory(article=story)
    editor = staff("editor", "Editors")
    as_user(client, editor)
    assertContains(client.get(change_url(story)), "The standfirst is empty")
    response = client.post(
        reverse("admin:briefings_article_changelist"),
        {"action": "publish_now", ACTION_CHECKBOX_NAME: [story.pk]},
        follow=True,
    )
    assertContains(response, "is published with 1 warning(s)")
    story.refresh_from_db()
    assert story.status == ArticleStatus.PUBLISHED


def test_the_merge_form_offers_the_most_used_tag_as_the_survivor(client):
    rare = Tag.objects.create(name="Armenia")  # first by name, on one story
    common = Tag.objects.create(name="Republic of Armenia")  # on three
    live(headline="Rare").tags.add(rare)
    for n in range(3):
        live(headline=f"Common {n}").tags.add(common)
    as_user(client, staff("editor", "Editors"))
    response = client.post(
        TAGS, {"action": "merge_tags", ACTION_CHECKBOX_NAME: [rare.pk, common.pk]}
    )
    assertContains(response, f'<option value="{common.pk}" selected>')
    assertNotContains(response, f'<option value="{rare.pk}" selected>')


def test_a_merged_tags_feeds_redirect_like_its_page(client):
    kept = Tag.objects.create(name="Nagorno-Karabakh")
    merged = Tag.objects.create(name="Karabakh")
    live(headline="Tagged").tags.add(merged)
    tags.merge([merged, kept], kept)
    for kind in ("rss", "atom"):
        response = client.get(f"/tags/{merged.slug}/{kind}/")
        assert response.status_code == 301
        assert response["Location"] == f"/tags/{kept.slug}/{kind}/"
        assertContains(client.get(response["Location"]), "Tagged")
    assert client.get("/tags/never-was/rss/").status_code == 404
