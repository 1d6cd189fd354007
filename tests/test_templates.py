"""A user's own templates folder, in every command that renders: check, serve, build."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.errors import BriefgenError
from briefgen.locate import DEFAULT_TEMPLATES
from briefgen.serve import render_preview

from .conftest import MEETING_YAML, write_meeting
from .test_nightly import snapshot
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


# --- what a user's templates may write: nothing that runs or fetches in a browser

ACTIVE_CONTENT = """\
<script src="http://127.0.0.1:9/x.js"></script>
<img src=x onerror="alert(1)" class="web-only">
<iframe src="http://127.0.0.1:9/"></iframe>
<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">
"""


def own_templates(tmp_path, name: str, add_before: str, added: str):
    """A copy of the built-in template ``name`` in a templates folder, with ``added`` inserted
    before the first ``add_before``; returns the folder and the line the insertion starts on."""
    own = tmp_path / "own"
    own.mkdir()
    text = (DEFAULT_TEMPLATES / name).read_text(encoding="utf-8")
    at = text.index(add_before)
    (own / name).write_text(text[:at] + added + text[at:], encoding="utf-8")
    return own, text.count("\n", 0, at) + 1


def check_with(meeting, own):
    return CliRunner().invoke(main, ["check", str(meeting), "--templates", str(own)])


def test_a_fact_sheet_template_that_writes_active_content_fails_its_meeting_and_keeps_earlier_outputs(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    own, line = own_templates(tmp_path, "factsheet.html", "</body>", ACTIVE_CONTENT)
    build = ["build", str(meeting), "--out", str(out), "--edition", "factsheets", "--jobs", "1"]
    assert CliRunner().invoke(main, build).exit_code == 0
    before = snapshot(out)
    result = CliRunner().invoke(main, [*build, "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    sheet = own / "factsheet.html"
    assert result.stderr.splitlines()[:4] == [
        f"{sheet}:{line}: a <script> element is not allowed in briefgen's HTML (it runs code)",
        f"{sheet}:{line + 1}: the event handler onerror= on <img> is not allowed in briefgen's HTML (it runs code)",
        f"{sheet}:{line + 2}: an <iframe> element is not allowed in briefgen's HTML (it shows another page in this one)",
        f"{sheet}:{line + 3}: <meta http-equiv> is not allowed in briefgen's HTML (it can reload or redirect the page)"]
    assert snapshot(out) == before


def test_an_event_handler_in_a_book_template_is_refused(tmp_path):
    meeting = write_meeting(tmp_path)
    own, line = own_templates(tmp_path, "book.html", "</body>", '<p onmouseover="steal()">Hover</p>\n')
    result = check_with(meeting, own)
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == (f"{own / 'book.html'}:{line}: the event handler onmouseover= on <p> "
                                             "is not allowed in briefgen's HTML (it runs code)")


FETCH_RULE = "(a page must not load anything from elsewhere: use a relative path or a data: image)"


def test_a_remote_style_sheet_is_refused(tmp_path):
    meeting = write_meeting(tmp_path)
    own, line = own_templates(tmp_path, "factsheet.html", "<style>",
                              '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">\n')
    result = check_with(meeting, own)
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == (f"{own / 'factsheet.html'}:{line}: <link href='http://127.0.0.1:9/x.css'> "
                                             f"is not allowed in briefgen's HTML {FETCH_RULE}")


def test_a_css_url_from_elsewhere_is_refused_in_a_style_sheet_and_a_style_attribute(tmp_path):
    meeting = write_meeting(tmp_path)
    added = ('<div style="background: url(\'https://127.0.0.1:9/b.png\')">x</div>\n'
             '<style>h1 { background: url(http://127.0.0.1:9/h.png); }</style>\n')
    own, line = own_templates(tmp_path, "factsheet.html", "</body>", added)
    result = check_with(meeting, own)
    assert result.exit_code == 1, result.output + result.stderr
    sheet = own / "factsheet.html"
    assert result.stderr.splitlines()[:2] == [
        f"{sheet}:{line}: CSS fetching 'https://127.0.0.1:9/b.png' in the style of a <div> is not allowed in "
        f"briefgen's HTML {FETCH_RULE}",
        f"{sheet}:{line + 1}: CSS fetching 'http://127.0.0.1:9/h.png' in a style sheet is not allowed in "
        f"briefgen's HTML {FETCH_RULE}"]


def test_harmless_markup_in_a_user_template_still_builds(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    added = '<div class="x"><a href="https://example.org">More at example.org</a></div>\n'
    own, _ = own_templates(tmp_path, "factsheet.html", "</body>", added)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--edition", "factsheets",
                                       "--jobs", "1", "--templates", str(own)])
    assert result.exit_code == 0, result.output + result.stderr
    assert added in (out / "tiny" / "factsheets" / "alpha.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("added, says", [
    ("{{ no_such_name }}\n", "template error: 'no_such_name' is undefined"),
    ("<script>steal()</script>\n", "a <script> element is not allowed in briefgen's HTML (it runs code)"),
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
    again = CliRunner().invoke(main, [*build, "--templates", str(own)])  # nothing else to do
    assert again.exit_code == 1 and again.stderr.splitlines()[0] == f"{own / 'index.html'}:{line}: {says}"
    mended = CliRunner().invoke(main, build)
    assert mended.exit_code == 0, mended.output + mended.stderr
    written = (out / "index.html").stat().st_mtime_ns
    assert CliRunner().invoke(main, build).exit_code == 0
    assert (out / "index.html").stat().st_mtime_ns == written  # up to date: not rendered again


def test_a_stamps_template_that_fails_on_the_books_pages_fails_the_book_as_an_input_error(tmp_path):
    """The overlay is rendered only once the page count is known, after check has passed."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build = ["build", str(meeting), "--out", str(out), "--jobs", "1"]
    assert CliRunner().invoke(main, build).exit_code == 0
    book = (out / "tiny" / "book.pdf").read_bytes()
    own, line = own_templates(tmp_path, "stamps.html", "<body>", "{% if pages > 1 %}{{ 1 / 0 }}{% endif %}\n")
    result = CliRunner().invoke(main, [*build, "--force", "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == f"{own / 'stamps.html'}:{line}: template error: ZeroDivisionError: division by zero"
    assert (out / "tiny" / "book.pdf").read_bytes() == book
    listed = {a["path"] for a in json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]}
    assert {"book.pdf", "factsheets/alpha.pdf", "factsheets/beta.pdf"} <= listed  # the last good book stays listed


def test_the_preview_refuses_active_content_as_a_build_does(tmp_path):
    meeting = write_meeting(tmp_path)
    own, line = own_templates(tmp_path, "book.html", "</body>", '<img src="https://127.0.0.1:9/pixel.gif">\n')
    with pytest.raises(BriefgenError) as refused:
        render_preview(meeting, tmp_path / "out", own)
    assert [str(p) for p in refused.value.problems] == [
        f"{own / 'book.html'}:{line}: <img src='https://127.0.0.1:9/pixel.gif'> is not allowed in briefgen's HTML "
        f"{FETCH_RULE}"]


@pytest.mark.parametrize("written, says", [
    ("<p>x\x01y</p>", "control character U+0001 is not allowed; save the file as plain text"),
    ("<p>x\x00y</p>", "control character U+0000 is not allowed; save the file as plain text"),
    ("<p>x\u202ey</p>", "bidirectional control character U+202E is not allowed"),
    ('<p>{{ "\\u202e" }}</p>', "bidirectional control character U+202E (written as an escape in quotes)"),
    ("<p>x\ufffey</p>", "noncharacter U+FFFE is not allowed: Unicode reserves it for programs' own use, "
                        "not for text; remove it"),
    ('<p>{{ "\\U0010FFFF" }}</p>', "noncharacter U+10FFFF (written as an escape in quotes) is not allowed"),
])
def test_a_control_character_in_a_user_template_is_refused_at_its_line(tmp_path, written, says):
    """As in a YAML or CSV file: a NUL or U+0001 was written into the page, unseen."""
    meeting, own = write_meeting(tmp_path), tmp_path / "own"
    own.mkdir()
    (own / "factsheet.html").write_text(MARKED_SHEET.replace("<p>MARKER</p>", "\n" + written), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(meeting), "--templates", str(own)])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.startswith(f"{own / 'factsheet.html'}:3: template error: {says}"), result.stderr
