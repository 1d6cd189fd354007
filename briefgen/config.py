"""Project configuration: ``briefgen.yaml``, found in the meeting folder or above it.

It declares the classification scheme (without the file, NATO's applies) and how old
each data set may be at the meeting date::

    classification:
      levels:                      # lowest first
        - {name: PUBLIC, mark: PUBLIC, public: true}
        - {name: OFFICIAL, mark: O}
        - {name: SECRET, mark: S}
        - {name: TOP SECRET, mark: TS}
    freshness:                     # days; defaults: incidents 30, spending 730
      incidents: 14
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from .classification import NATO, Scheme
from .errors import ProblemList
from .locate import find_config
from .model import Schema
from .yamlmodel import validate_file



class LevelConfig(Schema):
    name: str = Field(min_length=1)
    mark: str = Field(min_length=1, description="Portion mark, e.g. NR.")
    public: bool = Field(False, description="May appear in press fact sheets.")


class SchemeConfig(Schema):
    levels: list[LevelConfig] = Field(min_length=1, description="Lowest first.")


DEFAULT_FRESHNESS = {"incidents": 30, "spending": 730}


class ProjectConfig(Schema):
    classification: SchemeConfig | None = None
    freshness: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_FRESHNESS),
        description="Per data set: the most days its latest row may be older than the meeting "
                    "before a warning (an error under --strict).")


@dataclass
class Project:
    """What briefgen.yaml settles for a meeting; NATO and the defaults without one."""

    scheme: Scheme
    freshness: dict[str, int]


def load_project(meeting_dir: Path) -> Project:
    """The settings that apply to a meeting folder."""
    path = find_config(meeting_dir)
    if path is None:
        return Project(NATO, dict(DEFAULT_FRESHNESS))
    problems = ProblemList()
    config = validate_file(path, ProjectConfig, problems)
    if config is not None and config.classification is not None:
        _check_levels(path, config, problems)
    problems.raise_if_errors()
    freshness = {**DEFAULT_FRESHNESS, **config.freshness}
    if config.classification is None:
        return Project(NATO, freshness)
    levels = [(lv.name, lv.mark, lv.public) for lv in config.classification.levels]
    return Project(Scheme(levels), freshness)


def _check_levels(path: Path, config: ProjectConfig, problems: ProblemList) -> None:
    tree = config._tree["classification"]["levels"]
    seen: set[str] = set()
    closed = None  # the first level not public: none above it may be public
    for index, level in enumerate(config.classification.levels):
        labels = {" ".join(label.split()).upper() for label in (level.name, level.mark)}
        if labels & seen:
            problems.add(path, tree.line_of(index), f"classification level '{level.name}' "
                         "repeats a name or mark declared above")
        if level.public and closed:
            problems.add(path, tree.line_of(index), f"classification level '{level.name}' is public but "
                         f"above '{closed}', which is not: public levels come first (lowest)")
        closed = closed or (None if level.public else level.name)
        seen |= labels
