"""The output lock: a build that waits for another (--wait), and an output folder this
build may read but not write."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from briefgen import pipeline
from briefgen.cli import main
from briefgen.publish import OutputBusy, OutputLock
from briefgen.serve import Preview

from .conftest import ALPHA_YAML, PROJECT, write_meeting
from .test_nightly import documented_events, snapshot


@contextlib.contextmanager
def held_elsewhere(out, release: threading.Event | None = None):
    """The output lock held by another thread (to the lock, as another build) until the
    block ends or ``release`` is set."""
    held, release = threading.Event(), release or threading.Event()

    def hold():
        with OutputLock(out):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held.wait(30)
    try:
        yield
    finally:
        release.set()
        holder.join(30)


def test_a_build_waits_for_the_build_writing_its_folder_then_builds(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    release, said = threading.Event(), []

    def waiting(message, holder):  # the other build finishes once this one waits
        said.append((message, holder))
        release.set()

    with held_elsewhere(out, release):
        [result] = pipeline.build([meeting], out, jobs_count=1, wait=120, waiting=waiting)
    assert result.ok and out / "tiny" / "book.pdf" in result.outputs
    [(message, holder)] = said  # said once, however long the wait
    assert holder["pid"] == os.getpid() and f"(pid {os.getpid()}, " in message
    assert message.startswith(f"another briefgen build is writing to {out} ") and "waiting up to 120 s" in message


def test_a_wait_that_runs_out_exits_4_having_said_once_that_it_waited(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    with held_elsewhere(out):
        started = time.monotonic()
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--wait", "0.5"])
        waited = time.monotonic() - started
        events = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--wait", "0.5",
                                           "--log-format", "json"])
    assert result.exit_code == 4 and waited >= 0.5
    waiting, busy = result.stderr.splitlines()
    assert waiting.startswith(f"briefgen: another briefgen build is writing to {out} (pid {os.getpid()}, ")
    assert waiting.endswith("; waiting up to 0.5 s for it to finish")
    assert busy.startswith(f"briefgen: another briefgen build is still writing to {out} (pid {os.getpid()}, ")
    assert busy.endswith("after 0.5 s of waiting; run again when it has finished")
    assert not (out / "tiny").exists()
    waiting, busy = [json.loads(line) for line in events.stderr.splitlines()]
    assert (events.exit_code, waiting["event"], busy["event"], busy["exit_status"]) == (4, "build.waiting",
                                                                                       "build.busy", 4)
    assert (waiting["holder"]["pid"], waiting["wait"]) == (os.getpid(), 0.5)
    assert set(waiting) - {"event"} == documented_events()["build.waiting"]


@pytest.mark.parametrize("command", ["build", "serve"])
@pytest.mark.parametrize("seconds, says", [("nan", "nan is not a number of seconds"),
                                            ("inf", "inf is not in the range 0<=x<=1000000.0"),
                                            ("-1", "-1.0 is not in the range 0<=x<=1000000.0"),
                                            ("1e300", "1e+300 is not in the range 0<=x<=1000000.0")])
def test_a_wait_no_clock_could_count_is_a_usage_error(tmp_path, command, seconds, says):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    result = CliRunner().invoke(main, [command, str(meeting), "--out", str(out), f"--wait={seconds}"])
    assert result.exit_code == 2 and says in result.stderr
    assert not out.exists()


def test_a_build_inside_a_build_of_the_same_folder_does_not_wait_for_itself(tmp_path):
    """Its own thread holds the lock: the wait could only run out."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    started = time.monotonic()
    with OutputLock(out), pytest.raises(OutputBusy, match=f"this briefgen build is already writing to {out}"):
        pipeline.build([meeting], out, wait=120)
    assert time.monotonic() - started < 60


def test_the_preview_s_pdf_waits_as_a_build_does(tmp_path):
    meeting, out, said = write_meeting(tmp_path), tmp_path / "out", []
    preview = Preview(meeting, out, say=said.append, wait=0.3)
    with held_elsewhere(out), pytest.raises(OutputBusy, match="after 0.3 s of waiting"):
        preview.pdf("book.pdf")
    [line] = said
    assert line.startswith(f"briefgen: another briefgen build is writing to {out} (pid {os.getpid()}, ")


