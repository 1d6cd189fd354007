"""Editions and classification: books carry marks, fact sheets carry only public text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from briefgen import pipeline
from briefgen.cli import main
from briefgen.model import walk_marked
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, REFERENCE, SPENDING_CSV, finishes, write_meeting

LEVELS = ["PUBLIC", "NATO UNCLASSIFIED", "NATO RESTRICTED", "NATO CONFIDENTIAL",
          "NATO SECRET", "COSMIC TOP SECRET"]
FIELDS = ["purpose", "objective", "message", "question", "answer", "background",
          "press", "fact", "person", "programme", "row"]


def marker(field: str, rank: int) -> str:
    return f"mk{field}{rank}x"


def artifact_text(path: Path) -> str:
    """Everything a reader or a machine can get from an artifact."""
    if path.suffix == ".pdf":
        reader = PdfReader(path)
        pages = [page.extract_text() for page in reader.pages]
        return "\n".join(pages + [str(v) for v in (reader.metadata or {}).values()])
    return path.read_text(encoding="utf-8")


# --- the reference meeting --------------------------------------------------

@pytest.fixture(scope="module")
def reference_valid():
    return validate_meeting(REFERENCE)


def test_reference_has_four_one_page_fact_sheets(reference_book, reference_valid):
    sheets = sorted((reference_book / "factsheets").glob("*.pdf"))
    assert [p.stem for p in sheets] == sorted(item.id for item in reference_valid.items)
    assert len(sheets) == 4
    for sheet in sheets:
        assert len(PdfReader(sheet).pages) == 1, sheet.name
        assert (sheet.with_suffix(".html")).is_file()


def sentences(text: str) -> list[str]:
    words = lambda s: " ".join(re.findall(r"\w+", s.lower()))  # noqa: E731
    return [words(s) for s in re.split(r"(?<=[.!?])\s+", text) if len(words(s).split()) >= 6]


def test_reference_fact_sheets_hold_no_restricted_sentence(reference_book, reference_valid):
    public, secret = set(), set()
    for model in [reference_valid.meeting, *reference_valid.items]:
        for _, marked in walk_marked(model):
            text = getattr(marked, "text", None) or getattr(marked, "answer", "") or getattr(marked, "bio", "")
            (public if marked.level.public else secret).update(sentences(text))
    public_text = " | ".join(public)
    secret = {s for s in secret if s not in public_text}  # said in public too: no secret
    assert len(secret) > 50  # the check has something to find
    for sheet in (reference_book / "factsheets").iterdir():
        text = " ".join(re.findall(r"\w+", artifact_text(sheet).lower()))
        found = [s for s in secret if s in text]
        assert not found, (sheet.name, found[:2])
        assert "NATO RESTRICTED" not in artifact_text(sheet)


def test_reference_book_marks_every_portion(reference_book, reference_valid):
    html = (reference_book / "book.html").read_text(encoding="utf-8")
    portions = re.findall(r'<div class="portion" data-classification="([^"]+)">(?:<p>)?(<span class="mark"[^>]*>)?', html)
    expected = sum(1 for model in reference_valid.items for _, m in walk_marked(model)
                   if type(m).__name__ == "Portion" and "factsheet" not in _)
    assert len(portions) == expected
    assert all(mark for _, mark in portions)
    assert html.count('<span class="mark"') >= expected


# --- a meeting with a marker at every level in every field ------------------

def marker_meeting(root: Path) -> Path:
    meeting = root / "markers"
    meeting.mkdir(parents=True)
    items = []
    for rank, level in enumerate(LEVELS):
        item = {
            "title": f"Item at level {rank}", "classification": level,
            "purpose": f"Purpose {marker('purpose', rank)} text.",
            "objectives": [f"Objective {marker('objective', rank)} text."],
            "key_messages": [f"Message {marker('message', rank)} text."],
            "lines_to_take": [{"question": f"Question {marker('question', rank)}?",
                               "answer": f"Answer {marker('answer', rank)} text.", "classification": level}],
            "background": [f"Background {marker('background', rank)} text."],
            "press_line": {"text": f"Press {marker('press', rank)} line.", "classification": level},
            "data": {"incidents": {"countries": ["POL"]}},
        }
        if rank == 0:
            item["factsheet"] = {"title": "Public item", "facts": [
                {"text": f"Fact {marker('fact', 0)} text.", "classification": "PUBLIC"}]}
        (meeting / f"level{rank}.yaml").write_text(yaml.safe_dump(item, sort_keys=False), encoding="utf-8")
        items.append(f"level{rank}")
    (meeting / "meeting.yaml").write_text(yaml.safe_dump({
        "title": "Marker meeting", "date": "2025-10-15", "venue": "Test venue",
        "classification": "COSMIC TOP SECRET", "items": items,
        "programme": [{"time": f"0{rank}:00", "event": f"Event {marker('programme', rank)}",
                       "location": "Room", "classification": level} for rank, level in enumerate(LEVELS)],
        "people": [{"name": f"Person {rank}", "role": "Role", "bio": f"Bio {marker('person', rank)}.",
                    "classification": level} for rank, level in enumerate(LEVELS)],
        "data": {"incidents": "incidents.csv"},
    }, sort_keys=False), encoding="utf-8")
    rows = ["id,date,country,type,count,duration_min,response,article4,summary,source,classification"]
    rows += [f"R-{rank},2025-09-1{rank},Poland,drone,1,,none,false,Row {marker('row', rank)} seen.,Src,{level}"
             for rank, level in enumerate(LEVELS)]
    (meeting / "incidents.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return meeting


@pytest.fixture(scope="module")
def marker_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("markers")
    meeting = marker_meeting(root)
    [result] = pipeline.build([meeting], root / "out")
    assert result.ok, [str(p) for p in result.problems]
    return root / "out" / "markers"


def test_every_public_marker_reaches_the_fact_sheets(marker_build):
    text = "\n".join(artifact_text(p) for p in (marker_build / "factsheets").iterdir())
    missing = [f for f in FIELDS if marker(f, 0) not in text]
    assert not missing


def test_no_other_marker_reaches_any_fact_sheet_or_its_metadata(marker_build):
    sheets = list((marker_build / "factsheets").iterdir())
    assert len(sheets) == 2 * len(LEVELS)
    for sheet in sheets:
        text = artifact_text(sheet)
        leaked = [marker(f, r) for f in FIELDS for r in range(1, len(LEVELS)) if marker(f, r) in text]
        assert not leaked, (sheet.name, leaked)
        assert not any(level in text for level in LEVELS[1:]), sheet.name


def test_fact_sheet_counts_use_public_rows_only(marker_build):
    html = (marker_build / "factsheets" / "level0.html").read_text(encoding="utf-8")
    assert "1 recorded event, all dates" in html


def test_the_book_holds_every_marker_with_its_mark(marker_build):
    html = (marker_build / "book.html").read_text(encoding="utf-8")
    for rank in range(len(LEVELS)):
        for field in FIELDS:
            if field == "fact":
                continue  # fact sheet facts belong to the fact sheet
            assert marker(field, rank) in html, marker(field, rank)
    assert html.count("(CTS)") >= 8


# --- per-page banners --------------------------------------------------------

def test_only_the_page_with_a_confidential_portion_says_so(tmp_path):
    filler = " ".join(["Restricted filler sentence for layout."] * 120)
    background = [filler, {"text": "The one confidential mkconfx portion.",
                           "classification": "NATO CONFIDENTIAL"}, filler]
    alpha = yaml.safe_load(ALPHA_YAML)
    alpha["background"] = background
    alpha["classification"] = "NATO RESTRICTED"  # the ceiling is higher; items stay below it
    beta = BETA_YAML + "classification: NATO RESTRICTED\n"
    meeting = write_meeting(tmp_path, alpha=yaml.safe_dump(alpha), beta=beta,
                            meeting=_with_ceiling("NATO CONFIDENTIAL"))
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",))
    assert result.ok, [str(p) for p in result.problems]
    pages = [p.extract_text() for p in PdfReader(tmp_path / "out" / "tiny" / "book.pdf").pages]
    [page] = [i for i, text in enumerate(pages) if "mkconfx" in text]
    assert page >= 2, "the portion should be inside the book, not on the cover"
    assert pages[page].count("NATO CONFIDENTIAL") >= 2
    for neighbour in (page - 1, page + 1):
        assert "NATO CONFIDENTIAL" not in pages[neighbour]
        assert pages[neighbour].count("NATO RESTRICTED") >= 2 or pages[neighbour].count("PUBLIC") >= 2
    assert pages[0].count("NATO CONFIDENTIAL") >= 2  # the cover carries the book's highest


def _with_ceiling(level: str) -> str:
    from .conftest import MEETING_YAML
    return MEETING_YAML.replace("classification: NATO RESTRICTED", f"classification: {level}")


# --- errors ------------------------------------------------------------------

def test_a_fact_sheet_fact_that_is_not_public_is_an_error(tmp_path):
    alpha = ALPHA_YAML + "factsheet:\n  facts:\n    - {text: Secret fact., classification: NATO UNCLASSIFIED}\n"
    meeting = write_meeting(tmp_path, alpha=alpha)
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert result.exit_code == 1
    line = len(ALPHA_YAML.splitlines()) + 3
    assert result.stderr.splitlines()[0] == (
        f"{meeting / 'alpha.yaml'}:{line}: factsheet.facts.0: a fact sheet portion must be public, "
        "but it is NATO UNCLASSIFIED: mark it classification: PUBLIC if the press may see it")


def test_an_unmarked_fact_sheet_fact_takes_the_item_level_and_fails(tmp_path):
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML + "factsheet:\n  facts: [Unmarked fact.]\n")
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert result.stderr.splitlines()[0].endswith(
        "factsheet.facts.0: a fact sheet portion must be public, but it is NATO RESTRICTED (unmarked, it takes "
        "the item's level): mark it classification: PUBLIC if the press may see it")


def test_a_restricted_incident_row_above_the_ceiling_is_an_error(tmp_path):
    from .conftest import INCIDENTS_CSV
    csv = INCIDENTS_CSV.replace("article4,summary,source", "article4,summary,source,classification")
    csv = csv.replace("Test source B", "Test source B,NATO SECRET").replace("Test source C", "Test source C,")
    csv = csv.replace("Test source D", "Test source D,")
    meeting = write_meeting(tmp_path, incidents=csv)
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert result.stderr.splitlines()[0] == (f"{meeting / 'data' / 'incidents.csv'}:2: row marked NATO SECRET "
                                             "is above the meeting's classification NATO RESTRICTED")


# --- a project's own scheme --------------------------------------------------

SCHEME = """\
classification:
  levels:
    - {name: PUBLIC, mark: P, public: true}
    - {name: OFFICIAL, mark: O}
    - {name: SECRET, mark: S}
    - {name: TOP SECRET, mark: TS}
