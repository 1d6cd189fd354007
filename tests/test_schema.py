"""`briefgen schema`: the JSON Schema editors use, checked against every shipped YAML file."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from briefgen.cli import main
from briefgen.schema import json_schema, schema_file, schema_text

from .conftest import ALPHA_YAML, PROJECT

SHIPPED = sorted((PROJECT / "agendas").glob("*/*.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def kind_of(path) -> str:
    return "meeting" if path.name == "meeting.yaml" else "item"


def as_editor_sees(text: str):
    """The YAML as JSON values: dates stay text, as in the editor; numbers stay numbers."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def errors(kind: str, text: str) -> list[str]:
    validator = jsonschema.Draft7Validator(json_schema(kind))
    return [error.message for error in validator.iter_errors(as_editor_sees(text))]


@pytest.mark.parametrize("kind", ["meeting", "item"])
def test_shipped_schema_is_up_to_date(kind):
    jsonschema.Draft7Validator.check_schema(json_schema(kind))
    assert schema_file(kind).read_text(encoding="utf-8") == schema_text(kind), (
        f"regenerate it: briefgen schema {kind} -o schemas/{kind}.schema.json")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_yaml_file_validates_and_names_its_schema(path):
    text = path.read_text(encoding="utf-8")
    assert errors(kind_of(path), text) == []
    [target] = MODELINE.match(text.splitlines()[0]).groups()
    assert (path.parent / target).resolve() == schema_file(kind_of(path))


def test_the_schema_accepts_the_shorthands_and_catches_mistakes():
    assert errors("item", ALPHA_YAML) == []  # plain-string portions, one background portion
    assert errors("item", ALPHA_YAML.replace('time: "10:00-11:00"', "time: 10:00")) != []
    assert errors("item", ALPHA_YAML + "purpse: typo\n") == [
        "Additional properties are not allowed ('purpse' was unexpected)"]
    assert errors("item", ALPHA_YAML + "press: maybe\n") != []
    assert errors("item", ALPHA_YAML.replace("title: Alpha item on drones\n", "")) == ["'title' is a required property"]


def test_schema_command_prints_or_writes(tmp_path):
    printed = CliRunner().invoke(main, ["schema", "item"])
    assert printed.exit_code == 0 and printed.output == schema_text("item")
    written = CliRunner().invoke(main, ["schema", "meeting", "-o", str(tmp_path / "m.json")])
    assert written.exit_code == 0
    assert json.loads((tmp_path / "m.json").read_text()) == json_schema("meeting")
    assert CliRunner().invoke(main, ["schema", "agenda"]).exit_code == 2


@pytest.mark.parametrize("before", [[], ["check", "--log-format", "json", "no-such-meeting"]])
def test_schema_written_into_a_folder_that_is_not_there_is_one_line_not_a_traceback(tmp_path, before):
    """Also after a run asking for a JSON log in the same process: its format was kept."""
    if before:
        CliRunner().invoke(main, before)
    target = tmp_path / "missing" / "m.json"
    refused = CliRunner().invoke(main, ["schema", "meeting", "-o", str(target)])
    assert refused.exit_code == 5, refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert refused.stderr.strip() == f"{target}: cannot write: No such file or directory"
