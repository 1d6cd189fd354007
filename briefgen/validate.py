"""Stage 2, validate: turn loaded YAML and CSV into the typed model.

Every problem in every file of a meeting is collected, with its ``path:line``,
before anything stops; then one ``BriefgenError`` carries them all.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from .classification import NATO, Level, Scheme
from .datasets import Dataset, country_code, load_datasets
from .errors import BriefgenError, ProblemList
from .load import LineList, LineMap, load_yaml
from .model import Item, Marked, Meeting

MEETING_FILE = "meeting.yaml"


@dataclass
class ValidMeeting:
    """A meeting that passed validation: the model plus where it came from."""

    directory: Path
    meeting: Meeting
    items: list[Item]
    item_paths: dict[str, Path]
    datasets: dict[str, Dataset]
    scheme: Scheme
    ceiling: Level
    warnings: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.directory.name


def validate_meeting(directory: Path, scheme: Scheme = NATO) -> ValidMeeting:
    """Load and check one meeting folder; raise BriefgenError listing every problem."""
    directory = Path(directory)
    problems = ProblemList()
    meeting_path = directory / MEETING_FILE
    if not meeting_path.is_file():
        problems.add(directory, None, f"not a meeting folder: no {MEETING_FILE}")
        problems.raise_if_errors()
    meeting = _validate_file(meeting_path, Meeting, problems)
    items, item_paths = _validate_items(directory, meeting, problems)
    if meeting is None:
        problems.raise_if_errors()
    ceiling = _resolve_levels(meeting, meeting_path, items, item_paths, scheme, problems)
    datasets = load_datasets(meeting_path, meeting.data, meeting._tree.get("data"), problems)
    _resolve_row_levels(datasets, scheme, ceiling, problems)
    for item in items:
        _check_views(item, item_paths[item.id], problems)
    problems.raise_if_errors()
    return ValidMeeting(directory, meeting, items, item_paths, datasets, scheme,
                        ceiling, problems.warnings)


def _validate_file(path: Path, model: type[BaseModel], problems: ProblemList):
    """Parse one YAML file into ``model``; None (with problems recorded) if it fails."""
    try:
        tree = load_yaml(path)
    except BriefgenError as exc:
        problems.extend(exc.problems)
        return None
    if not isinstance(tree, LineMap):
        found = "an empty file" if tree is None else f"a {type(tree).__name__.replace('Line', '').lower()}"
        problems.add(path, getattr(tree, "line", 1) or 1, f"expected a mapping of fields, found {found}")
        return None
    unknown_keys(tree, model, path, problems)
    try:
        result = model.model_validate(tree)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(path, line_for(tree, error["loc"]), describe(error))
        return None
    result._tree = tree  # kept so later checks can find lines
    return result


def _validate_items(directory: Path, meeting: Meeting | None, problems: ProblemList):
    """Load every item file; check the meeting's ``items:`` list against them."""
    found: dict[str, tuple[Item, Path]] = {}
    broken: set[str] = set()  # files already reported; not "unknown" in items: too
    for path in sorted(directory.glob("*.yaml")):
        if path.name == MEETING_FILE:
            continue
        item = _validate_file(path, Item, problems)
        if item is None:
            broken.add(path.stem)
            continue
        item.id = item.id or path.stem
        if item.id in found:
            problems.add(path, item._tree.line_of("id"),
                         f"item id '{item.id}' is also used by {found[item.id][1].name}")
            continue
        found[item.id] = (item, path)
    order = _agenda_order(meeting, found, broken, directory, problems)
    items = [found[item_id][0] for item_id in order]
    return items, {item_id: found[item_id][1] for item_id in order}


def _agenda_order(meeting, found, broken, directory, problems) -> list[str]:
    if meeting is None or meeting.items is None:
        return list(found)
    listed = meeting._tree["items"]
    known = ", ".join(found) or "none"
    order = []
    for index, item_id in enumerate(meeting.items):
        line = listed.line_of(index)
        if item_id in order:
            problems.add(directory / MEETING_FILE, line, f"items: '{item_id}' is listed twice")
        elif item_id not in found and item_id not in broken:
            problems.add(directory / MEETING_FILE, line,
                         f"items: unknown item id '{item_id}' (item ids here: {known})")
        elif item_id in found:
            order.append(item_id)
    for item_id, (_, path) in found.items():
        if item_id not in meeting.items:
            problems.warn(path, 1, f"item '{item_id}' is not in the meeting's items: list; it is left out")
    return order