"""


def test_a_project_scheme_replaces_nato(tmp_path):
    (tmp_path / "briefgen.yaml").write_text(SCHEME, encoding="utf-8")
    meeting = write_meeting(tmp_path, meeting=_with_ceiling("SECRET"),
                            alpha=ALPHA_YAML.replace("NATO RESTRICTED", "OFFICIAL"))
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",))
    assert result.ok, [str(p) for p in result.problems]
    html = (tmp_path / "out" / "tiny" / "book.html").read_text(encoding="utf-8")
    assert "(O)" in html and "(S)" in html
    assert "NATO RESTRICTED" not in html and "(NR)" not in html


def test_a_fact_sheet_is_marked_with_the_highest_public_level_it_shows(tmp_path):
    two_public = SCHEME.replace("    - {name: OFFICIAL, mark: O}\n",
                                "    - {name: RELEASABLE, mark: REL, public: true}\n    - {name: OFFICIAL, mark: O}\n")
    (tmp_path / "briefgen.yaml").write_text(two_public, encoding="utf-8")
    alpha = ALPHA_YAML.replace("NATO RESTRICTED", "OFFICIAL").replace(
        "press_line: {text: Alpha press line., classification: PUBLIC}",
        "press_line: {text: Alpha press line for release., classification: RELEASABLE}")
    meeting = write_meeting(tmp_path, meeting=_with_ceiling("SECRET"), alpha=alpha)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    sheets = tmp_path / "out" / "tiny" / "factsheets"
    marked = {a["item"]: a["classification"] for a in json.loads(
        (tmp_path / "out" / "tiny" / "manifest.json").read_text())["artifacts"]}
    assert marked == {"alpha": "RELEASABLE", "beta": "PUBLIC"}
    assert "Alpha press line for release." in (sheets / "alpha.html").read_text(encoding="utf-8")
    assert PdfReader(sheets / "alpha.pdf").pages[0].extract_text().count("RELEASABLE") == 2  # top and bottom
    assert "RELEASABLE" not in PdfReader(sheets / "beta.pdf").pages[0].extract_text()


def test_a_nato_level_is_unknown_in_a_project_scheme(tmp_path):
    (tmp_path / "briefgen.yaml").write_text(SCHEME, encoding="utf-8")
    meeting = write_meeting(tmp_path, meeting=_with_ceiling("SECRET"))
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert f"{meeting / 'alpha.yaml'}:8: unknown classification 'NATO RESTRICTED' (known: PUBLIC, " \
           "OFFICIAL, SECRET, TOP SECRET)" in result.stderr.splitlines()


def test_a_scheme_is_looked_for_up_to_the_project_and_no_further(tmp_path):
    from briefgen.config import load_project

    above = tmp_path / "shared-tmp"
    meeting = write_meeting(above / "project" / "agendas")
    (above / "briefgen.yaml").write_text(SCHEME, encoding="utf-8")  # anyone could write one in /tmp
    assert load_project(meeting).scheme.names()[1] == "NATO UNCLASSIFIED"
    (above / "project" / "briefgen.yaml").write_text(SCHEME, encoding="utf-8")  # the project's own
    assert load_project(meeting).scheme.names()[1] == "OFFICIAL"


def test_a_public_level_above_one_that_is_not_is_an_error(tmp_path):
    (tmp_path / "briefgen.yaml").write_text(SCHEME.replace("{name: SECRET, mark: S}",
                                                           "{name: SECRET, mark: S, public: true}"), encoding="utf-8")
    meeting = write_meeting(tmp_path)
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"{tmp_path / 'briefgen.yaml'}:5: classification level 'SECRET' is "
                                             "public but above 'OFFICIAL', which is not: public levels come first "
                                             "(lowest)")


def test_a_scheme_with_no_public_level_warns_that_no_fact_sheet_can_be_made(tmp_path):
    """Fact sheets are public: a scheme with no public level builds none, and said nothing."""
    (tmp_path / "briefgen.yaml").write_text(SCHEME.replace("    - {name: PUBLIC, mark: P, public: true}\n", ""),
                                            encoding="utf-8")
    meeting = write_meeting(tmp_path, meeting=_with_ceiling("SECRET").replace("PUBLIC", "OFFICIAL"),
                            alpha=ALPHA_YAML.replace("NATO RESTRICTED", "OFFICIAL").replace("PUBLIC", "OFFICIAL"))
    warning = (f"{tmp_path / 'briefgen.yaml'}:2: warning: classification: no level is public, so no fact sheet "
               "is made: fact sheets need a public level (public: true on the lowest)")
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok and warning in [str(p) for p in result.problems], [str(p) for p in result.problems]
    strict = CliRunner().invoke(main, ["check", "--strict", str(meeting)])
    assert strict.exit_code == 1 and warning.replace("warning: ", "") in strict.stderr.splitlines(), strict.stderr


# --- the leak guard ----------------------------------------------------------

def test_the_leak_guard_stops_a_fact_sheet_that_redaction_let_through(tmp_path, monkeypatch):
    """If redaction ever failed, the guard still refuses to write the sheet."""
    from briefgen import redact

    monkeypatch.setattr(redact, "public_only", lambda level: True)
    meeting = write_meeting(tmp_path)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert not result.ok
    messages = [str(p) for p in result.problems]
    # it names the level and the line the text comes from, and never quotes it: logs are not cleared
    assert f"{meeting / 'alpha.yaml'}: fact sheet 'alpha' not written: it contains NATO RESTRICTED text, " \
           "from line 8 (not quoted here)" in messages
    assert not (tmp_path / "out" / "tiny" / "factsheets" / "alpha.pdf").exists()
    assert not (tmp_path / "out" / "tiny" / "factsheets" / "alpha.html").exists()


def test_the_leak_guard_knows_where_each_restricted_sentence_comes_from(tmp_path):
    from briefgen.guard import LeakGuard, normalise
    from briefgen.validate import validate_meeting

    incidents = INCIDENTS_CSV.replace("source\n", "source,classification\n", 1).replace(
        "Test source B\n", "Test source B,NATO RESTRICTED\n").replace("Test source C\n", "Test source C,\n").replace(
        "Test source D\n", "Test source D,\n")
    meeting = write_meeting(tmp_path, incidents=incidents)
    fragments = LeakGuard(validate_meeting(meeting)).fragments
    assert fragments[normalise("What about alpha?")] == ("NATO RESTRICTED", str(meeting / "alpha.yaml"), 8)
    assert fragments[normalise("Drones over Poland.")] == ("NATO RESTRICTED", str(meeting / "data" / "incidents.csv"), 2)
    assert normalise("Jets over Estonia.") not in fragments  # a public row


def test_a_restricted_text_that_says_what_every_sheet_prints_refuses_no_sheet(tmp_path):
    """A restricted row's source given as the incident chart's own caption is no secret:
    the guard refused every incident sheet, and withdrew the kept ones."""
    incidents = INCIDENTS_CSV.replace("source\n", "source,classification\n", 1).replace(
        "Test source B\n", "Test source B,\n").replace("Test source C\n", "Test source C,\n").replace(
        "Test source D\n", "Press reports and official statements,NATO RESTRICTED\n")
    meeting = write_meeting(tmp_path, incidents=incidents)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    assert (tmp_path / "out" / "tiny" / "factsheets" / "alpha.pdf").is_file()


def test_invisible_characters_do_not_hide_restricted_text_from_the_guard():
    from briefgen.guard import leaks_in, normalise

    fragments = {normalise("we plan to strike the depot at dawn"): ("SECRET", "alpha.yaml", 3)}
    for disguised in ("we plan to str\u200bike the depot at dawn", "we plan to strike the de\u00adpot at dawn",
                      "we plan to strike the depot\u2060 at dawn", "we plan to str\u034fike the depot at dawn",
                      "we plan to strike\ufe0f the depot at dawn", "we plan to strike the\u3164 depot at dawn",
                      "we plan to ｓｔｒｉｋｅ the depot at dawn"):
        assert leaks_in(fragments, f"<p>{disguised}</p>") == [normalise("we plan to strike the depot at dawn")]


def test_accents_hide_nothing_from_the_guard_however_they_are_encoded():
    from briefgen.guard import leaks_in, normalise

    precomposed = "R\u00e9union strike planned at dawn"
    fragments = {normalise(precomposed): ("SECRET", "alpha.yaml", 3)}
    for disguised in ("Re\u0301union strike planned at dawn", "R&eacute;union strike planned at dawn"):
        assert leaks_in(fragments, f"<p>{disguised}</p>") == [normalise(precomposed)]
    assert normalise("Caf\u00e9 \ufb01le") == " cafe file "


def test_the_guards_invisible_characters_are_unicodes():
    import unicodedata

    from briefgen.guard import INVISIBLE

    missing = [hex(c) for c in range(0x110000)
               if unicodedata.category(chr(c)) == "Cf" and not INVISIBLE.fullmatch(chr(c))]
    assert missing == []
    # Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt, 15.0)
    ignorable = [0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810),
                 *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0x3164,
                 *range(0xFE00, 0xFE10), 0xFEFF, 0xFFA0, *range(0xFFF0, 0xFFF9), *range(0x1BCA0, 0x1BCA4),
                 *range(0x1D173, 0x1D17B), *range(0xE0000, 0xE1000)]
    assert [hex(c) for c in ignorable if not INVISIBLE.fullmatch(chr(c))] == []


def test_a_bidirectional_override_is_refused_where_it_is_typed(tmp_path):
    backwards = ALPHA_YAML.replace("purpose: Decide the alpha question.",
                                   "purpose: \"\u202e.noitseuq ahpla eht ediceD\"")
    meeting = write_meeting(tmp_path, alpha=backwards)
    result = CliRunner().invoke(main, ["check", str(meeting)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (f"{meeting / 'alpha.yaml'}:3: bidirectional control character "
                                             "U+202E is not allowed: it makes text read otherwise than it is stored")


def test_an_overflowing_fact_sheet_names_the_item_and_the_excess(tmp_path):
    """The linter's factsheet-pages rule, an error in a build, strict or not: not written."""
    long_facts = "".join(f"    - {{text: Public fact number {i} {'word ' * 40}, classification: PUBLIC}}\n"
                         for i in range(30))
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML + "factsheet:\n  facts:\n" + long_facts)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), strict=True)
    [problem] = [str(p) for p in result.problems]
    assert re.search(r"alpha.yaml: fact sheet 'alpha' runs to \d+ pages; cut about \d+ mm of content "
                     r"to fit one \[factsheet-pages\]$", problem)
    assert (tmp_path / "out" / "tiny" / "factsheets" / "beta.pdf").exists()
    assert not (tmp_path / "out" / "tiny" / "factsheets" / "alpha.pdf").exists()

    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",))
    assert not result.ok
    [problem] = [str(p) for p in result.problems]
    assert re.search(r"alpha.yaml: fact sheet 'alpha' runs to \d+ pages; cut about", problem)
    assert not (tmp_path / "out" / "tiny" / "factsheets" / "alpha.pdf").exists()
    manifest = json.loads((tmp_path / "out" / "tiny" / "manifest.json").read_text())
    assert {a["path"]: a["pages"] for a in manifest["artifacts"]}["factsheets/beta.pdf"] == 1


