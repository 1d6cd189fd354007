"""Data sets: CSV files of typed rows, each row remembering its line.

Part of the validate stage. A meeting names its data sets in ``data:``; paths
resolve against meeting.yaml, not the working directory.
"""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
from pydantic import ValidationError

from .classification import Scheme
from .errors import ProblemList, cut_short, display_path, not_shown
from .load import Nameless, load_csv
from .safety import UnusablePath, is_inside, not_a_file, resolved
from .model import IncidentRow, MeetingData, Row, SpendingRow
from .yamlmodel import plain

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
    unused: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # column: (line, value) of its cells

    def latest_date(self) -> dt.date | None:
        """The newest row's date; a year's figures count as of 31 December."""
        if not self.rows:
            return None
        if hasattr(self.rows[0], "date"):
            return max(row.date for row in self.rows)
        return dt.date(max(row.year for row in self.rows), 12, 31)

    @property
    def sources(self) -> list[str]:
        """Distinct sources, in order of first appearance."""
        return list(dict.fromkeys(row.source for row in self.rows))


def load_datasets(meeting_path: Path, data: MeetingData, tree, scheme: Scheme, problems: ProblemList,
                  root: Path | None = None) -> dict[str, Dataset]:
    """Load every data set the meeting names; problems are collected, not raised.

    ``tree`` is the loaded ``data:`` mapping, for the line of a bad path. A path that
    leaves ``root`` (the project folder) is refused; None allows any path. ``scheme``
    says which rows are public: only their values are quoted in messages.
    """
    datasets = {}
    for name, relative in data:
        if relative is None:
            continue
        line = tree.line_of(name) if hasattr(tree, "line_of") else None
        try:
            path = resolved(meeting_path.parent / relative)
        except UnusablePath as exc:
            problems.add(meeting_path, line, f"data.{name}: cannot use this path: {exc}")
            continue
        if root is not None and not is_inside(path, root):
            problems.add(meeting_path, line, f"data.{name}: {relative} is outside the project folder "
                         f"{display_path(root)}; refused (--allow-outside-paths allows it)")
        elif why := not_a_file(path):
            said = f"file not found: {relative}" if why == "not found" else f"{relative} {why}"
            problems.add(meeting_path, line, f"data.{name}: {said}")
        else:
            datasets[name] = load_dataset(name, path, scheme, problems)
    return datasets


def load_dataset(name: str, path: Path, scheme: Scheme, problems: ProblemList) -> Dataset:
    header, records = load_csv(path, problems, REQUIRED_COLUMNS[name])
    rows = [_row(ROW_MODELS[name], path, line, record, Quoter(record.get("classification"), scheme), problems)
            for line, record in records]
    rows = [row for row in rows if row is not None]
    _check_unique(name, path, rows, scheme, problems)
    known = ROW_MODELS[name].model_fields
    unused = {column: [(line, record[column]) for line, record in records if record.get(column)]
              for column in header if column and column not in known}
    return Dataset(name, path, rows, unused)


def check_unused_columns(dataset: Dataset, scheme, problems: ProblemList) -> None:
    """A column briefgen does not read is a warning, unless it looks like the classification
    column under another name: then every row would be taken for public, and that is an error."""
    known = list(ROW_MODELS[dataset.name].model_fields)
    for column, cells in dataset.unused.items():
        nameless = isinstance(column, Nameless)
        if nameless and not cells:
            continue  # a header ending in a comma, as spreadsheets write one: nothing in it
        shown = column if nameless else f"column '{column}'"
        marked = next(((line, value) for line, value in cells if scheme.get(value)), None)
        alike = [] if nameless else difflib.get_close_matches(column, known, n=1, cutoff=0.75)
        if marked:
            problems.add(dataset.path, marked[0], f"{shown} holds classifications ('{marked[1]}'), "
                         "but only a column named 'classification' marks a row: rename it, or every row "
                         "is taken for public")
        elif alike:
            problems.add(dataset.path, 1, f"unknown column '{column}' (did you mean '{alike[0]}'?)")
        else:
            problems.warn(dataset.path, 1, f"{shown} is not used by briefgen; ignored")


@dataclass
class Quoter:
    """How a message shows a row's value: quoted if the row is public, else not at all,
    because messages reach logs and terminals that are not cleared for restricted text."""

    marked: str | None  # the row's classification cell
    scheme: Scheme

    def __call__(self, value) -> str:
        reason = self.withheld()
        if reason is not None:
            return not_shown(reason)
        return cut_short(repr(value) if isinstance(value, str) else str(value))  # 2025-10-01, not datetime.date(...)

    def withheld(self) -> str | None:
        """Why the row's values are not shown, or None."""
        if not (self.marked or "").strip():
            return None
        level = self.scheme.get(self.marked)
        if level is None:
            return "a row of unknown classification"
        return None if level.public else f"a {level.name} row"


