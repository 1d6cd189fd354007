"""Runs a wave of independent jobs: in a process pool, or in this process for one job.

One document uses one core (WeasyPrint), so parallelism is a pool of processes, one
document each. The pool is replaced after ``JOBS_PER_WORKER`` jobs a worker: WeasyPrint's
memory is reported to grow over many documents, and fresh processes bound it. (Not with
``max_tasks_per_child``: on Python 3.11 a pool that replaces workers that way can hang.)
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

JOBS_PER_WORKER = 40


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Runner:
    """``run(fn, [args...])`` -> results in order; an exception comes back as the result."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)
        self._pool = None
        self._given = 0  # jobs given to the current pool

    def run(self, function, calls: list[tuple], on_done=None) -> list:
        """Results in the order of ``calls``; ``on_done(index)`` as each one finishes."""
        if not calls:
            return []
        if self.jobs == 1 or len(calls) == 1 and self._pool is None:
            results = []
            for index, args in enumerate(calls):
                results.append(_call(function, args))
                on_done and on_done(index)
            return results
        results = [None] * len(calls)
        batch = self.jobs * JOBS_PER_WORKER
        for first in range(0, len(calls), batch):
            pool = self._ensure_pool(min(batch, len(calls) - first))
            futures = {pool.submit(_call, function, calls[i]): i for i in range(first, min(first + batch, len(calls)))}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                on_done and on_done(futures[future])
        return results

    def warm_up(self) -> None:
        """Start the workers now, importing WeasyPrint while this process prepares HTML."""
        if self.jobs > 1:
            pool = self._ensure_pool(self.jobs)
            for _ in range(self.jobs):
                pool.submit(_warm)

    def _ensure_pool(self, coming: int) -> ProcessPoolExecutor:
        """The pool, replaced first if ``coming`` more jobs would overwork its workers."""
        if self._pool is not None and self._given + coming > self.jobs * JOBS_PER_WORKER:
            self.close()
        if self._pool is None:
            # spawn: clean interpreters, safe whatever threads this process has started
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"))
            self._given = 0
        self._given += coming
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _warm() -> None:
    import weasyprint  # noqa: F401  (the import is the point: 0.7 s paid in parallel)


def _call(function, args: tuple):
    try:
        return function(*args)
    except Exception as exc:  # returned, so one failure does not stop the wave
        return exc
