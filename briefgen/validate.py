"""Stage 2, validate: turn loaded YAML and CSV into the typed model.

Every problem in every file of a meeting is collected, with its ``path:line``,
before anything stops; then one ``BriefgenError`` carries them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from .classification import Level, Scheme, level_key
from .config import load_project
from .datasets import Dataset, check_unused_columns, country_code, load_datasets, organisation, type_key
from .errors import ProblemList, display_path, plural_words, withheld
from .formatting import format_pct, plural
from .incidents import first_spellings, place_key
from .lint import lint_meeting
from .locate import CONFIG_FILE, meeting_name, project_root
from .model import Item, Marked, Meeting, walk_marked, walk_prose
from .prose import check_image, images_in, nested_too_deeply, refused_character
from .safety import MAX_ITEMS, MAX_PROSE_CHARS, MAX_PROSE_NESTING, Policy, UnusablePath, is_inside, names_a_device
from .yamlmodel import line_for, validate_file

MEETING_FILE = "meeting.yaml"
ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # it names output files


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
        return meeting_name(self.directory)


def validate_meeting(directory: Path, scheme: Scheme | None = None, policy: Policy = Policy()) -> ValidMeeting:
    """Load and check one meeting folder; raise BriefgenError listing every problem.

    ``scheme`` defaults to the one declared in the nearest briefgen.yaml, else NATO's.
    Files named in the meeting must stay in its project folder unless ``policy`` allows.
    """
    directory = Path(directory)
    root = None if policy.allow_outside_paths else project_root(directory)
    project = load_project(directory)
    scheme = scheme or project.scheme
    problems = ProblemList()
    for warning in project.warnings:
        problems.warn(warning.path, warning.line, warning.message)
    meeting_path = directory / MEETING_FILE
    if not meeting_path.is_file():
        problems.add(directory, None, f"not a meeting folder: no {MEETING_FILE}")
        problems.raise_if_errors()
    meeting = validate_file(meeting_path, Meeting, problems)
    items, item_paths = _validate_items(directory, meeting, root, problems)
    if meeting is None:
        problems.raise_if_errors()
    ceiling = _resolve_levels(meeting, meeting_path, items, item_paths, scheme, problems)
    datasets = load_datasets(meeting_path, meeting.data, meeting._tree.get("data"), scheme, problems, root)
    _check_prose(meeting, meeting_path, directory, scheme, problems)
    _resolve_row_levels(datasets, scheme, ceiling, problems)
    _check_allies(datasets.get("spending"), project.allies, problems)
    if not problems.errors:  # a dropped bad row would skew the latest date
        _check_freshness(datasets, meeting.date, project.freshness, problems)
    declared = {name for name, path in meeting.data if path}
    for item in items:
        _check_views(item, item_paths[item.id], datasets, declared, problems)
        _check_years_shown(item, item_paths[item.id], datasets.get("spending"), problems)
        _check_factsheet_public(item, item_paths[item.id], scheme.public_level, problems)
        _check_prose(item, item_paths[item.id], directory, scheme, problems)
    problems.raise_if_errors()
    lint_meeting(meeting, meeting_path, items, item_paths, problems)
    return ValidMeeting(directory, meeting, items, item_paths, datasets, scheme,
                        ceiling, problems.warnings)


def _validate_items(directory: Path, meeting: Meeting | None, root: Path | None, problems: ProblemList):
    """Load every item file; check the meeting's ``items:`` list against them."""
    found: dict[str, tuple[Item, Path]] = {}
    broken: set[str] = set()  # files already reported; not "unknown" in items: too
    for path in _item_files(directory, root, problems):
        item = validate_file(path, Item, problems)
        if item is None or not _usable_id(item, path, problems):
            broken.add(path.stem)
            continue
        if _clashes(item, path, found, problems):
            broken.add(item.id)
            continue
        found[item.id] = (item, path)
    order = _agenda_order(meeting, found, broken, directory, problems)
    items = [found[item_id][0] for item_id in order]
    return items, {item_id: found[item_id][1] for item_id in order}


