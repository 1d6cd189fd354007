"""Changes since the last edition: what a briefing officer expects the page to list."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

from pypdf import PdfReader

from briefgen import pipeline
from briefgen.jobs import changes_since_last_edition, staff_book
from briefgen.pipeline import _json
from briefgen.render_html import render_book
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, SPENDING_CSV, write_meeting

# the briefs at NATO UNCLASSIFIED: the book is restricted only by what the data makes it
LOWER = {"alpha": ALPHA_YAML.replace("classification: NATO RESTRICTED", "classification: NATO UNCLASSIFIED")
         + "classification: NATO UNCLASSIFIED\n", "beta": BETA_YAML + "classification: NATO UNCLASSIFIED\n"}


def with_levels(csv: str, levels: dict[str, str]) -> str:
    """``csv`` with a classification column: ``levels`` by the row's first cell, else blank."""
    lines = csv.splitlines()
    rows = [line + "," + levels.get(line.split(",")[0] if "," in line else "", "") for line in lines[1:]]
    return "\n".join([lines[0] + ",classification", *rows]) + "\n"


def without(csv: str, row_id: str) -> str:
    """``csv`` with the row of ``row_id`` deleted."""
    return "".join(line for line in csv.splitlines(keepends=True) if not line.startswith(f"{row_id},"))


def edition(meeting: Path, out: Path):
    """One edition of ``meeting`` as a build makes it: its changes, its book, its state stored."""
    valid = validate_meeting(meeting)
    book = staff_book(valid)
    changes, state = changes_since_last_edition(valid, book, out)
    (out / ".editions.json").write_text(_json(state))
    return changes, book


FILES = ("meeting", "alpha", "beta", "spending", "incidents")  # the tiny meeting's; other names add items


def changes_between(tmp_path: Path, before: dict, after: dict):
    """The changes, and the book, of the tiny meeting written with ``after`` (file overrides,
    None deleting a file, another name adding an item) as the edition after one written
    with ``before``."""
    out = tmp_path / "out"
    out.mkdir(parents=True, exist_ok=True)
    edition(write_meeting(tmp_path, **before), out)
    return next_edition(tmp_path, after)


def next_edition(tmp_path: Path, files: dict):
    """The edition of the tiny meeting written with ``files``, after the one stored."""
    meeting = write_meeting(tmp_path, **{k: v for k, v in files.items() if k in FILES and v is not None})
    for name, text in files.items():
        if text is None:
            (meeting / f"{name}.yaml").unlink()
        elif name not in FILES:
            (meeting / f"{name}.yaml").write_text(text, encoding="utf-8")
    return edition(meeting, tmp_path / "out")


def page(changes, book) -> str:
    """The changes page as a reader sees it: each heading as '## heading', one line a change."""
    html = render_book(book, changes=changes)
    section = re.search(r'<section class="changes".*?</section>', html, re.DOTALL).group(0)
    parts = re.findall(r"<h3[^>]*>.*?</h3>|<li[^>]*>.*?</li>", section, re.DOTALL)
    return "\n".join(("## " if part.startswith("<h3") else "") + unescape(re.sub(r"<[^>]+>", "", part)).strip()
                     for part in parts)


def under(text: str, heading: str) -> list[str]:
    """The lines of a changes page (as ``page`` gives it) under ``heading``."""
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    return next(part.splitlines()[1:] for part in sections if part.splitlines()[:1] == [heading])


