"""Running an import: files in batches, in this process or in worker processes.

`loadseed` hands its files here and prints what comes back, in file order.

In this process (`import_here`), worker processes may parse ahead (pure,
`seedfiles.read_all`) while this one writes. With `--workers N` (N > 1) and
enough files, N worker processes (`import_in_workers`) each read, parse and
write whole batches of files through their own database connection, every
file still in its own transaction. Two workers may meet the same author or
tag: the unique indexes, the importer's retry and its per-tag lock keep one
row of each (see importing.Importer).

Workers write through their own connections, so they write only to a database
server other processes reach (PostgreSQL), and only when the caller holds no
transaction open (a test's, or an outer atomic block) that their writes would
bypass. SQLite takes one writer at a time, and a second one waiting for the
lock sleeps in steps of milliseconds: there the workers parse ahead and this
process writes. Workers are forked, so they start at once with this process's
settings; where fork is unavailable they only parse.
"""

import json
import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice

from django.db import connection, connections

from briefings.importing.importer import FAILED, Importer, ImportResult, article_dict
from briefings.importing.seedfiles import (
    MIN_FILES_FOR_WORKERS,
    SeedFile,
    read,
    read_all,
)
from briefings.importing.seedfiles import default_workers as default_parsers

# Files read, looked up (Importer.prepare) and written together.
BATCH = 32
# Batches handed to the workers ahead of the printing: enough to keep them
# busy, few enough that memory does not grow with the number of files.
BATCHES_AHEAD_PER_WORKER = 2


@dataclass(frozen=True)
class RunOptions:
    status: str
    force: bool = False
    dry_run: bool = False
    as_json: bool = False


def default_workers() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


def workers_can_write() -> bool:
    """Can worker processes write to this process's database, as it sees it?"""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and "fork" in multiprocessing.get_all_start_methods()
    )


def outcomes(entries, options: RunOptions, workers: int | None = None):
    """Yield an ImportResult per (path or None, shown, problem) entry, in order.

    `workers` None means one per core (one per core but this process's when
    they only parse); 0 does everything here. Workers write when they can
    (see above), else they parse while this process writes.
    """
    entries = list(entries)
    files = sum(path is not None for path, _, _ in entries)
    writers = default_workers() if workers is None else workers
    if writers > 1 and files >= MIN_FILES_FOR_WORKERS and workers_can_write():
        yield from import_in_workers(entries, options, writers)
    else:
        # This process writes: by default it keeps a core of its own, and
        # the others parse (a second parser on two cores only competed
        # with the writer for the CPU).
        parsers = default_parsers() if workers is None else workers
        yield from import_here(entries, options, parsers)


def import_here(entries, options: RunOptions, parsers: int = 0):
    """Import in this process, `parsers` worker processes parsing ahead."""
    importer = Importer(status=options.status, force=options.force)
    paths = [path for path, _, _ in entries if path is not None]
    seeds = read_all(paths, len(paths), workers=parsers)
    pending = iter(entries)
    while batch := list(islice(pending, BATCH)):
        items = [
            (shown, problem, None if path is None else next(seeds))
            for path, shown, problem in batch
        ]
        yield from import_batch(importer, items, options)


def import_batch(importer: Importer, items, options: RunOptions):
    """ImportResults for [(shown, problem, SeedFile or None)]: one lookup for
    the batch, then a transaction per file."""
    if not options.dry_run:
        importer.prepare([seed for _, _, seed in items if seed is not None])
    results = []
    try:
        for shown, problem, seed in items:
            if seed is None:
                results.append(ImportResult(shown, FAILED, problem))
            else:
                results.append(outcome(importer, seed, shown, options))
    finally:
        # Once per batch, after its files committed: cached pages go stale.
        importer.publish_changes()
    return results


def outcome(importer: Importer, seed: SeedFile, shown: str, options: RunOptions):
    if seed.error:
        return ImportResult(shown, FAILED, seed.error)
    if options.as_json:
        data = {
            "source": shown,
            "slug": importer.slug_for(seed.path, seed.article),
            **article_dict(seed.article, list(seed.tags)),
        }
    if options.dry_run:
        result = ImportResult(
            shown,
            "parsed",
            headline=seed.article.headline,
            warnings=seed.article.warnings,
        )
    else:
        result = importer.import_seed(seed, shown)
    if options.as_json:
        if not options.dry_run:
            data["outcome"] = result.outcome
        result = ImportResult(shown, result.outcome, json.dumps(data))
    return result


# -- Worker processes ---------------------------------------------------------

_worker_importer: Importer | None = None
_worker_options: RunOptions | None = None


def _start_worker(options: RunOptions):
    global _worker_importer, _worker_options
    _worker_options = options
    _worker_importer = Importer(status=options.status, force=options.force)


def _import_in_worker(batch):
    """In a worker: read, parse and import a batch of (path, shown, problem)."""
    items = [
        (shown, problem, None if path is None else read(path))
        for path, shown, problem in batch
    ]
    return import_batch(_worker_importer, items, _worker_options)


def import_in_workers(entries, options: RunOptions, workers: int):
    """Import in `workers` forked processes, a batch at a time each; yield the
    results in file order as the batches finish."""
    # A forked process must not share this one's connections: each opens its own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(options,),
    ) as pool:
        pending = iter(entries)
        batches = iter(lambda: list(islice(pending, BATCH)), [])
        ahead = workers * BATCHES_AHEAD_PER_WORKER
        window = deque(
            pool.submit(_import_in_worker, batch) for batch in islice(batches, ahead)
        )
        while window:
            done = window.popleft().result()
            for batch in islice(batches, 1):
                window.append(pool.submit(_import_in_worker, batch))
            yield from done
