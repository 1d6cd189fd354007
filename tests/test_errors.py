"""A user's mistake: one `path:line: message` per problem, non-zero exit, no traceback,
and nothing already built is damaged."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from briefgen import pipeline
from briefgen.cli import main

from .conftest import ALPHA_YAML, BETA_YAML, INCIDENTS_CSV, MEETING_YAML, PROJECT, SPENDING_CSV, write_meeting


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output + result.stderr
    return result


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if not line.startswith("briefgen:")]


def test_valid_meeting_checks_clean(tiny_meeting):
    result = run("check", tiny_meeting)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


def test_yaml_syntax_error(tmp_path):
    meeting = write_meeting(tmp_path, alpha="title: Alpha\npurpose: [unclosed\nbackground: x\n")
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'alpha.yaml'}:2: YAML syntax error: "
                                   "did not find expected ',' or ']' "
                                   "(the '[' opened on this line is not closed with ']')"]


def test_missing_required_field(tmp_path):
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("title: Beta item on spending\n", ""))
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'beta.yaml'}:1: title: missing required field"]


def test_unknown_item_id(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("[alpha, beta]", "[alpha, gamma, beta]"))
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'meeting.yaml'}:6: items: unknown item id 'gamma' "
                                   "(item ids here: alpha, beta)"]


def test_an_item_whose_id_differs_from_its_file_name_is_one_error_saying_so(tmp_path):
    meeting = write_meeting(tmp_path, beta="id: betta\n" + BETA_YAML)
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'meeting.yaml'}:6: items: unknown item id 'beta': beta.yaml "
                                   "says id: betta; make the two agree (an item without id: takes its file's name)"]


def test_an_item_left_off_the_agenda_is_a_warning_at_its_id(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("[alpha, beta]", "[alpha]"),
                            beta="# a comment\nid: beta\n" + BETA_YAML)
    result = run("check", meeting)
    assert result.exit_code == 0
    assert error_lines(result) == [f"{meeting / 'beta.yaml'}:2: warning: item 'beta' is not in the "
                                   "meeting's items: list; it is left out"]


def test_non_numeric_spending_figure(tmp_path):
    spending = SPENDING_CSV.replace("Poland,POL,2014,1.88", "Poland,POL,2014,1.88%")
    meeting = write_meeting(tmp_path, spending=spending)
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'data' / 'spending.csv'}:4: pct_gdp: "
                                   "input should be a valid decimal, found '1.88%'"]


def test_every_problem_is_reported_at_once(tmp_path):
    meeting = write_meeting(
        tmp_path,
        alpha=ALPHA_YAML.replace("title: Alpha item on drones\n", ""),
        beta=BETA_YAML.replace("years: [2014, 2025]", "years: [twenty]"),
        spending=SPENDING_CSV.replace("Greece,GRC,2025,2.85", "Greece,GRC,2025,lots"),
    )
    lines = error_lines(run("check", meeting))
    assert len(lines) == 3
    assert lines[0].startswith(f"{meeting / 'alpha.yaml'}:1: title: missing required field")
    assert lines[1].startswith(f"{meeting / 'beta.yaml'}:5: data.spending.years.0: input should be a valid integer")
    assert lines[2].startswith(f"{meeting / 'data' / 'spending.csv'}:7: pct_gdp:")


def test_duplicate_key_is_an_error(tmp_path):
    alpha = ALPHA_YAML + "purpose: A second purpose.\n"
    meeting = write_meeting(tmp_path, alpha=alpha)
    lines = error_lines(run("check", meeting))
    last = len(alpha.splitlines())
    assert lines == [f"{meeting / 'alpha.yaml'}:{last}: duplicate key 'purpose' (first given on line 3)"]


def test_unquoted_time_gets_a_hint(tmp_path):
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace('time: "10:00-11:00"', "time: 10:00"))
    [line] = error_lines(run("check", meeting))
    assert line.startswith(f"{meeting / 'alpha.yaml'}:2: time: input should be a valid string, found 600")
    assert "put it in quotes if it is text" in line


def test_unknown_key_is_a_warning_with_a_suggestion(tmp_path):
    meeting = write_meeting(tmp_path, beta=BETA_YAML + "purpse: typo\n")
    result = run("check", meeting)
    assert result.exit_code == 0
    assert error_lines(result) == [f"{meeting / 'beta.yaml'}:8: warning: unknown key 'purpse'; did you mean 'purpose'?"]


@pytest.mark.parametrize("level, message", [
    ("NATO SECRET", "portion marked NATO SECRET is above the meeting's classification NATO RESTRICTED"),
    ("NATO PRIVATE", "unknown classification 'NATO PRIVATE' (known: PUBLIC, NATO UNCLASSIFIED, "
                     "NATO RESTRICTED, NATO CONFIDENTIAL, NATO SECRET, COSMIC TOP SECRET)"),
])
def test_bad_classification(tmp_path, level, message):
    alpha = ALPHA_YAML.replace("classification: PUBLIC}\nlines", f"classification: {level}}}\nlines")
    meeting = write_meeting(tmp_path, alpha=alpha)
    assert error_lines(run("check", meeting)) == [f"{meeting / 'alpha.yaml'}:6: {message}"]


@pytest.mark.parametrize("lookalike", ["publıc", "nato ſecret"])  # dotless ı, long s: PUBLIC, SECRET in capitals
def test_a_lookalike_of_a_level_is_not_taken_for_it(tmp_path, lookalike):
    alpha = ALPHA_YAML.replace("classification: PUBLIC}\nlines", f"classification: {lookalike}}}\nlines")
    meeting = write_meeting(tmp_path, alpha=alpha)
    [line] = error_lines(run("check", meeting))
    assert line.startswith(f"{meeting / 'alpha.yaml'}:6: unknown classification '{lookalike}'; did you mean ")


@pytest.mark.parametrize("written, meant", [
    ("Restricted", "'NATO RESTRICTED'"),  # a level's last word
    ("top secret", "'COSMIC TOP SECRET'"),
    ("SECRET", "'NATO SECRET' or 'COSMIC TOP SECRET'"),  # the last word of two
    ("NATO RESTRCTED", "'NATO RESTRICTED'"),  # misspelt
])
def test_an_unknown_level_suggests_the_level_meant(tmp_path, written, meant):
    alpha = ALPHA_YAML.replace("classification: PUBLIC}\nlines", f"classification: {written}}}\nlines")
    meeting = write_meeting(tmp_path, alpha=alpha)
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'alpha.yaml'}:6: unknown classification '{written}'; did you mean {meant}? (known: PUBLIC, "
        "NATO UNCLASSIFIED, NATO RESTRICTED, NATO CONFIDENTIAL, NATO SECRET, COSMIC TOP SECRET)"]


def test_a_level_differing_in_case_and_spaces_alone_is_taken_for_it(tmp_path):
    alpha = ALPHA_YAML.replace("classification: PUBLIC}\nlines", "classification: ' Public '}\nlines")
    assert run("check", write_meeting(tmp_path, alpha=alpha)).exit_code == 0


def test_a_classification_is_reported_on_its_own_line(tmp_path):
    alpha = ALPHA_YAML.replace("  - {text: Alpha public message., classification: PUBLIC}",
                               "  - text: Alpha public message.\n    classification: NATO PRIVATE")
    meeting = write_meeting(tmp_path, alpha=alpha)
    [line] = error_lines(run("check", meeting))
    assert line.startswith(f"{meeting / 'alpha.yaml'}:7: unknown classification 'NATO PRIVATE'")


@pytest.mark.parametrize("key", ["Classification", "clasification", "classificaton"])
def test_a_misspelt_classification_key_is_an_error_not_a_public_portion(tmp_path, key):
    public_item = ALPHA_YAML.replace("title: Alpha", "classification: PUBLIC\ntitle: Alpha")
    meeting = write_meeting(tmp_path, alpha=public_item.replace(
        "  - {text: Alpha public message., classification: PUBLIC}",
        f"  - text: Alpha secret message.\n    {key}: NATO RESTRICTED"))
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'alpha.yaml'}:8: unknown key '{key}': write 'classification', "
                                   "or what it marks takes the default level"]


def test_a_mark_folded_into_the_text_is_an_error(tmp_path):
    alpha = ALPHA_YAML.replace("  - {text: Alpha public message., classification: PUBLIC}",
                               "  - text: >-\n      Alpha secret message.\n      classification: NATO RESTRICTED")
    meeting = write_meeting(tmp_path, alpha=alpha)
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'alpha.yaml'}:6: 'classification: NATO RESTRICTED' is inside the "
                                   "text, not its mark: indent it as far as 'text:'"]


def test_only_a_mark_as_its_scheme_writes_it_opening_a_line_is_taken_for_one(tmp_path):
    text = "(PUBLIC) Allies and their partner(s) agree.\\n\\n(nr) is not how the mark is written.\\n\\nSee (NR) below."
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace(
        "press_line: {text: Alpha press line.", f'press_line: {{text: "{text}"'))
    assert run("check", meeting).exit_code == 0


def test_prose_full_of_markdown_signs_is_checked_for_marks_without_hanging(tmp_path):
    """Looking for a mark at each line's start backtracked over every line after it, in C,
    where no time limit can stop it: eight objectives of these (each the most a portion may
    hold) took some five minutes. The bound is a hang guard, many times what it takes."""
    from briefgen.safety import MAX_PROSE_CHARS

    checked_in_a_process_of_its_own(tmp_path, "*\\n" * (MAX_PROSE_CHARS // 2 - 1), copies=8)


def test_prose_with_a_long_run_of_spaces_after_classification_is_checked_without_hanging(tmp_path):
    """Finding 'classification: NAME' inside a text tried every length of the name against
    every run of spaces after it: six seconds a portion, in C, where no time limit stops it."""
    from briefgen.safety import MAX_PROSE_CHARS

    checked_in_a_process_of_its_own(tmp_path, "classification: x" + " " * (MAX_PROSE_CHARS - 20) + "y", copies=30)


def checked_in_a_process_of_its_own(tmp_path, objective: str, copies: int) -> None:
    """``check`` passes on an item with ``copies`` of ``objective`` (a quoted YAML string)
    within 60 s: a hang guard, the process killed if it runs on."""
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace(
        "objectives: [Agree the alpha line.]", "objectives:\n" + f'  - "{objective}"\n' * copies))
    checked = subprocess.run([sys.executable, "-m", "briefgen", "check", str(meeting)], cwd=PROJECT,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_top_level_list_is_reported(tmp_path):
    meeting = write_meeting(tmp_path, beta="- title: x\n")
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'beta.yaml'}:1: expected a mapping of fields, found a list"]


def test_a_mapping_written_as_one_line_of_text_names_the_keys_it_wants(tmp_path):
    people = "  - {name: Ann Example, role: Minister, country: Testland, bio: Has a bio., classification: PUBLIC}"
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace(people, "  - Jane Doe, Minister"))
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'meeting.yaml'}:10: people.0: expected a mapping of "
        "fields (name, classification, role, country, bio), found a text of 3 words (not quoted here)"]


def test_missing_data_file(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("data/spending.csv", "data/nope.csv"))
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'meeting.yaml'}:13: data.spending: file not found: data/nope.csv"]


def test_failed_build_leaves_previous_outputs_intact(tmp_path):
    meeting = write_meeting(tmp_path)
    out = tmp_path / "out"
    assert run("build", meeting, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in (out / "tiny").rglob("*") if p.is_file()}
    assert {"book.html", "book.pdf", "alpha.pdf", "beta.html", "manifest.json"} <= set(before)

    (meeting / "beta.yaml").write_text("title: [broken\n", encoding="utf-8")
    result = run("build", meeting, "--out", out)
    assert result.exit_code == 1
    after = {p.name: p.read_bytes() for p in (out / "tiny").rglob("*") if p.is_file()}
    assert after == before


def test_one_broken_meeting_does_not_stop_the_others(tmp_path):
    good = write_meeting(tmp_path / "a")
    bad = write_meeting(tmp_path / "b", beta="title: [broken\n")
    result = run("check", good, bad)
    assert result.exit_code == 1
    assert f"{good}: ok" in result.output
    assert "1 of 2 meeting(s) failed" in result.stderr


def test_paths_no_file_can_have_are_input_errors(tmp_path):
    loop = tmp_path / "tiny" / "data" / "loop.csv"
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace(
        "incidents: data/incidents.csv", "incidents: data/ping.csv").replace(
        "spending: data/spending.csv", "spending: data/loop.csv"),
        alpha=ALPHA_YAML.replace("purpose: Decide the alpha question.",
                                 "purpose: \"Decide the alpha question. ![map](assets/map%00.png)\""))
    loop.symlink_to(loop.name)
    (loop.parent / "ping.csv").symlink_to("pong.csv")
    (loop.parent / "pong.csv").symlink_to("ping.csv")
    (meeting / "assets").mkdir()
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'meeting.yaml'}:12: data.incidents: cannot use this path: a symbolic link that leads back "
        "to itself",
        f"{meeting / 'meeting.yaml'}:13: data.spending: cannot use this path: a symbolic link that leads back "
        "to itself",
        f"{meeting / 'alpha.yaml'}:3: purpose: image [not shown: a NATO RESTRICTED portion] cannot be read: the path holds a NUL "
        "character",
    ]


def test_a_bug_met_with_one_meeting_leaves_the_others_checked_and_built(tmp_path, monkeypatch):
    from briefgen import pipeline, validate

    good, odd = write_meeting(tmp_path / "a"), write_meeting(tmp_path / "b", folder="odd")
    real_validate, real_fingerprint = validate.validate_meeting, pipeline.fingerprint

    def crash_on_odd(real):
        def call(directory, *args, **kwargs):
            if directory.name == "odd":
                raise KeyError("a bug")
            return real(directory, *args, **kwargs)
        return call

    monkeypatch.setattr(validate, "validate_meeting", crash_on_odd(real_validate))
    result = run("check", good, odd)
    assert result.exit_code == 3
    assert f"{good}: ok" in result.output
    assert error_lines(result) == [f"{odd / 'meeting.yaml'}: internal error while checking it: KeyError: 'a bug' "
                                   "(a bug in briefgen: --verbose shows the traceback)"]

    monkeypatch.setattr(pipeline, "fingerprint", crash_on_odd(real_fingerprint))
    result = run("build", good, odd, "--out", tmp_path / "out", "--jobs", "1", "--edition", "factsheets")
    assert result.exit_code == 3
    assert error_lines(result) == [f"{odd / 'meeting.yaml'}: internal error while looking at its inputs: "
                                   "KeyError: 'a bug' (a bug in briefgen: --verbose shows the traceback)"]
    assert (tmp_path / "out" / "tiny" / "factsheets" / "alpha.pdf").is_file()


def test_numbers_are_not_dates(tmp_path):
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("date: 2025-10-15", "date: 0"),
                            alpha=ALPHA_YAML.replace("{from: 2025-09-01,", "{from: 86400,"))
    assert sorted(error_lines(run("check", meeting))) == [
        f"{meeting / 'alpha.yaml'}:12: data.incidents.from: write the date as YYYY-MM-DD, found 86400",
        f"{meeting / 'meeting.yaml'}:2: date: write the date as YYYY-MM-DD, found 0"]


def test_dates_are_shown_as_written_not_as_python_writes_them(tmp_path):
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("title: ", "title: 2025-10-15\nx: ", 1),
                            alpha=ALPHA_YAML.replace("{from: 2025-09-01,", "{from: 2025-09-01 10:00:00,"))
    assert sorted(error_lines(run("check", meeting))) == [
        f"{meeting / 'alpha.yaml'}:12: data.incidents.from: write the date as YYYY-MM-DD, found 2025-09-01 10:00:00",
        f"{meeting / 'beta.yaml'}:1: title: input should be a valid string, found 2025-10-15 (put it in quotes "
        "if it is text: YAML reads an unquoted 2025-10-15 as a date)",
        f"{meeting / 'beta.yaml'}:2: warning: unknown key 'x'"]


def test_a_line_break_quoted_in_a_message_does_not_split_it_or_forge_another(tmp_path):
    forged = "x\\nbeta.yaml:1: warning: all is well"
    meeting = write_meeting(tmp_path, beta=f'id: "{forged}"\n' + BETA_YAML)
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'beta.yaml'}:1: id: 'x\\nbeta.yaml:1: warning: all is well' cannot be an item id (use up "
        "to 64 letters, digits, '-', '_' or '.', starting with a letter or digit)"]


def test_a_line_break_in_a_meeting_folder_s_name_does_not_split_what_a_build_says(tmp_path):
    meeting = write_meeting(tmp_path, folder="tiny\nbeta.yaml:1: all is well")
    built = run("build", meeting, "--out", tmp_path / "out", "--edition", "factsheets")
    checked = run("check", meeting)
    assert built.exit_code == checked.exit_code == 0
    assert [line.split("/")[-1] for line in built.stdout.splitlines()] == ["alpha.html", "alpha.pdf", "beta.html", "beta.pdf"]
    assert checked.stdout.splitlines() == [f"{str(meeting)[:-len(meeting.name)]}tiny\\nbeta.yaml:1: all is well: ok"]


def test_a_data_view_needs_the_data_set_and_known_types(tmp_path):
    no_spending = MEETING_YAML.replace("  spending: data/spending.csv\n", "")
    meeting = write_meeting(tmp_path, meeting=no_spending,
                            alpha=ALPHA_YAML.replace("countries: [POL, EST]}", "countries: [POL, EST], types: [dron]}"))
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'alpha.yaml'}:12: warning: data.incidents.types: no incident of type 'dron' in the data "
        "(types there: drone, fixed-wing)",
        f"{meeting / 'beta.yaml'}:5: data.spending: the meeting names no spending data set (data.spending in "
        "meeting.yaml)"]
    held = INCIDENTS_CSV.replace(",source\n", ",source,classification\n", 1).replace(
        "Test source B\n", "Test source B,\n").replace("Test source D\n", "Test source D,\n").replace(
        "T-2,2025-09-19,Estonia,fixed-wing", "T-2,2025-09-19,Estonia,sabotage-cell").replace(
        "Test source C\n", "Test source C,NATO RESTRICTED\n")
    (meeting / "data" / "incidents.csv").write_text(held, encoding="utf-8")
    assert error_lines(run("check", meeting))[0] == (  # a type only restricted rows have is not named
        f"{meeting / 'alpha.yaml'}:12: warning: data.incidents.types: no incident of type 'dron' in the data "
        "(types there: drone, and 1 other in rows that are not public)")


def test_a_view_s_country_with_no_incident_in_the_data_is_a_warning_as_a_type_is(tmp_path):
    """countries: [POL, EST, LVA] with no row for Latvia at all gave no word, as types: did;
    a country whose rows all fall outside the item's window is no mistake."""
    alpha = ALPHA_YAML.replace("countries: [POL, EST]}", "countries: [POL, EST, Latvia, NATO]}")
    csv = INCIDENTS_CSV.replace("T-3,2025-08-01,Poland", "T-3,2025-08-01,NATO")  # outside the window
    meeting = write_meeting(tmp_path, alpha=alpha, incidents=csv)
    assert error_lines(run("check", meeting)) == [
        f"{meeting / 'alpha.yaml'}:12: warning: data.incidents.countries: no incident in 'Latvia' in the data "
        "(countries there: Estonia, NATO, Poland)"]
    held = csv.replace(",source\n", ",source,classification\n", 1).replace(
        "Test source B\n", "Test source B,\n").replace("Test source D\n", "Test source D,\n").replace(
        "Test source C\n", "Test source C,NATO RESTRICTED\n")
    (meeting / "data" / "incidents.csv").write_text(held, encoding="utf-8")
    assert error_lines(run("check", meeting)) == [  # a country only restricted rows have is not named
        f"{meeting / 'alpha.yaml'}:12: warning: data.incidents.countries: no incident in 'Latvia' in the data "
        "(countries there: NATO, Poland, and 1 other in rows that are not public)"]