def test_an_incident_deleted_or_leaving_a_brief_is_listed(tmp_path):
    incidents = (INCIDENTS_CSV.replace("T-2,2025-09-19,Estonia", "T-2,2025-08-19,Estonia")  # before alpha's window
                 .replace("T-1,2025-09-10,Poland,drone,19", "T-1,2025-09-10,Poland,drone,21"))
    incidents = without(incidents, "T-3")
    changes, book = changes_between(tmp_path, {}, {"incidents": incidents})
    assert [(i["id"], i["items"]) for i in changes.removed_incidents] == [("T-3", [])]
    revised = {i["id"]: i for i in changes.revised_incidents}
    assert revised["T-2"]["revised"] == ["date"] and revised["T-2"]["left"] == ["Alpha item on drones"]
    assert revised["T-1"]["revised"] == ["count"] and revised["T-1"]["items"] == ["Alpha item on drones"]
    text = page(changes, book)
    assert under(text, "Alpha item on drones") == [  # by date
        "(PUBLIC) Incident T-2 (2025-08-19, Estonia, fixed-wing) revised (date), no longer in this brief",
        "(PUBLIC) Incident T-1 (2025-09-10, Poland, drone) revised (count)"]
    assert under(text, "The data") == ["(PUBLIC) Incident removed: T-3 (2025-08-01, Poland, drone)"]  # in no brief
    assert "No change" not in text and "Beta item on spending" not in text  # a brief with no change goes unnamed


def test_an_incident_a_brief_showed_and_that_is_deleted_names_the_brief(tmp_path):
    incidents = without(INCIDENTS_CSV, "T-1")
    changes, book = changes_between(tmp_path, {}, {"incidents": incidents})
    assert under(page(changes, book), "Alpha item on drones") == [
        "(PUBLIC) Incident removed: T-1 (2025-09-10, Poland, drone)"]


def test_a_reclassified_row_is_listed_under_the_higher_of_its_marks(tmp_path):
    restricted = {"T-1": "NATO RESTRICTED"}
    spending = with_levels(SPENDING_CSV, {}).replace("Poland,POL,2025,4.48,true,,Test source A,",
                                                     "Poland,POL,2025,4.48,true,,Test source A,NATO RESTRICTED")
    changes, book = changes_between(tmp_path, {"incidents": with_levels(INCIDENTS_CSV, {}), **LOWER},
                                    {"incidents": with_levels(INCIDENTS_CSV, restricted), "spending": spending, **LOWER})
    [incident] = changes.revised_incidents
    assert incident["reclassified"] == {"before": "PUBLIC", "after": "NATO RESTRICTED"}
    assert incident["classification"] == "NATO RESTRICTED" and incident["mark"] == "NR"
    [figure] = changes.changed_figures
    assert figure["says"] == "reclassified (PUBLIC → NATO RESTRICTED)" and figure["mark"] == "NR"
    text = page(changes, book)
    assert "(NR) Incident T-1 (2025-09-10, Poland, drone) reclassified (PUBLIC → NATO RESTRICTED)" in text
    assert "(NR) Spending figure revised: Poland 2025, reclassified (PUBLIC → NATO RESTRICTED)" in text
    # and back to public: still listed, under the mark it had
    again, book = next_edition(tmp_path, {"incidents": with_levels(INCIDENTS_CSV, {}), **LOWER})
    assert [(i["id"], i["mark"]) for i in again.revised_incidents] == [("T-1", "NR")]


def test_a_deleted_restricted_row_marks_the_book_and_one_above_a_lowered_ceiling_is_left_out(tmp_path):
    restricted = with_levels(INCIDENTS_CSV, {"T-3": "NATO RESTRICTED"})
    public = with_levels(without(INCIDENTS_CSV, "T-3"), {})
    changes, book = changes_between(tmp_path, {"incidents": restricted, **LOWER}, {"incidents": public, **LOWER})
    assert [(i["id"], i["mark"]) for i in changes.removed_incidents] == [("T-3", "NR")]
    assert book.highest.name == "NATO RESTRICTED"  # nothing else in this edition is restricted
    lowered = MEETING_YAML.replace("classification: NATO RESTRICTED", "classification: NATO UNCLASSIFIED")
    changes, book = changes_between(tmp_path / "lowered", {"incidents": restricted, **LOWER},
                                    {"incidents": public, "meeting": lowered, **LOWER})
    assert changes.removed_incidents == [] and book.highest.name == "NATO UNCLASSIFIED"
    assert "T-3" not in render_book(book, changes=changes)