def _item_files(directory: Path, root: Path | None, problems: ProblemList) -> list[Path]:
    """The item files of a meeting: not too many, and none linked from outside the project."""
    paths = sorted(path for path in directory.glob("*.yaml")
                   if path.name not in (MEETING_FILE, CONFIG_FILE) and not path.name.startswith("."))
    for other in sorted(directory.glob("*.yml")):  # an editor's habit; a silent loss otherwise
        problems.warn(other, None, "item files end in .yaml; this one is left out")
    if len(paths) > MAX_ITEMS:
        problems.add(directory, None, f"{len(paths)} item files; a meeting may have at most {MAX_ITEMS}")
        return []
    usable = []
    for path in paths:
        try:
            if root is not None and not is_inside(path, root):
                problems.add(path, None, f"links to a file outside the project folder {display_path(root)}; refused")
                continue
        except UnusablePath as exc:
            problems.add(path, None, f"cannot read file: {exc}")
            continue
        usable.append(path)
    return usable


def _clashes(item: Item, path: Path, found: dict[str, tuple[Item, Path]], problems: ProblemList) -> bool:
    """True (with the problem recorded) if another item has this item's id, even in another
    case: factsheets/Alpha.pdf and alpha.pdf are one file on Windows and macOS."""
    twin = next((other for other in found if other.casefold() == item.id.casefold()), None)
    if twin == item.id:
        problems.add(path, item._tree.line_of("id"), f"item id '{item.id}' is also used by {found[twin][1].name}")
    elif twin:
        problems.add(path, item._tree.line_of("id"), f"item id '{item.id}' differs only in case from "
                     f"'{twin}' ({found[twin][1].name}): on Windows and macOS their fact sheets would be one file")
    return twin is not None


def _usable_id(item: Item, path: Path, problems: ProblemList) -> bool:
    """An item's id names its fact sheet's files, so it must be a plain file name."""
    item.id = item.id or path.stem
    where = "id" if "id" in item._tree else "the file name"
    if ITEM_ID.fullmatch(item.id) and names_a_device(item.id):
        problems.add(path, item._tree.line_of("id"), f"{where}: '{item.id}' cannot be an item id: Windows "
                     "reserves the name for a device, so its fact sheet could not be opened there")
        return False
    if ITEM_ID.fullmatch(item.id):
        return True
    problems.add(path, item._tree.line_of("id"), f"{where}: '{item.id[:80]}' cannot be an item id "
                 "(use up to 64 letters, digits, '-', '_' or '.', starting with a letter or digit)")
    return False


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
            problems.add(directory / MEETING_FILE, line, _unknown_id(item_id, found, known))
        elif item_id in found:
            order.append(item_id)
    for item_id, (item, path) in found.items():
        if item_id not in meeting.items and path.stem not in meeting.items:  # else told above
            problems.warn(path, item._tree.line_of("id"),
                          f"item '{item_id}' is not in the meeting's items: list; it is left out")
    return order


def _unknown_id(item_id: str, found: dict[str, tuple[Item, Path]], known: str) -> str:
    """An id the agenda lists and no item has; most often a file whose id: says otherwise."""
    named = next((other for other, (_, path) in found.items() if path.stem == item_id), None)
    if named is None:
        return f"items: unknown item id '{item_id}' (item ids here: {known})"
    return (f"items: unknown item id '{item_id}': {item_id}.yaml says id: {named}; make the two "
            "agree (an item without id: takes its file's name)")


def _resolve_levels(meeting, meeting_path, items, item_paths, scheme, problems) -> Level:
    """Give every marked thing its level; unknown levels and levels above the ceiling are errors."""
    tree = meeting._tree
    ceiling = _level(scheme, meeting.classification, meeting_path, tree.line_of("classification"), problems)
    ceiling = ceiling or scheme.levels[-1]
    for loc, marked in walk_marked(meeting):
        _mark(marked, ceiling, ceiling, scheme, meeting_path, line_for(tree, (*loc, "classification")), problems)
    for item in items:
        path, item_tree = item_paths[item.id], item._tree
        default = ceiling
        if item.classification is not None:
            line = item_tree.line_of("classification")
            default = _level(scheme, item.classification, path, line, problems) or ceiling
            _check_ceiling(default, ceiling, path, line, "item", problems)
        for loc, marked in walk_marked(item):
            _mark(marked, default, ceiling, scheme, path, line_for(item_tree, (*loc, "classification")), problems)
    return ceiling


