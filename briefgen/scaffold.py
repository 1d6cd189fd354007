"""``briefgen new``: a meeting or an agenda item that builds at once, with every field
present and commented, and the line that gives editors the schema.

The meeting's ``items:`` list is edited as text, so its comments and layout stay as the
writer left them; the result is parsed again before it is written.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import yaml

from .classification import Level, Scheme
from .config import load_project
from .load import load_yaml
from .publish import write_atomic
from .safety import names_a_device
from .schema import schema_text

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MEETING_FILE = "meeting.yaml"
DATA_FILES = ("incidents", "spending")


class ScaffoldError(Exception):
    """Nothing was written: the reason is the message."""


class BadName(ScaffoldError):
    """A meeting name or item id that cannot be a file name and an HTML id."""


def check_slug(text: str, what: str, example: str) -> str:
    if not SLUG.match(text):
        raise BadName(f"{what} '{text}' must be lower-case letters, digits and hyphens, such as {example}")
    if names_a_device(text):  # it names output files, which Windows shares could not open
        raise BadName(f"{what} '{text}' cannot be used: Windows reserves the name for a device")
    return text


def new_meeting(agendas: Path, name: str, today: dt.date | None = None) -> list[Path]:
    """Write ``agendas/<name>/meeting.yaml``; returns the files written."""
    folder = Path(agendas) / check_slug(name, "meeting name", "2026-02-defence-ministers")
    target = folder / MEETING_FILE
    if target.exists():
        raise ScaffoldError(f"{target} already exists; not overwritten")
    written = ensure_schemas(Path(agendas).parent)
    scheme = load_project(Path(agendas)).scheme
    text = MEETING_TEMPLATE.format(
        schema=schema_link(folder, "meeting"), name=name, title=name.replace("-", " ").capitalize(),
        date=(today or dt.date.today()).isoformat(), levels=", ".join(scheme.names()),
        ceiling=ceiling(scheme).name, public=public(scheme).name, data=data_block(folder))
    write_atomic(target, align_comments(text))
    return [*written, target]


# The YAML files of a meeting folder that are not items (validate leaves them out): an item
# scaffolded as briefgen.yaml became the project's settings, and failed every meeting under it.
NOT_ITEMS = {"meeting": "the meeting's own file", "briefgen": "the project's settings file"}


def new_item(meeting: Path, item_id: str) -> list[Path]:
    """Write ``<meeting>/<item_id>.yaml`` and add the id to the meeting's ``items:``."""
    check_slug(item_id, "item id", "drone-wall")
    if item_id in NOT_ITEMS:
        raise BadName(f"item id '{item_id}' cannot be used: {item_id}.yaml is {NOT_ITEMS[item_id]}, not an item")
    meeting_file = meeting / MEETING_FILE
    if not meeting_file.is_file():
        raise ScaffoldError(f"{meeting} is not a meeting folder: no {MEETING_FILE} (briefgen new meeting NAME)")
    target = meeting / f"{item_id}.yaml"
    if target.exists():
        raise ScaffoldError(f"{target} already exists; not overwritten")
    load_yaml(meeting_file)  # its mistakes (syntax, tags, not UTF-8) as path:line, before anything is written
    original = meeting_file.read_text(encoding="utf-8")
    listed = with_item(original, item_id)
    scheme = load_project(meeting).scheme
    write_atomic(target, align_comments(item_text(meeting, item_id, scheme)))
    if listed is None:
        return [target]
    write_atomic(meeting_file, listed)
    return [target, meeting_file]


def item_text(meeting: Path, item_id: str, scheme: Scheme) -> str:
    level = scheme.public_level
    sheet = FACTSHEET_TEMPLATE if level else NO_FACTSHEET
    return ITEM_TEMPLATE.format(
        schema=schema_link(meeting, "item"), id=item_id, meeting=meeting.name,
        title=item_id.replace("-", " ").capitalize(), levels=", ".join(scheme.names()),
        ceiling=ceiling(scheme).name, public=public(scheme).name,
        press="open" if level else "closed",
        factsheet=sheet.format(title=item_id.replace("-", " ").capitalize(), public=public(scheme).name))


def with_item(text: str, item_id: str) -> str | None:
    """``text`` with ``item_id`` added to its ``items:`` list; None if it has no list
    (items then follow the file names). Refuses an id already listed."""
    cannot = ScaffoldError(f"cannot add '{item_id}' to the items: list of meeting.yaml as it is written; "
                           "add it by hand")
    before = yaml.safe_load(text) or {}
    if not isinstance(before, dict):
        raise cannot
    listed = before.get("items")
    if listed is None:
        return None
    if not isinstance(listed, list):
        raise cannot
    if item_id in listed:
        raise ScaffoldError(f"'{item_id}' is already in the meeting's items: list")
    lines = text.splitlines(keepends=True)
    changed = add_to_flow_list(lines, item_id) or add_to_block_list(lines, item_id)
    result = "".join(lines)
    try:  # the edit can break the list ('[a, b, ]' became '[a, b,, c]'): parsed again before it is written
        after = yaml.safe_load(result) if changed else None
    except yaml.YAMLError:
        after = None
    if not isinstance(after, dict) or after.get("items") != [*listed, item_id]:
        raise cannot
    return result


def add_to_flow_list(lines: list[str], item_id: str) -> bool:
    """``items: [a, b]  # comment`` -> ``items: [a, b, id]  # comment``."""
    for index, line in enumerate(lines):
        # the list's inside taken whole: a shortest one tried every run of spaces after it
        match = re.match(r"^(items:[ \t]*\[)([^\]\n]*)\]([ \t]*)(#[^\n]*)?(\n?)$", line)
        if match:
            head, inside, _, comment, end = match.groups()
            inside = inside.rstrip(" \t")
            listed = f"{head}{inside + ', ' if inside.strip() else ''}{item_id}]"
            if comment:  # where it was, if there is room
                column = line.index(comment)
                listed = f"{listed:<{column - 1}} {comment}"
            lines[index] = listed + end
            return True
    return False


