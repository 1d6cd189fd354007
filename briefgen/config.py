"""Project configuration: ``briefgen.yaml``, found in the meeting folder or above it.

Today it declares the classification scheme; without the file, NATO's applies::

    classification:
      levels:                      # lowest first
        - {name: PUBLIC, mark: PUBLIC, public: true}
        - {name: OFFICIAL, mark: O}
        - {name: SECRET, mark: S}
        - {name: TOP SECRET, mark: TS}
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from .classification import NATO, Scheme
from .errors import ProblemList
from .model import Schema
from .yamlmodel import validate_file

CONFIG_FILE = "briefgen.yaml"


class LevelConfig(Schema):
    name: str = Field(min_length=1)
    mark: str = Field(min_length=1, description="Portion mark, e.g. NR.")
    public: bool = Field(False, description="May appear in press fact sheets.")


class SchemeConfig(Schema):
    levels: list[LevelConfig] = Field(min_length=1, description="Lowest first.")


class ProjectConfig(Schema):
    classification: SchemeConfig | None = None


def find_config(start: Path) -> Path | None:
    """The nearest briefgen.yaml in ``start`` or a folder above it."""
    for folder in [start.resolve(), *start.resolve().parents]:
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def load_scheme(meeting_dir: Path) -> Scheme:
    """The classification scheme that applies to a meeting folder."""
    path = find_config(meeting_dir)
    if path is None:
        return NATO
    problems = ProblemList()
    config = validate_file(path, ProjectConfig, problems)
    if config is not None and config.classification is not None:
        _check_levels(path, config, problems)
    problems.raise_if_errors()
    if config.classification is None:
        return NATO
    return Scheme([(lv.name, lv.mark, lv.public) for lv in config.classification.levels])


def _check_levels(path: Path, config: ProjectConfig, problems: ProblemList) -> None:
    tree = config._tree["classification"]["levels"]
    seen: set[str] = set()
    for index, level in enumerate(config.classification.levels):
        labels = {" ".join(label.split()).upper() for label in (level.name, level.mark)}
        if labels & seen:
            problems.add(path, tree.line_of(index), f"classification level '{level.name}' "
                         "repeats a name or mark declared above")
        seen |= labels
