"""The editorial admin: roles, workflow, validation, locking, previews, history."""

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from briefings.models import (
    Article,
    ArticleStatus,
    PreviewLink,
    WorkflowAction,
    WorkflowEvent,
)
from tests.factories import (
    ArticleFactory,
    AuthorFactory,
    BylineFactory,
    FigureFactory,
    RelatedLinkFactory,
    hours_from_now,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:briefings_article_changelist")
ADD = reverse("admin:briefings_article_add")


def change_url(article):
    return reverse("admin:briefings_article_change", args=[article.pk])


class FormValues(HTMLParser):
    """Collect what a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.values[name] = attrs.get("value", "on")
            else:
                self.values[name] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n")


def form_values(client, url):
    response = client.get(url)
    assert response.status_code == 200
    parser = FormValues()
    parser.feed(response.content.decode())
    values = parser.values
    values.pop("action", None)  # the changelist's action select, if any
    return values


def staff(username, group):
    user = User.objects.create_user(username, password="long-enough-password-1")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def writer():
    return staff("writer", "Writers")


@pytest.fixture
def editor():
    return staff("editor", "Editors")


def as_user(client, user):
    client.force_login(user)
    return client


def publishable_story(**kwargs):
    story = ArticleFactory(**kwargs)
    BylineFactory(article=story)
    return story


# --- Roles ---------------------------------------------------------------------


def test_groups_give_writers_and_editors_their_powers(writer, editor):
    assert not writer.has_perm("briefings.publish_article")
    assert not writer.has_perm("briefings.delete_article")
    assert writer.has_perm("briefings.change_article")
    assert editor.has_perm("briefings.publish_article")
    assert editor.has_perm("briefings.delete_article")
    assert editor.has_perm("briefings.add_previewlink")
    assert not writer.has_perm("briefings.add_previewlink")


def test_writers_are_offered_only_draft_and_review(client, writer, editor):
    publishable_story()  # the changelist offers actions only when it lists stories
    page = as_user(client, writer).get(ADD)
    assertContains(page, '<option value="in_review">In review</option>', html=True)
    assertNotContains(page, 'value="published"')
    assertNotContains(page, 'name="published_at')
    actions = client.get(CHANGELIST)
    assertContains(actions, '<option value="submit_for_review">')
    assertNotContains(actions, '<option value="publish_now">')
    assertNotContains(actions, '<option value="withdraw">')
    assertNotContains(actions, '<option value="delete_selected">')
    editors = as_user(client, editor).get(CHANGELIST)
    assertContains(editors, '<option value="publish_now">Publish now</option>')
    assertContains(editors, '<option value="withdraw">Withdraw</option>')


def test_a_writers_crafted_post_cannot_publish(client, writer):
    story = publishable_story()
    data = form_values(as_user(client, writer), change_url(story))
    data["status"] = ArticleStatus.PUBLISHED
    response = client.post(change_url(story), data)
    assert response.status_code in (200, 403)
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT
    assert not WorkflowEvent.objects.exists()


def test_a_writer_cannot_change_or_delete_a_live_story(client, writer, editor):
    live = publishable_story(published=True, headline="Live story")
    data = form_values(as_user(client, editor), change_url(live))
    data["headline"] = "Changed by a writer"
    as_user(client, writer)
    assert client.post(change_url(live), data).status_code == 403
    delete = reverse("admin:briefings_article_delete", args=[live.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": [live.pk], "post": "yes"},
    )
    client.post(CHANGELIST, {"action": "withdraw", "_selected_action": [live.pk]})
    live.refresh_from_db()
    assert live.headline == "Live story" and live.status == ArticleStatus.PUBLISHED
    assert Article.objects.count() == 1


def test_writer_submits_and_editor_publishes_each_step_recorded(client, writer, editor):
    story = publishable_story()
    as_user(client, writer).post(
        CHANGELIST, {"action": "submit_for_review", "_selected_action": [story.pk]}
    )
    story.refresh_from_db()
    assert story.status == ArticleStatus.IN_REVIEW

    response = as_user(client, editor).post(
        CHANGELIST,
        {"action": "publish_now", "_selected_action": [story.pk]},
        follow=True,
    )
    assertContains(response, "1 story published.")
    story.refresh_from_db()
    assert story.is_public
    assert client.get(story.get_absolute_url()).status_code == 200

    client.post(CHANGELIST, {"action": "withdraw", "_selected_action": [story.pk]})
    story.refresh_from_db()
    assert story.status == ArticleStatus.WITHDRAWN
    client.logout()
    assert client.get(story.get_absolute_url()).status_code == 404

    events = list(story.workflow_events.order_by("at", "pk"))
    assert [(e.action, e.user.username) for e in events] == [
        (WorkflowAction.SUBMITTED, "writer"),
        (WorkflowAction.PUBLISHED, "editor"),
        (WorkflowAction.WITHDRAWN, "editor"),
    ]


def test_publish_now_refuses_stories_without_text_or_author(client, editor):
    empty = ArticleFactory(body="")
    response = as_user(client, editor).post(
        CHANGELIST,
        {"action": "publish_now", "_selected_action": [empty.pk]},
        follow=True,
    )
    assertContains(response, "Nothing was published")
    empty.refresh_from_db()
    assert empty.status == ArticleStatus.DRAFT


# --- The change form -------------------------------------------------------------


def test_drafts_save_incomplete(client, writer):
    data = form_values(as_user(client, writer), ADD)
    data.update(headline="Half an idea", slug="half-an-idea", body="")
    response = client.post(ADD, data)
    assert response.status_code == 302
    assert Article.objects.get().headline == "Half an idea"


def test_publishing_enforces_what_a_reader_needs(client, editor):
    story = ArticleFactory(body="")
    data = form_values(as_user(client, editor), change_url(story))
    data["status"] = ArticleStatus.PUBLISHED
    response = client.post(change_url(story), data)
    assert response.status_code == 200
    assertContains(response, "Add the story&#x27;s text before publishing.")
    assertContains(response, "A published story needs at least one author")
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT


def test_editor_publishes_and_schedules_from_the_form(client, editor):
    story = publishable_story()
    data = form_values(as_user(client, editor), change_url(story))
    data.update(
        {
            "status": ArticleStatus.PUBLISHED,
            "published_at_0": timezone.localtime(hours_from_now(5)).strftime(
                "%Y-%m-%d"
            ),
            "published_at_1": timezone.localtime(hours_from_now(5)).strftime(
                "%H:%M:%S"
            ),
        }
    )
    assert client.post(change_url(story), data).status_code == 302
    story.refresh_from_db()
    assert story.is_scheduled and not story.is_public
    assert story.workflow_events.get().action == WorkflowAction.SCHEDULED
    listing = client.get(CHANGELIST)
    assertContains(listing, '<span class="badge badge--scheduled">Scheduled</span>')
    assertContains(listing, "Scheduled stories</a>")
    scheduled = client.get(reverse("admin:briefings_article_scheduled"))
    assertContains(scheduled, story.headline)


def test_a_stale_form_is_refused_and_the_other_edit_kept(client, editor):
    story = publishable_story(headline="Original")
    stale = form_values(as_user(client, editor), change_url(story))
    fresh = dict(stale, headline="Edited by the other editor")
    assert client.post(change_url(story), fresh).status_code == 302
    stale["headline"] = "Edited from a stale form"
    response = client.post(change_url(story), stale)
    assert response.status_code == 200
    assertContains(response, "Someone else saved this story after you opened it")
    story.refresh_from_db()
    assert story.headline == "Edited by the other editor"


def test_updated_time_changes_only_for_substantive_updates(client, editor):
    story = publishable_story(published=True)
    data = form_values(as_user(client, editor), change_url(story))
    data["body"] = story.body + " Typo fixed."
    client.post(change_url(story), data)
    story.refresh_from_db()
    assert story.updated_at is None

    data = form_values(client, change_url(story))
    data.update(body=story.body + "\n\nNew facts.", substantive_update="on")
    client.post(change_url(story), data)
    story.refresh_from_db()
    assert story.updated_at is not None
    assert abs(story.updated_at - timezone.now()) < timedelta(minutes=1)


def test_related_link_inline_says_whether_readers_see_it(client, editor):
    story = publishable_story()
    RelatedLinkFactory(article=story, title="Not written yet")
    target = ArticleFactory(published=True, headline="Already live")
    RelatedLinkFactory(article=story, title="already live")
    page = as_user(client, editor).get(change_url(story))
    assertContains(page, "waiting for a published story with this headline")
    assertContains(
        page, f'Link to <a href="{target.get_absolute_url()}">Already live</a>'
    )


# --- Previews and share links -----------------------------------------------------


def test_preview_is_for_staff_only_and_never_cached(client, editor, writer):
    story = publishable_story(headline="Secret draft")
    url = reverse("briefings:article-preview", args=[story.pk])
    assert client.get(url).status_code == 404  # anonymous
    outsider = User.objects.create_user("outsider", password="long-enough-password-1")
    outsider.is_staff = True
    outsider.save()
    assert as_user(client, outsider).get(url).status_code == 404
    for user in (writer, editor):
        response = as_user(client, user).get(url)
        assertContains(response, "Secret draft")
        assertContains(response, '<p class="preview-banner" role="status">')
        assertContains(response, '<meta name="robots" content="noindex, nofollow">')
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert "no-cache" in response["Cache-Control"]


def test_editor_creates_a_share_link_in_the_form(client, editor):
    story = publishable_story()
    data = form_values(as_user(client, editor), change_url(story))
    data.update(
        {
            "preview_links-TOTAL_FORMS": "1",
            "preview_links-0-note": "legal review",
            "preview_links-0-expires_at_0": "",
            "preview_links-0-expires_at_1": "",
            "preview_links-0-article": str(story.pk),
        }
    )
    expires = timezone.localtime(timezone.now() + timedelta(hours=48))
    data["preview_links-0-expires_at_0"] = expires.strftime("%Y-%m-%d")
    data["preview_links-0-expires_at_1"] = expires.strftime("%H:%M:%S")
    assert client.post(change_url(story), data).status_code == 302
    link = PreviewLink.objects.get()
    assert link.created_by == editor and link.note == "legal review"
    client.logout()
    assertContains(client.get(link.get_absolute_url()), story.headline)


@pytest.mark.parametrize("published", [False, True])
def test_share_links_work_until_they_expire_or_are_revoked(client, editor, published):
    story = publishable_story(headline="Shared story", published=published)
    link = PreviewLink.objects.create(
        article=story, created_by=editor, expires_at=hours_from_now(48)
    )
    response = client.get(link.get_absolute_url())
    assertContains(response, "Shared story")
    assertContains(response, "Preview")
    assert "no-cache" in response["Cache-Control"]

    link.expires_at = hours_from_now(-1)
    link.save()
    assert client.get(link.get_absolute_url()).status_code == 404

    link.expires_at, link.revoked_at = hours_from_now(48), timezone.now()
    link.save()
    assert client.get(link.get_absolute_url()).status_code == 404

    forged = reverse("briefings:share-preview", args=[f"{link.key}:forged"])
    assert client.get(forged).status_code == 404


def test_revoking_from_the_list_stops_the_link(client, editor):
    link = PreviewLink.objects.create(
        article=publishable_story(), created_by=editor, expires_at=hours_from_now(48)
    )
    as_user(client, editor).post(
        reverse("admin:briefings_previewlink_changelist"),
        {"action": "revoke", "_selected_action": [link.pk]},
    )
    client.logout()
    assert client.get(link.get_absolute_url()).status_code == 404


# --- History ---------------------------------------------------------------------


def test_revert_restores_figures_and_related_links(client, editor):
    story = publishable_story(headline="Versioned")
    FigureFactory(article=story, caption="The first picture")
    RelatedLinkFactory(article=story, title="An earlier story")
    as_user(client, editor)
    data = form_values(client, change_url(story))
    client.post(change_url(story), data)  # revision 1: with figure and link
    data = form_values(client, change_url(story))
    data.update({"figures-0-DELETE": "on", "related_links-0-DELETE": "on"})
    data["headline"] = "Versioned, trimmed"
    assert client.post(change_url(story), data).status_code == 302  # revision 2
    assert story.figures.count() == 0 and story.related_links.count() == 0

    history = client.get(reverse("admin:briefings_article_history", args=[story.pk]))
    assertContains(history, "Versioned")
    first, second = Version.objects.get_for_object(story).order_by("pk")
    compare = client.get(
        reverse("admin:briefings_article_compare", args=[story.pk]),
        {"version_id1": first.pk, "version_id2": second.pk},
    )
    assertContains(compare, "Versioned")
    assertContains(compare, "trimmed")  # the readable diff shows what changed

    revision_url = reverse(
        "admin:briefings_article_revision", args=[story.pk, first.pk]
    )
    data = form_values(client, revision_url)
    assert client.post(revision_url, data).status_code == 302
    story.refresh_from_db()
    assert story.headline == "Versioned"
    assert [f.caption for f in story.figures.all()] == ["The first picture"]
    assert [link.title for link in story.related_links.all()] == ["An earlier story"]


def test_changes_made_in_the_admin_make_loadseed_skip_the_story(client, editor):
    story = publishable_story(source_name="x.txt", source_hash="abc")
    # As loadseed leaves it: the version it wrote is the story's version.
    Article.objects.filter(pk=story.pk).update(imported_version=story.version)
    story.refresh_from_db()
    assert not story.edited_since_import
    data = form_values(as_user(client, editor), change_url(story))
    data["standfirst"] = "An editor's words."
    client.post(change_url(story), data)
    story.refresh_from_db()
    assert story.edited_since_import


# --- Changelist --------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 100])
def test_changelist_queries_do_not_grow(
    client, editor, django_assert_max_num_queries, size
):
    author = AuthorFactory()
    for _ in range(size):
        story = ArticleFactory(published=True)
        BylineFactory(article=story, author=author)
        story.tags.add("Armenia")
    as_user(client, editor).get(CHANGELIST)  # steady state: caches warm
    # 16, plus the session save (and its savepoint) that keeps it from idling out,
    # plus whether the user has a two-factor app, and recovery codes
    with django_assert_max_num_queries(21):
        response = client.get(CHANGELIST)
    assertContains(response, author.name)


def test_changelist_filters_by_status_author_and_tag(client, editor):
    live = publishable_story(published=True, headline="Live one")
    scheduled = publishable_story(scheduled=True, headline="Later one")
    live.tags.add("Armenia")
    as_user(client, editor)
    assertContains(client.get(CHANGELIST, {"state": "scheduled"}), "Later one")
    assertNotContains(client.get(CHANGELIST, {"state": "scheduled"}), "Live one")
    assertContains(client.get(CHANGELIST, {"tag": "armenia"}), "Live one")
    assertNotContains(client.get(CHANGELIST, {"tag": "armenia"}), "Later one")
    author = scheduled.byline_authors[0]
    by_author = client.get(CHANGELIST, {"author": author.pk})
    assertContains(by_author, "Later one")
    assertNotContains(by_author, "Live one")
    assertContains(client.get(CHANGELIST, {"q": "Later"}), "Later one")


def test_hostile_headlines_stay_text_in_the_admin(client, editor):
    hostile = '"><img src=x onerror=alert(1)>'
    data = form_values(as_user(client, editor), ADD)
    data.update(headline=hostile, slug="hostile")
    response = client.post(ADD, data, follow=True)
    assertContains(response, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
    assertNotContains(response, "<img src=x onerror")
    listing = client.get(CHANGELIST)
    assertContains(listing, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;")
    assertNotContains(listing, "<img src=x onerror")
