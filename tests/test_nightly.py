"""Nightly rebuilds: deterministic, atomic under SIGKILL, incremental, parallel-equivalent."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from briefgen import pipeline
from briefgen.changes import Changes
from briefgen.cli import main
from briefgen.merge import merge
from briefgen.publish import OutputLock
from briefgen.redact import redact, up_to
from briefgen.render_html import render_book
from briefgen.render_pdf import LayoutRequest, lay_out
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, PROJECT, REFERENCE, SPENDING_CSV, write_meeting


def snapshot(out: Path) -> dict[str, bytes]:
    """Every output file (the lock and the cache of laid-out parts are not outputs)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and p.name != ".briefgen.lock" and ".cache" not in p.parts}


def build(meeting, out, **options):
    [result] = pipeline.build([meeting], out, **options)
    assert result.ok, [str(p) for p in result.problems]
    return result


def test_two_clean_builds_are_byte_identical(tmp_path):
    meeting = write_meeting(tmp_path)
    build(meeting, tmp_path / "one", jobs_count=2)
    build(meeting, tmp_path / "two", jobs_count=1)
    one, two = snapshot(tmp_path / "one"), snapshot(tmp_path / "two")
    assert {"tiny/book.pdf", "tiny/manifest.json", "tiny/changes.json", "index.html"} <= set(one)
    assert one == two


def test_a_document_does_not_depend_on_what_its_worker_laid_out_before():
    """Workers share one font configuration between documents: that changes nothing."""
    from briefgen import render_pdf

    templates = str(PROJECT / "templates")
    first = "<html><body><h1>Other</h1><p><b>Bold</b> <i>and italic</i> text, 1234.</p></body></html>"
    second = "<html><body><p>Plain text only: the second document.</p></body></html>"
    request = lambda html: LayoutRequest(html, templates, [templates], "x")  # noqa: E731
    render_pdf.font_config.cache_clear()
    alone = lay_out(request(second)).pdf
    render_pdf.font_config.cache_clear()
    lay_out(request(first))
    assert lay_out(request(second)).pdf == alone
    assert render_pdf.font_config.cache_info().hits == 1  # the configuration was shared


