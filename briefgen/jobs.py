"""The units of work of a build, as functions of plain, picklable data.

``prepare`` (validate, merge, render HTML) runs in the main process; the pipeline
sends ``lay_out`` (WeasyPrint, one document), ``factsheet`` (lay out, check one page,
guard against leaks) and the book's assembly to the process pool (or runs them in
this process for ``--jobs 1``).
"""

from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from .classification import Scheme
from .errors import BriefgenError, Problem
from .render_pdf import Layout, LayoutRequest, lay_out
from .safety import Policy, TimeLimitExceeded, time_limit

if TYPE_CHECKING:
    from .changes import Changes

PAGE_TOKEN = "\x1fpage:{}\x1f"  # stands for a page number until the parts are laid out
PAGE_TOKENS = re.compile("\x1fpage:([^\x1f]*)\x1f")


@dataclass
class FactsheetJob:
    item: str
    title: str
    level: str  # the highest of the public levels it shows
    source: str
    html: str
    request: LayoutRequest
    rows: list[str] = field(default_factory=list)  # the data rows its figures come from (guard.row_key)


@dataclass
class Prepared:
    """One meeting, validated and rendered to HTML: everything the layouts need."""

    name: str
    meta: dict
    language: str
    scheme: Scheme
    highest: str
    public_level: str | None
    item_files: dict[str, str]
    warnings: list[Problem]
    book_html: str = ""
    parts: list[tuple[str, str]] = field(default_factory=list)  # (part, html for the PDF)
    factsheets: list[FactsheetJob] = field(default_factory=list)
    fragments: dict[str, tuple] = field(default_factory=dict)  # the leak guard's: sentence -> (level, file, line)
    rows_not_public: frozenset[str] = frozenset()  # guard.row_key of each row no sheet may show
    changes: Changes | None = None
    state: dict | None = None


def prepare(directory: str, out_folder: str, editions_wanted: tuple[str, ...], templates: str,
            strict: bool, policy: Policy = Policy(), part_ready=None, force: bool = False) -> Prepared:
    """Validate, redact, merge and render one meeting's HTML (no layout yet), in time.

    ``part_ready(part, html)``, if given, hears of each part of the book for the PDF as
    soon as it is rendered, so its layout can start while the rest is prepared. ``force``
    draws every chart again rather than use the kept ones.
    """
    with in_time(Path(directory), policy, "preparing the meeting"):
        return _prepare(directory, out_folder, editions_wanted, templates, strict, policy, part_ready, force)


@contextmanager
def in_time(directory: Path, policy: Policy, doing: str):
    """Stop the body at the time limit and say so against the meeting: a user's template
    may loop, and a nightly run must not wait for it."""
    try:
        with time_limit(policy.time_limit):
            yield
    except TimeLimitExceeded:
        raise BriefgenError([Problem(directory / "meeting.yaml", None,
                                     f"{doing} took longer than {policy.time_limit:g} s; "
                                     "stopped (--time-limit sets the limit)")]) from None


def _prepare(directory: str, out_folder: str, editions_wanted: tuple[str, ...], templates: str,
             strict: bool, policy: Policy, part_ready=None, force: bool = False) -> Prepared:
    from .guard import LeakGuard, rows_not_public
    from .render_html import render_book
    from .validate import validate_meeting

    from .charts import forget_unused_charts, keep_charts_in

    keep_charts_in(Path(out_folder) / ".cache" / "charts", reuse=not force)
    valid = validate_meeting(Path(directory), policy=policy)
    if strict:
        fail_on(valid.warnings)
    meeting, templates_dir = valid.meeting, Path(templates)
    roots = allowed_roots(templates_dir, valid.directory)
    prepared = Prepared(
        name=valid.name, scheme=valid.scheme, language=meeting.language,
        meta={"meeting": valid.name, "title": meeting.title, "date": meeting.date.isoformat(),
              "venue": meeting.venue, "language": meeting.language, "items": [item.id for item in valid.items]},
        highest=valid.ceiling.name, public_level=getattr(valid.scheme.public_level, "name", None),
        item_files={item.id: valid.item_paths[item.id].name for item in valid.items},
        warnings=list(valid.warnings))
    if "book" in editions_wanted:
        book = staff_book(valid)
        prepared.changes, prepared.state = changes_since_last_edition(valid, book, Path(out_folder))
        prepared.highest = book.highest.name
        prepared.parts = render_parts(book, templates_dir, prepared.changes, part_ready or (lambda *_: None))
        prepared.book_html = render_book(book, templates_dir, changes=prepared.changes)
        prepared.warnings += links_going_nowhere(valid, prepared.book_html, strict)
    if "factsheets" in editions_wanted and prepared.public_level:
        prepared.fragments = LeakGuard(valid).fragments
        prepared.rows_not_public = rows_not_public(valid)
        for item, title, level, html, rows in public_factsheets(valid, templates_dir):
            source = str(valid.item_paths[item])
            request = LayoutRequest(html, str(templates_dir), roots, source, f"fact sheet '{item}'",
                                    policy.time_limit, tagged=True)  # published: it must be accessible
            prepared.factsheets.append(FactsheetJob(item, title, level, source, html, request, rows))
    if set(editions_wanted) >= {"book", "factsheets"}:  # every chart the meeting shows was drawn
        forget_unused_charts()
    return prepared


