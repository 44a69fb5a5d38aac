"""Work over many files in a process pool (parsing, counting terms), or in this process when there are few."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

PARALLEL_MIN = 64  # fewer files than this are handled in process: a pool's start costs more
CHUNK = 64  # files per pool task
# what pool workers import, loaded once in the forkserver rather than in every worker
_PRELOAD = ("lingcode.context.index", "lingcode.context.tags", "lingcode.context.terms")
T = TypeVar("T")

Job = tuple[str, list[tuple[str, str]], int, bool]
"""(root, (path, blob) pairs, max bytes, whether to count terms): one chunk of work for a pool worker."""


def in_pool(
    worker: Callable[[Job], list[T]],
    jobs: list[Job],
    progress: Callable[[int, int], None] | None,
) -> Iterator[T]:
    """Each job's results in job order, from a process pool when there are many files, else in process."""
    total = sum(len(job[1]) for job in jobs)
    done = 0
    if total >= PARALLEL_MIN and (os.cpu_count() or 1) >= 2:
        from concurrent.futures.process import BrokenProcessPool  # not imported on the warm path

        try:
            for results in _pool_map(worker, jobs):
                done += 1
                if progress:
                    progress(min(done * CHUNK, total), total)
                yield from results
            return
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # no worker processes here (an unguarded __main__, a sandbox): finish in this process
    for at in range(done, len(jobs)):
        yield from worker(jobs[at])
        if progress:
            progress(min((at + 1) * CHUNK, total), total)


def _pool_map(worker: Callable[[Job], list[T]], jobs: list[Job]) -> Iterator[list[T]]:
    from concurrent.futures import ProcessPoolExecutor

    workers = min(os.cpu_count() or 2, 8, len(jobs))
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as pool:
        yield from pool.map(worker, jobs)


def pool_context() -> BaseContext:
    """How pool workers start: forked, when nothing makes that unsafe; else from a clean forkserver.

    A forked worker starts with everything this process imported (no interpreter start, no imports:
    ~0.1-0.2 s of CPU per worker less), but fork copies other threads half-way (a UI, an HTTP client):
    with any thread besides the main one, workers come from a forkserver, which imports the modules
    they need once for all of them.
    """
    import threading
    from multiprocessing import get_context

    if sys.platform == "linux" and threading.active_count() == 1:
        return get_context("fork")
    context = get_context("forkserver")
    context.set_forkserver_preload(list(_PRELOAD))
    return context
