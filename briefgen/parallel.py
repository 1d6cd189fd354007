"""Runs jobs as they become ready: in a process pool, or in this process for ``--jobs 1``.

One document uses one core (WeasyPrint), so parallelism is a pool of processes, one
document each. Jobs are submitted as soon as their inputs exist (a book's parts while
the next meeting is still being prepared), and results are handed back as they finish,
so no wave waits for its slowest member.

Submitted jobs wait here, in priority order, and the pool is given only a few more than
it has workers: a job submitted later can still go first (a book's last stages before
another meeting's parts; a long part before short ones, so no long part is left to
finish alone at the end), and a worker never waits for this process to hand it work.

The pool is replaced after ``JOBS_PER_WORKER`` jobs a worker: WeasyPrint's memory is
reported to grow over many documents, and fresh processes bound it. (Not with
``max_tasks_per_child``: on Python 3.11 a pool that replaces workers that way can hang.)

A worker that dies (killed for memory, a crash in a C library) breaks the whole pool, and
every job the pool held comes back broken, the guilty one among them. A new pool takes
over, and those jobs run again one at a time, alone: the one that kills its worker a
second time comes back as ``WorkerDied``, and the rest of the build goes on. A worker stuck
where the time limit cannot reach it (inside a C library) is found the same way: when no
job has finished for ``stall_after`` seconds, the workers are killed.
"""

from __future__ import annotations

import gc
import heapq
import itertools
import logging
import multiprocessing
import os
import select
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

JOBS_PER_WORKER = 100
QUEUED_PER_WORKER = 2  # jobs handed to the pool per worker: one running, one ready
STARTING_AT_MOST = 10  # seconds an interrupted build waits for its workers to finish starting


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class WorkerDied(Exception):
    """A job's process ended before the job did, and did again when the job ran alone."""


ABRUPTLY = "ended abruptly (killed, out of memory, or a crash in a library)"


@dataclass(order=True)
class _Job:
    priority: tuple
    order: int
    tag: object = field(compare=False)
    function: object = field(compare=False)
    args: tuple = field(compare=False)
    died: int = field(default=0, compare=False)  # times its worker died while it was in the pool