def links_going_nowhere(valid, book_html: str, strict: bool) -> list[Problem]:
    """The linter's prose-link rule: it needs the whole book's anchors, so it runs here."""
    from .lint import dangling_links
    from .render_html import dangling_links as targets_missing
    from .validate import MEETING_FILE

    written = [(valid.directory / MEETING_FILE, valid.meeting),
               *((valid.item_paths[item.id], item) for item in valid.items)]
    found = dangling_links(targets_missing(book_html), written)
    if strict:
        fail_on(found)
    return found


def fail_on(warnings: list[Problem]) -> None:
    """--strict: the warnings, if any, fail the meeting as errors."""
    if warnings:
        raise BriefgenError([Problem(w.path, w.line, w.message) for w in warnings])


def render_parts(book, templates: Path, changes: Changes, part_ready) -> list[tuple[str, str]]:
    """The HTML of each part of the book for the PDF, in book order.

    ``part_ready`` hears first of the parts whose charts are drawn already (or that show
    none), then of the others one by one as their charts are drawn: drawing the first
    chart costs a second (importing matplotlib), and the workers can lay out meanwhile.
    """
    from .charts import NotDrawnYet, drawing_later
    from .render_html import book_parts

    html, later = {}, []
    with drawing_later():
        for part in book_parts(book):
            try:
                html[part] = part_html(book, templates, part, changes)
            except NotDrawnYet:
                later.append(part)
    for part, text in html.items():
        part_ready(part, text)
    for part in later:
        html[part] = part_html(book, templates, part, changes)
        part_ready(part, html[part])
    return [(part, html[part]) for part in book_parts(book)]


def part_html(book, templates: Path, part: str, changes: Changes | None) -> str:
    """One part of the book for the PDF; the front's contents with stand-ins for page numbers."""
    from .render_html import links_beyond_document, render_book

    tokens = {anchor: PAGE_TOKEN.format(anchor) for anchor in anchors(book)} if part == "front" else None
    html = render_book(book, templates, part=part, for_pdf=True, changes=changes, page_numbers=tokens)
    if part != "front":
        html = without_metadata(html)
    return links_beyond_document(html, to_target=True)  # prose linking to another part


# What WeasyPrint copies from a document's head into its PDF's metadata, and nothing else
# reads. The book's metadata is the front's (assemble), so in any other part it only made
# the part's HTML differ: a new venue or date laid out every part again, to the same pages.
HEAD_METADATA = re.compile(r"<title\b.*?</title\s*>|<meta\b[^>]*\bname\s*=\s*[\"']?(?:description|keywords|author|"
                           r"generator|dcterms\.created|dcterms\.modified)\b[^>]*>", re.IGNORECASE | re.DOTALL)


def without_metadata(html: str) -> str:
    """A part's HTML with its head's PDF metadata left out (its body as it was)."""
    end = html.lower().find("</head>")
    return html if end < 0 else HEAD_METADATA.sub("", html[:end]) + html[end:]


def changes_since_last_edition(valid, book, out_folder: Path) -> tuple[Changes, dict]:
    """What the book's changes page shows, and the state the build stores for the next edition.
    The book is marked with the highest level the page shows: a row the last edition had
    may be higher than any this edition holds."""
    from .changes import compare, editions, levels_listed, marked, page_sections, snapshot

    current = snapshot(valid, book)
    previous, state = editions(out_folder, current)
    # this edition as the inputs give it, not as stored (sorted by key): the changes page
    # lists what is new in the same order whether or not the edition was built before
    changes = marked(compare(previous, current), valid.scheme, valid.ceiling)
    changes.page = page_sections(changes, [view.item.title for view in book.items],
                                 [view.item.title for view in book.items if view.spending], valid.scheme)
    book.highest = valid.scheme.highest([book.highest, *levels_listed(changes, valid.scheme)])
    return changes, state


