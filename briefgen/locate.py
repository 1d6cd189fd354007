"""Where the project's configuration file is: a light module, safe to import first."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_FILE = "briefgen.yaml"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def find_config(start: Path) -> Path | None:
    """The nearest briefgen.yaml in ``start`` or a folder above it, up to the project:
    the first folder that holds an ``agendas/`` folder, else the parent of ``start``.
    Not beyond: a briefgen.yaml in /tmp or a home folder must not set a project's scheme."""
    for folder in _up_to_project(start.resolve()):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def _up_to_project(start: Path) -> list[Path]:
    chain = [start, *start.parents]
    for index, folder in enumerate(chain[1:], start=1):
        if (folder / "agendas").is_dir():
            return chain[:index + 1]
    return chain[:2]


def project_root(meeting_dir: Path) -> Path:
    """The project folder a meeting belongs to; data files named in its YAML stay inside it.

    It is the folder of the nearest briefgen.yaml; without one, the folder that holds
    ``agendas/`` for a meeting in ``agendas/<meeting>/``; else the meeting folder's parent.
    """
    config = find_config(meeting_dir)
    if config is not None:
        return config.parent
    meeting = Path(meeting_dir).resolve()
    return meeting.parent.parent if meeting.parent.name == "agendas" else meeting.parent


def meeting_name(directory: Path) -> str:
    """A meeting's name, and its folder's under the output folder: its own folder's name,
    resolved (``build .`` would otherwise name it "", and ``build ..`` "..")."""
    return Path(os.path.abspath(directory)).name