# "classification: NATO SECRET" indented under a folded text: part of the text, not its mark.
# The name runs from a non-space to the line's last non-space: a shortest name followed by
# optional spaces tried every length against every run of spaces after it ("x", 50,000
# spaces, "y": six seconds, in C, where no time limit stops it).
MARK_IN_TEXT = re.compile(r"(?im)(?:^|\s)classification\s*:\s*(\S(?:[^\n]*\S)?)[^\S\n]*$")


def _mark(marked: Marked, default: Level, ceiling: Level, scheme, path, line, problems) -> None:
    for found in MARK_IN_TEXT.finditer(getattr(marked, "text", "")):
        if scheme.get(found.group(1)):
            problems.add(path, line, f"'classification: {found.group(1)}' is inside the text, not its mark: "
                         "indent it as far as 'text:'")
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
        shown = _level_shown(scheme, name)
        hint = _level_meant(scheme, str(name)) if shown.startswith("'") else ""  # not for prose
        problems.add(path, line, f"unknown classification {shown}{hint} (known: {', '.join(scheme.names())})")
    return level


def _level_meant(scheme: Scheme, name: str) -> str:
    """'; did you mean 'NATO RESTRICTED'?' for 'Restricted' (a level's last words) or a
    misspelling; every level ending so, for 'SECRET'."""
    import difflib

    wanted, names = level_key(name)[0], {level_key(level.name)[0]: level.name for level in scheme.levels}
    meant = [names[known] for known in names if known.endswith(" " + wanted)]
    meant = meant or [names[known] for known in difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.75)]
    quoted = [f"'{level}'" for level in meant]
    return f"; did you mean {' or '.join(quoted)}?" if meant else ""


def _level_shown(scheme: Scheme, name) -> str:
    """An unknown level as a message names it: quoted if it is as short as a level name
    (a misspelling), else counted in words. A text wrongly indented under its mark is read
    as part of the level ('NATO RESTRICTED The minister will...'), and it is prose."""
    words = str(name).split()
    longest = max(len(level.name.split()) for level in scheme.levels)
    if len(words) <= max(3, longest):
        return f"'{name}'"
    leading = [scheme.get(" ".join(words[:count])) for count in range(longest, 0, -1)]
    folded = next((level for level in leading if level), None)
    hint = f": does a text run on after {folded.name}?" if folded else ""
    return f"(a text of {plural_words(str(name))}, not quoted here{hint})"


def _check_ceiling(level, ceiling, path, line, what, problems) -> None:
    if level.rank > ceiling.rank:
        problems.add(path, line, f"{what} marked {level.name} is above the meeting's "
                     f"classification {ceiling.name}")


def _resolve_row_levels(datasets, scheme: Scheme, ceiling: Level, problems) -> None:
    """Data rows carry a level too: the optional ``classification`` column, by default
    the scheme's lowest public level (published statistics and press reports)."""
    default = scheme.public_level or scheme.levels[0]
    for dataset in datasets.values():
        check_unused_columns(dataset, scheme, problems)
        for row in dataset.rows:
            if row.classification is None:
                row._level = default
                continue
            level = _level(scheme, row.classification, dataset.path, row._line, problems)
            row._level = level or ceiling
            if level:
                _check_ceiling(level, ceiling, dataset.path, row._line, "row", problems)


def _check_allies(spending: Dataset | None, allies: frozenset[str], problems) -> None:
    """Spending rows are allies' figures: another country's would be counted as an ally."""
    for row in spending.rows if spending else ():
        if row.iso3 not in allies:
            ally = row_shows(row, f"{row.country} ({row.iso3})")
            problems.add(spending.path, row._line, f"iso3: {ally} is not an ally, and every count "
                         "of allies would include it (allies: in briefgen.yaml lists the countries "
                         "the spending data may hold; the default is NATO's members)")


def row_shows(row, text: str) -> str:
    """``text`` from a data row, for a message: quoted only if the row is public, as messages
    reach logs that are not cleared for restricted text."""
    return withheld(row.level, "row") or text