def _resolve_levels(meeting, meeting_path, items, item_paths, scheme, problems) -> Level:
    """Give every marked thing its level; unknown levels and levels above the ceiling are errors."""
    tree = meeting._tree
    ceiling = _level(scheme, meeting.classification, meeting_path, tree.line_of("classification"), problems)
    ceiling = ceiling or scheme.levels[-1]
    for loc, marked in walk_marked(meeting):
        _mark(marked, ceiling, ceiling, scheme, meeting_path, line_for(tree, loc), problems)
    for item in items:
        path, item_tree = item_paths[item.id], item._tree
        default = ceiling
        if item.classification is not None:
            line = item_tree.line_of("classification")
            default = _level(scheme, item.classification, path, line, problems) or ceiling
            _check_ceiling(default, ceiling, path, line, "item", problems)
        for loc, marked in walk_marked(item):
            _mark(marked, default, ceiling, scheme, path, line_for(item_tree, loc), problems)
    return ceiling


def _mark(marked: Marked, default: Level, ceiling: Level, scheme, path, line, problems) -> None:
    if marked.classification is None:
        marked._level = default
        return
    level = _level(scheme, marked.classification, path, line, problems)
    marked._level = level or default
    if level:
        _check_ceiling(level, ceiling, path, line, "portion", problems)


def _level(scheme: Scheme, name, path, line, problems) -> Level | None:
    level = scheme.get(name)
    if level is None:
        problems.add(path, line, f"unknown classification '{name}' "
                     f"(known: {', '.join(scheme.names())})")
    return level


def _check_ceiling(level, ceiling, path, line, what, problems) -> None:
    if level.rank > ceiling.rank:
        problems.add(path, line, f"{what} marked {level.name} is above the meeting's "
                     f"classification {ceiling.name}")


def _resolve_row_levels(datasets, scheme, ceiling, problems) -> None:
    """Data rows carry a level too (incidents: column ``classification``)."""
    for dataset in datasets.values():
        for row in dataset.rows:
            name = getattr(row, "classification", scheme.levels[0].name)
            level = _level(scheme, name, dataset.path, row._line, problems)
            row._level = level or ceiling
            if level:
                _check_ceiling(level, ceiling, dataset.path, row._line, "row", problems)


def _check_views(item: Item, path: Path, problems: ProblemList) -> None:
    """An item's data filters must name real countries and sensible windows."""
    view = item.data.incidents
    if view is None:
        return
    tree = item._tree["data"]["incidents"]
    for index, name in enumerate(view.countries):
        if country_code(name) is None:
            problems.add(path, line_for(tree, ("countries", index)),
                         f"data.incidents.countries: unknown country '{name}' "
                         "(use an ISO 3166 alpha-3 code such as POL, or a country name)")
    if view.from_ and view.to and view.from_ > view.to:
        problems.add(path, line_for(tree, ("to",)), "data.incidents: 'to' is before 'from'")


def walk_marked(model: BaseModel, loc: tuple = ()):
    """Yield (loc, Marked) for every classified thing inside ``model``, in order."""
    for name, value in model:
        key = type(model).model_fields[name].alias or name
        children = value if isinstance(value, list) else [value]
        for index, child in enumerate(children):
            child_loc = loc + ((key, index) if isinstance(value, list) else (key,))
            if isinstance(child, Marked):
                yield child_loc, child
            if isinstance(child, BaseModel):
                yield from walk_marked(child, child_loc)


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


def describe(error: dict) -> str:
    """A short, factual message for one pydantic error."""
    where = ".".join(str(part) for part in error["loc"]) or "file"
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        return f"{where}: missing required field"
    if kind == "model_type":
        if error.get("ctx", {}).get("class_name") == "Portion":
            return f"{where}: expected markdown text or a mapping {{text, classification}}"
        return f"{where}: expected a mapping of fields, found {_shown(error['input'])}"
    message = message[0].lower() + message[1:]
    hint = ""
    if kind == "string_type" and isinstance(error["input"], (int, float, bool)):
        hint = " (put the value in quotes: YAML reads 10:00 as a number and NO as false)"
    return f"{where}: {message}, found {_shown(error['input'])}{hint}"


def _shown(value) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def unknown_keys(tree, model: type[BaseModel], path: Path, problems: ProblemList) -> None:
    """Warn about keys the model does not know, suggesting the closest known one."""
    if not isinstance(tree, LineMap):
        return
    fields = {(info.alias or name): info for name, info in model.model_fields.items()}
    for key in tree:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.warn(path, tree.line_of(key), f"unknown key '{key}'{hint}")
            continue
        for submodel in _models_in(fields[key].annotation):
            values = tree[key] if isinstance(tree[key], LineList) else [tree[key]]
            for value in values:
                unknown_keys(value, submodel, path, problems)


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
