"""Bylines, figures and related links keep their order without typed numbers."""

import pytest
from pytest_django.asserts import assertContains

from tests.factories import ArticleFactory, AuthorFactory, FigureFactory
from tests.test_admin import as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    return as_user(client, staff("editor", "Editors"))


def add_rows(data, prefix, rows):
    data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{n}-{key}"] = value


def test_two_new_related_links_left_at_position_0_keep_the_order_added(editor):
    story = ArticleFactory()
    data = form_values(editor, change_url(story))
    add_rows(
        data,
        "related_links",
        [
            {"position": "0", "title": "First link"},
            {"position": "0", "title": "Second link"},
            {"position": "0", "title": "Third link"},
        ],
    )
    assert editor.post(change_url(story), data).status_code == 302
    assert list(story.related_links.values_list("title", "position")) == [
        ("First link", 0),
        ("Second link", 1),
        ("Third link", 2),
    ]


def test_bylines_are_renumbered_in_the_order_given(editor):
    story = ArticleFactory()
    ann, bo, cy = (AuthorFactory(name=name) for name in ("Ann", "Bo", "Cy"))
    data = form_values(editor, change_url(story))
    add_rows(
        data,
        "bylines",
        [
            {"author": str(ann.pk), "position": "7"},
            {"author": str(bo.pk), "position": "2"},
            {"author": str(cy.pk), "position": "2"},
        ],
    )
    assert editor.post(change_url(story), data).status_code == 302
    assert [(b.author.name, b.position) for b in story.bylines.all()] == [
        ("Bo", 0),
        ("Cy", 1),
        ("Ann", 2),
    ]


def test_two_body_figures_cannot_share_a_position(editor):
    story = ArticleFactory()
    data = form_values(editor, change_url(story))
    add_rows(
        data,
        "figures",
        [
            {"place": "body", "position": "1", "caption": "One"},
            {"place": "body", "position": "1", "caption": "Two"},
        ],
    )
    response = editor.post(change_url(story), data)
    assertContains(response, "Two body figures have position 1")
    assert not story.figures.exists()


def test_the_form_loads_the_ordering_script(editor):
    story = ArticleFactory()
    FigureFactory(article=story)
    assertContains(editor.get(change_url(story)), "admin/inline_order.js")
