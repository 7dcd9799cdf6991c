"""Background work: what requests no longer wait for, retries, failures editors
see, periodic jobs that queue themselves, and the Redis backend."""

import os
import uuid
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.tasks import default_task_backend, task_backends
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult
from pytest_django.asserts import assertContains

from briefings.analytics import reads
from briefings.jobs import periodic as jobs
from briefings.models import ConsentRecord, Figure, PeriodicJob, StoryDay
from briefings.newsletter import subscribers as newsletter
from briefings.newsletter.subscribers import CURRENT_CONSENT_VERSION, Subscriber
from tests.factories import ArticleFactory, BylineFactory, SubscriberFactory
from tests.test_admin import as_user, form_values, staff
from tests.test_images import change_url, picture

pytestmark = pytest.mark.django_db

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
SAME_ORIGIN = {"Origin": "http://testserver"}


def run_worker():
    """What `manage.py db_worker` does, in this process, until the queue is empty.

    (The worker's closing of old connections would close the test's own, whose
    transaction holds the test's rows.)
    """
    with mock.patch.object(db_worker, "close_old_connections"):
        call_command(
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--no-reload",
            stdout=StringIO(),
        )


# --- Requests no longer wait -----------------------------------------------------


def test_sign_up_queues_the_email_and_the_worker_sends_it(client, settings):
    settings.TASKS = DATABASE
    response = client.post(
        reverse("briefings:newsletter"),
        {"email": "reader@example.com", "consent_version": CURRENT_CONSENT_VERSION},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 302
    assert mail.outbox == []  # nothing sent while the reader waited
    [queued] = DBTaskResult.objects.exclude(
        task_path="briefings.jobs.periodic.run_periodic"
    )
    assert queued.task_path == "briefings.newsletter.subscribers.send_signup_email"
    run_worker()
    [message] = mail.outbox
    assert message.to == ["reader@example.com"]
    assert "/newsletter/confirm/" in message.body


def test_a_confirmation_for_an_address_confirmed_meanwhile_is_not_sent():
    reader = SubscriberFactory(status="pending")
    reader.confirm()
    assert newsletter.send_signup_email.call(reader.pk, "confirm") == "skipped"
    assert mail.outbox == []


def test_image_save_returns_before_renditions_which_the_worker_makes(
    client, settings, tmp_path
):
    settings.TASKS = DATABASE
    settings.MEDIA_ROOT = tmp_path / "media"
    editor = as_user(client, staff("picture-editor", "Editors"))
    story = ArticleFactory(headline="A story with a picture", published=True)
    BylineFactory(article=story)
    data = form_values(editor, change_url(story))
    data.update(
        {
            "figures-TOTAL_FORMS": "1",
            "figures-0-place": "body",
            "figures-0-position": "1",
            "figures-0-caption": "Delegates arrive.",
            "figures-0-alt_text": "Delegates walk up the steps.",
            "figures-0-upload": SimpleUploadedFile(
                "wide.jpg", picture("JPEG", (2400, 1200)), "image/jpeg"
            ),
        }
    )
    assert editor.post(change_url(story), data).status_code == 302
    figure = Figure.objects.get()
    image = figure.library_image  # the upload went into the library
    assert image.renditions == [] and image.pending_file.startswith("incoming/")
    assert not image.file  # the upload as sent is never on a page
    assertContains(editor.get(change_url(story)), "being prepared")

    run_worker()
    image.refresh_from_db()
    assert image.pending_file == ""
    assert (image.width, image.height) == (2400, 1200)
    assert len(image.renditions) == 8
    page = Client().get(story.get_absolute_url())
    assertContains(page, image.renditions[0]["name"])


def test_reads_are_handed_to_a_worker_not_written_by_the_request(settings):
    settings.TASKS = DUMMY
    story = ArticleFactory(published=True)
    BylineFactory(article=story)
    Client().get(story.get_absolute_url())
    assert not StoryDay.objects.exists()
    [queued] = default_task_backend.results
    assert queued.task.name == "write_reads"
    reads.write_reads.call(**queued.kwargs)
    assert StoryDay.objects.get(article=story).views == 1


# --- Retries and failures ---------------------------------------------------------


def test_a_failing_task_is_retried_later_then_left_failed(settings, monkeypatch):
    settings.TASKS = DUMMY
    settings.TASK_ATTEMPTS = 2
    reader = SubscriberFactory(status="pending")

    def smtp_down(subscriber):
        raise OSError("Connection refused")

    monkeypatch.setattr(newsletter, "send_confirmation", smtp_down)
    result = newsletter.send_signup_email.call(reader.pk, "confirm")
    assert result["retry"] == 2 and "Connection refused" in result["error"]
    [retry] = default_task_backend.results
    assert retry.kwargs == {"attempt": 2}
    assert retry.task.run_after > timezone.now() + timedelta(seconds=30)
    with pytest.raises(OSError):
        newsletter.send_signup_email.call(reader.pk, "confirm", attempt=2)
    assert len(default_task_backend.results) == 1  # no third attempt


def test_editors_see_failed_tasks_with_their_error_and_can_run_them_again(
    client, settings
):
    settings.TASKS = DATABASE
    settings.TASK_ATTEMPTS = 1
    reader = SubscriberFactory(status="pending")
    newsletter.send_signup_email.enqueue(reader.pk, "confirm")
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    run_worker()
    [failed] = DBTaskResult.objects.failed()
    editor = as_user(client, staff("editor", "Editors"))
    changelist = reverse("admin:briefings_failedtask_changelist")
    page = editor.get(changelist)
    assertContains(page, "send_signup_email")
    assertContains(page, "ConnectionRefusedError")

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    editor.post(changelist, {"action": "run_again", "_selected_action": [failed.pk]})
    run_worker()
    assert [m.to for m in mail.outbox] == [[reader.email]]
    assert not DBTaskResult.objects.failed().exists()


def test_writers_do_not_see_failed_tasks(client):
    as_user(client, staff("writer", "Writers"))
    changelist = reverse("admin:briefings_failedtask_changelist")
    assert client.get(changelist).status_code == 403


# --- Periodic jobs -----------------------------------------------------------------


def test_a_periodic_job_runs_and_queues_its_next_run_a_day_later(settings):
    settings.TASKS = DUMMY
    old = ConsentRecord.objects.create(
        consent_id=uuid.uuid4(), decisions={}, policy_revision=1, method="banner"
    )
    ConsentRecord.objects.filter(pk=old.pk).update(
        given_at=timezone.now() - timedelta(days=4 * 365)
    )
    assert "deleted 1" in jobs.run_periodic.call("prune-consent")
    assert not ConsentRecord.objects.exists()
    [following] = default_task_backend.results
    assert following.args == ["prune-consent"]
    wait = following.task.run_after - timezone.now()
    assert timedelta(hours=23) < wait <= timedelta(days=1)
    # A second chain (queued twice by accident) stops at its first run.
    assert jobs.run_periodic.call("prune-consent").startswith("not due")
    assert len(default_task_backend.results) == 1


def test_migrate_starts_missing_chains_once(settings):
    settings.TASKS = DUMMY
    assert sorted(jobs.ensure_periodic_jobs()) == sorted(jobs.JOBS)
    for name in jobs.JOBS:
        PeriodicJob.objects.create(
            name=name, next_run_at=timezone.now() + timedelta(hours=3)
        )
    assert jobs.ensure_periodic_jobs() == []


def test_unconfirmed_sign_ups_and_old_task_rows_are_pruned(settings):
    settings.TASKS = DATABASE
    stale = SubscriberFactory(status="pending")
    Subscriber.objects.filter(pk=stale.pk).update(
        consented_at=timezone.now() - timedelta(days=30)
    )
    assert "deleted 1" in jobs.prune_newsletter()
    reader = SubscriberFactory(status="pending")
    lost = newsletter.send_signup_email.enqueue(reader.pk, "confirm")
    done = newsletter.send_signup_email.enqueue(reader.pk, "confirm")
    DBTaskResult.objects.filter(pk=lost.id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(hours=2)
    )
    DBTaskResult.objects.filter(pk=done.id).update(
        status="SUCCESSFUL", finished_at=timezone.now() - timedelta(days=8)
    )
    assert "deleted 1 finished task(s); 1 lost" in jobs.prune_tasks()
    lost_row = DBTaskResult.objects.get(pk=lost.id)
    assert lost_row.status == "FAILED" and "WorkerLost" in lost_row.traceback


# --- Redis -------------------------------------------------------------------------


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="needs Redis (CI runs it with REDIS_URL set)",
)
def test_the_same_task_runs_through_redis_with_rq(settings):
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    settings.RQ_QUEUES = {"default": {"URL": os.environ["REDIS_URL"]}}
    queue = django_rq.get_queue("default", job_class=Job)
    queue.empty()
    reader = SubscriberFactory(status="pending")
    result = newsletter.send_signup_email.enqueue(reader.pk, "confirm")
    assert mail.outbox == []
    # What `manage.py rqworker --job-class django_tasks_rq.backend.Job` does.
    SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
    assert [m.to for m in mail.outbox] == [[reader.email]]
    assert task_backends["default"].get_result(result.id).return_value == "sent"