def render_everything(valid, templates: Path, out_folder: Path) -> list[Problem]:
    """Render every page a build into ``out_folder`` would, through ``templates``, laying
    nothing out and writing nothing: ``check --templates`` finds a template's errors so.
    Returns the warnings only a rendered book can give (the linter's prose-link)."""
    from .render_html import book_parts, render_book, render_stamps

    book = staff_book(valid)
    changes, _ = changes_since_last_edition(valid, book, out_folder)
    book_html = render_book(book, templates, changes=changes)
    for part in book_parts(book):
        part_html(book, templates, part, changes)
    render_stamps([book.highest.name], valid.meeting.title, valid.meeting.language, templates)
    list(public_factsheets(valid, templates))
    return links_going_nowhere(valid, book_html, strict=False)


def staff_book(valid):
    """The book's view of the meeting: everything up to its ceiling, with the figures."""
    from .merge import merge
    from .redact import redact, up_to

    return merge(redact(valid, up_to(valid.ceiling)))


def items_with_sheets(valid) -> list[str]:
    """The items that get a fact sheet: those not closed to the press, in a scheme with a public level."""
    if valid.scheme.public_level is None:
        return []
    return [item.id for item in valid.items if item.press != "closed"]


def public_factsheets(valid, templates: Path):
    """(item id, title, level, HTML, rows shown) of each fact sheet, from the public-only
    copy of the meeting: one per item, but for an item closed to the press."""
    from .merge import merge, sheet_level
    from .redact import public_only, redact
    from .render_html import render_factsheet

    with_sheets = set(items_with_sheets(valid))
    if not with_sheets:
        return
    public = merge(redact(valid, public_only))
    for index, view in enumerate(public.items):
        item = view.item
        if item.id in with_sheets:
            title = item.factsheet.title if item.factsheet and item.factsheet.title else item.title
            level = sheet_level(public, view).name
            yield item.id, title, level, render_factsheet(public, index, level, templates), rows_shown(public, view)


def rows_shown(public, view) -> list[str]:
    """The data rows a fact sheet's figures come from: the incidents of its window, and for
    spending every public figure (its trend chart counts every year)."""
    from .guard import row_key

    rows = list(view.incidents.rows) if view.incidents else []
    if view.spending:
        rows += public.valid.datasets["spending"].rows
    return sorted(map(row_key, rows))


def allowed_roots(templates: Path, meeting_dir: Path) -> list[str]:
    """The folders WeasyPrint may read: the templates and the meeting's assets."""
    from .prose import assets_folder

    assets = assets_folder(meeting_dir)
    return [str(templates)] + ([str(assets)] if assets else [])


def anchors(book) -> list[str]:
    return ["programme", "changes", *(f"item-{view.item.id}" for view in book.items), "people", "annex"]


def fill_page_numbers(html: str, numbers: dict[str, int] | None) -> str:
    """Put page numbers (1-based) in the contents; None puts wide stand-ins, to measure."""
    return PAGE_TOKENS.sub(lambda m: "888" if numbers is None else str(numbers.get(m.group(1), "")), html)


def numbered_anchors(html: str) -> set[str]:
    """The anchors whose page numbers the contents show."""
    return set(PAGE_TOKENS.findall(html))


def factsheet(job: FactsheetJob, fragments: dict[str, tuple]) -> Layout:
    """Lay out a fact sheet; refuse it if it is not one page or holds restricted text.

    Over one page is the linter's factsheet-pages rule, but in a build always an error:
    press officers are promised one page, so a longer sheet is not written at all.
    """
    from .guard import leaks_in, pdf_metadata
    from .lint import lint_pages

    layout = lay_out(job.request)
    too_long = lint_pages({}, {job.item: layout.pages}, {job.item: Path(job.source)},
                          {job.item: layout.used_mm_after_first})
    if too_long:
        raise BriefgenError([dataclasses.replace(p, severity="error") for p in too_long])
    # the HTML source, every text drawn into the PDF (including SVG charts), and its metadata
    found = leaks_in(fragments, job.html) + leaks_in(fragments, layout.text + " " + pdf_metadata(layout.pdf))
    if found:
        level, path, line = fragments[found[0]]
        where = f"line {line}" if path == job.source else f"{path}:{line}"
        raise BriefgenError([Problem(Path(job.source), None, f"fact sheet '{job.item}' not written: it "
                                     f"contains {level} text, from {where} (not quoted here)")])
    return layout