def test_index_links_books_and_fact_sheets(reference_book):
    index = (reference_book.parent / "index.html").read_text(encoding="utf-8")
    assert f'href="./{REFERENCE.name}/book.pdf"' in index
    assert f'href="./{REFERENCE.name}/factsheets/udcg.pdf"' in index


def test_a_meeting_folder_named_like_a_script_url_makes_no_script_link(tmp_path):
    from briefgen.publish import manifests
    from briefgen.render_html import render_index

    folder = tmp_path / "javascript:alert(1)"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"title": "T", "date": "2025-10-15", "venue": "V", "artifacts": [
        {"path": "book.pdf", "edition": "book", "item": None, "label": "Book", "format": "pdf", "pages": 1,
         "classification": "PUBLIC", "sha256": "0" * 64, "build_key": "", "inputs": []}]}))
    (folder / "book.pdf").write_bytes(b"%PDF")  # the index links only files that are there
    index = render_index(manifests(tmp_path))
    assert 'href="./javascript%3Aalert%281%29/book.pdf"' in index and 'href="javascript' not in index


def test_edition_option_builds_only_that_edition(tmp_path):
    meeting = write_meeting(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--edition", "factsheets"])
    assert result.exit_code == 0, result.stderr
    assert (out / "tiny" / "factsheets" / "alpha.pdf").exists()
    assert not (out / "tiny" / "book.pdf").exists()


def test_an_item_closed_to_the_press_has_no_fact_sheet_and_loses_the_one_it_had(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    titled = ALPHA_YAML + "factsheet: {title: Drones over the alliance}\n"
    (meeting / "alpha.yaml").write_text(titled, encoding="utf-8")
    assert CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--edition", "factsheets"]).exit_code == 0
    labels = {a["path"]: a["label"] for a in json.loads((out / "tiny" / "manifest.json").read_text())["artifacts"]}
    assert labels["factsheets/alpha.pdf"] == "Fact sheet: Drones over the alliance"  # the title the sheet shows

    (meeting / "alpha.yaml").write_text(titled + "press: closed\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(meeting), "--out", str(out), "--edition", "factsheets"])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (out / "tiny" / "factsheets").iterdir()) == ["beta.html", "beta.pdf"]
    manifest = json.loads((out / "tiny" / "manifest.json").read_text())
    assert [a["path"] for a in manifest["artifacts"]] == ["factsheets/beta.html", "factsheets/beta.pdf"]
    assert "alpha" not in (out / "index.html").read_text(encoding="utf-8")


def test_restricted_rows_no_brief_shows_still_mark_the_annex_the_changes_and_the_cover(tmp_path):
    from briefgen.jobs import changes_since_last_edition, staff_book
    from briefgen.render_html import render_book

    lower = {"alpha": ALPHA_YAML.replace("classification: NATO RESTRICTED", "classification: NATO UNCLASSIFIED"),
             "beta": "classification: NATO UNCLASSIFIED\n" + BETA_YAML}
    csv = INCIDENTS_CSV.replace(",source\n", ",source,classification\n").replace("Test source D\n",
                                                                                "Restricted source D,NATO RESTRICTED\n")
    csv = re.sub(r"(Test source [BC])\n", r"\1,\n", csv)
    meeting = write_meeting(tmp_path, incidents=csv, **lower)
    valid = validate_meeting(meeting)
    book = staff_book(valid)  # T-3, outside every brief's window, is in the annex only
    assert book.highest.name == "NATO RESTRICTED"
    first = {"previous": None, "current": {"items": {}, "incidents": {}, "figures": {}}}
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".editions.json").write_text(json.dumps(first))
    changes, _ = changes_since_last_edition(valid, book, tmp_path / "out")
    html = render_book(book, changes=changes)
    nr, public = ('<span class="mark" title="NATO RESTRICTED"><span dir="ltr" lang="en">(NR)</span></span>',
                  '<span class="mark" title="PUBLIC"><span dir="ltr" lang="en">(PUBLIC)</span></span>')
    assert f'<li data-classification="NATO RESTRICTED">{nr} T-3: Restricted source D</li>' in html
    assert f'<li data-classification="NATO RESTRICTED">{nr} New incident T-3 ' in html
    assert f'<li data-classification="PUBLIC">{public} New incident T-1 ' in html
    assert f'<tr data-classification="NATO RESTRICTED"><td>{nr} <span dir="ltr" lang="en">Incidents</span></td>' in html


def test_a_brief_s_source_line_carries_the_level_of_the_rows_it_names(tmp_path):
    """A restricted row's source, and the date of the latest row, are restricted text too."""
    from briefgen.jobs import staff_book
    from briefgen.render_html import render_book

    spending = SPENDING_CSV.replace(",source\n", ",source,classification\n").replace(
        "Poland,POL,2025,4.48,true,,Test source A\n", "Poland,POL,2025,4.48,true,,Restricted estimate,NATO RESTRICTED\n")
    spending = re.sub(r"(Test source A)\n", r"\1,\n", spending)
    html = render_book(staff_book(validate_meeting(write_meeting(tmp_path, spending=spending))))
    line = re.search(r'<p class="source" data-classification="([^"]+)" dir="ltr" lang="en">.*?Source: ([^<]*)', html)
    assert line.groups()[0] == "NATO RESTRICTED" and "Restricted estimate" in line.groups()[1]
    incidents = re.search(r'<p class="source" data-classification="([^"]+)" dir="ltr" lang="en">.*?Sources: press', html)
    assert incidents.group(1) == "PUBLIC"  # every incident row of the tiny meeting is public


def test_a_restricted_row_s_spelling_of_a_place_does_not_name_it_in_a_fact_sheet(tmp_path):
    """Rows of one place are counted as one, named as the first row spells the place: the
    first row the edition may show, not a restricted row before it."""
    csv = INCIDENTS_CSV.replace(",source\n", ",source,classification\n", 1)
    csv = re.sub(r"(Test source [BCD])\n", r"\1,\n", csv)
    csv += ("T-5,2025-09-11,NATO (Operation Nightjar package),nato_response,,,posture_change,,"
            "Held back.,Held source,NATO RESTRICTED\n"
            "T-6,2025-09-12,NATO (eastern flank),nato_response,,,posture_change,,Announced.,Public source,\n")
    alpha = ALPHA_YAML.replace("{from: 2025-09-01, countries: [POL, EST]}", "{from: 2025-09-01}")
    meeting = write_meeting(tmp_path, alpha=alpha, incidents=csv)
    [result] = pipeline.build([meeting], tmp_path / "out", jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    sheet = tmp_path / "out" / "tiny" / "factsheets" / "alpha"
    html = sheet.with_suffix(".html").read_text(encoding="utf-8")
    pdf_text = " ".join(page.extract_text() for page in PdfReader(sheet.with_suffix(".pdf")).pages)
    assert "NATO (eastern flank) 1 event" in html
    assert "Nightjar" not in html and "Nightjar" not in pdf_text
    book = (tmp_path / "out" / "tiny" / "book.html").read_text(encoding="utf-8")
    assert "NATO (Operation Nightjar package) 2 events" in book  # the book counts both as NATO's


def test_a_fact_sheet_with_both_data_views_prints_one_chart_and_keeps_both_on_the_web(tmp_path):
    """One above the other, the two charts filled half the printed page: the spending
    table stays in print, its chart only on the web."""
    alpha = ALPHA_YAML.replace("data:\n", "data:\n  spending: {years: [2014, 2025], thresholds: [2.0, 3.5]}\n")
    meeting = write_meeting(tmp_path, alpha=alpha)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    sheet = tmp_path / "out" / "tiny" / "factsheets" / "alpha"
    html = sheet.with_suffix(".html").read_text(encoding="utf-8")
    assert html.count('class="chart-image"') == 2 and '<div class="web-only"><figure class="chart"' in html
    reader = PdfReader(sheet.with_suffix(".pdf"))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1
    assert "Allies at or above 2% of GDP" not in text  # the spending chart's caption: web only
    assert "Source: Test source A. Data as of 2025 (estimate)." in " ".join(text.split())
    assert "Events by country over time" in text  # the incidents chart is printed


def test_a_rebuild_of_the_same_edition_lists_its_changes_in_the_same_order(tmp_path):
    """The state is stored with its keys sorted; the changes were listed in that order
    when the same inputs were built again (--force, a template changed) and in the
    inputs' order the first time, so the same inputs gave two different books."""
    from briefgen.jobs import changes_since_last_edition, staff_book
    from briefgen.pipeline import _json

    meeting = write_meeting(tmp_path, incidents=INCIDENTS_CSV.replace("T-1,", "T-9,"),
                            meeting=MEETING_YAML.replace("items: [alpha, beta]", "items: [beta, alpha]"))
    out = tmp_path / "out"
    out.mkdir()
    (out / ".editions.json").write_text(json.dumps({"previous": None, "current": {
        "items": {}, "incidents": {}, "figures": {}}}))
    valid = validate_meeting(meeting)
    book = staff_book(valid)
    first, state = changes_since_last_edition(valid, book, out)
    (out / ".editions.json").write_text(_json(state))  # as the build stores it
    again, _ = changes_since_last_edition(valid, book, out)
    assert [i["id"] for i in first.new_incidents] == ["T-9", "T-2", "T-3"]  # the data's order
    assert first.new_items == ["Beta item on spending", "Alpha item on drones"]  # the agenda's
    assert again == first


def test_index_lists_the_latest_meeting_first_and_fact_sheets_in_agenda_order(tmp_path):
    later = MEETING_YAML.replace("date: 2025-10-15", "date: 2026-02-12").replace("items: [alpha, beta]",
                                                                                 "items: [beta, alpha]")
    agendas, out = tmp_path / "agendas", tmp_path / "out"
    meetings = [write_meeting(agendas, "a-earlier"), write_meeting(agendas, "b-later", meeting=later + "language: ar\n")]
    assert all(result.ok for result in pipeline.build(meetings, out, editions=("factsheets",)))
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="\./([^"]+)"', index)
    assert links == [f"{meeting}/factsheets/{item}.{kind}" for meeting, items in
                     (("b-later", ("beta", "alpha")), ("a-earlier", ("alpha", "beta"))) for item in items
                     for kind in ("html", "pdf")]
    manifest = json.loads((out / "b-later" / "manifest.json").read_text())
    assert [a["item"] for a in manifest["artifacts"]] == ["beta", "beta", "alpha", "alpha"]
    titles = re.findall(r"<h2([^>]*)>", index)
    assert titles == [' lang="ar" dir="rtl"', ' lang="en" dir="ltr"']


def test_the_leak_guard_reads_a_text_full_of_unclosed_tags_without_hanging():
    """A PDF's text is prose as written: each '<a' with no '>' after it was read to the end of
    the text (50,000 characters: 20 s, in C, where no time limit stops it)."""
    finishes("from briefgen.guard import visible_text; visible_text('<a' * 1_000_000)")


def test_the_leak_guard_still_reads_words_split_by_tags():
    from briefgen.guard import visible_text

    assert visible_text('Str<b class="x>y">ike</b><p>Next <a<i>b') == "Strike\nNext <ab"