def add_to_block_list(lines: list[str], item_id: str) -> bool:
    """A block list under ``items:``: a new ``- id`` line after its last entry."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^items:\s*(#.*)?$", line)), None)
    if start is None:
        return False
    last, indent = None, None
    for index in range(start + 1, len(lines)):
        entry = re.match(r"^(\s+)- ", lines[index])
        if entry:
            last, indent = index, entry.group(1)
        elif lines[index].strip() and not lines[index].lstrip().startswith("#"):
            break
    if last is None:
        return False
    if not lines[last].endswith("\n"):
        lines[last] += "\n"
    lines.insert(last + 1, f"{indent}- {item_id}\n")
    return True


def align_comments(text: str, column: int = 36) -> str:
    """Line up the comments after values, whatever length the values were filled in with."""
    def align(match: re.Match) -> str:
        return f"{match.group(1):<{column - 1}} {match.group(2)}"

    return re.sub(r"(?m)^([^#\n]*?\S)  +(# .*)$", align, text)


def ceiling(scheme: Scheme) -> Level:
    """A new meeting's ceiling: the lowest level that is not public."""
    return next((level for level in scheme.levels if not level.public), scheme.levels[-1])


def public(scheme: Scheme) -> Level:
    return scheme.public_level or ceiling(scheme)


def schema_link(folder: Path, kind: str) -> str:
    """The schema's path relative to the new file: the project's schemas/ folder."""
    project = folder.resolve().parent.parent
    return Path(os.path.relpath(project / "schemas" / f"{kind}.schema.json", folder.resolve())).as_posix()


def ensure_schemas(project: Path) -> list[Path]:
    """A project without its own copy of the schemas gets one, for the editor's sake."""
    written = []
    for kind in ("meeting", "item"):
        target = project / "schemas" / f"{kind}.schema.json"
        if not target.exists():
            write_atomic(target, schema_text(kind))
            written.append(target)
    return written


def data_block(folder: Path) -> str:
    """The project's data sets (``data/<name>.csv``), relative to the new meeting."""
    lines = []
    for name in DATA_FILES:
        found = folder.resolve().parent.parent / "data" / f"{name}.csv"
        if found.is_file():
            lines.append(f"  {name}: {Path(os.path.relpath(found, folder.resolve())).as_posix()}")
        else:
            lines.append(f"  {name}:                       # e.g. ../../data/{name}.csv")
    return "\n".join(lines)


MEETING_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# A meeting: this file, and one YAML file per agenda item beside it
# (briefgen new item {name} ITEM-ID). Prose is markdown. Any text can be marked
# {{text: ..., classification: ...}}; unmarked, it takes the meeting's classification.
# Levels: {levels}.

title: {title}                       # the meeting, as on the cover
date: {date}                         # YYYY-MM-DD
venue: To be confirmed               # where it takes place
chair: To be confirmed               # who chairs it
author: ""                           # who issues the book and fact sheets (PDF Author), public
classification: {ceiling}            # the ceiling for the whole book
language: en                         # the book's language (PDF metadata)
items: []                            # item ids in agenda order; briefgen new item adds to it

# The day, in order. Quote times: YAML reads 10:00 as a number.
programme:
  - time: "09:00"
    event: Opening session
    location: To be confirmed
    people: [To be confirmed]        # who speaks or takes part, as named under people:
    classification: {public}

# The who's who.
people:
  - name: To be confirmed
    role: Role
    country: Country
    bio: A line or two of markdown.
    classification: {public}

# The data sets the briefs draw on, relative to this file.
data:
{data}
"""

ITEM_TEMPLATE = """\
# yaml-language-server: $schema={schema}
# An agenda item of {meeting}. Prose is markdown. Any portion can be marked
# {{text: ..., classification: ...}}; unmarked, it takes this item's classification.
# Levels: {levels}.

id: {id}                             # default: the file name
title: {title}                       # as in the contents
time: "10:00-11:00"                  # quoted: YAML reads 10:00 as a number
lead: To be confirmed                # who leads on it: a post, not a name
classification: {ceiling}            # the default for this item's portions
press: {press}                       # open: the press attends or is briefed; closed: no press

# Why the item is on the agenda, and what we want from it.
purpose: >-
  Why this item is on the agenda, and what we want from it.

# The outcomes we want, one each.
objectives:
  - The first outcome we want.

# What the minister says, one each.
key_messages:
  - The first key message.

# If pressed: the likely questions and the answers to give.
lines_to_take:
  - question: A question we may be asked?
    answer: The answer to give.

# What the minister needs to know: one portion or a list.
background:
  - The background.

# The line for the press.
press_line:
  text: The line for the press.
  classification: {public}

# Facts and figures from the meeting's data sets; leave empty for none.
data:
  incidents:     # e.g. {{heading: Airspace incidents, from: 2025-09-01, to: 2025-10-15, countries: [POL, EST], types: [drone]}}
  spending:      # e.g. {{years: [2014, 2025], thresholds: [2.0, 3.5], target: 3.5, target_year: 2035}}

{factsheet}"""

FACTSHEET_TEMPLATE = """\
# The one-page press fact sheet: every portion must be marked {public}.
factsheet:
  title: {title}
  lede:
    text: The opening paragraph for the press.
    classification: {public}
  facts:
    - text: A short fact.
      classification: {public}
"""

NO_FACTSHEET = """\
# The project's scheme has no public level, so there is no press fact sheet.
factsheet:
"""