def test_a_change_to_the_meeting_starts_an_edition_and_is_listed(tmp_path):
    meeting = (MEETING_YAML.replace("title: Test Ministerial", "title: Test Council")
               .replace("date: 2025-10-15", "date: 2025-10-16").replace("venue: Test House", "venue: Other House")
               .replace("chair: Test Chair\n", "").replace("Opening session", "Opening plenary")
               .replace("Has a bio.", "Has a longer bio."))
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting})
    assert not changes.first_edition and not changes.empty
    assert [(m["label"], m["before"], m["after"]) for m in changes.meeting] == [
        ("Title", "Test Ministerial", "Test Council"),
        ("Date", "Wednesday 15 October 2025", "Thursday 16 October 2025"),  # as the cover writes it
        ("Venue", "Test House", "Other House"), ("Chair", "Test Chair", "–")]
    assert changes.revised_sections == ["Programme", "Who's who"]
    text = page(changes, book)
    assert "Venue changed: Test House → Other House" in text and "Who's who revised" in text


def test_briefs_added_removed_reordered_renamed_and_retitled(tmp_path):
    meeting = MEETING_YAML.replace("items: [alpha, beta]", "items: [beta, gamma, delta]")
    beta = BETA_YAML.replace("Beta item on spending", "Beta item on defence spending")
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting, "alpha": None, "beta": beta,
                                                    "gamma": ALPHA_YAML, "delta": "title: Delta item\n"})
    assert changes.new_items == ["Delta item"] and changes.removed_items == []  # alpha is gamma now
    changes, book = changes_between(
        tmp_path / "renamed", {},
        {"meeting": MEETING_YAML.replace("items: [alpha, beta]", "items: [beta, gamma]"), "alpha": None, "beta": beta,
         "gamma": ALPHA_YAML})
    assert changes.new_items == [] and changes.removed_items == []  # the same brief, in another file
    assert changes.renamed_items == [{"title": "Alpha item on drones", "before": "alpha", "after": "gamma"}]
    assert changes.retitled_items == [{"before": "Beta item on spending", "after": "Beta item on defence spending"}]
    assert changes.changed_items == ["Beta item on defence spending"]  # its title is its text
    assert changes.agenda_order == ["Beta item on defence spending", "Alpha item on drones"]
    text = page(changes, book)
    assert "Agenda reordered: Beta item on defence spending; Alpha item on drones" in text
    assert under(text, "Beta item on defence spending") == ["Retitled, was: Beta item on spending", "Text revised"]
    assert under(text, "Alpha item on drones") == ["Renamed (id alpha → gamma)"]
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## The meeting", "## Beta item on defence spending", "## Alpha item on drones"]  # in agenda order


def test_spending_figures_deleted_added_or_made_final_and_a_view_widened(tmp_path):
    spending = (SPENDING_CSV.replace("Greece,GRC,2014,2.20,false,,Test source A\n", "")
                .replace("Estonia,EST,2025,3.38,true", "Estonia,EST,2025,3.38,false")
                + "Poland,POL,2026,4.70,true,,Test source A\nEstonia,EST,2026,3.50,true,,Test source A\n")
    beta = BETA_YAML.replace("thresholds: [2.0, 3.5]", "thresholds: [2.0, 3.0, 3.5]")
    changes, book = changes_between(tmp_path, {}, {"spending": spending, "beta": beta})
    assert [(f["year"], f["allies"]) for f in changes.removed_figures] == [(2014, ["Greece"])]
    assert [(f["year"], f["allies"]) for f in changes.new_figures] == [(2026, ["Poland", "Estonia"])]
    [final] = changes.changed_figures
    assert (final["ally"], final["before_estimate"], final["after_estimate"]) == ("Estonia", True, False)
    assert changes.changed_items == ["Beta item on spending"]
    text = page(changes, book)
    assert "Spending figure revised: Estonia 2025, 3.38% (NATO estimate) → 3.38% of GDP" in text
    assert "(PUBLIC) Spending figures removed, 2014: Greece" in text
    assert "(PUBLIC) New spending figures, 2026: Poland, Estonia" in text


