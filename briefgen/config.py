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
    allies: [BEL, DNK, FRA]        # ISO 3166 alpha-3; default: NATO's 32 members

``allies`` are the countries the spending data may hold: every count of "allies at or
above a threshold" is over them, so a figure for any other country is an error rather
than a silent extra ally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pycountry
from pydantic import Field

from .classification import NATO, Scheme, level_key
from .errors import Problem, ProblemList
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

# NATO's members since Sweden's accession (7 March 2024). Iceland has no armed forces and
# so no spending figure, but it is an ally.
NATO_ALLIES = frozenset(
    "ALB BEL BGR CAN HRV CZE DNK EST FIN FRA DEU GRC HUN ISL ITA LVA LTU LUX MNE NLD MKD "
    "NOR POL PRT ROU SVK SVN ESP SWE TUR GBR USA".split())


class FreshnessConfig(Schema):
    """Per data set: the most days its latest row may be older than the meeting before a
    warning (an error under --strict). A misspelt data set is an unknown key, not ignored."""

    incidents: int = Field(DEFAULT_FRESHNESS["incidents"], ge=0)
    spending: int = Field(DEFAULT_FRESHNESS["spending"], ge=0)


class ProjectConfig(Schema):
    classification: SchemeConfig | None = None
    freshness: FreshnessConfig = Field(default_factory=FreshnessConfig)
    allies: list[str] | None = Field(
        None, min_length=1,
        description="ISO 3166 alpha-3 codes of the countries the spending data may hold; default NATO's.")


@dataclass
class Project:
    """What briefgen.yaml settles for a meeting; NATO and the defaults without one."""

    scheme: Scheme
    freshness: dict[str, int]
    allies: frozenset[str] = NATO_ALLIES
    warnings: list[Problem] = field(default_factory=list)  # briefgen.yaml's: unknown keys


def load_project(meeting_dir: Path) -> Project:
    """The settings that apply to a meeting folder."""
    path = find_config(meeting_dir)
    if path is None:
        return Project(NATO, dict(DEFAULT_FRESHNESS))
    problems = ProblemList()
    config = validate_file(path, ProjectConfig, problems)
    if config is not None and config.classification is not None:
        _check_levels(path, config, problems)
    if config is not None and config.allies is not None:
        _check_allies(path, config, problems)
    problems.raise_if_errors()
    allies = NATO_ALLIES if config.allies is None else frozenset(code.upper() for code in config.allies)
    scheme = NATO if config.classification is None else Scheme(
        [(lv.name, lv.mark, lv.public) for lv in config.classification.levels])
    return Project(scheme, config.freshness.model_dump(), allies, problems.warnings)


def _check_allies(path: Path, config: ProjectConfig, problems: ProblemList) -> None:
    tree = config._tree["allies"]
    for index, code in enumerate(config.allies):
        if pycountry.countries.get(alpha_3=code) is None:
            problems.add(path, tree.line_of(index), f"allies: '{code}' is not an ISO 3166 alpha-3 "
                         "country code (POL, DEU, USA, ...)")


def _check_levels(path: Path, config: ProjectConfig, problems: ProblemList) -> None:
    tree = config._tree["classification"]["levels"]
    seen: set[tuple[str, str]] = set()
    closed = None  # the first level not public: none above it may be public
    for index, level in enumerate(config.classification.levels):
        labels = {level_key(label) for label in (level.name, level.mark)}
        if labels & seen:
            problems.add(path, tree.line_of(index), f"classification level '{level.name}' "
                         "repeats a name or mark declared above")
        if level.public and closed:
            problems.add(path, tree.line_of(index), f"classification level '{level.name}' is public but "
                         f"above '{closed}', which is not: public levels come first (lowest)")
        closed = closed or (None if level.public else level.name)
        seen |= labels
    if not any(level.public for level in config.classification.levels):  # fact sheets are public
        problems.warn(path, config._tree["classification"].line_of("levels"), "classification: no level is "
                      "public, so no fact sheet is made: fact sheets need a public level (public: true on the lowest)")