def test_nothing_changed_rebuilds_nothing(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    before = snapshot(out)
    result = build(meeting, out)
    assert result.outputs == [] and result.laid_out == []
    assert len(result.skipped) == 6  # book.html, book.pdf, two fact sheets in two formats
    assert snapshot(out) == before


@pytest.mark.parametrize("make", ["folder", "dangling link", "fifo"])
def test_an_item_file_that_is_not_a_file_fails_the_next_build_as_it_fails_a_full_one(tmp_path, make):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    before = snapshot(out)
    odd = meeting / "gamma.yaml"
    {"folder": odd.mkdir, "dangling link": lambda: odd.symlink_to(meeting / "nowhere.yaml"),
     "fifo": lambda: os.mkfifo(odd)}[make]()
    [result] = pipeline.build([meeting], out)
    assert not result.ok and [p.path.name for p in result.problems if p.severity == "error"] == ["gamma.yaml"]
    assert snapshot(out) == before


def test_a_meeting_whose_fact_sheet_fails_does_not_write_its_unchanged_book_again(tmp_path):
    long = " ".join(["A long public fact for the press."] * 40)
    alpha = ALPHA_YAML + "factsheet:\n  facts:\n" + f"    - {{text: '{long}', classification: PUBLIC}}\n" * 6
    meeting, out = write_meeting(tmp_path, alpha=alpha), tmp_path / "out"
    [first] = pipeline.build([meeting], out)
    assert not first.ok and out / "tiny" / "book.pdf" in first.outputs
    written = (out / "tiny" / "book.pdf").stat().st_mtime_ns
    [second] = pipeline.build([meeting], out)
    assert not second.ok and second.outputs == []
    assert (out / "tiny" / "book.pdf").stat().st_mtime_ns == written


def test_changing_one_item_rebuilds_only_what_depends_on_it(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    manifest = json.loads((out / "tiny" / "manifest.json").read_text())
    (meeting / "beta.yaml").write_text(BETA_YAML.replace("Decide the beta question.", "Decide it now."))
    result = build(meeting, out)
    written = sorted(str(p.relative_to(out / "tiny")) for p in result.outputs)
    assert written == ["book.html", "book.pdf"]  # beta's purpose is restricted: its fact sheet is the same
    assert "item-beta" in result.laid_out and "item-alpha" not in result.laid_out
    # the front, laid out with the last build's page numbers, is right first time
    assert manifest["page_numbers"]["item-beta"] > manifest["page_numbers"]["item-alpha"]
    assert result.laid_out.count("front") == 1
    assert "factsheet:alpha" not in result.laid_out and "factsheet:beta" not in result.laid_out
    after = json.loads((out / "tiny" / "manifest.json").read_text())
    keys = lambda m: {a["path"]: a["build_key"] for a in m["artifacts"]}  # noqa: E731
    assert keys(after)["factsheets/beta.pdf"] == keys(manifest)["factsheets/beta.pdf"]
    assert keys(after)["book.pdf"] != keys(manifest)["book.pdf"]
    (meeting / "beta.yaml").write_text(BETA_YAML + "press_line: {text: Beta says this., classification: PUBLIC}\n")
    result = build(meeting, out)
    written = sorted(str(p.relative_to(out / "tiny")) for p in result.outputs)
    assert written == ["book.html", "book.pdf", "factsheets/beta.html", "factsheets/beta.pdf"]
    assert "factsheet:alpha" not in result.laid_out
    final = json.loads((out / "tiny" / "manifest.json").read_text())
    assert keys(final)["factsheets/alpha.pdf"] == keys(manifest)["factsheets/alpha.pdf"]
    assert keys(final)["factsheets/beta.pdf"] != keys(manifest)["factsheets/beta.pdf"]


def test_a_fact_sheet_laid_out_again_to_the_same_pdf_keeps_the_pdf_in_place(tmp_path):
    """A figure only the web version's full tables show: the sheet's HTML changes, its PDF
    does not, and the PDF is not written again (nor said to be)."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    pdf = out / "tiny" / "factsheets" / "beta.pdf"
    written = pdf.stat().st_ino  # a file written again is a new one, moved into place
    (meeting / "data" / "spending.csv").write_text(SPENDING_CSV.replace("Poland,POL,2025,4.48", "Poland,POL,2025,4.50"))
    result = build(meeting, out)
    assert "factsheet:beta" in result.laid_out
    assert out / "tiny" / "factsheets" / "beta.html" in result.outputs and pdf in result.skipped
    assert pdf.stat().st_ino == written
    records = {a["path"]: a for a in json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]}
    assert records["factsheets/beta.pdf"]["build_key"] == records["factsheets/beta.html"]["build_key"]


def test_a_build_of_one_edition_leaves_the_other_to_be_built(tmp_path):
    """The book built alone after an item closed to the press: the next full build must
    still withdraw that item's fact sheet, not call the meeting up to date."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    (meeting / "beta.yaml").write_text("press: closed\n" + BETA_YAML)
    pipeline.build([meeting], out, editions=("book",), jobs_count=1)
    result = build(meeting, out)
    assert not result.skipped or "factsheets/beta.pdf" not in {str(p.relative_to(out / "tiny")) for p in result.skipped}
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == ["alpha.html", "alpha.pdf"]
    assert build(meeting, out).outputs == []  # and now it is up to date


def test_a_fact_sheet_deleted_or_damaged_since_the_last_build_is_made_again(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    good = snapshot(out)
    sheets = out / "tiny" / "factsheets"
    (sheets / "alpha.html").unlink()
    with (sheets / "beta.pdf").open("ab") as damaged:
        damaged.write(b"%junk\n")
    result = build(meeting, out)
    assert {"factsheet:alpha", "factsheet:beta"} <= set(result.laid_out)
    assert snapshot(out) == good


def test_a_kept_fact_sheet_is_described_as_a_full_build_describes_it(tmp_path):
    """Its item file renamed (the id kept), the sheet is the same and is not laid out again,
    but its manifest record names the file it now comes from, not the one gone."""
    meeting, out, full = write_meeting(tmp_path), tmp_path / "out", tmp_path / "full"
    build(meeting, out)
    (meeting / "beta.yaml").unlink()
    (meeting / "beta-item.yaml").write_text("id: beta\n" + BETA_YAML)
    assert "factsheet:beta" not in build(meeting, out).laid_out
    build(meeting, full)
    def sheets(folder):
        return [a for a in json.loads((folder / "tiny" / "manifest.json").read_text())["artifacts"]
                if a["edition"] == "factsheets"]

    assert "beta-item.yaml" in sheets(out)[2]["inputs"] and "beta.yaml" not in sheets(out)[2]["inputs"]
    assert sheets(out) == sheets(full)


@pytest.mark.parametrize("damage", ["deleted", "cut short"])
def test_changes_json_deleted_or_damaged_since_the_last_build_is_made_again(tmp_path, damage):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    (meeting / "data" / "spending.csv").write_text(SPENDING_CSV.replace("Poland,POL,2025,4.48", "Poland,POL,2025,4.50"))
    build(meeting, out)
    good = snapshot(out)
    changes = out / "tiny" / "changes.json"
    changes.unlink() if damage == "deleted" else changes.write_bytes(changes.read_bytes()[:40])
    result = build(meeting, out)
    assert not result.laid_out  # the same edition: its changes, its book, from the parts kept
    assert snapshot(out) == good


def test_a_kept_fact_sheet_holding_text_restricted_since_is_withdrawn(tmp_path):
    """Its text marked restricted, the sheet that leaves it out runs to two pages and is
    not made: the last one, which still says it, must not stay published."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    secret = "{text: Alpha public message., classification: NATO RESTRICTED}"
    long_lede = "factsheet:\n  lede: {text: '" + "A public sentence of some length. " * 400 + "', classification: PUBLIC}\n"
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("{text: Alpha public message., classification: PUBLIC}",
                                                           secret) + long_lede)
    [result] = pipeline.build([meeting], out, jobs_count=1)
    messages = [str(p) for p in result.problems]
    assert not result.ok and any("fact sheet 'alpha' runs to 4 pages" in m for m in messages), messages
    assert (f"{meeting / 'alpha.yaml'}: fact sheet 'alpha' withdrawn: the one last published contains NATO "
            f"RESTRICTED text, from {meeting / 'alpha.yaml'}:6 (not quoted here)") in messages
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == ["beta.html", "beta.pdf"]
    listed = [a["path"] for a in json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]]
    assert "factsheets/alpha.pdf" not in listed and "factsheets/beta.pdf" in listed
    assert "alpha.pdf" not in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("marked_up", ["Alpha **public** message.", "Alpha [public](https://example.org/a) message."])
def test_a_kept_fact_sheet_is_withdrawn_whatever_markdown_its_restricted_text_holds(tmp_path, marked_up):
    """The guard read the kept sheet's HTML, where '<strong>' or a link's address split the
    sentence: a sheet still printing text restricted since stayed published."""
    message = "{text: Alpha public message., classification: PUBLIC}"
    meeting, out = write_meeting(tmp_path, alpha=ALPHA_YAML.replace(message, f"{{text: '{marked_up}', "
                                                                          "classification: PUBLIC}")), tmp_path / "out"
    build(meeting, out, editions=("factsheets",), jobs_count=1)
    assert "Alpha public message." in PdfReader(out / "tiny" / "factsheets" / "alpha.pdf").pages[0].extract_text()
    long_lede = "factsheet:\n  lede: {text: '" + "A public sentence of some length. " * 400 + "', classification: PUBLIC}\n"
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace(message, f"{{text: '{marked_up}', classification: "
                                                                    "NATO RESTRICTED}") + long_lede)
    [result] = pipeline.build([meeting], out, editions=("factsheets",), jobs_count=1)
    messages = [str(p) for p in result.problems]
    assert (f"{meeting / 'alpha.yaml'}: fact sheet 'alpha' withdrawn: the one last published contains NATO "
            f"RESTRICTED text, from {meeting / 'alpha.yaml'}:6 (not quoted here)") in messages
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == ["beta.html", "beta.pdf"]


def test_a_kept_fact_sheet_counting_a_data_row_restricted_since_is_withdrawn(tmp_path):
    """A row with no sentence of its own (no summary, a source others share) left the guard
    nothing to find: the kept sheet went on counting it. The manifest records each sheet's rows."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, editions=("factsheets",), jobs_count=1)
    [alpha] = [a for a in json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]
               if a["path"] == "factsheets/alpha.html"]
    assert "incident:T-2" in alpha["rows"] and "incident:T-3" not in alpha["rows"]  # outside its window
    restricted = INCIDENTS_CSV.replace("id,date", "classification,id,date").replace("\nT-", "\nPUBLIC,T-")
    restricted = restricted.replace('PUBLIC,T-2,2025-09-19,Estonia,fixed-wing,3,12,scrambled,true,"Jets over Estonia.",'
                                    'Test source C', "NATO RESTRICTED,T-2,2025-09-19,Estonia,fixed-wing,3,12,scrambled,"
                                    "true,,Test source B")
    (meeting / "data" / "incidents.csv").write_text(restricted, encoding="utf-8")
    long_lede = "factsheet:\n  lede: {text: '" + "A public sentence of some length. " * 400 + "', classification: PUBLIC}\n"
    (meeting / "alpha.yaml").write_text(ALPHA_YAML + long_lede)  # this night's sheet fails: the last one is kept
    [result] = pipeline.build([meeting], out, editions=("factsheets",), jobs_count=1)
    messages = [str(p) for p in result.problems]
    assert (f"{meeting / 'alpha.yaml'}: fact sheet 'alpha' withdrawn: the one last published counts 1 data row "
            "no longer public (not quoted here)") in messages, messages
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == ["beta.html", "beta.pdf"]


def test_editions_built_one_after_the_other_give_the_manifest_of_a_full_build(tmp_path):
    meeting, out, full = write_meeting(tmp_path), tmp_path / "out", tmp_path / "full"
    for edition in ("factsheets", "book"):
        pipeline.build([meeting], out, editions=(edition,), jobs_count=1)
    build(meeting, full)
    assert (out / "tiny" / "manifest.json").read_bytes() == (full / "tiny" / "manifest.json").read_bytes()


def test_fact_sheets_built_alone_keep_the_book_s_laid_out_parts(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    cached = sorted((out / "tiny" / ".cache").glob("*.json"))
    (meeting / "alpha.yaml").write_text(ALPHA_YAML + "# a comment\n")
    pipeline.build([meeting], out, editions=("factsheets",), jobs_count=1)
    assert sorted((out / "tiny" / ".cache").glob("*.json")) == cached


def test_an_up_to_date_meeting_tells_its_warnings_again(tmp_path):
    """--strict fails on a warning whether or not the meeting needed building."""
    meeting, out = write_meeting(tmp_path, alpha=ALPHA_YAML + "colour: blue\n"), tmp_path / "out"
    first = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    again = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    strict = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--strict"])
    warning = f"{meeting / 'alpha.yaml'}:13: warning: unknown key 'colour'"
    assert (first.exit_code, again.exit_code, strict.exit_code) == (0, 0, 1)
    assert warning in first.stderr.splitlines() and warning in again.stderr.splitlines()
    assert f"{meeting / 'alpha.yaml'}:13: unknown key 'colour'" in strict.stderr.splitlines()


def test_a_meeting_named_twice_is_built_once(tmp_path, monkeypatch):
    meeting = write_meeting(tmp_path)
    monkeypatch.chdir(tmp_path)
    results = pipeline.build([meeting, Path("tiny"), Path("./tiny/")], tmp_path / "out", editions=("book",))
    assert [result.ok for result in results] == [True]


def test_meetings_are_written_under_their_own_names_and_never_share_a_folder(tmp_path, monkeypatch):
    meeting, out = write_meeting(tmp_path / "agendas"), tmp_path / "out"
    other = write_meeting(tmp_path / "elsewhere")  # also named tiny
    monkeypatch.chdir(meeting / "data")
    result = CliRunner().invoke(main, ["build", "..", other.as_posix(), "--out", str(out), "--edition", "factsheets"])
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".briefgen")) == ["index.html", "tiny"]  # not out/.. nor out
    assert f"{other / 'meeting.yaml'}: not built: .. has the same folder name, and both would be written to " \
           f"{out / 'tiny'}" in result.stderr.splitlines()
    assert json.loads((out / "tiny" / "manifest.json").read_text())["meeting"] == "tiny"  # not ""


def test_meetings_whose_folder_names_differ_only_in_case_are_not_both_built(tmp_path):
    """On a disk that ignores case (macOS, Windows, a share the outputs are copied to) both
    would be written to one folder, each overwriting the other."""
    first, second = write_meeting(tmp_path, "Tiny"), write_meeting(tmp_path, "tiny")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(first), str(second), "--out", str(out), "--edition", "book"])
    assert result.exit_code == 1, result.stderr
    assert f"{second / 'meeting.yaml'}: not built: {first} has the same folder name but for case (Tiny, tiny), " \
           "and both would be written to one folder where names are compared ignoring case; rename one" \
        in result.stderr.splitlines()
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".briefgen")) == ["Tiny", "index.html"]


