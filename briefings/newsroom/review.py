"""The review loop: who hears about each workflow step, on the desk and by e-mail.

Every status change is a WorkflowEvent (Article.record_transition, and
send_back() below). When one is created, `notify` leaves a Notice on the desk of
the people it concerns, and e-mails them when BRIEFINGS_REVIEW_EMAILS is on (by
default, when an SMTP server is configured):

- submitted for review: every Editor (whoever may publish), but not the writer;
- sent back with a comment: the story's writer;
- published or scheduled: the story's writer, unless they did it themselves.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from briefings.core.seo import absolute
from briefings.newsroom.adminsite import PUBLISH_PERMISSION
from briefings.newsroom.models import Notice
from briefings.stories.models import ArticleStatus, WorkflowAction

logger = logging.getLogger(__name__)

TO_WRITER = {
    WorkflowAction.SENT_BACK,
    WorkflowAction.PUBLISHED,
    WorkflowAction.SCHEDULED,
}


def editors():
    """Active staff who may publish (Editors, and superusers)."""
    return (
        get_user_model()
        .objects.with_perm(
            PUBLISH_PERMISSION,
            is_active=True,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .filter(is_staff=True)
    )


def writer_of(article):
    """Who wrote the story: who started it, else who last submitted it."""
    if article.created_by_id:
        return article.created_by
    submitted = (
        article.workflow_events.filter(action=WorkflowAction.SUBMITTED)
        .select_related("user")
        .first()
    )
    return submitted.user if submitted else None


def recipients(event):
    if event.action == WorkflowAction.SUBMITTED:
        people = list(editors())
    elif event.action in TO_WRITER:
        writer = writer_of(event.article)
        people = [writer] if writer is not None else []
    else:
        people = []
    return [person for person in people if person.pk != event.user_id]


def notify(event):
    """Leave a notice for everyone `event` concerns; e-mail them once committed."""
    people = recipients(event)
    Notice.objects.bulk_create(
        [Notice(user=person, event=event, created_at=event.at) for person in people]
    )
    addresses = [person.email for person in people if person.email]
    if addresses and settings.BRIEFINGS_REVIEW_EMAILS:
        transaction.on_commit(lambda: _send(event, addresses), robust=True)


def _send(event, addresses):
    article = event.article
    context = {
        "event": event,
        "article": article,
        "story_url": absolute(article.admin_url),
        "desk_url": absolute(settings.ADMIN_URL),
    }
    subject = f"{event.get_action_display()}: {article.headline}"
    body = render_to_string("briefings/email/review_notice.txt", context)
    for address in addresses:  # one message each: nobody sees the others
        send_mail(subject, body, None, [address])


def on_workflow_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        notify(instance)


def send_back(article, user, comment):
    """Return a story in review to its writer as a draft, with what to change.

    Through the story's own workflow rule (Article.move_to), like every other
    change of status: refused (WorkflowRefused) to whoever may not make it."""
    with transaction.atomic():
        return article.move_to(
            ArticleStatus.DRAFT,
            user,
            action=WorkflowAction.SENT_BACK,
            comment=comment,
        )


def last_sent_back(article):
    """The latest send-back of the story, if nothing happened to it since."""
    latest = article.workflow_events.select_related("user").first()
    if latest is not None and latest.action == WorkflowAction.SENT_BACK:
        return latest
    return None
