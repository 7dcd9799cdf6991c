"""Helpers for background work on Django's Tasks framework (django.tasks).

Tasks live next to the code they run (newsletter e-mails in newsletter.py,
renditions in models.py, Storyboard in storyboard.py...). This module adds
what the framework leaves to us:

- `retried`: a task that raises is queued again, at most TASK_ATTEMPTS times
  in all, TASK_RETRY_SECONDS x attempt later; the last failure is left failed,
  which lists it under "Failed tasks" in the admin.
- `enqueue_with_data(task, ...)`: queued so that the worker sees what the
  current transaction wrote.
- `later(task, seconds)`: the task deferred with `run_after`, or None on a
  backend that cannot defer (the immediate backend of the tests).
"""

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.tasks import task_backends
from django.tasks.backends.dummy import DummyBackend
from django.tasks.backends.immediate import ImmediateBackend
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger(__name__)

# Backends that can take a task inside the caller's transaction.
IN_TRANSACTION = (DatabaseBackend, ImmediateBackend, DummyBackend)


def can_defer(task) -> bool:
    return task_backends[task.backend].supports_defer


def later(task, seconds: float):
    """`task` to run `seconds` from now, or None if the backend cannot wait."""
    if not can_defer(task):
        return None
    return task.using(run_after=timezone.now() + timedelta(seconds=seconds))


def enqueue_with_data(task, *args, **kwargs) -> None:
    """Queue `task` so that it sees what the current transaction wrote.

    The database backend writes the task in the same transaction as the data
    (both or neither are committed), the immediate one runs it inside it; a
    backend elsewhere (Redis) is given the task once the transaction commits,
    or at once outside any transaction.
    """
    backend = task_backends[task.backend]
    if isinstance(backend, IN_TRANSACTION) or not connection.in_atomic_block:
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(functools.partial(task.enqueue, *args, **kwargs))


def retried(func):
    """Run `func`; when it raises, queue the task again, a bounded number of times.

    The task gets an `attempt` keyword (1 for the first run). Below
    TASK_ATTEMPTS the error is logged and a new attempt is queued for later;
    the last attempt re-raises, so the backend records the task as failed with
    its traceback. Backends that cannot defer (immediate) fail at once.
    """

    @functools.wraps(func)
    def wrapper(*args, attempt=1, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as error:
            task = import_string(f"{func.__module__}.{func.__name__}")
            retry = later(task, settings.TASK_RETRY_SECONDS * attempt)
            if retry is None or attempt >= settings.TASK_ATTEMPTS:
                raise
            retry.enqueue(*args, attempt=attempt + 1, **kwargs)
            logger.warning(
                "Task %s failed (attempt %s of %s), will retry: %r",
                task.name,
                attempt,
                settings.TASK_ATTEMPTS,
                error,
            )
            return {"retry": attempt + 1, "error": repr(error)}

    return wrapper
