"""Periodic jobs, with no cron: each runs as a task that queues its next run.

`run_periodic(name)` does one job and queues itself again `run_after` its
interval; a `PeriodicJob` row per job holds the next run, so a chain queued
twice notices it is early and stops. `ensure_periodic_jobs()` (after every
`migrate`) starts a chain that is missing or broken. On a backend that cannot
defer (immediate), nothing is chained: run the prune_* commands instead.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from briefings.consent.models import ConsentRecord
from briefings.core.background import can_defer, later
from briefings.jobs.models import PeriodicJob
from briefings.newsletter.subscribers import Subscriber
from briefings.search import engine as search

logger = logging.getLogger(__name__)

DAY = 24 * 60 * 60


def prune_consent() -> str:
    cutoff = timezone.now() - timedelta(days=settings.CONSENT_RECORD_RETENTION_DAYS)
    count, _ = ConsentRecord.objects.filter(given_at__lt=cutoff).delete()
    return f"deleted {count} consent record(s)"


def prune_search_terms() -> str:
    """Search Trends kept small (see search.prune_search_terms)."""
    search.prune_search_terms()
    return "pruned search terms"


def prune_newsletter() -> str:
    count, _ = Subscriber.objects.never_confirmed().delete()
    return f"deleted {count} unconfirmed sign-up(s)"


def prune_tasks() -> str:
    """Finished task rows after TASK_RETENTION_DAYS (failed ones after 30 days),
    and tasks whose worker died while running them, marked failed."""
    now = timezone.now()
    stale = DBTaskResult.objects.running().filter(
        started_at__lt=now - timedelta(minutes=settings.TASK_STALE_MINUTES)
    )
    lost = stale.update(
        status="FAILED",
        finished_at=now,
        exception_class_path="briefings.jobs.periodic.WorkerLost",
        traceback=(
            "WorkerLost: the worker running this task stopped before it "
            f"finished (still running after {settings.TASK_STALE_MINUTES} min)."
        ),
    )
    done, _ = (
        DBTaskResult.objects.successful()
        .filter(finished_at__lt=now - timedelta(days=settings.TASK_RETENTION_DAYS))
        .delete()
    )
    failed, _ = (
        DBTaskResult.objects.failed()
        .filter(finished_at__lt=now - timedelta(days=30))
        .delete()
    )
    return f"deleted {done + failed} finished task(s); {lost} lost to a dead worker"


# name: (what it does, seconds between runs)
JOBS = {
    "prune-consent": (prune_consent, DAY),
    "prune-search-terms": (prune_search_terms, DAY),
    "prune-newsletter": (prune_newsletter, DAY),
    "prune-tasks": (prune_tasks, DAY),
}


@task
def run_periodic(name):
    """Task: run job `name` if it is due, after queueing its next run."""
    job, interval = JOBS[name]
    now = timezone.now()
    with transaction.atomic():
        row, _ = PeriodicJob.objects.select_for_update().get_or_create(
            name=name, defaults={"next_run_at": now}
        )
        if row.next_run_at > now + timedelta(seconds=60):
            return "not due: another run is queued"
        row.next_run_at = now + timedelta(seconds=interval)
        row.save(update_fields=["next_run_at"])
        # Queued first, in this transaction: a failing job still runs tomorrow.
        following = later(run_periodic, interval)
        if following is not None:
            following.enqueue(name)
    result = job()
    PeriodicJob.objects.filter(name=name).update(last_run_at=now, last_result=result)
    logger.info("Periodic job %s: %s", name, result)
    return result


def ensure_periodic_jobs(**kwargs) -> list[str]:
    """Queue every job whose chain is missing or broken; return their names.

    A chain is broken when its next run is more than an interval overdue.
    """
    if not can_defer(run_periodic):
        return []
    now = timezone.now()
    started = []
    rows = {row.name: row for row in PeriodicJob.objects.all()}
    for name, (_, interval) in JOBS.items():
        row = rows.get(name)
        if row is None or row.next_run_at < now - timedelta(seconds=interval):
            run_periodic.enqueue(name)
            started.append(name)
    return started