def _row(model: type[Row], path: Path, line: int, record: dict, quote: Quoter, problems: ProblemList):
    try:
        row = model.model_validate(record)
    except ValidationError as exc:
        for error in exc.errors():
            column = ".".join(str(part) for part in error["loc"])
            if error["type"] == "missing":  # its input is the whole row: nothing to quote
                problems.add(path, line, f"{column}: empty, but this column needs a value")
            else:
                problems.add(path, line, f"{column}: {plain(error['msg'])}, found {quote(error.get('input'))}")
        return None
    row._line = line
    message = _check_country(row, quote)
    if message:
        problems.add(path, line, message)
        return None
    return row


def _check_country(row: Row, quote: Quoter) -> str | None:
    """Spending rows need a real ISO code matching the name; incident rows a known place."""
    if isinstance(row, SpendingRow):
        country = pycountry.countries.get(alpha_3=row.iso3)
        if country is None:
            return f"iso3: unknown ISO 3166 alpha-3 code {quote(row.iso3)}"
        named = country_code(row.country)
        if quote.withheld() and named != row.iso3:  # the countries would say what the row is about
            return f"country: {quote(row.country)} is not the country of iso3 {quote(row.iso3)}"
        if named is None:
            return f"country: {quote(row.country)} is not a country name briefgen knows ({row.iso3} is {country.name})"
        if named != row.iso3:
            return f"country: {quote(row.country)} is {named}, not {row.iso3} ({country.name})"
        return None
    row._iso3 = country_code(row.country)
    if row._iso3 is None and organisation(row.country) is None:
        return (f"country: unknown country {quote(row.country)} (use a country name, an ISO 3166 "
                f"alpha-3 code or one of {', '.join(ORGANISATIONS)})")
    return None


def _check_unique(name: str, path: Path, rows: list, scheme: Scheme, problems: ProblemList) -> None:
    seen: dict = {}
    for row in rows:
        key = row.id if name == "incidents" else (row.iso3, row.year)
        if key in seen:
            both = [Quoter(row.classification, scheme), Quoter(seen[key][1], scheme)]
            quote = next((q for q in both if q.withheld()), both[0])
            problems.add(path, row._line, f"duplicate row {quote(key)} (first on line {seen[key][0]})")
        else:
            seen[key] = (row._line, row.classification)


# Not countries, but they act in the incident data (a NATO response, an EU decision).
# A qualifier in brackets is allowed: "NATO (eastern flank)".
ORGANISATIONS = ("NATO", "EU", "UN", "OSCE")


def organisation(name: str) -> str | None:
    base = without_qualifier(name).strip().upper()
    return base if base in ORGANISATIONS else None


def without_qualifier(name: str) -> str:
    """``name`` without a last line's ending '(...)', from its first '('. Not a regex: one
    tried from each '(' read the rest of the field each time (50,000 characters: seconds)."""
    text = name.rstrip()
    opening = text.find("(", text.rfind("\n") + 1)
    return text[:opening] if text.endswith(")") and opening >= 0 else name


# Names in common English use that ISO 3166 does not give (it has "Türkiye", "Russian
# Federation", "Netherlands, Kingdom of the" ...).
COMMON_NAMES = {
    "turkey": "TUR", "russia": "RUS", "uk": "GBR", "great britain": "GBR", "britain": "GBR",
    "holland": "NLD", "macedonia": "MKD", "korea": "KOR", "ivory coast": "CIV", "cape verde": "CPV",
    "swaziland": "SWZ", "burma": "MMR", "vatican": "VAT", "micronesia": "FSM", "palestine": "PSE",
    "dr congo": "COD",
}


# How a country given only by its code is named to a reader: ISO's short name, or the name
# in common English use where ISO's is inverted ("Moldova, Republic of") or official.
SHORT_NAMES = {"RUS": "Russia", "COD": "DR Congo", "PSE": "Palestine"}


def place_name(spelling: str) -> str:
    """A place as a reader sees it: a bare ISO 3166 alpha-3 code by its country's name
    ('LVA' is Latvia, 'MDA' Moldova), anything else as written."""
    code = country_code(spelling)
    if code is None or spelling.strip().upper() != code:
        return spelling
    country = pycountry.countries.get(alpha_3=code)
    return SHORT_NAMES.get(code) or getattr(country, "common_name", None) or country.name


def type_key(kind: str) -> str:
    """What makes two spellings of an incident type one type: case, underscores and
    spacing aside ('GPS_JAMMING', 'gps jamming')."""
    return type_name(kind).casefold()


def type_name(kind: str) -> str:
    """An incident type as a reader sees it: underscores are a spreadsheet's spaces."""
    return " ".join(kind.replace("_", " ").split())


def country_code(name_or_code: str) -> str | None:
    """ISO 3166 alpha-3 code for a country name or code; None if it is not a country."""
    name = " ".join(name_or_code.split())
    name = name[4:] if name.lower().startswith("the ") else name
    try:
        return pycountry.countries.lookup(name).alpha_3
    except LookupError:
        return COMMON_NAMES.get(name.lower())
