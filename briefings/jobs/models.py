"""Periodic jobs' next runs, and failed background tasks for the admin."""

from django.db import models
from django_tasks_db.models import DBTaskResult


class PeriodicJob(models.Model):
    """When a periodic job (briefings/jobs.py) runs next: one row per job.

    The job's task re-queues itself with `run_after`; this row lets a second
    chain (queued twice by accident) notice it is early and stop.
    """

    name = models.CharField(max_length=50, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class FailedTask(DBTaskResult):
    """Tasks that failed for good (after their retries): what editors see."""

    class Meta:
        proxy = True
        verbose_name = "failed task"
        verbose_name_plural = "failed tasks"


# --- Storyboard editions ------------------------------------------------------------
