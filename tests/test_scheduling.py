"""The runner's order of work: the lowest priority first, whenever it was submitted."""

from __future__ import annotations

import time

from briefgen import parallel
from briefgen.parallel import Runner


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
    """The pool holds only a few jobs a worker, so an urgent job waits behind those only."""
    runner = Runner(2)
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
    assert ended.index("assembly") <= handed_out_before  # not last, as in submission order
