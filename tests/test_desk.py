"""The desk (the admin's home page) and the review loop."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from briefings.models import (
    Article,
    ArticleStatus,
    Notice,
    WorkflowAction,
    WorkflowEvent,
)
from tests.factories import ArticleFactory, BylineFactory, CorrectionFactory
from tests.test_admin import CHANGELIST, as_user, change_url, form_values, staff

pytestmark = pytest.mark.django_db

DESK = reverse("admin:index")


@pytest.fixture
def writer():
    user = staff("writer", "Writers")
    user.first_name, user.last_name, user.email = "Wendy", "Writer", "w@example.org"
    user.save()
    return user


@pytest.fixture
def other_writer():
    return staff("other", "Writers")


@pytest.fixture
def editor():
    user = staff("editor", "Editors")
    user.email = "e@example.org"
    user.save()
    return user


def section(response, key):
    """The HTML of one section of the desk."""
    html = response.content.decode()
    start = html.index(f'id="desk-{key}"')
    return html[start : html.index("</section>", start)]


def submit(client, user, story):
    """`user` submits `story` for review from the story list, as in the admin."""
    as_user(client, user).post(
        CHANGELIST,
        {"action": "submit_for_review", ACTION_CHECKBOX_NAME: [story.pk]},
    )


# --- The desk ------------------------------------------------------------------


def test_the_desk_shows_each_section_and_each_row_opens_the_story(
    client, writer, editor
):
    now = timezone.now()
    draft = ArticleFactory(headline="Harbour draft", created_by=writer)
    review = ArticleFactory(headline="Bridge story", in_review=True, created_by=writer)
    WorkflowEvent.objects.create(
        article=review,
        action=WorkflowAction.SUBMITTED,
        from_status=ArticleStatus.DRAFT,
        to_status=ArticleStatus.IN_REVIEW,
        user=writer,
        at=now - timedelta(hours=2),
    )
    later = ArticleFactory(headline="Election night", scheduled=True)
    today = ArticleFactory(
        headline="Ferries return",
        published=True,
        published_at=now - timedelta(seconds=1),
    )
    old = ArticleFactory(
        headline="Last month", published=True, published_at=now - timedelta(days=40)
    )
    CorrectionFactory(article=old, made_at=now - timedelta(days=2))
    CorrectionFactory(
        article=ArticleFactory(headline="Long ago", published=True),
        made_at=now - timedelta(days=9),
    )

    mine = as_user(client, writer).get(DESK)
    assertContains(mine, f'href="{change_url(draft)}">Harbour draft</a>', html=False)
    response = as_user(client, editor).get(DESK)
    assert "Harbour draft" not in section(response, "drafts")  # not the editor's
    review_row = section(response, "review")
    assert f'href="{change_url(review)}">Bridge story</a>' in review_row
    assert "Wendy Writer" in review_row
    submitted = timezone.localtime(now - timedelta(hours=2)).strftime("%H:%M")
    assert submitted in review_row
    assert f'href="{change_url(later)}">Election night</a>' in section(
        response, "scheduled"
    )
    assert f'href="{change_url(today)}">Ferries return</a>' in section(
        response, "today"
    )
    assert "Last month" not in section(response, "today")
    corrections = section(response, "corrections")
    assert f'href="{change_url(old)}">Last month</a>' in corrections
    assert "Long ago" not in corrections
    # Django's list of models is still there, under the desk.
    assertContains(response, 'class="app-list"')


def test_scheduled_times_are_in_the_site_time_zone(client, editor, settings):
    settings.TIME_ZONE = "Asia/Yerevan"  # UTC+4
    goes_live = timezone.now().replace(microsecond=0) + timedelta(days=1)
    goes_live = goes_live.replace(hour=6, minute=30)
    ArticleFactory(headline="Morning story", scheduled=True, published_at=goes_live)
    row = section(as_user(client, editor).get(DESK), "scheduled")
    assert "Asia/Yerevan" in row
    assert "10:30" in row


def test_writers_see_their_own_stories_editors_everyones(
    client, writer, other_writer, editor
):
    mine = ArticleFactory(headline="Mine in review", in_review=True, created_by=writer)
    theirs = ArticleFactory(
        headline="Theirs in review", in_review=True, created_by=other_writer
    )
    ArticleFactory(headline="Their draft", created_by=other_writer)
    ArticleFactory(headline="Their live one", published=True, created_by=other_writer)
    for_writer = as_user(client, writer).get(DESK)
    assert mine.headline in section(for_writer, "review")
    assert theirs.headline not in section(for_writer, "review")
    assertNotContains(for_writer, "Their draft")
    assertNotContains(for_writer, "Their live one")
    for_editor = as_user(client, editor).get(DESK)
    assert mine.headline in section(for_editor, "review")
    assert theirs.headline in section(for_editor, "review")
    assert "Their live one" in section(for_editor, "today")
    assert "Their draft" not in section(for_editor, "drafts")  # "My" drafts


def test_staff_without_story_permissions_get_no_desk(client):
    from django.contrib.auth.models import User

    user = User.objects.create_user("clerk", password="x", is_staff=True)
    response = as_user(client, user).get(DESK)
    assert response.status_code == 200
    assertNotContains(response, 'id="desk"')


@pytest.mark.parametrize("size", [1, 1000])
def test_desk_queries_do_not_grow(client, editor, django_assert_max_num_queries, size):
    now = timezone.now()
    stories = Article.objects.bulk_create(
        [
            Article(
                headline=f"Story {n}",
                slug=f"story-{n}",
                status=[
                    ArticleStatus.DRAFT,
                    ArticleStatus.IN_REVIEW,
                    ArticleStatus.PUBLISHED,
                ][n % 3],
                published_at=now + timedelta(minutes=n - size // 2)
                if n % 3 == 2
                else None,
                created_by=editor,
                last_edited_by=editor,
            )
            for n in range(size)
        ]
    )
    WorkflowEvent.objects.bulk_create(
        [
            WorkflowEvent(
                article=story,
                action=WorkflowAction.SUBMITTED,
                from_status=ArticleStatus.DRAFT,
                to_status=ArticleStatus.IN_REVIEW,
                user=editor,
            )
            for story in stories
            if story.status == ArticleStatus.IN_REVIEW
        ]
    )
    CorrectionFactory(article=stories[-1])
    as_user(client, editor).get(DESK)  # steady state: caches warm
    # sections: 5 + notices 1 + submitters 1; session, user, permissions,
    # two-factor and Django's app list make up the rest
    # +1 since the recovery codes: django-otp asks for each kind of device.
    with django_assert_max_num_queries(17):
        response = client.get(DESK)
    assertContains(response, "Story ")


# --- The review loop -----------------------------------------------------------


def test_submitting_notifies_the_editors_on_the_desk_and_by_email(
    client, writer, editor, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFINGS_REVIEW_EMAILS = True
    story = ArticleFactory(headline="Bridge reopens", created_by=writer)
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, writer, story)
    story.refresh_from_db()
    assert story.status == ArticleStatus.IN_REVIEW
    event = story.workflow_events.get()
    assert event.action == WorkflowAction.SUBMITTED
    assert list(Notice.objects.values_list("user__username", flat=True)) == ["editor"]
    assert [m.to for m in mail.outbox] == [["e@example.org"]]
    assert "Bridge reopens" in mail.outbox[0].subject
    assert change_url(story) in mail.outbox[0].body
    notices = section(as_user(client, editor).get(DESK), "notices")
    assert "Bridge reopens" in notices
    assert "submitted for review by writer" in notices.lower()
    # The writer's own desk has no notice about their own step.
    assertNotContains(as_user(client, writer).get(DESK), 'id="desk-notices"')


def test_without_mail_configured_only_the_desk_hears(
    client, writer, editor, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFINGS_REVIEW_EMAILS = False
    story = ArticleFactory(created_by=writer)
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, writer, story)
    assert mail.outbox == []
    assert Notice.objects.filter(user=editor).count() == 1


def test_an_editor_sends_a_story_back_with_a_comment_the_writer_sees(
    client, writer, editor, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFINGS_REVIEW_EMAILS = True
    story = ArticleFactory(headline="Bridge reopens", created_by=writer)
    submit(client, writer, story)
    url = reverse("desk:send-back", args=[story.pk])
    form = as_user(client, editor).get(url)
    assertContains(form, "What should the writer change?")
    assertContains(as_user(client, editor).get(change_url(story)), url)
    empty = client.post(url, {"comment": ""})
    assertContains(empty, "This field is required.")
    comment = "Please check the <b>date</b> of the vote.\nAnd add a source."
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"comment": comment})
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.status == ArticleStatus.DRAFT
    event = story.workflow_events.first()
    assert event.action == WorkflowAction.SENT_BACK
    assert event.comment == comment and event.user == editor
    assert [m.to for m in mail.outbox] == [["w@example.org"]]
    assert "add a source" in mail.outbox[0].body
    desk = as_user(client, writer).get(DESK)
    assert "Please check the &lt;b&gt;date&lt;/b&gt;" in section(desk, "drafts")
    assert "sent back to the writer by editor" in section(desk, "notices")
    page = client.get(change_url(story))
    assertContains(page, "Sent back by editor")
    assertContains(page, "Please check the &lt;b&gt;date&lt;/b&gt; of the vote.<br>")
    # Once the writer submits again, the note is no longer shown on the story.
    submit(client, writer, story)
    assertNotContains(client.get(change_url(story)), "Sent back by")


def test_only_editors_send_back_and_only_stories_in_review(client, writer, editor):
    story = ArticleFactory(created_by=writer, in_review=True)
    url = reverse("desk:send-back", args=[story.pk])
    assert as_user(client, writer).post(url, {"comment": "x"}).status_code == 403
    assertNotContains(client.get(change_url(story)), url)
    story.refresh_from_db()
    assert story.status == ArticleStatus.IN_REVIEW
    draft = ArticleFactory(created_by=writer)
    response = as_user(client, editor).post(
        reverse("desk:send-back", args=[draft.pk]), {"comment": "x"}
    )
    assert response.status_code == 302
    assert not draft.workflow_events.exists()


def test_publishing_tells_the_writer(
    client, writer, editor, settings, django_capture_on_commit_callbacks
):
    settings.BRIEFINGS_REVIEW_EMAILS = True
    story = ArticleFactory(headline="Ferries return", created_by=writer)
    BylineFactory(article=story)
    submit(client, writer, story)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        as_user(client, editor).post(
            CHANGELIST, {"action": "publish_now", ACTION_CHECKBOX_NAME: [story.pk]}
        )
    story.refresh_from_db()
    assert story.is_public
    assert [m.to for m in mail.outbox] == [["w@example.org"]]
    assert mail.outbox[0].subject == "Published: Ferries return"
    notice = Notice.objects.get(user=writer)
    assert notice.event.action == WorkflowAction.PUBLISHED
    assert "Ferries return" in section(as_user(client, writer).get(DESK), "notices")


def test_a_notice_can_be_dismissed_by_its_reader_only(client, writer, editor):
    story = ArticleFactory(headline="Bridge reopens", created_by=writer)
    submit(client, writer, story)
    notice = Notice.objects.get(user=editor)
    url = reverse("desk:dismiss-notice", args=[notice.pk])
    as_user(client, writer).post(url)
    assert Notice.objects.unread().filter(pk=notice.pk).exists()
    assert as_user(client, editor).get(url).status_code == 405
    client.post(url)
    assert not Notice.objects.unread().exists()
    assertNotContains(client.get(DESK), 'id="desk-notices"')


def test_stories_started_in_the_admin_record_their_writer_and_last_editor(
    client, writer, editor
):
    data = form_values(as_user(client, writer), reverse("admin:briefings_article_add"))
    data.update(headline="New one", slug="new-one", body="Text.")
    assert client.post(reverse("admin:briefings_article_add"), data).status_code == 302
    story = Article.objects.get(slug="new-one")
    assert story.created_by == writer and story.last_edited_by == writer
    data = form_values(as_user(client, editor), change_url(story))
    data["standfirst"] = "Edited."
    client.post(change_url(story), data)
    story.refresh_from_db()
    assert story.created_by == writer and story.last_edited_by == editor
