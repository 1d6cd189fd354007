"""Where the project's configuration file is: a light module, safe to import first."""

from __future__ import annotations

from pathlib import Path

CONFIG_FILE = "briefgen.yaml"
DEFAULT_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def find_config(start: Path) -> Path | None:
    """The nearest briefgen.yaml in ``start`` or a folder above it."""
    for folder in [start.resolve(), *start.resolve().parents]:
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None
