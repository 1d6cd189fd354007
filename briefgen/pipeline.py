"""The pipeline, stage by stage: validate -> merge -> render HTML -> render PDF -> publish.

The CLI calls ``check`` and ``build``; so can any Python program.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BriefgenError, Problem
from .merge import merge
from .publish import write_atomic
from .render_html import DEFAULT_TEMPLATES, render_book
from .render_pdf import html_to_pdf
from .validate import ValidMeeting, validate_meeting

log = logging.getLogger(__name__)


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


def check(directories: list[Path]) -> list[MeetingResult]:
    """Validate each meeting; nothing is written."""
    return [_run(directory, lambda valid: []) for directory in directories]


def build(directories: list[Path], out: Path, templates: Path = DEFAULT_TEMPLATES) -> list[MeetingResult]:
    """Build each meeting's book into ``out/<meeting>/``; a broken meeting does not stop the rest."""
    return [_run(d, lambda valid: build_book(valid, Path(out), templates)) for d in directories]


def _run(directory: Path, action) -> MeetingResult:
    result = MeetingResult(Path(directory))
    try:
        valid = validate_meeting(result.directory)
        result.problems.extend(valid.warnings)
        result.outputs = action(valid)
    except BriefgenError as exc:
        result.problems.extend(exc.problems)
    return result


def build_book(valid: ValidMeeting, out: Path, templates: Path) -> list[Path]:
    """Render the book as HTML and PDF; write both only once both exist."""
    target = out / valid.name
    html = render_book(merge(valid), templates)
    log.info("laying out %s", valid.name)
    pdf = html_to_pdf(html, templates, [templates, valid.directory], valid.directory / "meeting.yaml")
    outputs = [target / "book.html", target / "book.pdf"]
    write_atomic(outputs[0], html)
    write_atomic(outputs[1], pdf)
    return outputs