def _check_freshness(datasets, meeting_date, max_days: dict[str, int], problems) -> None:
    """A data set whose latest row is too old for the meeting gets a warning."""
    for name, dataset in datasets.items():
        latest = dataset.latest_date()
        if latest is None or name not in max_days:
            continue
        age = (meeting_date - latest).days
        row = max(dataset.rows, key=lambda r: getattr(r, "date", None) or r.year)
        dated = row_shows(row, latest.isoformat())
        if age < -366:  # a typed year, 2052 for 2025, would also hide how old the rest is
            problems.warn(dataset.path, row._line, f"dated {dated}, more than a year after "
                          "the meeting: is the date right?")
        elif age > max_days[name]:
            problems.warn(dataset.path, None, f"data set '{name}' is {age} days old at the meeting "
                          f"(latest row {dated}; the limit is {max_days[name]} days, "
                          "which freshness: in briefgen.yaml can change)")


def _check_views(item: Item, path: Path, datasets: dict[str, Dataset], declared: set[str],
                 problems: ProblemList) -> None:
    """An item's data views need their data set, real countries and sensible windows."""
    for name in ("incidents", "spending"):
        if getattr(item.data, name) is not None and name not in declared:
            problems.add(path, line_for(item._tree, ("data", name)), f"data.{name}: the meeting names no "
                         f"{name} data set (data.{name} in meeting.yaml)")
    view = item.data.incidents
    if view is None:
        return
    tree = item._tree["data"]["incidents"]
    data = datasets.get("incidents")
    # rows left out for their errors may hold what the rest lacks: no word of it then
    rows = data.rows if data and not any(problem.path == data.path for problem in problems.errors) else []
    shown = [row for row in rows if row.level.public]  # what a message names: messages reach logs
    types = {type_key(row.type): type_key(row.type) for row in shown}
    named = first_spellings(shown)[0]  # each place as the book names it ('POL', then 'Poland': Poland)
    places = {place_key(row): named[row.id] for row in shown}
    for index, kind in enumerate(view.types):
        _not_in_data(problems, path, tree, ("types", index), f"no incident of type '{kind}'", "types",
                     type_key(kind), {type_key(row.type) for row in rows}, types)
    for index, name in enumerate(view.countries):
        key = country_code(name) or organisation(name)
        if key is None:
            problems.add(path, line_for(tree, ("countries", index)),
                         f"data.incidents.countries: unknown country '{name}' "
                         "(use an ISO 3166 alpha-3 code such as POL, or a country name)")
        else:  # one with rows only outside the item's window is no mistake: the window shows none
            _not_in_data(problems, path, tree, ("countries", index), f"no incident in '{name}'", "countries",
                         key, {place_key(row) for row in rows}, places)
    if view.from_ and view.to and view.from_ > view.to:
        problems.add(path, line_for(tree, ("to",)), "data.incidents: 'to' is before 'from'")


def _not_in_data(problems: ProblemList, path: Path, tree, where: tuple, what: str, field: str, key: str,
                 known: set[str], public: dict[str, str]) -> None:
    """Warn at ``data.incidents.<field>[n]`` that no row of the data has ``key``, naming the
    public ones there (a message reaches logs not cleared for restricted text)."""
    if not known or key in known:
        return
    hidden = len(known - set(public))
    others = f", and {plural(hidden, 'other')} in rows that are not public" if hidden else ""
    problems.warn(path, line_for(tree, where), f"data.incidents.{field}: {what} in the data ({field} there: "
                  f"{', '.join(sorted(public.values())) or 'none public'}{others})")


def _check_years_shown(item: Item, path: Path, spending: Dataset | None, problems: ProblemList) -> None:
    """A year the brief asks for that the data does not have would show '0 of 0 allies'."""
    view = item.data.spending
    if view is None or spending is None or any(p.path == spending.path for p in problems.errors):
        return  # a file that failed to load lacks every year
    have = {row.year for row in spending.rows}
    tree = item._tree["data"]["spending"]
    _check_listed_once(view.years, "years", tree, path, problems)
    _check_listed_once(view.thresholds, "thresholds", tree, path, problems)
    for index, year in enumerate(view.years):
        if year not in have:
            problems.warn(path, line_for(tree, ("years", index)),
                          f"data.spending.years: no figures for {year} in {spending.path.name}")
    gap_year = max(view.years or have or [0])  # the gaps to the target are measured in it
    if view.target_year <= gap_year:
        problems.add(path, line_for(tree, ("target_year",)),
                     f"data.spending.target_year: {view.target_year} is not after {gap_year}, the year "
                     "the gaps to the target are measured in, so no yearly rise can reach it")


