"""`briefgen new`: scaffolded meetings and items are valid, linted clean and build at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from briefgen import pipeline
from briefgen.cli import main
from briefgen.schema import json_schema
from briefgen.scaffold import ScaffoldError, with_item

from .conftest import PROJECT, finishes


@pytest.fixture
def project(tmp_path):
    """A fresh clone, as far as `new` and `build` can tell: data and schemas, no meetings."""
    for folder in ("data", "schemas"):
        shutil.copytree(PROJECT / folder, tmp_path / folder)
    (tmp_path / "agendas").mkdir()
    return tmp_path


def briefgen(project, *args):
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=project, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


def test_new_meeting_new_item_build(project):
    """The acceptance sequence: new meeting, new item, build, on a fresh clone."""
    for args in (("new", "meeting", "x"), ("new", "item", "x", "y"), ("build", "agendas/x")):
        done = briefgen(project, *args)
        assert done.returncode == 0, (args, done.stderr)
    meeting = project / "agendas" / "x"
    assert yaml.safe_load((meeting / "meeting.yaml").read_text())["items"] == ["y"]
    for name in ("book.pdf", "book.html", "factsheets/y.pdf"):
        assert (project / "output" / "x" / name).is_file(), name
    # the only warning is about the shipped data's age against today's date
    assert all("days old at the meeting" in line for line in done.stderr.splitlines()), done.stderr


def test_scaffolded_files_validate_against_the_schema_and_lint_clean(project):
    os.chdir(project)
    runner = CliRunner()
    assert runner.invoke(main, ["new", "meeting", "x"]).exit_code == 0
    assert runner.invoke(main, ["check", "agendas/x"]).exit_code == 0  # no items yet
    assert runner.invoke(main, ["new", "item", "x", "first"]).exit_code == 0
    assert runner.invoke(main, ["new", "item", "agendas/x", "second-one"]).exit_code == 0
    meeting = project / "agendas" / "x"
    for path, kind in ((meeting / "meeting.yaml", "meeting"), (meeting / "first.yaml", "item")):
        text = path.read_text()
        assert text.startswith(f"# yaml-language-server: $schema=../../schemas/{kind}.schema.json\n")
        as_json = yaml.safe_load(text)
        as_json["date"] = str(as_json.get("date", ""))
        if kind == "item":
            del as_json["date"]
        jsonschema.validate(as_json, json_schema(kind))
    [result] = pipeline.check([meeting])
    assert result.ok and [p for p in result.problems if "days old" not in p.message] == []
    assert yaml.safe_load((meeting / "meeting.yaml").read_text())["items"] == ["first", "second-one"]


def test_new_refuses_to_overwrite_and_checks_names(project):
    os.chdir(project)
    runner = CliRunner()
    assert runner.invoke(main, ["new", "meeting", "x"]).exit_code == 0
    again = runner.invoke(main, ["new", "meeting", "x"])
    assert again.exit_code == 1 and "already exists; not overwritten" in again.stderr
    assert runner.invoke(main, ["new", "item", "x", "y"]).exit_code == 0
    before = (project / "agendas" / "x" / "y.yaml").read_text()
    assert runner.invoke(main, ["new", "item", "x", "y"]).exit_code == 1
    assert (project / "agendas" / "x" / "y.yaml").read_text() == before
    bad = runner.invoke(main, ["new", "item", "x", "Not A Slug"])
    assert bad.exit_code == 2 and "lower-case letters, digits and hyphens" in bad.stderr
    missing = runner.invoke(main, ["new", "item", "nowhere", "y"])
    assert missing.exit_code == 1 and "not a meeting folder" in missing.stderr


@pytest.mark.parametrize("item_id", ["briefgen", "meeting", "con", "lpt1"])
def test_new_item_refuses_the_name_of_a_file_that_is_not_an_item(project, item_id):
    """briefgen.yaml was written as an item, and read as the project's settings: every
    meeting under it failed. An item 'con' was written, then refused by validation."""
    os.chdir(project)
    runner = CliRunner()
    assert runner.invoke(main, ["new", "meeting", "x"]).exit_code == 0
    meeting = (project / "agendas" / "x" / "meeting.yaml").read_text()
    refused = runner.invoke(main, ["new", "item", "x", item_id])
    assert refused.exit_code == 2 and f"item id '{item_id}' cannot be used" in refused.stderr
    assert sorted(p.name for p in (project / "agendas" / "x").iterdir()) == ["meeting.yaml"]
    assert (project / "agendas" / "x" / "meeting.yaml").read_text() == meeting


def test_adding_to_a_block_list_keeps_comments():
    text = textwrap.dedent("""\
        title: T   # the title
        items:     # agenda order
          - a      # first
          # b is dropped for now
          - c
        programme: []
        """)
    assert with_item(text, "d") == text.replace("  - c\n", "  - c\n  - d\n")


def test_adding_to_a_flow_list_keeps_its_comment():
    assert with_item("items: [a, b]  # order\n", "c") == "items: [a, b, c] # order\n"
    assert with_item("items: []\n", "c") == "items: [c]\n"
    assert with_item("items: [ a, b  ]\n", "c") == "items: [ a, b, c]\n"


def test_a_meeting_without_an_items_list_is_left_alone():
    assert with_item("title: T\n", "c") is None  # items follow the file names


def test_an_item_already_listed_is_refused():
    with pytest.raises(ScaffoldError, match="already in the meeting's items"):
        with_item("items: [a, c]\n", "c")


def test_a_list_the_edit_would_break_is_refused_not_a_traceback():
    for text in ("items: [a, b, ]\n", "items: 5\n", "- a\n"):  # '[a, b,, c]' did not parse
        with pytest.raises(ScaffoldError, match="cannot add 'c' to the items: list"):
            with_item(text, "c")


@pytest.mark.parametrize("written, expect", [
    (b"title: T\nitems: [a\n", "agendas/x/meeting.yaml:2: YAML syntax error: did not find expected ',' or ']' "
     "(the '[' opened on this line is not closed with ']')"),
    (b"title: caf\xe9\nitems: [a]\n", "agendas/x/meeting.yaml:1: not UTF-8 text (byte 0xE9); save the file as UTF-8"),
    (b"items: !!python/name:os.system x\n", "agendas/x/meeting.yaml:1: YAML tag '!!python/name:os.system' is "
     "not allowed: briefgen reads plain text, numbers, dates, lists and mappings only"),
])
def test_new_item_in_a_meeting_file_it_cannot_read_names_its_line(project, written, expect):
    (project / "agendas" / "x").mkdir()
    (project / "agendas" / "x" / "meeting.yaml").write_bytes(written)
    done = briefgen(project, "new", "item", "x", "y")
    assert (done.returncode, done.stderr) == (1, expect + "\n")
    assert not (project / "agendas" / "x" / "y.yaml").exists()


def test_new_meeting_refuses_a_windows_device_name(project):
    os.chdir(project)
    refused = CliRunner().invoke(main, ["new", "meeting", "aux"])
    assert refused.exit_code == 2 and "meeting name 'aux' cannot be used" in refused.stderr
    assert not (project / "agendas" / "aux").exists()


def test_a_flow_list_with_a_long_run_of_spaces_is_read_without_hanging():
    """The list's inside, taken as short as it could be, was tried against every run of spaces
    after it: a line of 'items: [' and 50,000 spaces took over a second, 2 MB hours."""
    finishes("from briefgen.scaffold import add_to_flow_list; add_to_flow_list(['items: [' + ' ' * 1_000_000], 'x')")