def test_manifest_describes_every_artifact(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    manifest = json.loads((out / "tiny" / "manifest.json").read_text())
    book = next(a for a in manifest["artifacts"] if a["path"] == "book.pdf")
    assert book["pages"] == len(PdfReader(out / "tiny" / "book.pdf").pages)
    assert book["classification"] == "NATO RESTRICTED" and len(book["build_key"]) == 64
    assert "alpha.yaml" in book["inputs"] and "data:spending" in book["inputs"]
    import hashlib
    for artifact in manifest["artifacts"]:
        assert artifact["sha256"] == hashlib.sha256((out / "tiny" / artifact["path"]).read_bytes()).hexdigest()


def test_parallel_assembly_matches_a_single_render(tmp_path):
    """Parts laid out apart and stitched give the pages, contents, outline and links
    of the whole book laid out in one go."""
    out = tmp_path / "out"
    build(REFERENCE, out, editions=("book",), jobs_count=2)
    assembled = PdfReader(out / REFERENCE.name / "book.pdf")
    book = merge(redact(valid := validate_meeting(REFERENCE), up_to(valid.ceiling)))
    html = render_book(book, for_pdf=True, changes=Changes(first_edition=True))  # as the build had
    whole = lay_out(LayoutRequest(html, str(PROJECT / "templates"), [str(PROJECT / "templates")], "x"))
    single = PdfReader(io.BytesIO(whole.pdf))
    assert len(assembled.pages) == len(single.pages)
    assert outline(assembled) == outline(single)
    assert len(contents_numbers(single)) == 7  # programme, four items, who's who, annex
    assert contents_numbers(assembled) == contents_numbers(single)
    assert link_targets(assembled) == link_targets(single)


def test_the_overlay_in_pieces_stamps_every_page_as_one_piece_would(tmp_path, monkeypatch):
    """The stamp overlay is laid out in pieces side by side: the numbers run on across
    them, the title is left off the cover only, and each page keeps its own banner."""
    build(REFERENCE, tmp_path / "whole", editions=("book",), jobs_count=2)
    monkeypatch.setattr(pipeline, "STAMP_PAGES", 3)
    build(REFERENCE, tmp_path / "pieces", editions=("book",), jobs_count=2)
    whole = PdfReader(tmp_path / "whole" / REFERENCE.name / "book.pdf")
    pieces = PdfReader(tmp_path / "pieces" / REFERENCE.name / "book.pdf")
    total = len(pieces.pages)
    assert total > 3 * 3
    for number, (one, other) in enumerate(zip(whole.pages, pieces.pages), start=1):
        text = other.extract_text()
        assert text == one.extract_text()
        assert text.rstrip().endswith(f"Page {number} of {total}")
        assert ("Ministers of Defence" in text.splitlines()[-1]) == (number > 1)  # the title, not on the cover


def outline(reader, entries=None, depth=0):
    found = []
    for entry in reader.outline if entries is None else entries:
        if isinstance(entry, list):
            found += outline(reader, entry, depth + 1)
        else:
            found.append((depth, entry.title, reader.get_destination_page_number(entry)))
    return found


def contents_numbers(reader):
    import re
    text = reader.pages[1].extract_text()
    return re.findall(r"\.\s*(\d+)\s*$", text, flags=re.M)  # the numbers after the leaders


def link_targets(reader):
    targets = set()
    for annotation in reader.pages[1].get("/Annots", []):
        dest = annotation.get_object().get("/Dest") or annotation.get_object()["/A"].get("/D")
        if isinstance(dest, list):
            targets.add(reader.get_page_number(dest[0].get_object()))
        else:
            targets.add(reader.get_page_number(reader.named_destinations[str(dest)].page.get_object()))
    return targets


def test_a_build_killed_midway_leaves_previous_outputs_intact(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, jobs_count=1)
    before = snapshot(out)
    (meeting / "alpha.yaml").write_text((meeting / "alpha.yaml").read_text().replace("Alpha background", "New"))
    for delay in (0.3, 1.0, 2.0):
        process = subprocess.Popen([sys.executable, "-m", "briefgen", "build", str(meeting), "--out", str(out),
                                    "--jobs", "1", "--force"], cwd=PROJECT, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for name, data in before.items():
            now = (out / name).read_bytes()
            assert now == data or _complete(name, now), f"{name} damaged after a kill at {delay}s"
    build(meeting, out)  # the next build recovers and leaves no temporary files
    assert not list(out.rglob(".*.tmp"))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_workers_of_a_killed_build_end_with_it(tmp_path, stop):
    """Only the build's own process is killed, as ``timeout`` or an operator would."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "briefgen", "build", str(meeting), "--out", str(out),
                                "--jobs", "2", "--force", "--log-format", "json"], cwd=PROJECT,
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        family = _descendants_once_working(process.pid, at_least=3)  # the fork server and two workers
        process.send_signal(stop)
        _, errors = process.communicate(timeout=30)  # to the end of stderr, shared with what outlives the build
        assert not _still_running(family)
        for line in errors.splitlines():  # multiprocessing's resource tracker warned of leaks in plain text
            json.loads(line)
        if stop == signal.SIGTERM:  # this one can be heard: a clean stop, the log says so
            assert process.returncode == 143
            assert json.loads(errors.splitlines()[-1]) == {
                "event": "build.stopped", "signal": "SIGTERM",
                "message": "briefgen: stopped (SIGTERM); what was not finished keeps its earlier outputs"}
            assert "leaked" not in errors and "Traceback" not in errors
    finally:
        _kill_what_is_left(process)


# A build killed while the fork server starts a worker for it: connected, or with the
# worker forked and waiting for what to run. Both see the build's end as a cut-off read.
# Or a live build that hangs up on the server: an error of its own, which is told.
KILLED_MID_HANDSHAKE = """
import os, signal, socket, sys, time
from multiprocessing import forkserver
from briefgen import parallel

worker = parallel._workers_context().Process(target=os.getpid)
worker.start()  # the server is up, and has served a worker
worker.join()
if sys.argv[1] == "forked":
    forkserver._forkserver.connect_to_new_process([])
else:
    asking = socket.socket(socket.AF_UNIX)
    asking.connect(forkserver._forkserver._forkserver_address)
    if sys.argv[1] == "hung up":
        asking.close()
time.sleep(2)  # the server is reading from this process now, or has told of the hang-up
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("moment", ["connected", "forked"])
def test_a_build_killed_while_a_worker_starts_leaves_no_traceback(moment):
    """The log of a killed build stays JSON lines: no traceback from the half-started worker."""
    process = subprocess.run([sys.executable, "-c", KILLED_MID_HANDSHAKE, moment], cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert process.stderr == ""


def test_a_worker_cut_off_by_a_live_build_is_still_told():
    process = subprocess.run([sys.executable, "-c", KILLED_MID_HANDSHAKE, "hung up"], cwd=PROJECT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=60)
    assert process.stderr.splitlines()[-1] == "EOFError"


def test_ctrl_c_stops_the_build_and_its_workers_with_exit_status_130(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, jobs_count=1)
    before = snapshot(out)
    process = subprocess.Popen([sys.executable, "-m", "briefgen", "build", str(meeting), "--out", str(out),
                                "--jobs", "2", "--force"], cwd=PROJECT, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        family = _descendants_once_working(process.pid, at_least=3)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal sends it: to every process of the job
        _, errors = process.communicate(timeout=30)
        assert process.returncode == 130
        assert errors.splitlines()[-1] == "briefgen: interrupted; what was not finished keeps its earlier outputs"
        assert "Traceback" not in errors
        assert not _still_running(family)
        assert snapshot(out) == before  # --force, same inputs: finished or not, the same bytes
    finally:
        _kill_what_is_left(process)


def _kill_what_is_left(process: subprocess.Popen) -> None:
    """Should the test fail, its processes do not outlive it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _still_running(family: set[int], within: float = 10) -> list[int]:
    deadline = time.monotonic() + within
    while [pid for pid in family if _running(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in family if _running(pid)]


def _descendants_once_working(pid: int, at_least: int) -> set[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        family = _descendants(pid)
        if len(family) >= at_least:
            return family
        time.sleep(0.05)
    raise AssertionError(f"the build never started {at_least} processes")


def _descendants(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        ancestor = todo.pop()
        children = [child for child, parent in parents.items() if parent == ancestor]
        found.update(children)
        todo += children
    return found


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for whoever adopted it to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _complete(name: str, data: bytes) -> bool:
    if name.endswith(".pdf"):
        return data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    if name.endswith(".html"):
        return data.rstrip().endswith(b"</html>")
    return data.endswith(b"\n")  # json files end with a newline only when complete


def test_a_second_build_on_the_same_output_exits_clearly(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    with OutputLock(out):
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out)])
    assert result.exit_code == 4
    assert "another briefgen build is writing to" in result.stderr
    with OutputLock(out):  # for machines, that too is an event
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--log-format", "json"])
    [event] = [json.loads(line) for line in result.stderr.splitlines()]
    assert (result.exit_code, event["event"], event["exit_status"]) == (4, "build.busy", 4)
    assert "another briefgen build is writing to" in event["message"]


def test_a_number_of_jobs_no_machine_could_use_is_a_usage_error(tmp_path):
    from briefgen.cli import MAX_JOBS

    meeting = write_meeting(tmp_path)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"), "--jobs", "99999"])
    assert result.exit_code == 2 and f"1<=x<={MAX_JOBS}" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make, says", [
    (os.mkfifo, "exists and is not a folder"),
    (lambda path: path.symlink_to("nowhere"), "is a link to nothing"),
])
def test_an_output_folder_that_is_a_fifo_or_a_broken_link_is_a_usage_error(tmp_path, make, says):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    make(out)
    for command in ("build", "serve"):
        result = CliRunner().invoke(main, [command, str(meeting), "--out", str(out)])
        assert result.exit_code == 2 and f"'{out}' {says}" in result.stderr, result.stderr


@pytest.mark.parametrize("command", ["build", "check", "serve"])
@pytest.mark.parametrize("option", ["--out", "--templates"])
def test_a_folder_option_given_the_next_option_as_its_value_is_a_usage_error(tmp_path, monkeypatch, command, option):
    """click takes the token after --out as its value, even when it is an option: the build
    went into a folder named --log-format. Meant, such a folder is written ./-name."""
    from briefgen import serve

    meeting = write_meeting(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(serve, "make_server", lambda *args: None)  # taken for a folder, it served forever
    monkeypatch.setattr(serve, "serve_forever", lambda *args, **kwargs: None)
    (tmp_path / "--verbose").mkdir()  # there: --templates finds it, so only the name can refuse it
    result = CliRunner().invoke(main, [command, str(meeting), option, "--verbose"])
    assert result.exit_code == 2, result.output + result.stderr
    assert (f"Invalid value for '{option}': '--verbose' looks like an option, not a folder: "
            "write ./--verbose if you mean a folder of that name") in " ".join(result.stderr.split())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["--verbose", "tiny"]


def test_an_output_folder_named_like_an_option_is_refused_as_a_json_event(tmp_path, monkeypatch):
    meeting = write_meeting(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", "--log-format", "json"])
    [event] = [json.loads(line) for line in result.stderr.splitlines()]
    assert (result.exit_code, event["event"], event["exit_status"]) == (2, "usage_error", 2)
    assert "write ./--log-format if you mean a folder of that name" in event["message"]
    assert not (tmp_path / "--log-format").exists()


def test_json_log_is_one_event_per_line(tmp_path):
    meeting = write_meeting(tmp_path)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"),
                                       "--log-format", "json", "--jobs", "1"])
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.stderr.splitlines()]
    kinds = {event["event"] for event in events}
    assert {"layout.done", "artifact.written", "meeting.done", "build.done"} <= kinds
    assert events[-1] == {"event": "build.done", "failed": 0, "meetings": 1, "written": 6}


def test_a_problem_event_names_its_file_as_its_text_does_in_every_build(tmp_path, monkeypatch):
    """A stale data set: its path in the event was absolute when found, relative when told
    again; a machine grouping the nights' warnings by path saw two files."""
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("2025-10-15", "2026-06-01"))
    monkeypatch.chdir(tmp_path)
    args = ["build", "tiny", "--out", "out", "--log-format", "json", "--jobs", "1"]
    paths = []
    for _ in range(2):  # the build that finds it, then one that tells it again
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.stderr
        problems = [event for event in map(json.loads, result.stderr.splitlines()) if event["event"] == "problem"]
        assert problems and all(event["text"].startswith(f"{event['path']}: ") for event in problems), problems
        paths.append(sorted(event["path"] for event in problems))
    assert paths[0] == paths[1] and str(meeting) not in str(paths)


def test_kept_charts_are_the_ones_the_meeting_shows(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    charts = out / "tiny" / ".cache" / "charts"
    before = {path.name for path in charts.glob("*.svg64")}
    assert before, "the tiny meeting shows charts"
    (meeting / "data" / "spending.csv").write_text(SPENDING_CSV.replace("Poland,POL,2025,4.48", "Poland,POL,2025,4.50"))
    build(meeting, out)
    after = {path.name for path in charts.glob("*.svg64")}
    assert len(after) == len(before) and after != before  # the redrawn chart replaced the old one


def test_a_fifo_in_place_of_a_kept_chart_is_drawn_over(tmp_path):
    """Reading it would wait for a writer for ever."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    kept = sorted((out / "tiny" / ".cache" / "charts").glob("*.svg64"))[0]
    kept.unlink()
    os.mkfifo(kept)
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("Decide the alpha question.", "Decide it."))
    build(meeting, out)
    assert kept.is_file()


def test_kept_charts_are_drawn_again_by_other_code_and_by_force(tmp_path, monkeypatch):
    from briefgen import charts

    key = charts.draw("incidents_over_time", "alt", ["Poland"], []).key
    monkeypatch.setattr(charts, "versions", lambda: {"briefgen-code": "other", "matplotlib": "9.9"})
    assert charts.draw("incidents_over_time", "alt", ["Poland"], []).key != key
    monkeypatch.undo()
    charts._drawn.clear()  # drawn earlier in this process: the test is about the kept files
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, editions=("factsheets",))
    kept = sorted((out / "tiny" / ".cache" / "charts").glob("*.svg64"))
    good = [path.read_text() for path in kept]
    stale = base64.b64encode(b'<?xml version="1.0"?><svg><text>STALE CHART</text></svg>').decode()
    for path in kept:
        path.write_text(stale)  # whole, but not what this code draws
    charts._drawn.clear()
    build(meeting, out, editions=("factsheets",), force=True)
    assert [path.read_text() for path in kept] == good
    sheets = " ".join(p.read_text(encoding="utf-8") for p in (out / "tiny" / "factsheets").glob("*.html"))
    assert stale not in sheets


def test_a_kept_chart_that_is_not_a_whole_svg_is_drawn_again(tmp_path):
    """A cache file goes into the HTML as it is: tampered with or cut short, it is not used."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, editions=("factsheets",))
    kept = sorted((out / "tiny" / ".cache" / "charts").glob("*.svg64"))
    good = kept[0].read_text()
    kept[0].write_text('AAAA" onerror="alert(1)" x="')
    kept[1].write_text(kept[1].read_text()[:200])
    build(meeting, out, editions=("factsheets",), force=True)
    sheets = " ".join(p.read_text(encoding="utf-8") for p in (out / "tiny" / "factsheets").glob("*.html"))
    assert "onerror" not in sheets and kept[0].read_text() == good
    assert base64.b64decode(kept[1].read_text()).rstrip().endswith(b"</svg>")


def test_changes_since_the_last_edition(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    first = json.loads((out / "tiny" / "changes.json").read_text())
    assert first["first_edition"] is True and first["classification"] == "NATO RESTRICTED"
    (meeting / "data" / "incidents.csv").write_text(
        INCIDENTS_CSV + 'T-9,2025-10-01,Poland,drone,2,,none,false,"A new one.",Src\n')
    (meeting / "data" / "spending.csv").write_text(SPENDING_CSV.replace("Poland,POL,2025,4.48", "Poland,POL,2025,4.50"))
    build(meeting, out)
    changes = json.loads((out / "tiny" / "changes.json").read_text())
    assert changes["new_incidents"] == [{"id": "T-9", "date": "2025-10-01", "country": "Poland", "type": "drone",
                                         "items": ["Alpha item on drones"], "classification": "PUBLIC", "mark": "PUBLIC"}]
    first_keys = {"ally", "year", "before", "after", "classification", "mark"}  # the keys later ones add to
    assert [{k: v for k, v in f.items() if k in first_keys} for f in changes["changed_figures"]] == [
        {"ally": "Poland", "year": 2025, "before": "4.48", "after": "4.50", "classification": "PUBLIC", "mark": "PUBLIC"}]
    html = (out / "tiny" / "book.html").read_text()
    assert "New incident T-9" in html and "Poland 2025, 4.48% → 4.50% of GDP" in html
    build(meeting, out, force=True)  # the same inputs again: the same edition, the same changes
    assert json.loads((out / "tiny" / "changes.json").read_text()) == changes
    alpha = meeting / "alpha.yaml"  # written again with CRLF and a comment: the brief says the same
    alpha.write_bytes(b"# reviewed\r\n" + alpha.read_bytes().replace(b"\n", b"\r\n"))
    build(meeting, out)
    assert json.loads((out / "tiny" / "changes.json").read_text())["changed_items"] == []
    alpha.write_text(ALPHA_YAML.replace("Decide the alpha question.", "Decide the alpha question now."))
    build(meeting, out)
    assert json.loads((out / "tiny" / "changes.json").read_text())["changed_items"] == ["Alpha item on drones"]


def test_a_picture_replaced_in_assets_revises_the_brief_that_shows_it(tmp_path):
    from .test_hostile import _png

    alpha = ALPHA_YAML.replace("Decide the alpha question.", '"Decide the alpha question. ![map](assets/map.png)"')
    meeting, out = write_meeting(tmp_path, alpha=alpha), tmp_path / "out"
    (meeting / "assets").mkdir()
    (meeting / "assets" / "map.png").write_bytes(_png(8, 8))
    build(meeting, out)
    (meeting / "beta.yaml").write_text(BETA_YAML.replace("Decide the beta question.", "Decide it now."))
    build(meeting, out)
    (meeting / "assets" / "map.png").write_bytes(_png(16, 16))
    build(meeting, out)
    changes = json.loads((out / "tiny" / "changes.json").read_text())
    assert changes["changed_items"] == ["Alpha item on drones"]  # not beta's, of the edition before


def test_several_meetings_in_a_pool_that_replaces_its_workers(tmp_path, monkeypatch):
    from briefgen import parallel

    monkeypatch.setattr(parallel, "JOBS_PER_WORKER", 1)  # a fresh pool every two documents
    meetings = [write_meeting(tmp_path / name) for name in ("a", "b")]
    for meeting, target in zip(meetings, ("one", "two")):
        meeting.rename(meeting.parent / target)
    results = pipeline.build([tmp_path / "a" / "one", tmp_path / "b" / "two"], tmp_path / "out", jobs_count=2)
    assert all(result.ok for result in results)
    assert (tmp_path / "out" / "one" / "book.pdf").is_file() and (tmp_path / "out" / "two" / "book.pdf").is_file()


def lay_out_unless_doomed(request: LayoutRequest):
    """A worker's layout (workers import it from here) that kills its process on one brief."""
    if "Doomed paragraph" in request.html:
        os.kill(os.getpid(), signal.SIGKILL)
    return lay_out(request)


def test_a_document_that_kills_its_worker_fails_its_meeting_alone(tmp_path, monkeypatch):
    good, out = write_meeting(tmp_path / "a"), tmp_path / "out"
    doomed = write_meeting(tmp_path, "doomed")
    build(doomed, out)
    before = snapshot(out / "doomed")
    (doomed / "alpha.yaml").write_text(ALPHA_YAML.replace("Alpha background paragraph.", "Doomed paragraph."))
    monkeypatch.setattr(pipeline, "lay_out", lay_out_unless_doomed)
    result = CliRunner().invoke(main, ["build", str(good), str(doomed), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 1, result.output + result.stderr
    assert result.stderr.splitlines()[0] == (
        f"{doomed / 'meeting.yaml'}: book not written: the process laying out its part 'item-alpha' "
        "ended abruptly (killed, out of memory, or a crash in a library), twice")
    assert (out / "tiny" / "book.pdf").is_file() and len(PdfReader(out / "tiny" / "book.pdf").pages) > 1
    after = snapshot(out / "doomed")
    assert set(after) == set(before)
    assert [after[name] == before[name] for name in ("book.html", "book.pdf")] == [True, True]
    listed = [{a["path"]: a["sha256"] for a in json.loads(files["manifest.json"])["artifacts"]}
              for files in (before, after)]
    assert listed[1]["book.pdf"] == listed[0]["book.pdf"]  # the last good book stays in the manifest
    # nothing was written (alpha's fact sheet shows none of its restricted background), so the
    # manifest is the last good build's, with the old inputs' keys: tried again next time
    assert after["manifest.json"] == before["manifest.json"]


def lay_out_with_a_bug(request: LayoutRequest):
    """A worker's layout (workers import it from here) that meets a bug on one brief."""
    if "Buggy paragraph" in request.html:
        raise RuntimeError("a bug met in one brief")
    return lay_out(request)


def test_a_bug_met_in_one_meeting_fails_it_alone_with_exit_status_3(tmp_path, monkeypatch):
    good, out = write_meeting(tmp_path / "a"), tmp_path / "out"
    buggy = write_meeting(tmp_path, "buggy", alpha=ALPHA_YAML.replace("Alpha background paragraph.",
                                                                       "Buggy paragraph."))
    monkeypatch.setattr(pipeline, "lay_out", lay_out_with_a_bug)
    result = CliRunner().invoke(main, ["build", str(good), str(buggy), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 3, result.output + result.stderr
    assert result.stderr.splitlines() == [
        f"{buggy / 'meeting.yaml'}: internal error while laying out item-alpha: RuntimeError: a bug met in "
        "one brief (a bug in briefgen: --verbose shows the traceback)",
        "briefgen: 1 of 2 meeting(s) failed"]
    assert (out / "tiny" / "book.pdf").is_file() and not (out / "buggy" / "book.pdf").exists()
    verbose = CliRunner().invoke(main, ["build", str(buggy), "--out", str(out), "--jobs", "1", "--verbose"])
    assert verbose.exit_code == 3
    assert "Traceback" in verbose.stderr and 'raise RuntimeError("a bug met in one brief")' in verbose.stderr


def test_a_bug_met_preparing_one_meeting_fails_it_alone(tmp_path, monkeypatch):
    good, out = write_meeting(tmp_path / "a"), tmp_path / "out"
    buggy = write_meeting(tmp_path, "buggy")
    prepare = pipeline.jobs.prepare

    def prepare_with_a_bug(directory, *args, **kwargs):
        if directory.endswith("buggy"):
            raise KeyError("a bug met preparing one meeting")
        return prepare(directory, *args, **kwargs)

    monkeypatch.setattr(pipeline.jobs, "prepare", prepare_with_a_bug)
    results = pipeline.build([buggy, good], out, editions=("factsheets",), jobs_count=1)
    assert [(r.directory.name, r.ok, r.internal_error) for r in results] == [("buggy", False, True),
                                                                            ("tiny", True, False)]
    assert str(results[0].problems[0]).startswith(
        f"{buggy / 'meeting.yaml'}: internal error while preparing the meeting: KeyError: ")
    assert (out / "tiny" / "factsheets" / "alpha.pdf").is_file()


def test_weasyprint_remarks_from_the_workers_are_reported_once_a_meeting(tmp_path):
    meeting, templates = write_meeting(tmp_path), tmp_path / "templates"
    templates.mkdir()
    css = (PROJECT / "templates" / "factsheet.css").read_text(encoding="utf-8")
    (templates / "factsheet.css").write_text(css + "\nbody { frobnicate: 3; }\n", encoding="utf-8")
    args = ["build", str(meeting), "--templates", str(templates), "--edition", "factsheets"]
    text = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "one"), "--jobs", "2"])
    assert text.exit_code == 0, text.stderr
    remarks = [line for line in text.stderr.splitlines() if "frobnicate" in line]
    assert len(remarks) == 1 and "WeasyPrint: Ignored `frobnicate: 3`" in remarks[0]  # two sheets, said once
    machine = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "two"), "--jobs", "1", "--log-format", "json"])
    events = [json.loads(line) for line in machine.stderr.splitlines()]
    warnings = [event for event in events if event["event"] == "layout.warning"]
    assert [(w["meeting"], "frobnicate" in w["message"]) for w in warnings] == [("tiny", True)]
    assert not [event for event in events if event.get("logger") == "weasyprint.progress"]
    strict = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "three"), "--jobs", "1", "--strict"])
    assert strict.exit_code == 1  # --strict: WeasyPrint's warnings fail the run too, named by their item
    assert any(re.fullmatch(rf"{re.escape(str(meeting))}/(alpha|beta)\.yaml: WeasyPrint: Ignored `frobnicate: 3` "
                            r"at \d+:\d+, unknown property\.", line) for line in strict.stderr.splitlines()), strict.stderr