class Runner:
    """``submit(tag, fn, args, priority)``, then ``finished()`` -> [(tag, result)] as jobs end.

    The lowest ``priority`` goes first; equal priorities in the order submitted. An
    exception raised by a job comes back as its result, so one failure stops nothing;
    so does ``WorkerDied`` for a job that kills its worker.
    """

    def __init__(self, jobs: int, stall_after: float | None = None):
        self.jobs = max(1, jobs)
        self.stall_after = stall_after  # seconds without a finished job before the workers are killed
        self._pool = None
        self._retired = []  # replaced pools, finishing what they were given
        self._given = 0  # jobs given to the current pool
        self._running: dict[Future, _Job] = {}
        self._ended: list[tuple] = []  # (tag, result) not yet asked for
        self._waiting: list[_Job] = []  # a heap
        self._suspects: list[_Job] = []  # in the pool when a worker died: to run again, alone
        self._order = itertools.count()
        self._starting: threading.Thread | None = None  # starting the pool (warm_up)
        self._stopping = False  # stop() was called: the starting thread gives no more work
        self._progress = time.monotonic()  # when a job last finished, or the pool got work
        self._why_died = ABRUPTLY

    @property
    def busy(self) -> bool:
        return bool(self._running or self._waiting or self._ended or self._suspects)

    def submit(self, tag, function, args: tuple, priority: tuple = ()) -> None:
        heapq.heappush(self._waiting, _Job(priority, next(self._order), tag, function, args))
        self._hand_out()

    def finished(self, block: bool = True) -> list[tuple]:
        """The jobs that have ended: waits for one if ``block`` and nothing has ended yet."""
        if self.jobs == 1:  # --jobs 1: run the first waiting job here, when results are asked for
            if not self._waiting:
                return []
            job = heapq.heappop(self._waiting)
            return [(job.tag, _call(job.function, job.args))]
        self.poll()
        while not self._ended and self._running and block:
            done, _ = wait(self._running, timeout=self._until_stalled(), return_when=FIRST_COMPLETED)
            if not done and self._until_stalled() == 0:
                self._kill_workers()
            self.poll()
        ended, self._ended = self._ended, []
        return ended

    def poll(self) -> None:
        """Keep the pool busy: take in the jobs that have ended, hand out waiting ones.
        Cheap, so a long step in this process can call it now and then."""
        for future in [future for future in self._running if future.done()]:
            job, failure = self._running.pop(future), future.exception()
            self._progress = time.monotonic()
            if isinstance(failure, BrokenProcessPool):
                self._worker_died(job)
            else:  # a job's own exceptions are returned by _call; this is the pool's (pickling...)
                self._ended.append((job.tag, failure or future.result()))
        self._hand_out()

    def _worker_died(self, job: _Job) -> None:
        """Its worker died while it was in the pool: it runs again, alone. If its worker dies
        again then, it is the job that kills them."""
        job.died += 1
        if job.died > 1:
            self._ended.append((job.tag, WorkerDied(f"{self._why_died}, twice")))
        else:
            self._suspects.append(job)

    def _hand_out(self) -> None:
        """Give the pool the first waiting jobs, up to a few per worker; the suspects of a
        dead worker one at a time, alone, before anything else."""
        if self.jobs == 1:
            return
        if self._suspects or any(job.died for job in self._running.values()):
            if self._suspects and not self._running:
                self._give(self._suspects.pop(0))
            return
        while self._waiting and len(self._running) < self.jobs * QUEUED_PER_WORKER:
            self._give(heapq.heappop(self._waiting))

    def _give(self, job: _Job) -> None:
        if not self._running:
            self._progress = time.monotonic()  # idle time is no stall
        self._running[self._send(_call, job.function, job.args)] = job

    def _until_stalled(self) -> float | None:
        if self.stall_after is None:
            return None
        return max(0.0, self._progress + self.stall_after - time.monotonic())

    def _kill_workers(self) -> None:
        """No job finished for ``stall_after`` seconds: a worker is stuck where its time
        limit cannot reach it. Killing the workers breaks the pool; its jobs run again alone."""
        self._why_died = f"stopped answering for {self.stall_after:g} s and was killed"
        self._kill_processes()
        self._progress = time.monotonic()

    def _kill_processes(self) -> None:
        for pool in [self._pool, *self._retired]:
            # no public way before Python 3.14's kill_workers()
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()

    def warm_up(self) -> None:
        """Start the workers now, in the background: starting them waits for the server
        that forks them to import WeasyPrint, and this process can prepare HTML meanwhile."""
        if self.jobs > 1:
            self._starting = threading.Thread(target=self._start_workers, name="briefgen-workers", daemon=True)
            self._starting.start()

    def _start_workers(self) -> None:
        try:
            for _ in range(self.jobs):
                if self._stopping:
                    return
                self._send(_warm)
        except Exception:  # no traceback from this thread: the build's own meets the failure
            log.debug("starting the workers failed", exc_info=True)  # when it gives the pool work

    def _send(self, function, *args) -> Future:
        """Give the pool one job, replacing the pool first once its workers have had their share."""
        if self._starting is not None and self._starting is not threading.current_thread():
            self._starting.join()  # the pool is this thread's alone from now on
            self._starting = None
        if self._pool is not None and self._given >= self.jobs * JOBS_PER_WORKER:
            self._pool.shutdown(wait=False)  # its workers finish their jobs, then exit
            self._retired.append(self._pool)
            self._pool = None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=_workers_context(),
                                             initializer=start_worker, initargs=(os.getpid(),))
            self._given = 0
        self._given += 1
        try:
            return self._pool.submit(function, *args)
        except BrokenProcessPool:  # a worker died: a new pool takes over
            self._pool.shutdown(wait=False)
            self._pool, self._why_died = None, ABRUPTLY
            return self._send(function, *args)

    def close(self) -> None:
        """Wait for the jobs given to the workers, then let the workers go."""
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        for pool in [*self._retired, self._pool]:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        self._pool, self._retired = None, []

    def stop(self) -> None:
        """The build was interrupted: kill the workers instead of waiting for them (one
        stuck inside a C library would not hear a Ctrl-C, and would hold the build)."""
        self._stopping = True
        if self._starting is not None:  # it may be giving the pool work: not while it shuts
            self._starting.join(timeout=STARTING_AT_MOST)
        self._kill_processes()
        for pool in [*self._retired, self._pool]:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._retired = None, []


