"""The briefing linter: what a good brief has that the schema cannot require.

Each rule is a small function with a stable id, named at the end of its message
(``path:line: warning: ... [item-purpose]``). They are warnings, like unknown keys:
``--strict`` makes them errors. The content rules run with validation, so ``check``,
``build`` and ``serve`` all report them; the page rules need a layout, so ``build``
reports them from the fresh layout and ``check`` from the last build's manifest.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from .errors import Problem, ProblemList, withheld
from .model import Item, Meeting, walk_marked, walk_prose
from .yamlmodel import line_for

RULES = {
    "item-purpose": "every item has a purpose",
    "item-objective": "every item has at least one objective",
    "item-line-to-take": "every item has at least one line to take",
    "press-line": "an item open to the press has a press line",
    "factsheet-content": "an item's fact sheet shows more than its title",
    "programme-person": "every person named in the programme is in the who's who",
    "brief-length": "a brief is at most four pages in the book, before its facts and figures",
    "factsheet-pages": "a fact sheet is one page",
    "prose-link": "a link in prose goes to a place in the book",
    "prose-tags": "a tag written in prose (<b>, <em>, <a>...) is closed in its paragraph",
}
MAX_BRIEF_PAGES = 4
# A brief's facts and figures (tables and charts computed from the data, the ids of their
# headings in _brief.html) are reference material the writer cannot shorten: the length
# rule counts the brief up to and including the page where they start.
DATA_SECTIONS = ("spending", "incidents")


def lint_meeting(meeting: Meeting, meeting_path: Path, items: list[Item], item_paths: dict[str, Path],
                 problems: ProblemList) -> None:
    """The content rules, as warnings in ``problems``."""
    for item in items:
        for rule in ITEM_RULES:
            rule(item, item_paths[item.id], problems)
    programme_person(meeting, meeting_path, problems)
    prose_tags(meeting, meeting_path, problems)


def warn(problems: ProblemList, path: Path, line: int | None, rule: str, message: str) -> None:
    problems.warn(path, line, f"{message} [{rule}]")


def has_text(text: str | None) -> bool:
    return bool(text and text.strip())


def item_purpose(item: Item, path: Path, problems: ProblemList) -> None:
    if item.purpose is None or not has_text(item.purpose.text):
        warn(problems, path, item._tree.line_of("purpose"), "item-purpose",
             "no purpose: say why the item is on the agenda and what we want from it")


def item_objective(item: Item, path: Path, problems: ProblemList) -> None:
    if not any(has_text(objective.text) for objective in item.objectives):
        warn(problems, path, item._tree.line_of("objectives"), "item-objective",
             "no objective: list at least one outcome we want from the item")


def item_line_to_take(item: Item, path: Path, problems: ProblemList) -> None:
    if not any(has_text(line.question) and has_text(line.answer) for line in item.lines_to_take):
        warn(problems, path, item._tree.line_of("lines_to_take"), "item-line-to-take",
             "no line to take: give at least one likely question and its answer")


def press_line(item: Item, path: Path, problems: ProblemList) -> None:
    open_press = item.press == "open" or (item.press is None and item.factsheet is not None)
    if open_press and (item.press_line is None or not has_text(item.press_line.text)):
        why = "press: open" if item.press == "open" else "it has a fact sheet"
        line = item._tree.line_of("press" if item.press else "factsheet")
        warn(problems, path, line, "press-line",
             f"open to the press ({why}) but no press line: add press_line, or say press: closed")


def factsheet_content(item: Item, path: Path, problems: ProblemList) -> None:
    """Every item not closed to the press gets a sheet: with nothing public and no data it
    is a title on a blank page, which a press officer should not find on the shelf."""
    has_data = item.data.incidents is not None or item.data.spending is not None
    if item.press == "closed" or has_data or any(marked.level.public for _, marked in walk_marked(item)):
        return
    warn(problems, path, item._tree.line_of("press" if item.press else "title"), "factsheet-content",
         "its fact sheet would show only its title: nothing in the item is public and it has no data view; "
         "mark what the press may see as public, or say press: closed")


def prose_tags(model: BaseModel, path: Path, problems: ProblemList) -> None:
    """A tag left open carries on past its text, as far as the end of the portion."""
    from .prose import unclosed_tags

    for loc, _marked, text in walk_prose(model):
        for tag in dict.fromkeys(unclosed_tags(text)):
            warn(problems, path, line_for(model._tree, loc), "prose-tags",
                 f"{'.'.join(map(str, loc))}: <{tag}> is not closed in its paragraph, so what follows may be "
                 f"set as it is: write </{tag}> where it should end")


ITEM_RULES = (item_purpose, item_objective, item_line_to_take, press_line, factsheet_content, prose_tags)


def normal_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def programme_person(meeting: Meeting, path: Path, problems: ProblemList) -> None:
    """Names are quoted from public entries only: messages reach logs not cleared for more."""
    known = {normal_name(person.name): person.name for person in meeting.people if person.level.public}
    everyone = {normal_name(person.name) for person in meeting.people}
    for index, entry in enumerate(meeting.programme):
        for position, name in enumerate(entry.people):
            if normal_name(name) not in everyone:
                line = line_for(meeting._tree, ("programme", index, "people", position))
                hidden = withheld(entry.level, "entry")
                shown, hint = (hidden, "") if hidden else (f"'{name}'", _suggestion(name, known))
                warn(problems, path, line, "programme-person",
                     f"programme: {shown} is not in the who's who (people:){hint}")


def _suggestion(name: str, known: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(normal_name(name), list(known), n=1, cutoff=0.7)
    return f"; did you mean '{known[close[0]]}'?" if close else ""


# --- page rules: they need a layout -------------------------------------------

def written_pages(item: str, pages: int, anchors: dict[str, int]) -> int:
    """Pages of a brief (laid out alone, ``anchors`` by id -> page) before its facts and figures."""
    # the section anchors of templates/_brief.html: "item-<id>/<section>"
    starts = [anchors[f"item-{item}/{name}"] for name in DATA_SECTIONS if f"item-{item}/{name}" in anchors]
    return min(starts) + 1 if starts else pages


def lint_pages(brief_pages: dict[str, int], sheet_pages: dict[str, int], item_paths: dict[str, Path],
               excess_mm: dict[str, float] | None = None, when: str = "") -> list[Problem]:
    """Warnings for briefs over four pages and fact sheets that are not one page.

    ``when`` says where the figures come from ("in the last build") when they are not fresh.
    """
    problems = ProblemList()
    for item, pages in brief_pages.items():
        if item in item_paths and pages > MAX_BRIEF_PAGES:
            warn(problems, item_paths[item], None, "brief-length",
                 f"the brief runs to {pages} pages in the book before its facts and figures{when}; "
                 f"keep it to {MAX_BRIEF_PAGES}")
    for item, pages in sheet_pages.items():
        if item in item_paths and pages != 1:
            cut = (excess_mm or {}).get(item)
            advice = f"; cut about {cut:.0f} mm of content to fit one" if cut is not None else ""
            warn(problems, item_paths[item], None, "factsheet-pages",
                 f"fact sheet '{item}' runs to {pages} pages{when}{advice}")
    return list(problems)


def pages_from_manifest(manifest: dict, meeting_path: Path, item_paths: dict[str, Path],
                        with_sheets: list[str]) -> list[Problem]:
    """The page rules for the items unchanged since the build that wrote ``manifest``;
    ``with_sheets`` are the items that get a fact sheet."""
    from .incremental import sha256

    inputs = manifest.get("inputs") or {}
    unchanged = {item: path for item, path in item_paths.items()
                 if path.is_file() and inputs.get(path.name) == sha256(path.read_bytes())}
    sheets = {a["item"]: a["pages"] for a in manifest.get("artifacts", [])
              if a.get("edition") == "factsheets" and a.get("format") == "pdf" and a.get("pages")}
    found = lint_pages(manifest.get("brief_pages") or {}, sheets, unchanged, when=" (in the last build)")
    if "factsheets" in (manifest.get("inputs_keys") or {}):  # the last build made the fact sheets
        found += sheets_not_written({item: unchanged[item] for item in with_sheets
                                     if item in unchanged and item not in sheets})
    return found + unfinished_build(manifest, meeting_path)


EDITION_NAMES = {"book": "book", "factsheets": "fact sheets"}


def unfinished_build(manifest: dict, meeting_path: Path) -> list[Problem]:
    """A warning if the last build of an edition left it no key: it failed (any part of it,
    the book or a sheet) or an input was saved while it ran. Its manifest still lists the
    last good files and their page counts, under the inputs of the failed build: read
    as current, a sheet grown to two pages was one page, and check said ok."""
    unkeyed = [EDITION_NAMES.get(edition, edition) for edition, key in (manifest.get("inputs_keys") or {}).items()
               if key is None]
    problems = ProblemList()
    if unkeyed:
        problems.warn(meeting_path, None, f"the last build of its {' and '.join(unkeyed)} ended with an error, or "
                      "an input was saved while it ran: page counts read from it may be an earlier build's, and "
                      "the output may not be current (build the meeting again to see)")
    return list(problems)


def sheets_not_written(item_paths: dict[str, Path]) -> list[Problem]:
    """Fact sheets the last build could not write (too long, or holding restricted text):
    its manifest has no page count for them, and no sheet is there to give the press."""
    problems = ProblemList()
    for item, path in item_paths.items():
        warn(problems, path, None, "factsheet-pages", f"fact sheet '{item}' is not in the last build, which "
             "could not write it: the output is not current, and its pages are not known (build it to see why)")
    return list(problems)


def dangling_links(targets: list[str], written: list[tuple[Path, BaseModel]]) -> list[Problem]:
    """A warning for each anchor linked to that the book does not have, at the first prose
    field of ``written`` (the meeting's file and model, then its items') that links to it.
    The anchor is prose: it is quoted from public prose only, as messages reach logs."""
    problems = ProblemList()
    for target in targets:
        found = first_link_to(target, written)
        if found is None:  # no prose links there: a template does
            where, path, line, shown = "", written[0][0], None, f"'#{target}'"
        else:
            path, model, loc, marked = found
            where, line = ".".join(map(str, loc)) + ": ", line_for(model._tree, loc)
            shown = withheld(marked.level, "portion") or f"'#{target}'"
        warn(problems, path, line, "prose-link", f"{where}the link to {shown} goes nowhere: the book has no "
             "such anchor (its anchors: #item-<id>, #item-<id>/<section>, #programme, #people, #annex)")
    return problems.warnings


def first_link_to(target: str, written: list[tuple[Path, BaseModel]]):
    """(path, model, loc, Marked) of the first prose field that links to ``#target``, or None."""
    from .prose import local_links

    for path, model in written:
        for loc, marked, text in walk_prose(model):
            if target in local_links(text):
                return path, model, loc, marked
    return None