def test_weasyprint_remarks_are_told_again_while_up_to_date_and_fail_a_later_strict_build(tmp_path):
    """A day's build without --strict, then the nightly one with it and nothing changed:
    the remarks are the build's warnings, and --strict fails on them as on any other."""
    meeting, templates, out = write_meeting(tmp_path), tmp_path / "templates", tmp_path / "out"
    templates.mkdir()
    css = (PROJECT / "templates" / "factsheet.css").read_text(encoding="utf-8")
    (templates / "factsheet.css").write_text(css + "\nbody { frobnicate: 3; }\n", encoding="utf-8")
    args = ["build", str(meeting), "--templates", str(templates), "--out", str(out)]
    first = CliRunner().invoke(main, args)
    again = CliRunner().invoke(main, args)
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert (first.exit_code, again.exit_code, strict.exit_code) == (0, 0, 1), strict.stderr
    told = re.compile(rf"{re.escape(str(meeting))}/(alpha|beta)\.yaml: (warning: )?WeasyPrint: Ignored `frobnicate: 3`")
    assert "up to date" in again.stdout and any(told.match(line) for line in again.stderr.splitlines())
    assert any(told.match(line) and "warning: " not in line for line in strict.stderr.splitlines()), strict.stderr


def test_a_fact_sheet_kept_unchanged_keeps_its_weasyprint_remarks(tmp_path):
    """Only the book changes (restricted text, on no sheet): the sheets are kept, not laid
    out, and their remarks stay the build's warnings, so the nightly --strict fails on them."""
    meeting, templates, out = write_meeting(tmp_path), tmp_path / "templates", tmp_path / "out"
    templates.mkdir()
    css = (PROJECT / "templates" / "factsheet.css").read_text(encoding="utf-8")
    (templates / "factsheet.css").write_text(css + "\nbody { frobnicate: 3; }\n", encoding="utf-8")
    args = ["build", str(meeting), "--templates", str(templates), "--out", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    alpha = ALPHA_YAML.replace("Alpha background paragraph.", "Alpha background paragraph, revised.")
    (meeting / "alpha.yaml").write_text(alpha, encoding="utf-8")
    book_only = CliRunner().invoke(main, args)
    assert book_only.exit_code == 0 and "factsheets" not in book_only.stdout, book_only.stdout
    assert "frobnicate" in book_only.stderr
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1 and "wrote" not in strict.stdout, strict.stdout + strict.stderr  # nothing to do
    assert "WeasyPrint: Ignored `frobnicate: 3`" in strict.stderr


def test_python_warnings_during_a_layout_are_kept_as_its_remarks(capsys):
    """Pillow warns of a huge image with a Python warning: in a worker it went to stderr raw."""
    import warnings

    from briefgen.render_pdf import weasyprint_remarks

    with weasyprint_remarks() as remarks:
        warnings.warn("Image size (92160000 pixels) exceeds limit", UserWarning)
    assert remarks == ["UserWarning: Image size (92160000 pixels) exceeds limit"]
    assert capsys.readouterr().err == ""


def test_a_long_shelf_holds_only_a_few_meetings_in_memory_at_once(tmp_path, monkeypatch):
    meetings = [write_meeting(tmp_path, f"meeting-{index}") for index in range(6)]
    held, most = [0], [0]
    prepare, release = pipeline.jobs.prepare, pipeline.Plan.release

    def counted_prepare(*args, **kwargs):
        held[0] += 1
        most[0] = max(most[0], held[0])
        return prepare(*args, **kwargs)

    def counted_release(plan):
        held[0] -= 1
        release(plan)

    monkeypatch.setattr(pipeline.jobs, "prepare", counted_prepare)
    monkeypatch.setattr(pipeline.Plan, "release", counted_release)
    results = pipeline.build(meetings, tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert [result.ok for result in results] == [True] * 6
    assert held[0] == 0 and most[0] == 3  # --jobs 1: one meeting being laid out, two waiting


@pytest.mark.parametrize("name, content", [
    ("manifest.json", "[]"), ("manifest.json", '{"artifacts": 5}'),
    ("manifest.json", '{"title": "x", "date": "y", "artifacts": [{"path": "book.pdf"}]}'),
    ("manifest.json", None),  # a pipe: reading it would wait for ever
    ("manifest.json", "[" * 100_000), (".editions.json", "[" * 100_000),  # nested too deep to read
    (".editions.json", "[1, 2]"), (".editions.json", '{"current": {"items": 1}}'),
    ("part", "[1]"), ("part", '{"pdf": "not base64 at all!"}'),
])
def test_state_files_briefgen_did_not_write_are_ignored_and_rewritten(tmp_path, name, content):
    """Cut short, edited by hand or replaced: the meeting is built as if they were not there."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out, editions=("book",))
    if name == "part":
        targets = sorted((out / "tiny" / ".cache").glob("*.json"))
    else:
        targets = [out / "tiny" / name]
    for target in targets:
        target.unlink()
        os.mkfifo(target) if content is None else target.write_text(content)
    (meeting / "alpha.yaml").write_text(ALPHA_YAML.replace("Decide the alpha question.", "Decide it."))
    result = build(meeting, out, editions=("book",))
    assert out / "tiny" / "book.pdf" in result.outputs
    assert json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]
    assert build(meeting, out, editions=("book",)).outputs == []  # and the next build finds them whole


def test_the_build_key_covers_the_built_in_templates_a_user_s_folder_falls_back_on(tmp_path):
    from briefgen.incremental import fingerprint

    meeting, templates = write_meeting(tmp_path), tmp_path / "templates"
    templates.mkdir()
    (templates / "factsheet.css").write_text("body { color: black; }\n", encoding="utf-8")
    prints = fingerprint(meeting, templates)
    assert "templates:factsheet.css" in prints and "builtin-templates:book.html" in prints
    assert "builtin-templates:book.html" not in fingerprint(meeting, PROJECT / "templates")


def test_the_build_key_covers_briefgen_s_own_code(monkeypatch):
    """An editable install changes the code, not the version."""
    from briefgen import incremental

    before = incremental.code_print()
    monkeypatch.setattr(incremental.Path, "read_bytes", lambda self: b"other code")
    assert incremental.code_print() != before


def test_the_manifest_s_check_knows_every_field_of_an_artifact():
    """Else every manifest would be refused, and every meeting rebuilt every night."""
    from dataclasses import fields

    from briefgen.publish import ARTIFACT_FIELDS, ARTIFACT_OPTIONAL, Artifact

    assert {*ARTIFACT_FIELDS, *ARTIFACT_OPTIONAL} == {f.name for f in fields(Artifact)} - {"written"}


def test_a_meeting_renamed_since_its_build_is_left_out_of_the_index(tmp_path):
    meeting, out = write_meeting(tmp_path / "agendas"), tmp_path / "out"
    build(meeting, out)
    assert json.loads((out / "tiny" / "manifest.json").read_text())["source"] == "../../agendas/tiny"
    renamed = meeting.rename(meeting.with_name("tiny-2"))
    build(renamed, out)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="./tiny-2/book.pdf"' in index and 'href="./tiny/' not in index


def test_a_meeting_deleted_since_its_build_is_left_out_of_the_index_when_the_rest_is_up_to_date(tmp_path):
    import shutil

    kept, gone = (write_meeting(tmp_path / "agendas", name) for name in ("tiny", "gone"))
    out = tmp_path / "out"
    pipeline.build([kept, gone], out)
    assert 'href="./gone/book.pdf"' in (out / "index.html").read_text(encoding="utf-8")
    shutil.rmtree(gone)
    assert build(kept, out).outputs == []  # up to date
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="./tiny/book.pdf"' in index and 'href="./gone/' not in index
    written = (out / "index.html").stat().st_ino  # a file written again is a new one, moved into place
    build(kept, out)
    assert (out / "index.html").stat().st_ino == written  # the same index is not written again


def test_a_meeting_back_since_it_was_left_out_of_the_index_is_listed_again_though_up_to_date(tmp_path):
    """A share of agendas not mounted one night, a folder moved aside and back: the index
    lists what the output folder holds again, though no meeting needs building."""
    kept, away = (write_meeting(tmp_path / "agendas", name) for name in ("tiny", "away"))
    out = tmp_path / "out"
    pipeline.build([kept, away], out)
    aside = away.rename(tmp_path / "aside")
    build(kept, out)
    assert 'href="./away/' not in (out / "index.html").read_text(encoding="utf-8")
    aside.rename(away)
    assert [result.outputs for result in pipeline.build([kept, away], out)] == [[], []]  # up to date
    assert 'href="./away/book.pdf"' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("damage", ["deleted", "edited", "fifo", "fifo-sha256"])
def test_an_index_deleted_or_damaged_since_is_made_again_when_everything_is_up_to_date(tmp_path, damage):
    meeting, out = write_meeting(tmp_path / "agendas"), tmp_path / "out"
    build(meeting, out, editions=("book",))
    index = (out / "index.html").read_bytes()
    if damage == "edited":
        (out / "index.html").write_bytes(index[: len(index) // 2])  # cut short by a full disk, say
    else:
        damaged = out / (".briefgen-index.sha256" if damage == "fifo-sha256" else "index.html")
        damaged.unlink()
        if damage != "deleted":  # a pipe: reading it would wait for ever
            os.mkfifo(damaged)
    assert build(meeting, out, editions=("book",)).outputs == []  # every meeting up to date
    assert (out / "index.html").read_bytes() == index


def test_a_folder_named_as_the_mark_of_a_failed_index_fails_no_build(tmp_path):
    """The mark left while a user's index.html fails is a file: a folder of its name is not
    it (and made every build that wrote the index an internal error, exit status 3)."""
    meeting, out = write_meeting(tmp_path / "agendas"), tmp_path / "out"
    build(meeting, out, editions=("book",))
    (out / ".briefgen-index-failed").mkdir()
    (out / "index.html").unlink()
    build(meeting, out, editions=("book",))
    assert (out / "index.html").is_file() and (out / ".briefgen-index-failed").is_dir()


def test_an_input_saved_during_the_build_is_built_again_by_the_next(tmp_path, monkeypatch):
    """Fingerprinted before it was saved, built from the text saved: put back as it was
    when fingerprinted, the file must not make the next build call the outputs up to date."""
    from briefgen import jobs

    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    alpha, prepare = meeting / "alpha.yaml", jobs._prepare

    def saved_meanwhile(*args, **kwargs):
        alpha.write_text(ALPHA_YAML.replace("Alpha public message.", "Edited public message."))
        return prepare(*args, **kwargs)

    monkeypatch.setattr(jobs, "_prepare", saved_meanwhile)
    build(meeting, out, jobs_count=1)
    monkeypatch.undo()
    alpha.write_text(ALPHA_YAML)
    result = build(meeting, out, jobs_count=1)
    assert out / "tiny" / "factsheets" / "alpha.html" in result.outputs
    assert "Alpha public message." in (out / "tiny" / "factsheets" / "alpha.html").read_text(encoding="utf-8")


def test_a_new_title_or_venue_lays_out_no_brief_again(tmp_path):
    """The book's PDF metadata is its front's: the other parts are the same pages whatever
    the meeting's title and venue, and are not laid out again for them."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    build(meeting, out)
    (meeting / "meeting.yaml").write_text(MEETING_YAML.replace("Test Ministerial", "Test Council")
                                          .replace("Test House", "Other House"))
    result = build(meeting, out)
    assert not [name for name in result.laid_out if name.startswith("item-") or name == "back"]
    (meeting / "meeting.yaml").write_text(MEETING_YAML)  # the same two editions, laid out afresh
    build(meeting, tmp_path / "clean")
    (meeting / "meeting.yaml").write_text(MEETING_YAML.replace("Test Ministerial", "Test Council")
                                          .replace("Test House", "Other House"))
    build(meeting, tmp_path / "clean", force=True)
    assert (out / "tiny" / "book.pdf").read_bytes() == (tmp_path / "clean" / "tiny" / "book.pdf").read_bytes()
    assert PdfReader(out / "tiny" / "book.pdf").metadata.title == "Test Council: briefing book"


def test_a_second_project_building_into_the_same_output_folder_leaves_the_first_s_meeting_alone(tmp_path):
    first, second = write_meeting(tmp_path / "one" / "agendas"), write_meeting(tmp_path / "two" / "agendas")
    out = tmp_path / "out"
    build(first, out)
    before = snapshot(out)
    result = CliRunner().invoke(main, ["build", str(second), "--out", str(out)])
    assert result.exit_code == 1
    assert f"{second / 'meeting.yaml'}: not built: {out / 'tiny'} holds the outputs of {first}, which still exists" \
        in result.stderr
    assert snapshot(out) == before
    first.rename(first.with_name("moved"))  # the first meeting is gone: its folder may be taken
    build(second, out)  # the same inputs as the first's, so the same files: only the manifest changes
    assert json.loads((out / "tiny" / "manifest.json").read_text())["source"] == "../../two/agendas/tiny"
    assert 'href="./tiny/book.pdf"' in (out / "index.html").read_text(encoding="utf-8")


def test_a_project_moved_since_its_build_keeps_its_meeting_in_the_index(tmp_path):
    meeting, out = write_meeting(tmp_path / "old" / "agendas"), tmp_path / "out"
    build(meeting, out)
    moved = (tmp_path / "old").rename(tmp_path / "new") / "agendas" / "tiny"
    assert build(moved, out).outputs == []  # nothing to lay out or write again but the manifest
    assert json.loads((out / "tiny" / "manifest.json").read_text())["source"] == "../../new/agendas/tiny"
    assert 'href="./tiny/book.pdf"' in (out / "index.html").read_text(encoding="utf-8")


def test_the_index_links_no_file_deleted_since_while_the_other_edition_is_built(tmp_path):
    meeting, out = write_meeting(tmp_path / "agendas"), tmp_path / "out"
    build(meeting, out)
    (out / "tiny" / "book.pdf").unlink()
    assert build(meeting, out, editions=("factsheets",)).outputs == []  # the fact sheets are up to date
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="./tiny/book.pdf"' not in index and 'href="./tiny/book.html"' in index
    build(meeting, out)  # the book made again is linked again
    assert 'href="./tiny/book.pdf"' in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("arguments, environment, says", [
    (["--jobs", "0"], {}, "0 is not in the range"),
    (["--no-such-option"], {}, "No such option"),
    ([], {"SOURCE_DATE_EPOCH": "yesterday"}, "SOURCE_DATE_EPOCH='yesterday' is not a time"),
])
def test_a_usage_error_with_a_json_log_is_an_event(tmp_path, arguments, environment, says):
    meeting = write_meeting(tmp_path)
    for log_format in (["--log-format", "json"], ["--log-format=json"]):
        result = CliRunner(env=environment).invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"),
                                                          *log_format, *arguments])
        [event] = [json.loads(line) for line in result.stderr.splitlines()]
        assert (result.exit_code, event["event"], event["exit_status"]) == (2, "usage_error", 2)
        assert says in event["message"]


