"""A user's own templates folder, in every command that renders: check, serve, build."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.locate import DEFAULT_TEMPLATES

from .conftest import MEETING_YAML, write_meeting
from .test_safety import LOOPING_SHEET
from .test_serve import get, wait_for

MARKED_SHEET = """\
<!DOCTYPE html><html lang="en"><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><p>MARKER</p></body></html>
"""
LOOPING_FOREVER = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"


def test_check_renders_through_the_templates_and_names_the_template_line(tmp_path):
    meeting, own, out = write_meeting(tmp_path), tmp_path / "own", tmp_path / "out"
    own.mkdir()
    (own / "factsheet.html").write_text("<!DOCTYPE html>\n<html><body>\n{{ view.no_such_field }}\n</body></html>\n",
                                        encoding="utf-8")
    assert CliRunner().invoke(main, ["check", str(meeting), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(meeting), "--out", str(out), "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith(f"{own / 'factsheet.html'}:3: template error: ")
    assert "no_such_field" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()  # check writes nothing, not even the charts it drew


def test_check_reaches_the_book_parts_laid_out_for_the_pdf(tmp_path):
    meeting, own = write_meeting(tmp_path), tmp_path / "own"
    shutil.copytree(DEFAULT_TEMPLATES, own)
    assert CliRunner().invoke(main, ["check", str(meeting), "--templates", str(own)]).exit_code == 0
    book = own / "book.html"
    text = book.read_text(encoding="utf-8")
    # an error only the PDF's parts meet: the screen book is rendered with for_pdf false
    book.write_text("{% if for_pdf %}{{ only_in_the_pdf }}{% endif %}" + text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(meeting), "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith(f"{book}:1: template error: 'only_in_the_pdf' is undefined")


def test_check_stops_a_looping_template_at_the_time_limit(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("title: Test Ministerial", "title: Loop"))
    own = tmp_path / "own"
    own.mkdir()
    (own / "factsheet.html").write_text(LOOPING_SHEET, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(meeting), "--templates", str(own), "--time-limit", "2"])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == (f"{meeting / 'meeting.yaml'}: checking the meeting took longer "
                                             "than 2 s; stopped (--time-limit sets the limit)")


def test_serve_previews_the_users_templates_and_stops_one_that_loops(tmp_path):
    meeting, own = write_meeting(tmp_path), tmp_path / "own"
    own.mkdir()
    sheet = own / "factsheet.html"
    sheet.write_text(MARKED_SHEET, encoding="utf-8")
    command = [sys.executable, "-m", "briefgen", "serve", str(meeting), "--port", "0", "--out", str(tmp_path / "out"),
               "--templates", str(own), "--time-limit", "2"]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        url = lines.get(timeout=60).split(" at ")[1].split()[0]
        assert "MARKER" in get(url + "factsheets/alpha.html")

        sheet.write_text(LOOPING_FOREVER + MARKED_SHEET, encoding="utf-8")
        page, _ = wait_for(url + "factsheets/alpha.html", lambda p: 'id="briefgen-problems"' in p, deadline=30)
        assert "rendering the preview took longer than 2 s" in page
        assert "MARKER" in page  # the last good page stays, and the server still answers

        sheet.write_text(MARKED_SHEET.replace("MARKER", "MENDED"), encoding="utf-8")
        page, _ = wait_for(url + "factsheets/alpha.html", lambda p: "MENDED" in p, deadline=30)
        assert 'id="briefgen-problems"' not in page
    finally:
        process.kill()
        process.wait(timeout=10)


def own_templates(tmp_path, name: str, add_before: str, added: str):
    """A copy of the built-in template ``name`` in a templates folder, with ``added`` inserted
    before the first ``add_before``; returns the folder and the line the insertion starts on."""
    own = tmp_path / "own"
    own.mkdir()
    text = (DEFAULT_TEMPLATES / name).read_text(encoding="utf-8")
    at = text.index(add_before)
    (own / name).write_text(text[:at] + added + text[at:], encoding="utf-8")
    return own, text.count("\n", 0, at) + 1


@pytest.mark.parametrize("added, says", [
    ("{{ no_such_name }}\n", "template error: 'no_such_name' is undefined"),
])
def test_an_index_template_that_fails_is_an_input_error_and_the_last_index_stays(tmp_path, added, says):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build = ["build", str(meeting), "--out", str(out), "--edition", "factsheets", "--jobs", "1"]
    assert CliRunner().invoke(main, build).exit_code == 0
    index = (out / "index.html").read_bytes()
    own, line = own_templates(tmp_path, "index.html", "</body>", added)
    result = CliRunner().invoke(main, [*build, "--force", "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == f"{own / 'index.html'}:{line}: {says}"
    assert (out / "index.html").read_bytes() == index