def test_years_in_a_row_with_the_same_allies_and_mark_are_one_line(tmp_path):
    rows = [(ally, year, level) for year, level in ((2026, ""), (2027, ""), (2028, ""), (2029, "NATO RESTRICTED"))
            for ally in ("Poland", "Estonia")] + [("Estonia", 2031, ""), ("Estonia", 2032, "")]
    iso = {"Poland": "POL", "Estonia": "EST"}
    spending = with_levels(SPENDING_CSV, {}) + "".join(
        f"{ally},{iso[ally]},{year},3.00,true,,Test source A,{level}\n" for ally, year, level in rows)
    changes, book = changes_between(tmp_path, {}, {"spending": spending})
    assert [f["year"] for f in changes.new_figures] == [2026, 2027, 2028, 2029, 2031, 2032]  # changes.json: by year
    text = page(changes, book)
    assert [line for line in text.splitlines() if "New spending figures" in line] == [
        "(PUBLIC) New spending figures, 2026–2028: Poland, Estonia",
        "(NR) New spending figures, 2029: Poland, Estonia",
        "(PUBLIC) New spending figures, 2031–2032: Estonia"]


def test_a_state_of_an_earlier_briefgen_starts_no_edition(tmp_path):
    """Its state lacks the facts added since: an upgrade keeps the edition and its changes."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    out.mkdir()
    valid = validate_meeting(meeting)
    from briefgen.changes import snapshot

    now = snapshot(valid, staff_book(valid))
    earlier = {"items": {i: {"title": r["title"], "sha": r["sha"]} for i, r in now["items"].items()},
               "incidents": {i: {k: r[k] for k in ("date", "country", "type")} for i, r in now["incidents"].items()},
               "figures": now["figures"], "allies": now["allies"]}
    (out / ".editions.json").write_text(_json({"previous": {"items": {}, "incidents": {}, "figures": {}},
                                               "current": earlier}))
    changes, _ = edition(meeting, out)
    assert changes.new_items == ["Alpha item on drones", "Beta item on spending"]  # the edition's, as before
    assert changes.meeting == [] and changes.revised_incidents == [] and changes.changed_figures == []
    assert edition(meeting, out)[0] == changes


def test_a_state_with_damaged_new_facts_is_a_first_edition(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    out.mkdir()
    edition(meeting, out)
    state = json.loads((out / ".editions.json").read_text())
    state["current"]["shown"] = {"alpha": "T-1"}  # a string where a list belongs
    (out / ".editions.json").write_text(json.dumps(state))
    assert edition(meeting, out)[0].first_edition


def test_the_changes_page_in_the_pdf_and_no_public_output_naming_them(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    [result] = pipeline.build([meeting], out, jobs_count=1)
    assert result.ok
    (meeting / "data" / "incidents.csv").write_text(without(INCIDENTS_CSV, "T-2"))
    (meeting / "meeting.yaml").write_text(MEETING_YAML.replace("venue: Test House", "venue: Other House"))
    [result] = pipeline.build([meeting], out, jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out / "tiny" / "book.pdf").pages[:3])
    assert "Venue changed: Test House → Other House" in text
    assert ("The meeting Venue changed: Test House → Other House Alpha item on drones "
            "(PUBLIC) Incident removed: T-2 (2025-09-19, Estonia, fixed-wing)") in text
    changes = json.loads((out / "tiny" / "changes.json").read_text())
    assert [i["id"] for i in changes["removed_incidents"]] == ["T-2"]
    for sheet in (out / "tiny" / "factsheets").glob("*.html"):
        assert "Incident removed" not in sheet.read_text(encoding="utf-8")
    assert "changes.json" not in (out / "index.html").read_text(encoding="utf-8")
    kept = {name: (out / "tiny" / name).read_bytes() for name in ("book.pdf", "changes.json")}
    [result] = pipeline.build([meeting], out, jobs_count=1, force=True)  # the same edition again
    assert result.ok and kept == {name: (out / "tiny" / name).read_bytes() for name in kept}


def test_a_new_source_a_respelt_type_and_an_incident_renumbered(tmp_path):
    incidents = (INCIDENTS_CSV.replace("Test source C", "Test source C (updated)")
                 .replace(",drone,", ",Drone,")  # both drone rows: the book's word for the type changes
                 .replace("T-3,2025-08-01", "T-9,2025-08-01"))
    changes, book = changes_between(tmp_path, {}, {"incidents": incidents})
    revised = {i["id"]: i["revised"] for i in changes.revised_incidents}
    assert revised == {"T-2": ["source"]}  # a respelling revises no row
    assert [(s["what"], s["before"], s["after"]) for s in changes.respelled] == [("type", "drone", "Drone")]
    assert changes.new_incidents == [] and changes.removed_incidents == []
    assert [(i["before"], i["after"]) for i in changes.renumbered_incidents] == [("T-3", "T-9")]
    text = page(changes, book)
    assert "(PUBLIC) Incident T-2 (2025-09-19, Estonia, fixed-wing) revised (source)" in text
    assert "(PUBLIC) Incident type now spelt Drone (was drone)" in text
    assert "(PUBLIC) Incident T-3 now T-9 (2025-08-01, Poland, Drone), otherwise unchanged" in text


def test_an_ally_renamed_is_listed_once(tmp_path):
    spending = SPENDING_CSV.replace("Greece,GRC", "Hellenic Republic,GRC")
    changes, book = changes_between(tmp_path, {}, {"spending": spending})
    assert [(s["what"], s["before"], s["after"]) for s in changes.respelled] == [("ally", "Greece", "Hellenic Republic")]
    assert changes.changed_figures == []
    assert "(PUBLIC) Ally now spelt Hellenic Republic (was Greece)" in page(changes, book)


def test_the_meeting_author_and_language_are_listed(tmp_path):
    meeting = MEETING_YAML.replace("chair: Test Chair\n", "chair: Test Chair\nauthor: Test Ministry\nlanguage: en-GB\n")
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting})
    assert [(m["field"], m["before"], m["after"]) for m in changes.meeting] == [
        ("author", "–", "Test Ministry"), ("language", "en", "en-GB")]
    assert "Author changed: – → Test Ministry" in page(changes, book)


def test_incidents_are_listed_by_brief_then_date(tmp_path):
    incidents = INCIDENTS_CSV + ("T-5,2025-09-30,Poland,drone,1,,none,false,Later.,Test source E\n"
                                 "T-4,2025-09-20,Poland,drone,1,,none,false,Earlier.,Test source E\n"
                                 "T-0,2025-07-01,Poland,drone,1,,none,false,Before any window.,Test source E\n")
    changes, _ = changes_between(tmp_path, {}, {"incidents": incidents})
    assert [i["id"] for i in changes.new_incidents] == ["T-4", "T-5", "T-0"]  # T-0: in no brief, last


def test_a_widened_window_sums_up_the_incidents_it_moves(tmp_path):
    early = "".join(f"E-{day:02},2025-08-{day:02},Poland,drone,1,,none,false,Early.,Test source E,"
                    f"{'NATO RESTRICTED' if day == 20 else ''}\n" for day in range(2, 22))
    incidents = with_levels(INCIDENTS_CSV, {}) + early
    alpha = ALPHA_YAML.replace("from: 2025-09-01", "from: 2025-08-01")
    changes, book = changes_between(tmp_path, {"incidents": incidents}, {"incidents": incidents, "alpha": alpha})
    assert len([i for i in changes.revised_incidents if i["joined"]]) == 21  # changes.json keeps them all
    lines = page(changes, book).splitlines()
    assert len([line for line in lines if line.startswith("(PUBLIC) Incident E-")]) + 1 == 10  # and T-3
    # the rest in one line, marked with the highest of the rows it stands for (E-20)
    assert "(NR) And 11 more incidents now in this brief" in lines
    assert "E-20" not in "\n".join(lines)


def test_a_row_reclassified_down_under_a_lowered_ceiling_is_listed_as_it_is_now(tmp_path):
    restricted = with_levels(INCIDENTS_CSV, {"T-1": "NATO RESTRICTED"})
    spending = with_levels(SPENDING_CSV, {})
    lowered = MEETING_YAML.replace("classification: NATO RESTRICTED", "classification: NATO UNCLASSIFIED")
    changes, book = changes_between(
        tmp_path, {"incidents": restricted, "spending": spending.replace("4.48,true,,Test source A,",
                                                                         "4.48,true,,Test source A,NATO RESTRICTED"),
                   **LOWER},
        {"incidents": with_levels(INCIDENTS_CSV, {}), "spending": spending.replace("4.48,", "4.50,"),
         "meeting": lowered, **LOWER})
    assert [(i["id"], i["mark"]) for i in changes.revised_incidents] == [("T-1", "PUBLIC")]
    [figure] = changes.changed_figures
    assert (figure["mark"], figure["before"], figure["after"]) == ("PUBLIC", None, "4.50")
    text = page(changes, book)
    assert "(PUBLIC) Spending figure revised: Poland 2025, 4.50% (NATO estimate) of GDP" in text
    assert "4.48" not in render_book(book, changes=changes)  # its value then was restricted


def test_a_brief_renamed_while_a_new_one_takes_its_old_id(tmp_path):
    meeting = MEETING_YAML.replace("items: [alpha, beta]", "items: [alpha, gamma, beta]")
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting, "alpha": "title: Zeta item\n",
                                                    "gamma": ALPHA_YAML})
    assert changes.renamed_items == [{"title": "Alpha item on drones", "before": "alpha", "after": "gamma"}]
    assert changes.new_items == ["Zeta item"] and changes.removed_items == [] and changes.retitled_items == []
    assert "New brief: Alpha item on drones" not in page(changes, book)


def test_a_state_without_the_facts_added_since_starts_no_edition(tmp_path):
    """A state of the last release lacks incidents' sources and the meeting's author and
    language: the first build after an upgrade keeps the edition and its changes."""
    out = tmp_path / "out"
    changes, _ = changes_between(tmp_path, {}, {"incidents": without(INCIDENTS_CSV, "T-3")})
    state = json.loads((out / ".editions.json").read_text())
    for kept in state.values():
        for row in kept["incidents"].values():
            del row["facts"]["source"]
        del kept["meeting"]["author"], kept["meeting"]["language"]
    (out / ".editions.json").write_text(json.dumps(state))
    again, _ = next_edition(tmp_path, {"incidents": without(INCIDENTS_CSV, "T-3")})
    assert again == changes and [i["id"] for i in again.removed_incidents] == ["T-3"]


def test_the_page_goes_brief_by_brief(tmp_path):
    """The meeting's changes first, then each brief's in agenda order, each change under
    every brief it touches: a new incident under both briefs that show it, a revised figure
    under the brief with the spending view. A new brief is new: its incidents are not listed
    as having joined it."""
    gamma = ALPHA_YAML.replace("Alpha item on drones", "Gamma item on drones")
    meeting = (MEETING_YAML.replace("items: [alpha, beta]", "items: [alpha, beta, gamma]")
               .replace("venue: Test House", "venue: Other House"))
    incidents = INCIDENTS_CSV + "T-4,2025-09-20,Estonia,drone,2,,none,false,New one.,Test source E\n"
    spending = SPENDING_CSV.replace("Poland,POL,2025,4.48", "Poland,POL,2025,4.50")
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting, "gamma": gamma, "incidents": incidents,
                                                    "spending": spending})
    text = page(changes, book)
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## The meeting", "## Alpha item on drones", "## Beta item on spending", "## Gamma item on drones"]
    assert under(text, "The meeting") == ["Venue changed: Test House → Other House"]
    new_incident = "(PUBLIC) New incident T-4 (2025-09-20, Estonia, drone)"
    assert under(text, "Alpha item on drones") == [new_incident]
    assert under(text, "Beta item on spending") == [
        "(PUBLIC) Spending figure revised: Poland 2025, 4.48% → 4.50% of GDP"]
    assert under(text, "Gamma item on drones") == ["New brief", new_incident]
    # changes.json keeps its shape: each incident once, naming the briefs that show it
    assert [(i["id"], i["items"]) for i in changes.new_incidents] == [
        ("T-4", ["Alpha item on drones", "Gamma item on drones"])]


def test_a_removed_brief_and_a_row_no_brief_shows(tmp_path):
    """A brief taken off the agenda is a change to the meeting; an incident it alone showed,
    deleted since, is listed with the data, naming the brief that showed it."""
    meeting = MEETING_YAML.replace("items: [alpha, beta]", "items: [beta]")
    changes, book = changes_between(tmp_path, {}, {"meeting": meeting, "alpha": None,
                                                    "incidents": without(INCIDENTS_CSV, "T-1")})
    text = page(changes, book)
    assert under(text, "The meeting") == ["Brief removed: Alpha item on drones"]
    assert under(text, "The data") == [
        "(PUBLIC) Incident removed: T-1 (2025-09-10, Poland, drone), was in: Alpha item on drones"]


def test_a_briefs_incidents_are_listed_by_date(tmp_path):
    """Under each brief its new incidents run by date, as its table runs, whichever brief
    shows them first: beta (now showing incidents too) lists T-4, shown by alpha first, after T-5."""
    beta = BETA_YAML.replace("thresholds: [2.0, 3.5]}\n", "thresholds: [2.0, 3.5]}\n  incidents: {from: 2025-09-01, countries: [EST]}\n")
    incidents = INCIDENTS_CSV + ("T-4,2025-09-25,Estonia,drone,1,,none,false,Later.,Test source E\n"
                                 "T-5,2025-09-05,Estonia,drone,1,,none,false,Earlier.,Test source E\n")
    alpha = ALPHA_YAML.replace("from: 2025-09-01", "from: 2025-09-20")
    changes, book = changes_between(tmp_path, {"beta": beta, "alpha": alpha}, {"beta": beta, "alpha": alpha,
                                                                                "incidents": incidents})
    text = page(changes, book)
    assert [line.split()[3] for line in under(text, "Beta item on spending")] == ["T-5", "T-4"]
    assert [line.split()[3] for line in under(text, "Alpha item on drones")] == ["T-4"]


def test_two_briefs_of_one_title_share_one_heading_and_list_a_change_once(tmp_path):
    gamma = ALPHA_YAML  # alpha's twin: the same title, showing the same incidents
    meeting = MEETING_YAML.replace("items: [alpha, beta]", "items: [alpha, beta, gamma]")
    incidents = INCIDENTS_CSV.replace("T-1,2025-09-10,Poland,drone,19", "T-1,2025-09-10,Poland,drone,21")
    (tmp_path / "out").mkdir()
    next_edition(tmp_path, {"meeting": meeting, "gamma": gamma})
    changes, book = next_edition(tmp_path, {"meeting": meeting, "gamma": gamma, "incidents": incidents})
    text = page(changes, book)
    assert text.count("## Alpha item on drones") == 1
    assert under(text, "Alpha item on drones") == ["(PUBLIC) Incident T-1 (2025-09-10, Poland, drone) revised (count)"]