def sigterm_to_self():
    os.kill(os.getpid(), signal.SIGTERM)  # Python runs the handler before the next line


def test_a_sigterm_python_dropped_still_stops_the_build_with_exit_status_143(tmp_path, monkeypatch):
    def build_dropping_it(*args, **kwargs):
        with contextlib.suppress(BaseException):  # as Python does in an import's callback or a __del__
            sigterm_to_self()
        return pipeline.Results()

    monkeypatch.setattr(pipeline, "build", build_dropping_it)
    before = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(main, ["build", str(write_meeting(tmp_path)), "--log-format", "json"])
    assert result.exit_code == 143 and json.loads(result.stderr.splitlines()[-1])["event"] == "build.stopped"
    assert signal.getsignal(signal.SIGTERM) == before  # put back: nothing is raised while Python shuts down


DROPPING_A_SIGTERM = """
import os, signal, sys
from briefgen import cli, pipeline

class Dropping:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises here, where Python drops it

def build(*args, **kwargs):
    Dropping()
    return pipeline.Results()

pipeline.build = build
cli.main(["build", sys.argv[1], "--log-format", "json"])
"""


def test_a_sigterm_python_dropped_prints_no_traceback_amid_the_json_log(tmp_path):
    """Python tells what it drops on stderr ('Exception ignored in: ...'), in plain text."""
    process = subprocess.run([sys.executable, "-c", DROPPING_A_SIGTERM, str(write_meeting(tmp_path))],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert process.returncode == 143, process.stderr
    assert [json.loads(line)["event"] for line in process.stderr.splitlines()][-1] == "build.stopped"


def test_a_sigterm_while_the_report_is_printed_stops_the_build_with_exit_status_143(tmp_path, monkeypatch):
    from briefgen import cli

    monkeypatch.setattr(pipeline, "build", lambda *args, **kwargs: pipeline.Results([pipeline.MeetingResult(tmp_path)]))
    monkeypatch.setitem(cli._REPORT, "json", lambda result, verb: sigterm_to_self())
    result = CliRunner().invoke(main, ["build", str(write_meeting(tmp_path)), "--log-format", "json"])
    assert result.exit_code == 143 and json.loads(result.stderr.splitlines()[-1])["event"] == "build.stopped"


def documented_events() -> dict[str, set[str]]:
    """README's table of JSON log events: each event's fields."""
    table = {}
    for names, fields in re.findall(r"^\| (`[\w.]+`(?:, `[\w.]+`)*) \| (`\w+`(?:, `\w+`)*) \|", (PROJECT / "README.md")
                                    .read_text(encoding="utf-8"), re.MULTILINE):
        for name in re.findall(r"`([\w.]+)`", names):
            table[name] = set(re.findall(r"`(\w+)`", fields))
    return table


def test_json_log_events_carry_the_fields_the_readme_documents(tmp_path):
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML + "colour: blue\n")  # a warning: a problem event
    events = []
    for _ in range(2):  # built, then up to date
        result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"),
                                           "--log-format", "json", "--jobs", "1"])
        assert result.exit_code == 0, result.stderr
        events += [json.loads(line) for line in result.stderr.splitlines()]
    documented = documented_events()
    assert {"layout.done", "artifact.written", "problem", "meeting.done", "meeting.skipped", "build.done"} <= \
        {event["event"] for event in events}
    for event in events:
        assert set(event) - {"event"} == documented[event["event"]], event