def test_only_yaml_files_that_can_be_items_are_read_as_items(tmp_path):
    meeting = write_meeting(tmp_path)
    (meeting / "briefgen.yaml").write_text("freshness: {incidents: 30}\n", encoding="utf-8")
    (meeting / ".#alpha.yaml").symlink_to("editor@host.1234")  # an editor's lock file
    (meeting / "gamma.yml").write_text(ALPHA_YAML, encoding="utf-8")
    result = run("check", meeting)
    assert result.exit_code == 0
    assert error_lines(result) == [f"{meeting / 'gamma.yml'}: warning: item files end in .yaml; this one is left out"]


TOO_DEEP = "nested too deeply to read (lists, quotes, emphasis or tags more than 50 levels inside one another)"


def test_markdown_nested_beyond_reading_is_an_input_error(tmp_path):
    deep = "".join("    " * depth + "- x\n" for depth in range(150))  # 45,000 characters: not too long
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("purpose: Decide the beta question.",
                                                             "purpose: |\n" + "".join("  " + line + "\n"
                                                                                      for line in deep.splitlines())))
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'beta.yaml'}:3: purpose: {TOO_DEEP}"]


def test_a_prose_portion_too_long_to_parse_in_time_is_an_input_error(tmp_path):
    """Markdown's inline parsing slows sharply with the tags in one paragraph: 40,000 took 20 s."""
    from briefgen.safety import MAX_PROSE_CHARS

    tags = "<b>x</b> " * (MAX_PROSE_CHARS // 9 + 1)
    meeting = write_meeting(tmp_path, beta=BETA_YAML.replace("purpose: Decide the beta question.",
                                                             f"purpose: '{tags}'"))
    result = run("check", meeting)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{meeting / 'beta.yaml'}:3: purpose: {len(tags):,} characters long; "
                                   f"one portion holds at most {MAX_PROSE_CHARS:,} (split it into several)"]


