"""Part of the validate stage: one YAML file into one typed model, with path:line errors.

Shared by meeting, item and project-config files.
"""

from __future__ import annotations

import datetime as dt
import difflib
import sys
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .errors import BriefgenError, ProblemList, cut_short, plural_words, quotable
from .load import LineList, LineMap, load_yaml, plain_key


def validate_file(path: Path, model: type[BaseModel], problems: ProblemList):
    """Parse one YAML file into ``model``; None (with problems recorded) if it fails."""
    try:
        tree = load_yaml(path)
    except BriefgenError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(tree, LineMap):
        found = "an empty file" if tree is None else _shown_kind(tree)
        problems.add(path, getattr(tree, "line", 1) or 1, f"expected a mapping of fields, found {found}")
        return None
    unknown_keys(tree, model, path, problems)
    try:
        result = model.model_validate(tree)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(path, line_for(tree, error["loc"]), describe(error, model))
        return None
    result._tree = tree  # kept so later checks can find lines
    return result


def line_for(tree, loc: tuple) -> int:
    """The line of the deepest part of ``loc`` that exists in the loaded tree."""
    node, line = tree, getattr(tree, "line", 1)
    for part in loc:
        if isinstance(node, LineMap) and part in node:
            line, node = node.line_of(part), node[part]
        elif isinstance(node, LineList) and isinstance(part, int) and part < len(node):
            line, node = node.line_of(part), node[part]
        else:
            break
    return line


def describe(error: dict, model: type[BaseModel] | None = None) -> str:
    """A short, factual message for one pydantic error in a file read into ``model``."""
    where = ".".join(str(part) for part in error["loc"]) or "file"
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return f"{where}: missing required field"
    if kind == "model_type":
        wanted = error.get("ctx", {}).get("class_name")
        if wanted == "Portion":
            return f"{where}: expected markdown text or a mapping {{text, classification}}"
        return (f"{where}: expected a mapping of fields{_field_names(model, wanted)}, "
                f"found {_shown(error['input'], prose=True)}")
    if kind == "too_short" and error["input"] == []:  # pydantic's words: "at least 1 item after validation"
        return f"{where}: the list is empty; give at least {error['ctx']['min_length']}"
    message = plain(message)
    hint = ""
    if kind == "string_type" and type(error["input"]) in (int, float):  # a bool has its own words
        hint = " (put it in quotes if it is text"
        # a time's number is most likely YAML's reading of one: said of an id or a level, it misled
        hint += ": YAML reads an unquoted 10:00 as the number 600)" if error["loc"][-1:] == ("time",) else ")"
    elif kind == "string_type" and isinstance(error["input"], dt.date):
        hint = " (put it in quotes if it is text: YAML reads an unquoted 2025-10-15 as a date)"
    return f"{where}: {message}, found {_shown(error['input'], prose=kind in SHAPE_ERRORS)}{hint}"


def _field_names(model: type[BaseModel] | None, class_name: str | None) -> str:
    """' (question, answer, classification)': the keys of the mapping wanted, required first,
    for a mapping of ``model``'s module (a line to take written as one sentence)."""
    wanted = getattr(sys.modules.get(getattr(model, "__module__", "")), class_name or "", None)
    if not (isinstance(wanted, type) and issubclass(wanted, BaseModel)):
        return ""
    fields = sorted(wanted.model_fields.items(), key=lambda field: not field[1].is_required())
    return f" ({', '.join(info.alias or name for name, info in fields)})"


# Where a list or a mapping was wanted, a string found is prose written in the wrong shape.
SHAPE_ERRORS = {"model_type", "list_type", "dict_type", "tuple_type", "set_type"}


def plain(message: str) -> str:
    """A pydantic message as the middle of a sentence; briefgen's own checks speak for themselves."""
    message = message.removeprefix("Value error, ")
    return message[0].lower() + message[1:]


def _shown_kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a line of text (is the file missing its 'key:' names?)"
    return f"a single value ({_shown(value)})"


def _shown(value, prose: bool = False) -> str:
    """A value as YAML gave it, in the words of a YAML writer rather than Python's;
    ``prose`` (text where a list or mapping was wanted) is quoted only if short."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes, no, on and off as true or false: put the word in quotes)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, dt.date):  # a datetime too: as written, not datetime.date(2025, 10, 15)
        return str(value)
    if prose and isinstance(value, str) and not quotable(value):
        return f"a text of {plural_words(value)} (not quoted here)"
    return cut_short(repr(value))


def unknown_keys(tree, model: type[BaseModel], path: Path, problems: ProblemList) -> None:
    """Warn about keys the model does not know, suggesting the closest known one."""
    if not isinstance(tree, LineMap):
        return
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    for stored in tree:
        key = plain_key(stored)
        if key is None:  # '~: text': _shown's words ("nothing (the value is empty)") are a value's
            problems.warn(path, tree.line_of(stored), "unknown key: the key is empty (written ~, null or not at "
                          "all), so its value is not read; give the key a name")
            continue
        if key not in fields:
            close = difflib.get_close_matches(str(key).lower(), list(fields), n=1)
            shown = (f"'{key}'" if quotable(key) else f"(a text of {plural_words(key)}, not quoted here: "
                     "a sentence holding ': '? put it in quotes)") if isinstance(key, str) else _shown(key)
            if close == ["classification"]:  # the level would silently be the default: maybe public
                problems.add(path, tree.line_of(stored), f"unknown key {shown}: write 'classification', or "
                             "what it marks takes the default level")
            else:
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problems.warn(path, tree.line_of(stored), f"unknown key {shown}{hint}")
            continue
        for submodel in _models_in(fields[key].annotation):
            values = tree[key] if isinstance(tree[key], LineList) else [tree[key]]
            for value in values:
                unknown_keys(value, submodel, path, problems)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