@pytest.mark.parametrize("stop, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_waiting_stops_the_build_at_once_leaving_nothing_behind(tmp_path, stop, status):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    with OutputLock(out):  # this process: another build, to the one started here
        before = {path: path.read_bytes() for path in out.rglob("*")}
        process = subprocess.Popen([sys.executable, "-m", "briefgen", "build", str(meeting), "--out", str(out),
                                    "--wait", "300", "--log-format", "json"], cwd=PROJECT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            assert json.loads(process.stderr.readline())["event"] == "build.waiting"
            process.send_signal(stop)
            _, errors = process.communicate(timeout=60)  # not the 300 s of the wait
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        assert {path: path.read_bytes() for path in out.rglob("*")} == before
    assert process.returncode == status
    event = json.loads(errors.splitlines()[-1])
    assert (event["event"], event["signal"]) == ("build.stopped", stop.name)
    assert "Traceback" not in errors


@pytest.fixture
def read_only():
    """Makes a folder and everything in it read-only to this process, as a folder published
    by another user is (for root, which permissions do not stop, immutable); put back after."""
    made = []

    def make(folder):
        if os.geteuid() != 0:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode & ~0o222)
        elif shutil.which("chattr") and subprocess.run(["chattr", "-R", "+i", str(folder)],
                                                       capture_output=True).returncode == 0:
            pass
        else:
            pytest.skip("running as root where files cannot be made immutable: nothing is read-only")
        made.append(folder)

    yield make
    for folder in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-R", "-i", str(folder)], check=True)
        else:
            for path in [folder, *folder.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)


@pytest.mark.parametrize("lock_file", ["kept", "none"])
def test_an_up_to_date_build_in_a_read_only_folder_succeeds_writing_nothing(tmp_path, read_only, lock_file):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"]).exit_code == 0
    if lock_file == "none":  # a folder published by copying its outputs
        (out / ".briefgen.lock").unlink()
    before = {path: path.read_bytes() for path in out.rglob("*") if path.is_file()}
    read_only(out)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"{meeting}: up to date\n", "")
    assert {path: path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_a_build_with_something_to_write_in_a_read_only_folder_fails_naming_it(tmp_path, read_only):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"]).exit_code == 0
    before = snapshot(out)
    read_only(out / "tiny")  # even where the meeting's folder alone is read-only, nothing is built
    read_only(out)
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("Alpha background paragraph.", "Revised."))
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    assert result.exit_code == 5, result.output + result.stderr
    reason = result.stderr.split("cannot be written (", 1)[1].split(")", 1)[0]
    assert reason in ("Permission denied", "Operation not permitted")
    assert result.stderr.splitlines() == [f"{out / 'tiny'}: not built: the meeting is not up to date, and the output "
                                          f"folder {out} cannot be written ({reason})",
                                          "briefgen: 1 of 1 meeting(s) failed"]
    assert snapshot(out) == before


def test_an_index_to_mend_in_a_read_only_folder_fails_naming_it(tmp_path, read_only):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"]).exit_code == 0
    (out / "index.html").unlink()
    read_only(out)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    assert result.exit_code == 5, result.output + result.stderr
    assert result.stderr.startswith(f"{out / 'index.html'}: not written: it is not up to date, and the output folder "
                                    f"{out} cannot be written (")


def test_a_build_in_a_read_only_folder_still_waits_for_the_build_writing_it(tmp_path, read_only):
    """Read-only to this build, not to its owner: the lock is taken all the same."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"]).exit_code == 0
    with held_elsewhere(out):
        read_only(out)
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--wait", "0.3"])
    assert result.exit_code == 4 and "after 0.3 s of waiting" in result.stderr


def test_a_build_killed_while_it_held_the_lock_is_not_named_as_its_holder(tmp_path):
    """Its record stays in the lock file; the build holding the lock now may not have
    written one (a folder it may not write)."""
    import fcntl

    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    out.mkdir()
    (out / ".briefgen.lock").write_text(json.dumps({"pid": int(gone.stdout), "user": "ops", "host": socket.gethostname(),
                                                    "since": "2025-10-15T02:30:05+0000"}) + "\n")
    with open(out / ".briefgen.lock") as holding:
        fcntl.flock(holding, fcntl.LOCK_EX)
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    assert result.exit_code == 4
    assert result.stderr == f"briefgen: another briefgen build is writing to {out}; run again when it has finished\n"


def test_a_fifo_in_place_of_the_lock_file_fails_the_build_at_once(tmp_path):
    """Opened as a lock file, a FIFO would hold the build until something wrote to it: for
    ever, in a nightly build."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / ".briefgen.lock")
    process = subprocess.run([sys.executable, "-m", "briefgen", "build", str(meeting), "--out", str(out)],
                             capture_output=True, text=True, timeout=120)
    assert process.returncode == 5, process.stderr
    assert process.stderr == (f"{out / '.briefgen.lock'}: cannot write: not a regular file; remove it "
                              "(briefgen makes its lock file itself)\n")
    assert sorted(path.name for path in out.iterdir()) == [".briefgen.lock"]


@pytest.mark.parametrize("target", ["a file of someone's", "nowhere"])
def test_a_symbolic_link_in_place_of_the_lock_file_is_refused_and_not_followed(tmp_path, target):
    """The build writes its name into its lock file and empties it when done: through a
    link, into a file of anyone's choosing. A link to nowhere said 'No such file'."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    out.mkdir()
    linked = tmp_path / "precious.txt"
    if target != "nowhere":
        linked.write_text("keep me\n")
    (out / ".briefgen.lock").symlink_to(linked)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 5, result.output + result.stderr
    assert result.stderr == (f"{out / '.briefgen.lock'}: cannot write: not a regular file; remove it "
                             "(briefgen makes its lock file itself)\n")
    assert (linked.read_text() == "keep me\n") if target != "nowhere" else not os.path.lexists(linked)
    assert sorted(path.name for path in out.iterdir()) == [".briefgen.lock"]


def test_a_fifo_lock_file_opened_read_only_is_refused_at_once(tmp_path):
    """A read-only output folder's lock file is opened read-only, the open a FIFO holds until
    something writes to it (the previous test's build, as a user who cannot write there).
    In a process of its own, so a hang fails the test rather than holding the suite."""
    fifo = tmp_path / ".briefgen.lock"
    os.mkfifo(fifo)
    opening = ("import sys; from pathlib import Path; from briefgen.publish import CannotWrite, open_lock_file\n"
               "try:\n    open_lock_file(Path(sys.argv[1]), writable=False)\n"
               "except CannotWrite as exc:\n    print(exc)\n")
    process = subprocess.run([sys.executable, "-c", opening, str(fifo)], capture_output=True, text=True,
                             timeout=60, cwd=PROJECT)
    assert process.returncode == 0 and "not a regular file" in process.stdout, process.stderr
