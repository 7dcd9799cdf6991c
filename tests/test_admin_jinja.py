"""The admin's fieldsets, inlines and related-object widgets, drawn by the
Jinja2 ports of Django's templates (briefings/web/jinja2/admin/), come out
byte for byte as Django's own templates draw them: on every admin page, for
every role, with and without errors. A difference would be a page that looks
or behaves differently (the inline script reads the rows' ids and classes),
so it fails here first."""

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.template import Template, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from briefings.models import Article, CorrectionKind, PreviewLink, TagAlias
from briefings.newsletter import storyboard
from briefings.newsroom.admin.stories import PreviewLinkInline
from briefings.stories.library import Image
from briefings.web import renderers
from tests.factories import (
    ArticleFactory,
    BylineFactory,
    CorrectionFactory,
    FigureFactory,
    RelatedLinkFactory,
    hours_from_now,
)
from tests.test_admin import as_user, form_values, staff

pytestmark = pytest.mark.django_db

HOSTILE = "<b>Bold</b> & 'quoted' \"words\""
# The CSRF token is masked afresh on each page and a new two-factor device
# gets a random key; the rest must match (the clock stands still).
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"|\b[0-9a-f]{40}\b')


@pytest.fixture
def both_ways(monkeypatch, time_machine):
    """Ask for a page twice: drawn by the Jinja2 ports, then by Django's own
    templates, at the same instant (share links are signed with the time)."""
    time_machine.move_to(timezone.now(), tick=False)

    def ask_twice(ask):
        pages = []
        for use_ports in (True, False):
            monkeypatch.setattr(renderers, "USE_ADMIN_PORTS", use_ports)
            response = ask()
            assert response.status_code == 200, response.status_code
            pages.append(TOKEN.sub("", response.content.decode()))
        return pages

    return ask_twice


@pytest.fixture
def newsroom():
    """A story with every kind of row, and one of everything else."""
    story = ArticleFactory(published=True, headline=HOSTILE, standfirst=HOSTILE)
    BylineFactory(article=story)
    BylineFactory(article=story)
    picture = Image.objects.create(title="Delegates", alt_text=HOSTILE, credit="A/B")
    FigureFactory(article=story, place="hero", position=0, library_image=picture)
    FigureFactory(article=story, caption=HOSTILE)
    RelatedLinkFactory(article=story, title="Nowhere yet")
    RelatedLinkFactory(article=story, title="Elsewhere", url="https://example.org/")
    CorrectionFactory(article=story, kind=CorrectionKind.CLARIFICATION)
    PreviewLink.objects.create(
        article=story, note=HOSTILE, expires_at=hours_from_now(24)
    )
    story.tags.add("Armenia", HOSTILE)
    TagAlias.objects.create(tag=story.tags.get(name="Armenia"), name="Armenian")
    ArticleFactory.create_batch(2, published=True)
    storyboard.compose()
    return story


def admin_pages():
    """Every registered model's add page and the change page of its first row."""
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        first = model_admin.get_queryset(None).order_by("pk").first()
        if first is not None:
            yield reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk]
            )


def test_every_admin_page_is_drawn_as_djangos_templates_draw_it(
    client, both_ways, newsroom
):
    superuser = User.objects.create_superuser("boss", "boss@example.org", "pw-long-1")
    as_user(client, superuser)
    client.raise_request_exception = False  # pages an admin refuses: 403
    compared = 0
    for url in admin_pages():
        if client.get(url).status_code != 200:
            continue  # no such page for this model (add refused, say)
        jinja, django = both_ways(lambda url=url: client.get(url))
        assert jinja == django, url
        compared += 1
    # The pages with inlines are among them: the story, a tag, an edition,
    # a cookie group (stacked).
    assert compared >= 20


@pytest.mark.parametrize("role", ["Writers", "Editors"])
def test_a_story_is_drawn_the_same_for_each_role(client, both_ways, newsroom, role):
    draft = ArticleFactory(headline=f"{HOSTILE}, a draft")
    BylineFactory(article=draft)
    FigureFactory(article=draft)
    as_user(client, staff("someone", role))
    for story in (newsroom, draft):  # a writer only reads the live one
        url = reverse("admin:briefings_article_change", args=[story.pk])
        jinja, django = both_ways(lambda url=url: client.get(url))
        assert jinja == django


def test_a_story_sent_back_with_errors_is_drawn_the_same(client, both_ways, newsroom):
    editor = staff("editor", "Editors")
    as_user(client, editor)
    url = reverse("admin:briefings_article_change", args=[newsroom.pk])
    data = form_values(client, url)
    data["body"] = ""  # a published story needs text: a field error
    data["related_links-0-url"] = "not a web address"  # an error in a table row
    data["figures-1-position"] = data["figures-0-position"] = "1"
    data["figures-1-place"] = data["figures-0-place"] = "body"  # the formset's
    jinja, django = both_ways(lambda: client.post(url, data))
    assert "Add the story" in jinja and "Two body figures" in jinja
    assert "Enter a valid URL" in jinja
    assert jinja == django


def test_inline_rows_with_change_links_are_drawn_the_same(
    client, both_ways, newsroom, monkeypatch
):
    """Rows that link to their own change page (show_change_link), in a
    table and stacked: no inline of ours does yet, one may."""

    class ShareLinksTable(PreviewLinkInline):
        show_change_link = True

    class ShareLinksStacked(PreviewLinkInline):
        show_change_link = True
        template = "admin/edit_inline/stacked.html"

    story_admin = admin.site._registry[Article]
    monkeypatch.setattr(
        story_admin,
        "inlines",
        [*story_admin.inlines, ShareLinksTable, ShareLinksStacked],
    )
    as_user(client, staff("editor", "Editors"))
    url = reverse("admin:briefings_article_change", args=[newsroom.pk])
    jinja, django = both_ways(lambda: client.get(url))
    link = reverse(
        "admin:briefings_previewlink_change", args=[newsroom.preview_links.get().pk]
    )
    assert jinja.count(f'href="{link}"') == 2
    assert jinja == django


@pytest.mark.parametrize(
    "tag", ["{% jinja_admin %}", "{% jinja_admin fieldset %}", "{% jinja_admin 'x %}"]
)
def test_a_misused_tag_names_what_it_takes(tag):
    with pytest.raises(TemplateSyntaxError, match="quoted template name"):
        Template("{% load fastadmin %}" + tag)