def _workers_context():
    """Workers forked from a server process that has imported WeasyPrint once.

    Not plain fork: this process may have started threads. Not spawn: each worker, and
    each replacement, would import WeasyPrint again (0.7 s of a core each time).
    """
    start_resource_tracker()
    if "forkserver" not in multiprocessing.get_all_start_methods():  # not on every platform
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["briefgen.worker"])
    return context


QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


def start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, told to keep its warnings to itself.

    It outlives a build killed outright (SIGKILL, the OOM killer), then warns of the pool's
    semaphores left behind on the stderr it shares with the build: plain text at the end of
    a log of JSON lines. It is started with this process's -W options: one more quiets it.
    """
    from multiprocessing import resource_tracker

    sys.warnoptions.append(QUIET_TRACKER)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(QUIET_TRACKER)


def start_worker(build: int) -> None:
    """Run in each worker as it starts; ``build`` is the process id of the build."""
    end_with(build)
    collect_garbage_by_document()


def end_with(pid: int) -> None:
    """The worker ends when process ``pid`` (the build) does.

    A build killed outright (SIGKILL, or SIGTERM from ``timeout``) cannot stop its workers,
    and they would wait for work forever, with the fork server that holds them: a
    nightly job would leave four processes behind every time it was killed.
    """
    threading.Thread(target=_exit_after, args=(pid,), name="briefgen-build-watch", daemon=True).start()


_collect_after_each_job = False  # set in workers only: --jobs 1 runs jobs in the build's process


def collect_garbage_by_document() -> None:
    """A worker's garbage collection, fitted to laying out one document after another.

    What the worker has imported lives as long as it does: frozen, collections no longer
    walk it, nor copy the pages the worker shares with the fork server. A layout makes
    millions of objects, most of them alive until its PDF is written: collecting the
    young ones every 10,000 new objects rather than every 700 spares work that frees
    nothing. The cyclic garbage a document leaves (some 20,000 objects) is collected
    once it is done, in about 10 ms. Measured: a worker's first document 0.52 -> 0.43 s
    (median of 10); the peak memory of a 10-meeting shelf 123 -> 114 MiB.
    """
    global _collect_after_each_job
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    _collect_after_each_job = True


def _exit_after(pid: int) -> None:
    try:
        ended = os.pidfd_open(pid)  # readable once the process has ended (Linux)
    except (AttributeError, OSError):  # another system, or it has ended already
        while _alive(pid):
            time.sleep(1)
    else:
        select.select([ended], [], [])
    os._exit(1)


CUT_OFF = (EOFError, ConnectionError)  # what reading from a process that has died raises
ENDING_AT_MOST = 1.0  # seconds between a killed process's files closing and its end being seen


def quiet_once_the_build_ends(build: int) -> None:
    """Run in the fork server, whose parent is the build: a read cut off by the build's
    death is not told.

    A build killed outright while the server starts a worker for it leaves the server, or
    the worker just forked, reading from it. Their ``EOFError`` would be told as a
    traceback, plain text at the end of a log of JSON lines, about nothing but that death.
    """
    try:
        ended = os.pidfd_open(build)  # kept open: the forked workers inherit it
    except (AttributeError, OSError):  # another system, or it has ended already
        ended = None

    def tell(kind, error, trace) -> None:
        if not (issubclass(kind, CUT_OFF) and _has_ended(build, ended)):
            sys.__excepthook__(kind, error, trace)

    sys.excepthook = tell  # used by the server's loop, and by a worker before it runs


def _has_ended(pid: int, ended: int | None) -> bool:
    """Its files close before its end is seen: the end is waited for a moment."""
    if ended is not None:
        return bool(select.select([ended], [], [], ENDING_AT_MOST)[0])
    deadline = time.monotonic() + ENDING_AT_MOST
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone, or its number taken by another's process
        return False
    return True


def _warm() -> None:
    """Starts the workers now; imports WeasyPrint where no server could do it before."""
    from .render_pdf import import_weasyprint

    import_weasyprint()


def _call(function, args: tuple):
    try:
        return function(*args)
    except Exception as exc:  # returned, so one failure does not stop the rest
        exc.traceback_text = traceback.format_exc()  # a traceback does not cross to another process
        return exc
    finally:
        if _collect_after_each_job:
            gc.collect()
