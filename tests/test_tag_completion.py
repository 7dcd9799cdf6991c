"""Tag completion over tags and aliases, and suggestions before the first save."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from taggit.models import Tag

from briefings.models import TagAlias
from briefings.stories import tags
from tests.test_admin import as_user, staff

pytestmark = pytest.mark.django_db

COMPLETIONS = reverse("desk:tag-completions")
SUGGESTIONS = reverse("desk:tag-suggestions")


@pytest.fixture
def writer(client):
    return as_user(client, staff("writer", "Writers"))


@pytest.fixture
def karabakh():
    tag = Tag.objects.create(name="Nagorno-Karabakh", slug="nagorno-karabakh")
    TagAlias.objects.create(name="Artsakh", tag=tag)
    Tag.objects.create(name="Armenia", slug="armenia")
    Tag.objects.create(name="Elections in Armenia", slug="elections-in-armenia")
    return tag


def test_completion_finds_tags_and_aliases_names_starting_with_it_first(
    writer, karabakh
):
    results = writer.get(COMPLETIONS, {"q": "arm"}).json()["results"]
    assert results == [
        {"name": "Armenia", "alias": ""},
        {"name": "Elections in Armenia", "alias": ""},
    ]
    results = writer.get(COMPLETIONS, {"q": "artsa"}).json()["results"]
    assert results == [{"name": "Nagorno-Karabakh", "alias": "Artsakh"}]
    assert writer.get(COMPLETIONS, {"q": " "}).json() == {"results": []}


def test_suggestions_come_from_unsaved_text(writer, karabakh):
    response = writer.post(
        SUGGESTIONS,
        {
            "headline": "Talks on Artsakh resume",
            "standfirst": "",
            "body": "Armenia and its neighbour meet.",
            "tags": "Armenia",
        },
    )
    assert response.json() == {"results": ["Nagorno-Karabakh"]}


def test_tag_endpoints_are_for_staff_who_may_edit_stories(client, karabakh):
    assert client.get(COMPLETIONS, {"q": "arm"}).status_code == 302
    clerk = User.objects.create_user("clerk", password="x", is_staff=True)
    as_user(client, clerk)
    assert client.get(COMPLETIONS, {"q": "arm"}).status_code == 403
    assert client.post(SUGGESTIONS, {"body": "Armenia"}).status_code == 403


@pytest.mark.parametrize("size", [1, 1000])
def test_completion_queries_do_not_grow(
    writer, django_assert_max_num_queries, karabakh, size
):
    Tag.objects.bulk_create(
        [Tag(name=f"Armenia topic {n}", slug=f"armenia-topic-{n}") for n in range(size)]
    )
    writer.get(COMPLETIONS, {"q": "arm"})
    # tags and aliases: 2; session (with its save and savepoint), user,
    # permissions and two-factor make up the rest
    # +1 since the recovery codes: django-otp asks for each kind of device.
    with django_assert_max_num_queries(11):
        results = writer.get(COMPLETIONS, {"q": "arm"}).json()["results"]
    assert len(results) == min(10, size + 2) and results[0]["name"] == "Armenia"
    assert tags.matching("") == []


def test_suggestions_cost_two_queries_however_long_the_story(
    karabakh, django_assert_num_queries
):
    """Tags and aliases are read once; the story's words are matched in memory
    (a wordy story once asked for its phrases in two dozen queries)."""
    long_text = " ".join(f"word{n} Elections in Armenia" for n in range(1200))
    with django_assert_num_queries(2):
        found = tags.suggest(long_text + " and Artsakh")
    assert [tag.name for tag in found] == [
        "Armenia",
        "Elections in Armenia",
        "Nagorno-Karabakh",
    ]
    with django_assert_num_queries(2):
        assert tags.suggest("nothing here", exclude=["Armenia"]) == []
    # An alias and a name are found in any case and spacing; exclusions hold.
    found = tags.suggest("ELECTIONS  in armenia, artsakh", exclude=["armenia"])
    assert [tag.name for tag in found] == ["Elections in Armenia", "Nagorno-Karabakh"]