def test_a_json_log_holds_no_other_library_s_info_messages(tmp_path):
    """matplotlib says at INFO that it plots years such as '2014' as categories (as meant):
    such chatter is no event. Another library's warning is a `log` event, as README says."""
    from briefgen import charts

    charts._drawn.clear()  # drawn earlier in this process: nothing would be drawn, nor said
    spending = SPENDING_CSV.replace("true", "false")  # no '2025e': every bar's label reads as a number
    meeting = write_meeting(tmp_path, spending=spending)
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(tmp_path / "out"),
                                       "--log-format", "json", "--jobs", "1"])
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line) for line in result.stderr.splitlines()]
    chatter = [e for e in events if e["event"] == "log" and e["level"] not in ("warning", "error", "critical")]
    assert not chatter, chatter


def test_in_a_terminal_the_status_line_is_cleared_before_the_report(tmp_path):
    """The report ('wrote ...', problems, the summary) starts on a clean line, not after
    the last '[n] laid out ...' left on the status line."""
    import pty

    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML + "colour: blue\n")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the build, its stdout and stderr the terminal
        os.chdir(PROJECT)
        os.execv(sys.executable, [sys.executable, "-m", "briefgen", "build", str(meeting), "--out",
                                  str(tmp_path / "out"), "--jobs", "1"])
    shown = b""
    with contextlib.suppress(OSError):  # EIO: the build has ended
        while chunk := os.read(terminal, 65536):
            shown += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, shown
    text = shown.decode()
    assert "wrote " in text and "laid out" in text
    for after_status in re.findall(r"\[\d+\] laid out [^\s]+ of tiny(.?)", text, flags=re.S):
        assert after_status in ("\r", ""), text  # the next status line, or its clearing, comes next


