"""Data sets: CSV files of typed rows, each row remembering its line.

Part of the validate stage. A meeting names its data sets in ``data:``; paths
resolve against meeting.yaml, not the working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pycountry
from pydantic import ValidationError

from .errors import ProblemList
from .load import load_csv
from .model import IncidentRow, MeetingData, Row, SpendingRow

ROW_MODELS: dict[str, type[Row]] = {"incidents": IncidentRow, "spending": SpendingRow}

# Columns a data set must have; the others in its model are optional.
REQUIRED_COLUMNS = {
    "incidents": ["id", "date", "country", "type", "count", "duration_min", "response",
                  "article4", "summary", "source"],
    "spending": ["country", "iso3", "year", "pct_gdp", "estimate", "usd_million", "source"],
}


@dataclass
class Dataset:
    """One loaded CSV: its rows in file order, and where it came from."""

    name: str
    path: Path
    rows: list

    @property
    def sources(self) -> list[str]:
        """Distinct sources, in order of first appearance."""
        return list(dict.fromkeys(row.source for row in self.rows))


def load_datasets(meeting_path: Path, data: MeetingData, tree, problems: ProblemList) -> dict[str, Dataset]:
    """Load every data set the meeting names; problems are collected, not raised.

    ``tree`` is the loaded ``data:`` mapping, for the line of a bad path.
    """
    datasets = {}
    for name, relative in data:
        if relative is None:
            continue
        path = (meeting_path.parent / relative).resolve()
        if not path.is_file():
            line = tree.line_of(name) if hasattr(tree, "line_of") else None
            problems.add(meeting_path, line, f"data.{name}: file not found: {relative}")
            continue
        datasets[name] = load_dataset(name, path, problems)
    return datasets


def load_dataset(name: str, path: Path, problems: ProblemList) -> Dataset:
    header, records = load_csv(path, problems)
    missing = [column for column in REQUIRED_COLUMNS[name] if column not in header]
    if missing:
        problems.add(path, 1, f"missing column(s): {', '.join(missing)}")
        return Dataset(name, path, [])
    rows = [_row(ROW_MODELS[name], path, line, record, problems) for line, record in records]
    rows = [row for row in rows if row is not None]
    _check_unique(name, path, rows, problems)
    return Dataset(name, path, rows)


def _row(model: type[Row], path: Path, line: int, record: dict, problems: ProblemList):
    try:
        row = model.model_validate(record)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"])
            message = error["msg"][0].lower() + error["msg"][1:]
            problems.add(path, line, f"{column}: {message}, found {error.get('input')!r}")
        return None
    row._line = line
    if isinstance(row, IncidentRow):
        row._iso3 = country_code(row.country)
    return row


def _check_unique(name: str, path: Path, rows: list, problems: ProblemList) -> None:
    seen: dict = {}
    for row in rows:
        key = row.id if name == "incidents" else (row.iso3, row.year)
        if key in seen:
            problems.add(path, row._line, f"duplicate row {key!r} (first on line {seen[key]})")
        else:
            seen[key] = row._line


def country_code(name_or_code: str) -> str | None:
    """ISO 3166 alpha-3 code for a country name or code; None if it is not a country."""
    try:
        return pycountry.countries.lookup(name_or_code.strip()).alpha_3
    except LookupError:
        return None
