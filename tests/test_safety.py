"""The locks behind the corpus: the URL fetcher, the time limit, the template sandbox."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import time

import jinja2
import pytest
from click.testing import CliRunner
from jinja2.sandbox import ImmutableSandboxedEnvironment

from briefgen import jobs, pipeline
from briefgen.cli import main
from briefgen.errors import BriefgenError
from briefgen.incremental import fingerprint
from briefgen.locate import DEFAULT_TEMPLATES
from briefgen.render_html import environment
from briefgen.render_pdf import LayoutRequest, lay_out, make_fetcher
from briefgen.safety import TimeLimitExceeded, time_limit

from .conftest import MEETING_YAML, SPENDING_CSV, write_meeting
from .test_hostile import Listener


@pytest.fixture
def roots(tmp_path):
    """An allowed folder with a file, and a secret beside it."""
    allowed = tmp_path / "assets"
    allowed.mkdir()
    (allowed / "ok.txt").write_text("fine", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    return allowed


def test_fetcher_reads_data_urls_and_files_in_its_roots(roots):
    fetcher = make_fetcher([roots])
    assert fetcher.fetch((roots / "ok.txt").as_uri()).read() == b"fine"
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"


def test_fetcher_refuses_everything_else(roots):
    from weasyprint.urls import FatalURLFetchingError

    listener = Listener()
    os.symlink(roots.parent / "secret.txt", roots / "link.txt")
    os.mkfifo(roots / "pipe.txt")
    port = listener.port
    refused = [
        f"http://127.0.0.1:{port}/x.png", f"https://127.0.0.1:{port}/x.png", f"ftp://127.0.0.1:{port}/x",
        f"file://127.0.0.1:{port}{roots}/ok.txt",  # urllib would hand a host to its FTP handler
        (roots.parent / "secret.txt").as_uri(), f"file://{roots}/../secret.txt", (roots / "link.txt").as_uri(),
        (roots / "pipe.txt").as_uri(), "file:///dev/zero", "file:///etc/passwd", "javascript:alert(1)",
    ]
    try:
        fetcher = make_fetcher([roots])
        for url in refused:
            with pytest.raises(FatalURLFetchingError, match="refused to fetch"):
                fetcher.fetch(url)
        time.sleep(0.2)
        assert listener.count == 0
    finally:
        listener.close()


# A garbage-collection callback (hypothesis installs one) swallows an alarm that lands in
# it, as Python ignores exceptions there; the repeated alarm then gets through (and
# pytest's hook for such exceptions is off: see pyproject.toml).


def test_a_slow_layout_is_stopped_with_a_clear_message(tmp_path):
    html = "<!DOCTYPE html><body>" + "<p>A paragraph of a long brief.</p>" * 3000 + "</body>"
    request = LayoutRequest(html, str(DEFAULT_TEMPLATES), [str(DEFAULT_TEMPLATES)], str(tmp_path / "meeting.yaml"),
                            "book", time_limit=0.05)
    with pytest.raises(BriefgenError) as caught:
        lay_out(request)
    assert str(caught.value) == (f"{tmp_path / 'meeting.yaml'}: book not written: laying it out took longer "
                                 "than 0.05 s; stopped (--time-limit sets the limit)")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)


def test_the_time_limit_gets_through_a_library_that_catches_exceptions():
    started = time.monotonic()
    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.05):
            while True:
                try:
                    time.sleep(0.01)
                except Exception:  # what a careless library does  # noqa: BLE001
                    pass
    assert time.monotonic() - started < 2


def test_a_limit_that_runs_out_at_once_leaves_no_alarm_ringing():
    """An alarm ringing before the body starts, or as it ends, escaped the clean-up: the
    alarm rang on every 0.1 s and a stray TimeLimitExceeded surfaced later as a traceback."""
    for _ in range(200):
        with contextlib.suppress(TimeLimitExceeded):
            with time_limit(1e-9):
                pass
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)


@pytest.mark.parametrize("seconds, says", [("nan", "nan is not a number of seconds"),
                                            ("inf", "inf is not in the range 0<x<=1000000.0"),
                                            ("1e300", "1e+300 is not in the range 0<x<=1000000.0")])
def test_a_time_limit_the_alarm_clock_cannot_be_set_to_is_a_usage_error(tiny_meeting, seconds, says):
    """They failed the meeting as a bug (exit status 3) once it was being prepared."""
    result = CliRunner().invoke(main, ["check", str(tiny_meeting), "--time-limit", seconds])
    assert result.exit_code == 2 and says in result.output + result.stderr


LOOPING_SHEET = """\
{% if meeting.title == "Loop" %}{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}{% endif %}
<!DOCTYPE html><html lang="en"><head><title>{{ title }}</title></head><body><h1>{{ title }}</h1></body></html>
"""


def test_a_stuck_meeting_fails_alone_and_the_others_are_built(tmp_path):
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "factsheet.html").write_text(LOOPING_SHEET, encoding="utf-8")
    good = write_meeting(tmp_path / "a")
    stuck = write_meeting(tmp_path / "b", meeting=MEETING_YAML.replace("title: Test Ministerial", "title: Loop"))
    stuck = stuck.rename(stuck.parent / "stuck")
    out = tmp_path / "out"
    started = time.monotonic()
    result = CliRunner().invoke(main, ["build", str(good), str(stuck), "--out", str(out), "--jobs", "2",
                                       "--edition", "factsheets", "--templates", str(templates), "--time-limit", "3"])
    assert time.monotonic() - started < 30
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == (f"{stuck / 'meeting.yaml'}: preparing the meeting took longer than "
                                             "3 s; stopped (--time-limit sets the limit)")
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == [
        "alpha.html", "alpha.pdf", "beta.html", "beta.pdf"]
    assert not [p for p in (out / "stuck").rglob("*") if p.is_file() and ".cache" not in p.parts]


def test_user_templates_render_in_the_sandbox_and_the_builtin_ones_do_not(tmp_path):
    own = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, own)
    builtin, sandboxed = environment(DEFAULT_TEMPLATES), environment(own)
    assert not isinstance(builtin, ImmutableSandboxedEnvironment)
    assert isinstance(sandboxed, ImmutableSandboxedEnvironment)
    for env in (builtin, sandboxed):
        assert env.undefined is jinja2.StrictUndefined and env.autoescape is True


def test_a_copy_of_the_builtin_templates_renders_the_same_in_the_sandbox(tmp_path):
    own = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, own)
    meeting = write_meeting(tmp_path)
    prepared = [jobs.prepare(str(meeting), str(tmp_path / "out" / "tiny"), pipeline.EDITIONS, str(folder), False)
                for folder in (DEFAULT_TEMPLATES, own)]
    assert prepared[0].book_html == prepared[1].book_html
    assert [s.html for s in prepared[0].factsheets] == [s.html for s in prepared[1].factsheets]


def test_a_data_file_outside_the_project_is_not_read_before_validation_refuses_it(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text(SPENDING_CSV, encoding="utf-8")
    meeting = write_meeting(tmp_path / "project" / "agendas",
                            meeting=MEETING_YAML.replace("data/spending.csv", str(outside)))
    assert "data:spending" not in fingerprint(meeting, DEFAULT_TEMPLATES)
    assert "data:incidents" in fingerprint(meeting, DEFAULT_TEMPLATES)
    assert "data:spending" in fingerprint(meeting, DEFAULT_TEMPLATES, allow_outside_paths=True)