STOP_DURING_IMPORT = """
import importlib.abc, os, signal, sys
from briefgen.entry import main

class Stop(importlib.abc.MetaPathFinder):  # the signal arrives while the command's modules are imported
    def find_spec(self, name, path=None, target=None):
        if name == "briefgen.cli":
            if sys.argv.pop(1) == "SIGINT":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)
        return None

sys.meta_path.insert(0, Stop())
main()
"""


@pytest.mark.parametrize("by, status, json_log", [("SIGINT", 130, False), ("SIGTERM", 143, True)])
def test_a_signal_while_the_command_starts_stops_it_without_a_traceback(tmp_path, by, status, json_log):
    """Ctrl-C in the first third of a second printed the traceback of an import cut short;
    a SIGTERM then left a JSON log without its last event."""
    args = ["build", "--out", str(tmp_path / "out")] + (["--log-format", "json"] if json_log else [])
    stopped = subprocess.run([sys.executable, "-c", STOP_DURING_IMPORT, by, *args], cwd=PROJECT,
                             capture_output=True, text=True, timeout=60)
    assert stopped.returncode == status and stopped.stdout == ""
    assert "Traceback" not in stopped.stderr
    if json_log:
        assert json.loads(stopped.stderr) == {"event": "build.stopped", "signal": "SIGTERM", "message":
                                              "briefgen: stopped (SIGTERM) while starting; nothing was written"}
    else:
        assert stopped.stderr == "briefgen: interrupted while starting; nothing was written\n"
    assert not (tmp_path / "out").exists()
