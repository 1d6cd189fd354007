"""The briefing linter: each rule with an example that fails it and one that passes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from briefgen import pipeline
from briefgen.cli import main
from briefgen.lint import RULES, lint_pages

from .conftest import ALPHA_YAML, BETA_YAML, MEETING_YAML, REFERENCE, write_meeting

NO_LINES = "lines_to_take:\n  - {question: \"What about alpha?\", answer: Alpha answer., classification: NATO RESTRICTED}\n"


def warnings_of(meeting, **options) -> list[str]:
    [result] = pipeline.check([meeting], **options)
    assert result.ok, [str(p) for p in result.problems]
    return [str(p) for p in result.problems]


# rule: (alpha.yaml that fails it, alpha.yaml that passes it, the line of the warning)
CONTENT_CASES = {
    "item-purpose": (ALPHA_YAML.replace("purpose: Decide the alpha question.\n", ""),
                     ALPHA_YAML, 1),
    "item-objective": (ALPHA_YAML.replace("objectives: [Agree the alpha line.]", "objectives: []"),
                       ALPHA_YAML, 4),
    "item-line-to-take": (ALPHA_YAML.replace(NO_LINES, ""), ALPHA_YAML, 1),
    "press-line": (ALPHA_YAML.replace("press_line: {text: Alpha press line., classification: PUBLIC}\n", "")
                   + "press: open\n",
                   ALPHA_YAML + "press: open\n", 12),
    "factsheet-content": (ALPHA_YAML.replace("  - {text: Alpha public message., classification: PUBLIC}\n", "  - Alpha.\n")
                          .replace("press_line: {text: Alpha press line., classification: PUBLIC}\n", "")
                          .replace("data:\n  incidents: {from: 2025-09-01, countries: [POL, EST]}\n", ""),
                          ALPHA_YAML.replace("press_line: {text: Alpha press line., classification: PUBLIC}\n", "")
                          .replace("data:\n  incidents: {from: 2025-09-01, countries: [POL, EST]}\n", ""), 1),
}


@pytest.mark.parametrize("rule", CONTENT_CASES)
def test_item_rule_fails_and_passes(tmp_path, rule):
    failing, passing, line = CONTENT_CASES[rule]
    bad = write_meeting(tmp_path / "bad", alpha=failing)
    [warning] = warnings_of(bad)
    assert warning.startswith(f"{bad / 'alpha.yaml'}:{line}: warning: ")
    assert warning.endswith(f"[{rule}]")
    assert warnings_of(write_meeting(tmp_path / "good", alpha=passing)) == []


def test_an_item_with_nothing_public_but_data_or_closed_to_the_press_has_a_fact_sheet_worth_its_name(tmp_path):
    restricted = ALPHA_YAML.replace("  - {text: Alpha public message., classification: PUBLIC}\n", "  - Alpha.\n").replace(
        "press_line: {text: Alpha press line., classification: PUBLIC}\n", "")
    assert warnings_of(write_meeting(tmp_path / "data", alpha=restricted)) == []  # its incidents' figures
    closed = restricted.replace("data:\n  incidents: {from: 2025-09-01, countries: [POL, EST]}\n", "press: closed\n")
    assert warnings_of(write_meeting(tmp_path / "closed", alpha=closed)) == []


def test_a_blank_purpose_counts_as_none(tmp_path):
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace("Decide the alpha question.", '" "'))
    assert [w.rsplit(" ", 1)[1] for w in warnings_of(meeting)] == ["[item-purpose]"]


def test_a_fact_sheet_means_open_press_unless_said_closed(tmp_path):
    with_sheet = BETA_YAML + "factsheet: {title: Beta for the press}\n"
    [warning] = warnings_of(write_meeting(tmp_path / "a", beta=with_sheet))
    assert "open to the press (it has a fact sheet) but no press line" in warning
    assert warning.endswith("[press-line]")
    assert warnings_of(write_meeting(tmp_path / "b", beta=with_sheet + "press: closed\n")) == []


def test_programme_person_must_be_in_whos_who(tmp_path):
    entry = '  - {time: "09:00", event: Opening session, location: Room 1, classification: PUBLIC}\n'
    named = MEETING_YAML.replace(entry, entry.replace("Room 1,", "Room 1, people: [Ann Exampel],"))
    bad = write_meeting(tmp_path / "bad", meeting=named)
    assert warnings_of(bad) == [
        f"{bad / 'meeting.yaml'}:8: warning: programme: 'Ann Exampel' is not in the who's who (people:); "
        "did you mean 'Ann Example'? [programme-person]"]
    good = MEETING_YAML.replace(entry, entry.replace("Room 1,", "Room 1, people: [ann  example],"))
    assert warnings_of(write_meeting(tmp_path / "good", meeting=good)) == []
    held = named.replace("classification: PUBLIC}", "classification: NATO RESTRICTED}", 1)
    restricted = write_meeting(tmp_path / "held", meeting=held)
    assert warnings_of(restricted) == [  # messages reach logs: a restricted entry's names are not quoted
        f"{restricted / 'meeting.yaml'}:8: warning: programme: [not shown: a NATO RESTRICTED entry] is not in "
        "the who's who (people:) [programme-person]"]


@pytest.mark.parametrize("written, unclosed", [
    ("Decide the <b>alpha question.", ["b"]),
    ("Decide the <em>alpha\n\nquestion</em>.", ["em"]),  # closed in the next paragraph: not in its own
    ("Decide <a href='#people'>the <i>alpha</a> question.", ["i"]),
    ("Decide the <b>alpha</b> question, <sup>1</sup> `<b>` <br> </i>.", []),  # code is text; a stray end tag is dropped
    ("<table><tr><td>Decide the alpha question.</table>", []),  # cells and rows close themselves
])
def test_a_tag_left_open_in_prose_is_named_at_its_line(tmp_path, written, unclosed):
    quoted = '"' + written.replace("\n", "\\n") + '"'
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace("purpose: Decide the alpha question.", f"purpose: {quoted}"))
    warnings = warnings_of(meeting)
    assert warnings == [f"{meeting / 'alpha.yaml'}:3: warning: purpose: <{tag}> is not closed in its paragraph, so "
                        f"what follows may be set as it is: write </{tag}> where it should end [prose-tags]"
                        for tag in unclosed]


def test_strict_makes_a_lint_warning_fail_check(tmp_path):
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace("purpose: Decide the alpha question.\n", ""))
    result = CliRunner().invoke(main, ["check", "--strict", str(meeting)])
    assert result.exit_code == 1
    assert "[item-purpose]" in result.stderr and "warning:" not in result.stderr


def test_the_reference_meeting_passes_the_linter(tmp_path):
    assert warnings_of(REFERENCE) == []


def test_page_rules_fail_and_pass():
    paths = {"long": REFERENCE / "long.yaml", "short": REFERENCE / "short.yaml"}
    found = [str(p) for p in lint_pages({"long": 5, "short": 4}, {"long": 2, "short": 1}, paths, {"long": 31.6})]
    assert [line.rsplit(" ", 1)[1] for line in found] == ["[brief-length]", "[factsheet-pages]"]
    assert "the brief runs to 5 pages in the book before its facts and figures; keep it to 4" in found[0]
    assert "fact sheet 'long' runs to 2 pages; cut about 32 mm of content to fit one" in found[1]


def test_brief_length_from_the_build_and_from_check(tmp_path):
    long_background = "".join(f"  - Paragraph {i}, {'a sentence of background ' * 30}\n" for i in range(40))
    alpha = ALPHA_YAML.replace("background: Alpha background paragraph.\n", "background:\n" + long_background)
    meeting = write_meeting(tmp_path, alpha=alpha)
    out = tmp_path / "out"
    [result] = pipeline.build([meeting], out, editions=("book",), jobs_count=1)
    assert result.ok
    [warning] = [str(p) for p in result.problems]
    assert warning.startswith(f"{meeting / 'alpha.yaml'}: warning: the brief runs to ")
    assert warning.endswith("[brief-length]")  # and beta, one page, passes
    pages = json.loads((out / "tiny" / "manifest.json").read_text())["brief_pages"]
    assert pages["alpha"] > 4 and pages["beta"] == 1

    [from_check] = warnings_of(meeting, out=out)
    assert "(in the last build)" in from_check and from_check.endswith("[brief-length]")
    (meeting / "alpha.yaml").write_text(ALPHA_YAML, encoding="utf-8")  # edited since: not reported
    assert warnings_of(meeting, out=out) == []


def test_check_names_a_fact_sheet_the_last_build_could_not_write(tmp_path):
    """Two pages long, the sheet was not written and is not in the manifest: check has no
    page count to read, and must not call the output fine."""
    long_facts = "".join(f"    - {{text: Public fact number {i} {'word ' * 40}, classification: PUBLIC}}\n"
                         for i in range(30))
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML + "factsheet:\n  facts:\n" + long_facts)
    out = tmp_path / "out"
    [result] = pipeline.build([meeting], out, editions=("factsheets",), jobs_count=1)
    assert not result.ok
    result = CliRunner().invoke(main, ["check", str(meeting), "--out", str(out)])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"{meeting / 'alpha.yaml'}: warning: fact sheet 'alpha' is not in the last build, which could not "
        "write it: the output is not current, and its pages are not known (build it to see why) [factsheet-pages]",
        f"{meeting / 'meeting.yaml'}: warning: {UNFINISHED.format('fact sheets')}"]
    assert CliRunner().invoke(main, ["check", str(meeting), "--out", str(out), "--strict"]).exit_code == 1
    (meeting / "alpha.yaml").write_text(ALPHA_YAML, encoding="utf-8")  # edited since: the next build will tell
    assert warnings_of(meeting, out=out) == [f"{meeting / 'meeting.yaml'}: warning: {UNFINISHED.format('fact sheets')}"]
    pipeline.build([meeting], out, editions=("factsheets",), jobs_count=1)
    assert warnings_of(meeting, out=out) == []


UNFINISHED = ("the last build of its {} ended with an error, or an input was saved while it ran: page counts "
              "read from it may be an earlier build's, and the output may not be current (build the meeting again to see)")


def test_check_says_the_last_build_failed_when_it_kept_an_earlier_good_sheet(tmp_path):
    """A sheet grown to two pages is not written, and the last good one stays listed with
    its one page, under the item's new input: check found nothing wrong."""
    one_fact = "factsheet:\n  facts:\n    - {text: One public fact., classification: PUBLIC}\n"
    meeting, out = write_meeting(tmp_path, alpha=ALPHA_YAML + one_fact), tmp_path / "out"
    assert pipeline.build([meeting], out, jobs_count=1)[0].ok
    long_facts = "".join(f"    - {{text: Public fact number {i} {'word ' * 40}, classification: PUBLIC}}\n"
                         for i in range(30))
    (meeting / "alpha.yaml").write_text(ALPHA_YAML + "factsheet:\n  facts:\n" + long_facts, encoding="utf-8")
    assert not pipeline.build([meeting], out, jobs_count=1)[0].ok
    assert warnings_of(meeting, out=out) == [
        f"{meeting / 'meeting.yaml'}: warning: {UNFINISHED.format('book and fact sheets')}"]


def test_check_ignores_a_manifest_whose_page_counts_are_not_numbers(tmp_path):
    """Edited by hand: the manifest is not one briefgen wrote, and check reads no page rule
    from it (it failed as a bug in briefgen, exit status 3)."""
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    [result] = pipeline.build([meeting], out, editions=("book",), jobs_count=1)
    assert result.ok
    path = out / "tiny" / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "brief_pages": {"alpha": "five"}}))
    result = CliRunner().invoke(main, ["check", str(meeting), "--out", str(out)])
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr


def test_every_rule_is_documented_in_the_readme():
    readme = (REFERENCE.parent.parent / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule}`" in readme, rule
