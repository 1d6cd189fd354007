"""The runner: the lowest priority first, whenever it was submitted; a job that kills
its worker, or gets stuck where the time limit cannot reach, fails alone."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from briefgen import parallel
from briefgen.parallel import Runner, WorkerDied
from briefgen.safety import time_limit


def run_all(runner: Runner) -> list:
    ended = []
    while runner.busy:
        ended += [tag for tag, _ in runner.finished(block=True)]
    return ended


def test_one_job_at_a_time_goes_in_priority_order_then_submission_order():
    runner = Runner(1)
    for tag, priority in (("late part", (1, -5)), ("short part", (1, -1)), ("assembly", (0,)),
                          ("long part", (1, -9)), ("another short part", (1, -1))):
        runner.submit(tag, len, ("x",), priority)
    assert run_all(runner) == ["assembly", "long part", "late part", "short part", "another short part"]


def test_a_job_submitted_late_overtakes_the_waiting_ones():
    """The pool holds only a few jobs a worker, so an urgent job waits behind those only.
    Checked on the order the jobs are handed to the pool: the order they end in depends on
    how the machine schedules the workers."""
    runner, handed = Runner(2), []
    give = runner._give
    runner._give = lambda job: (handed.append(job.tag), give(job))
    try:
        runner.warm_up()
        for index in range(12):
            runner.submit(f"part {index}", time.sleep, (0.05,), (1,))
        runner.submit("assembly", time.sleep, (0.05,), (0,))
        ended = run_all(runner)
    finally:
        runner.close()
    assert sorted(ended) == sorted([f"part {index}" for index in range(12)] + ["assembly"])
    handed_out_before = 2 * parallel.QUEUED_PER_WORKER
    assert handed.index("assembly") == handed_out_before  # next, not last as in submission order


def doubled_unless_fatal(value: int, fatal: int) -> int:
    """A job for the workers (they import it from here): the fatal one kills its process."""
    time.sleep(0.05)
    if value == fatal:
        os.kill(os.getpid(), signal.SIGKILL)
    return value * 2


def returned_unless_stuck(value: int, stuck: int) -> int:
    """The stuck job blocks the alarm, as code inside a C library is out of its reach."""
    time.sleep(0.05)
    if value == stuck:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        with time_limit(0.1):
            time.sleep(60)
    return value


def results_of(runner: Runner) -> dict:
    ended = {}
    try:
        while runner.busy:
            ended.update(runner.finished(block=True))
    finally:
        runner.close()
    return ended


def test_a_job_that_kills_its_worker_fails_alone_and_the_others_finish():
    runner = Runner(2)
    for value in range(8):
        runner.submit(value, doubled_unless_fatal, (value, 3))
    ended = results_of(runner)
    died = ended.pop(3)
    assert isinstance(died, WorkerDied)
    assert str(died) == "ended abruptly (killed, out of memory, or a crash in a library), twice"
    assert ended == {value: value * 2 for value in range(8) if value != 3}


def test_a_job_stuck_out_of_the_time_limits_reach_is_killed_and_fails_alone():
    runner = Runner(2, stall_after=1.0)
    started = time.monotonic()
    for value in range(6):
        runner.submit(value, returned_unless_stuck, (value, 2))
    ended = results_of(runner)
    assert time.monotonic() - started < 20  # two stalls of a second each, and new pools
    assert str(ended.pop(2)) == "stopped answering for 1 s and was killed, twice"
    assert ended == {value: value for value in range(6) if value != 2}


def test_a_slow_job_is_not_taken_for_a_stuck_one():
    runner = Runner(2, stall_after=1.0)
    runner.submit("slow", time.sleep, (0.6,))
    runner.submit("slower", time.sleep, (0.9,))
    assert results_of(runner) == {"slow": None, "slower": None}


def test_stopping_an_interrupted_build_does_not_wait_for_a_stuck_worker():
    runner = Runner(2)
    runner.submit("stuck", returned_unless_stuck, (1, 1))
    runner.submit("quick", returned_unless_stuck, (2, 1))
    assert runner.finished(block=True) == [("quick", 2)]
    workers = list(runner._pool._processes.values())
    started = time.monotonic()
    runner.stop()
    for worker in workers:
        worker.join(timeout=10)
    assert time.monotonic() - started < 5  # the stuck job sleeps for 60 s
    assert not [worker for worker in workers if worker.is_alive()]


def test_workers_that_cannot_start_fail_in_the_builds_own_thread_without_a_thread_traceback(monkeypatch):
    def no_processes_left():
        raise OSError(11, "Resource temporarily unavailable")

    crashed = []
    monkeypatch.setattr(parallel, "_workers_context", no_processes_left)
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    runner = Runner(2)
    runner.warm_up()
    with pytest.raises(OSError, match="Resource temporarily unavailable"):
        runner.submit("a", pow, (2, 3))
    assert crashed == []
