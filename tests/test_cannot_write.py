"""A disk that is full or a folder that cannot be written: one line naming the file, exit
status 5, the other meetings built, every earlier output as it was; a cache that cannot be
written costs only time."""

from __future__ import annotations

import errno
import json
import os
import stat

import pytest
from click.testing import CliRunner

from briefgen import pipeline, publish
from briefgen.cli import main

from .conftest import ALPHA_YAML, write_meeting
from .test_nightly import snapshot


@pytest.fixture
def full_disk_for(monkeypatch):
    """Writing a file whose path contains any of the given pieces fails as on a full disk."""
    write = publish._temporary_beside

    def failing(pieces):
        def write_unless_full(path, data):
            if any(piece in str(path) for piece in pieces):
                raise OSError(errno.ENOSPC, "No space left on device")
            return write(path, data)

        monkeypatch.setattr(publish, "_temporary_beside", write_unless_full)

    return failing


def test_an_output_that_cannot_be_written_fails_its_meeting_alone_with_exit_status_5(tmp_path, full_disk_for):
    good, out = write_meeting(tmp_path / "a"), tmp_path / "out"
    unlucky = write_meeting(tmp_path, "unlucky")
    assert CliRunner().invoke(main, ["build", str(unlucky), "--out", str(out), "--jobs", "1"]).exit_code == 0
    before = snapshot(out / "unlucky")
    (unlucky / "alpha.yaml").write_text(ALPHA_YAML.replace("Alpha background paragraph.", "Revised."))
    full_disk_for(["unlucky/book.pdf"])
    result = CliRunner().invoke(main, ["build", str(good), str(unlucky), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 5, result.output + result.stderr
    assert result.stderr.splitlines() == [f"{out / 'unlucky' / 'book.pdf'}: cannot write: No space left on device",
                                          "briefgen: 1 of 2 meeting(s) failed"]
    assert (out / "tiny" / "book.pdf").is_file()
    after = snapshot(out / "unlucky")
    assert after == before  # the last good edition, whole: not a new book.html beside the old book.pdf
    assert not list((out / "unlucky").rglob(".*.tmp"))


def test_a_full_disk_outranks_bad_input_in_the_exit_status(tmp_path, full_disk_for):
    out = tmp_path / "out"
    broken = write_meeting(tmp_path / "b", "broken", alpha=ALPHA_YAML.replace("title:", "title: [", 1))
    unlucky = write_meeting(tmp_path, "unlucky")
    full_disk_for(["unlucky/book.pdf"])
    result = CliRunner().invoke(main, ["build", str(broken), str(unlucky), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 5, result.output + result.stderr
    assert result.stderr.startswith(f"{broken / 'alpha.yaml'}:1: YAML syntax error")
    assert "briefgen: 2 of 2 meeting(s) failed" in result.stderr


def test_an_index_that_cannot_be_written_is_reported_after_the_meetings(tmp_path, full_disk_for):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    full_disk_for(["index.html"])
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1",
                                       "--log-format", "json"])
    assert result.exit_code == 5, result.output + result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["event"] for e in events].count("artifact.written") == 6  # the meeting was built
    [problem] = [e for e in events if e["event"] == "problem"]
    assert problem["text"] == f"{out / 'index.html'}: cannot write: No space left on device"


def test_an_output_folder_that_cannot_be_made_is_one_line_and_exit_status_5(tmp_path):
    meeting, not_a_folder = write_meeting(tmp_path), tmp_path / "a-file"
    not_a_folder.write_text("")
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(not_a_folder / "out")])
    assert result.exit_code == 5
    assert result.stderr.splitlines() == [f"{not_a_folder}: cannot write: {IN_THE_WAY}"]


IN_THE_WAY = "a file is in the way: briefgen writes a folder here; move the file away"


def test_a_file_where_a_meeting_needs_a_folder_is_named_itself(tmp_path):
    """Not 'factsheets/alpha.html: File exists', which sends the reader looking for a
    fact sheet: the file in the way is named, and the book built before stays whole."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"]).exit_code == 0
    factsheets = out / "tiny" / "factsheets"
    for sheet in factsheets.iterdir():
        sheet.unlink()
    factsheets.rmdir()
    factsheets.write_text("")
    before = snapshot(out / "tiny")
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("Alpha background paragraph.", "Revised."))
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 5, result.output + result.stderr
    assert result.stderr.splitlines() == [f"{factsheets}: cannot write: {IN_THE_WAY}",
                                          "briefgen: 1 of 1 meeting(s) failed"]
    assert snapshot(out / "tiny") == before


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path, full_disk_for):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    full_disk_for(["/.cache/"])
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 0, result.output + result.stderr
    assert (out / "tiny" / "book.pdf").is_file() and not list((out / "tiny" / ".cache").rglob("*.*"))
    warnings = [line for line in result.stderr.splitlines() if "not kept" in line]
    cache = out / "tiny" / ".cache"
    assert sorted(warnings) == [  # once a folder, not once a file
        f"WARNING briefgen.publish: {cache / 'charts'}: not kept for the next build: No space left on device",
        f"WARNING briefgen.publish: {cache}: not kept for the next build: No space left on device"]


def test_outputs_take_the_umask_and_keep_a_mode_their_owner_set(tmp_path):
    """A restricted book is not made readable to all: new files follow the umask, and a
    file written over keeps the mode it had."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    old = os.umask(0o077)
    try:
        [result] = pipeline.build([meeting], out, editions=("book",), jobs_count=1)
    finally:
        os.umask(old)
    assert result.ok
    assert stat.S_IMODE((out / "tiny" / "book.pdf").stat().st_mode) == 0o600
    (out / "tiny" / "book.html").chmod(0o640)
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("Decide the alpha question.", "Decide it."))
    [result] = pipeline.build([meeting], out, editions=("book",), jobs_count=1)
    assert result.ok and out / "tiny" / "book.html" in result.outputs
    assert stat.S_IMODE((out / "tiny" / "book.html").stat().st_mode) == 0o640