def test_markdown_too_deep_to_parse_leaves_later_prose_as_it_was():
    """A parse stopped inside a list left its states in the shared converter: depending on
    how deep the stack was, every later paragraph came out as raw markdown, its images unseen."""
    from briefgen.prose import images_in, markdown_to_html, nested_too_deeply

    deep = "".join("    " * depth + "- x\n" for depth in range(400))

    def one_frame_deeper() -> bool:
        return nested_too_deeply(deep)

    assert nested_too_deeply(deep) and one_frame_deeper()
    assert markdown_to_html("*Read* this.") == "<p><em>Read</em> this.</p>"
    assert images_in("See ![the map](assets/map.png).") == ["assets/map.png"]


def test_prose_nested_to_the_limit_is_laid_out_and_one_level_more_is_an_error(tmp_path):
    """Lists are what WeasyPrint recurses into most per level: at the limit they must lay out."""
    def nested_lists(inner: str) -> str:
        return "<ul><li>" * 25 + inner + "</li></ul>" * 25  # 50 elements deep, 51 with inner <em>

    at_limit = write_meeting(tmp_path / "at", alpha=ALPHA_YAML.replace(
        "background: Alpha background paragraph.", f"background: '{nested_lists('deep')}'"))
    [result] = pipeline.build([at_limit], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok and not result.problems, [str(p) for p in result.problems]
    beyond = write_meeting(tmp_path / "beyond", alpha=ALPHA_YAML.replace(
        "background: Alpha background paragraph.", f"background: '{nested_lists('<em>deep</em>')}'"))
    result = run("check", beyond)
    assert result.exit_code == 1
    assert error_lines(result) == [f"{beyond / 'alpha.yaml'}:9: background.0: {TOO_DEEP}"]


@pytest.mark.parametrize("value", ["abc", "99999999999999999999", "1.5"])
def test_a_source_date_epoch_matplotlib_cannot_read_is_a_usage_error(tiny_meeting, value):
    result = CliRunner().invoke(main, ["check", str(tiny_meeting)], env={"SOURCE_DATE_EPOCH": value})
    assert result.exit_code == 2
    assert f"Error: SOURCE_DATE_EPOCH='{value}' is not a time in whole seconds since 1970" in result.stderr
