"""Reading seed files: size check, parse and tag suggestions, in or out of process.

Like the parser, this module imports nothing from Django, so `loadseed` can read
and parse files in worker processes while the main process writes stories to the
database: on a two-core machine the two halves of the work overlap.
"""

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from briefings.importing.seedformat import (
    MAX_BYTES,
    ParsedArticle,
    SeedFormatError,
    parse_bytes,
)
from briefings.importing.suggester import suggest_tags

# Below this many files a worker's start-up costs more than it saves.
MIN_FILES_FOR_WORKERS = 20
# Files handed to the workers ahead of the writer: enough to keep them busy,
# few enough that memory does not grow with the number of files.
READ_AHEAD = 32


@dataclass(frozen=True)
class SeedFile:
    path: Path
    article: ParsedArticle | None = None
    tags: tuple[str, ...] = ()
    error: str = ""


def read(path: Path) -> SeedFile:
    """Read and parse one seed file; problems come back as `error`, never raised."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            # Refuse before reading a huge file into memory.
            raise SeedFormatError(
                f"the file is {size:,} bytes; a seed article may be at most "
                f"{MAX_BYTES:,} bytes"
            )
        article = parse_bytes(path.read_bytes())
    except OSError as exc:
        return SeedFile(path, error=f"cannot read the file: {exc.strerror}")
    except SeedFormatError as exc:
        return SeedFile(path, error=str(exc))
    return SeedFile(path, article, tuple(suggest_tags(article)))


def default_workers() -> int:
    """One worker per core, less the one the database writer uses."""
    return max((os.cpu_count() or 1) - 1, 0)


def read_all(
    paths: Iterable[Path], count: int, workers: int | None = None
) -> Iterator[SeedFile]:
    """Yield `read(path)` for each path, in order.

    With workers and enough files, parsing happens in that many worker processes
    (started with "spawn": they import only the pure parser), at most READ_AHEAD
    files ahead of the consumer.
    """
    workers = default_workers() if workers is None else workers
    if workers < 1 or count < MIN_FILES_FOR_WORKERS:
        yield from map(read, paths)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = iter(paths)
        window = deque(pool.submit(read, path) for path in islice(pending, READ_AHEAD))
        while window:
            done = window.popleft().result()
            for path in islice(pending, 1):
                window.append(pool.submit(read, path))
            yield done
