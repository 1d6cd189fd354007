"""Runs a wave of independent jobs: in a process pool, or in this process for one job.

One document uses one core (WeasyPrint), so parallelism is a pool of processes, one
document each. Workers are replaced after a number of jobs: WeasyPrint's memory is
reported to grow over many documents, and a fresh process bounds it.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

JOBS_PER_WORKER = 8


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Runner:
    """``run(fn, [args...])`` -> results in order; an exception comes back as the result."""

    def __init__(self, jobs: int):
        self.jobs = max(1, jobs)
        self._pool = None

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
        pool = self._ensure_pool()
        futures = {pool.submit(_call, function, args): index for index, args in enumerate(calls)}
        results = [None] * len(calls)
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            on_done and on_done(futures[future])
        return results

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a clean interpreter per worker, which recycling (max_tasks_per_child) needs
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=context, max_tasks_per_child=JOBS_PER_WORKER)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _call(function, args: tuple):
    try:
        return function(*args)
    except Exception as exc:  # returned, so one failure does not stop the wave
        return exc