def _check_listed_once(values: list, key: str, tree, path: Path, problems: ProblemList) -> None:
    """A year or threshold listed twice would print its column, row and statement twice; more
    likely it was meant to be another (2024 typed for 2025), which the book would then lack."""
    for index, value in enumerate(values):
        if value in values[:index]:  # 2.0 and 2.00 are one threshold, shown as the book shows it
            shown = value if key == "years" else f"{format_pct(value, places=None)}%"
            problems.add(path, line_for(tree, (key, index)), f"data.spending.{key}: {shown} is listed twice")


def _check_factsheet_public(item: Item, path: Path, public: Level | None, problems: ProblemList) -> None:
    """Everything in a fact sheet goes to the press, so it must be explicitly public."""
    if item.factsheet is None:
        return
    mend = f": mark it classification: {public.name} if the press may see it" if public else ""
    for loc, marked in walk_marked(item.factsheet, ("factsheet",)):
        if not marked.level.public:
            unmarked = " (unmarked, it takes the item's level)" if marked.classification is None else ""
            problems.add(path, line_for(item._tree, loc),
                         f"{'.'.join(str(part) for part in loc)}: a fact sheet portion must be "
                         f"public, but it is {marked.level.name}{unmarked}{mend}")


# A portion mark at the start of a line, in brackets, after any markdown of lists, quotes,
# headings or emphasis: '(NR) The plan...', '- **(NS)** ...'. One class of characters before
# it, within the line: overlapping or line-crossing runs would take time growing with the
# cube of the text ('*' and a line break, 50,000 characters of them, took minutes).
OPENING_MARK = re.compile(r"^[ \t>#*_+-]*(?:\d+[.)][ \t*_]*)?\(([^()\n]{1,40})\)", re.MULTILINE)


def _mark_above_portion(text: str, marked: Marked, scheme: Scheme) -> Level | None:
    """The level whose mark opens a line of ``text``, if above the portion's own: text pasted
    with its mark from a restricted paper, into a public portion, would go to the press
    under a PUBLIC banner. A mark counts only as its scheme writes it, in its case ('(NR)',
    not '(s)' of 'ally(s)')."""
    if marked._level is None:  # an unknown classification, reported already
        return None
    for found in OPENING_MARK.finditer(text):
        level = scheme.get(found.group(1))
        if level and found.group(1) in (level.mark, level.name) and level.rank > marked.level.rank:
            return level
    return None


def _check_prose(model: BaseModel, path: Path, directory: Path, scheme: Scheme, problems: ProblemList) -> None:
    """Prose must be shallow enough to lay out, show images from the meeting's own assets/
    folder only, and carry no mark of a level above its own."""
    for loc, marked, text in walk_prose(model):
        where = ".".join(map(str, loc))
        if higher := _mark_above_portion(text, marked, scheme):
            problems.add(path, line_for(model._tree, loc), f"{where}: a line of it opens with ({higher.mark}), the "
                         f"mark of {higher.name}, above the portion's own level {marked.level.name}: mark the "
                         f"portion classification: {higher.name}, or take the mark out of its text")
        if len(text) > MAX_PROSE_CHARS:
            problems.add(path, line_for(model._tree, loc), f"{where}: {len(text):,} characters long; one portion "
                         f"holds at most {MAX_PROSE_CHARS:,} (split it into several)")
            continue
        if nested_too_deeply(text):
            problems.add(path, line_for(model._tree, loc), f"{where}: nested too deeply to read (lists, "
                         f"quotes, emphasis or tags more than {MAX_PROSE_NESTING} levels inside one another)")
            continue
        if refused := refused_character(text):
            problems.add(path, line_for(model._tree, loc), f"{where}: {refused}")
        for src in images_in(text):
            message = check_image(src, directory, withheld(marked.level, "portion"))
            if message:
                problems.add(path, line_for(model._tree, loc), f"{where}: {message}")
