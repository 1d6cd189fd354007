"""Runs jobs as they become ready: in a process pool, or in this process for ``--jobs 1``.

One document uses one core (WeasyPrint), so parallelism is a pool of processes, one
document each. Jobs are submitted as soon as their inputs exist (a book's parts while
the next meeting is still being prepared), and results are handed back as they finish,
so no wave waits for its slowest member.

The pool is replaced after ``JOBS_PER_WORKER`` jobs a worker: WeasyPrint's memory is
reported to grow over many documents, and fresh processes bound it. (Not with
``max_tasks_per_child``: on Python 3.11 a pool that replaces workers that way can hang.)
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

JOBS_PER_WORKER = 100


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Runner:
    """``submit(tag, fn, args)``, then ``finished()`` -> [(tag, result)] as jobs end.

    An exception raised by a job comes back as its result, so one failure stops nothing.
    """

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)
        self._pool = None
        self._retired = []  # replaced pools, finishing what they were given
        self._given = 0  # jobs given to the current pool
        self._running: dict[Future, object] = {}
        self._queued = deque()  # --jobs 1: run here, one by one, when results are asked for

    @property
    def busy(self) -> bool:
        return bool(self._running or self._queued)

    def submit(self, tag, function, args: tuple) -> None:
        if self.jobs == 1:
            self._queued.append((tag, function, args))
        else:
            self._running[self._send(_call, function, args)] = tag

    def finished(self, block: bool = True) -> list[tuple]:
        """The jobs that have ended: waits for one if ``block`` and nothing has ended yet."""
        if self._queued:
            tag, function, args = self._queued.popleft()
            return [(tag, _call(function, args))]
        if not self._running:
            return []
        done, _ = wait(self._running, timeout=None if block else 0, return_when=FIRST_COMPLETED)
        return [(self._running.pop(future), future.result()) for future in done]

    def warm_up(self) -> None:
        """Start the workers now, importing WeasyPrint while this process prepares HTML."""
        if self.jobs > 1:
            for _ in range(self.jobs):
                self._send(_warm)

    def _send(self, function, *args) -> Future:
        """Give the pool one job, replacing the pool first once its workers have had their share."""
        if self._pool is not None and self._given >= self.jobs * JOBS_PER_WORKER:
            self._pool.shutdown(wait=False)  # its workers finish their jobs, then exit
            self._retired.append(self._pool)
            self._pool = None
        if self._pool is None:
            # spawn: clean interpreters, safe whatever threads this process has started
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"))
            self._given = 0
        self._given += 1
        return self._pool.submit(function, *args)

    def close(self) -> None:
        for pool in [*self._retired, self._pool]:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._pool, self._retired = None, []


def _warm() -> None:
    import weasyprint  # noqa: F401  (the import is the point: 0.7 s paid in parallel)


def _call(function, args: tuple):
    try:
        return function(*args)
    except Exception as exc:  # returned, so one failure does not stop the rest
        return exc
