"""The pipeline, stage by stage:
validate -> redact (per edition) -> merge -> render HTML -> render PDF -> guard -> publish.

The CLI calls ``check`` and ``build``; so can any Python program.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BriefgenError, Problem
from .guard import LeakGuard, pdf_text
from .merge import merge
from .publish import Artifact, manifests, publish, write_atomic, write_manifest
from .redact import public_only, redact, up_to
from .render_html import DEFAULT_TEMPLATES, render_book, render_factsheet, render_index
from .render_pdf import Renderer
from .validate import ValidMeeting, validate_meeting

log = logging.getLogger(__name__)

EDITIONS = ("book", "factsheets")


@dataclass
class MeetingResult:
    """What happened to one meeting in a run."""

    directory: Path
    outputs: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def find_meetings(agendas: Path) -> list[Path]:
    """Every folder under ``agendas`` that holds a meeting.yaml, in name order."""
    return sorted(path.parent for path in Path(agendas).glob("*/meeting.yaml"))


def check(directories: list[Path], strict: bool = False) -> list[MeetingResult]:
    """Validate each meeting; nothing is written."""
    return [_run(directory, lambda valid, result: None, strict) for directory in directories]


def build(directories: list[Path], out: Path, editions=EDITIONS,
          templates: Path = DEFAULT_TEMPLATES, strict: bool = False) -> list[MeetingResult]:
    """Build each meeting into ``out/<meeting>/``; a broken meeting does not stop the rest.

    ``strict``: a warning (unknown key, stale data) stops the meeting like an error.
    """
    out = Path(out)
    results = [_run(d, lambda valid, result: build_meeting(valid, out, editions, templates, result), strict)
               for d in directories]
    write_atomic(out / "index.html", render_index(manifests(out), templates))
    return results


def _run(directory: Path, action, strict: bool = False) -> MeetingResult:
    result = MeetingResult(Path(directory))
    try:
        valid = validate_meeting(result.directory)
        if strict and valid.warnings:
            result.problems.extend(dataclasses.replace(w, severity="error") for w in valid.warnings)
            return result
        result.problems.extend(valid.warnings)
        action(valid, result)
    except BriefgenError as exc:
        result.problems.extend(exc.problems)
    return result


def build_meeting(valid: ValidMeeting, out: Path, editions, templates: Path, result: MeetingResult) -> None:
    folder = out / valid.name
    renderer = Renderer(templates, [templates, valid.directory], valid.directory / "meeting.yaml")
    artifacts: list[Artifact] = []
    if "book" in editions:
        artifacts += build_book(valid, folder, renderer, templates)
    if "factsheets" in editions:
        artifacts += build_factsheets(valid, folder, renderer, templates, result)
    meeting = valid.meeting
    write_manifest(folder, {"meeting": valid.name, "title": meeting.title,
                            "date": meeting.date.isoformat(), "venue": meeting.venue},
                   artifacts, list(editions))
    result.outputs += [folder / a.path for a in artifacts]


def build_book(valid: ValidMeeting, folder: Path, renderer: Renderer, templates: Path) -> list[Artifact]:
    """The staff book: everything up to the meeting's ceiling, HTML then PDF."""
    book = merge(redact(valid, up_to(valid.ceiling)))
    html = render_book(book, templates)
    log.info("laying out the book of %s", valid.name)
    pdf, page_levels = renderer.book(html, valid.scheme)
    level = book.highest.name
    return [
        publish(folder, "book.html", html, edition="book", item=None, format="html",
                label="Briefing book", classification=level),
        publish(folder, "book.pdf", pdf, edition="book", item=None, format="pdf",
                label="Briefing book", classification=level, pages=len(page_levels)),
    ]


def build_factsheets(valid: ValidMeeting, folder: Path, renderer: Renderer, templates: Path,
                     result: MeetingResult) -> list[Artifact]:
    """One public fact sheet per item; a sheet that overflows or leaks is not written."""
    banner = valid.scheme.public_level
    if banner is None:
        result.problems.append(Problem(valid.directory, None, "warning: no public level in the "
                                       "classification scheme, so no fact sheets", "warning"))
        return []
    public = merge(redact(valid, public_only))
    guard = LeakGuard(valid)
    artifacts = []
    for index in range(len(public.items)):
        try:
            artifacts += build_factsheet(public, index, banner, guard, folder, renderer, templates, valid)
        except BriefgenError as exc:
            result.problems.extend(exc.problems)
    return artifacts


def build_factsheet(public, index, banner, guard, folder, renderer, templates, valid) -> list[Artifact]:
    """Render, check length and leaks, and only then publish one fact sheet."""
    item = public.items[index].item
    source = valid.item_paths[item.id]
    html = render_factsheet(public, index, banner.name, templates)
    pdf = renderer.one_page(html, f"fact sheet '{item.id}'", source)
    leaks = guard.leaks(html) + guard.leaks(pdf_text(pdf))
    if leaks:
        raise BriefgenError([Problem(source, None, f"fact sheet '{item.id}' not written: it contains "
                                     f"non-public text: {leaks[0]!r}")])
    label = f"Fact sheet: {item.title}"
    return [
        publish(folder, f"factsheets/{item.id}.html", html, edition="factsheets", item=item.id,
                format="html", label=label, classification=banner.name),
        publish(folder, f"factsheets/{item.id}.pdf", pdf, edition="factsheets", item=item.id,
                format="pdf", label=label, classification=banner.name, pages=1),
    ]
