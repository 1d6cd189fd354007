"""Stage 3, merge: compute each item's data views from the data sets.

Every number a reader sees is computed here, in Python, from the rows; templates
only lay out what this module hands them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from .datasets import Dataset, country_code
from .model import IncidentRow, IncidentView, Item, SpendingRow, SpendingView
from .classification import Level, Scheme
from .validate import ValidMeeting, walk_marked


@dataclass
class YearCount:
    """How many allies were at or above each threshold in one year."""

    year: int
    estimate: bool
    with_figure: int
    at_or_above: list[int]  # one per threshold, same order as SpendingTable.thresholds
    statement: str


@dataclass
class SpendingTable:
    years: list[int]
    estimates: list[bool]  # per year: any figure of that year is an estimate
    thresholds: list[str]  # formatted, e.g. "2%", "3.5%"
    rows: list[tuple[str, list[str]]]  # (ally, formatted % per year, "–" if none)
    counts: list[YearCount]
    sources: list[str]
    data_as_of: str
    level: Level  # the highest of the rows shown


@dataclass
class IncidentTable:
    window: str
    statement: str
    rows: list[IncidentRow]
    by_country: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    article4: list[IncidentRow]
    sources: list[str]
    data_as_of: str
    level: Level  # the highest of the rows shown
    mixed_levels: bool  # rows differ in level, so each shows its own mark


@dataclass
class ItemView:
    item: Item
    spending: SpendingTable | None
    incidents: IncidentTable | None


@dataclass
class DatasetSummary:
    name: str
    file: str
    rows: int
    sources: list[str]
    latest: str


@dataclass
class BookView:
    valid: ValidMeeting
    items: list[ItemView]
    annex: list[DatasetSummary]
    highest: Level  # the highest classification of anything in this view


def merge(valid: ValidMeeting) -> BookView:
    """Attach each item's computed data views, and summarise the data sets."""
    views = [item_view(item, valid.datasets, valid.scheme) for item in valid.items]
    annex = [summarise(dataset) for dataset in valid.datasets.values()]
    return BookView(valid, views, annex, highest_level(valid, views))


def item_view(item: Item, datasets: dict[str, Dataset], scheme: Scheme) -> ItemView:
    spending = incidents = None
    if item.data.spending is not None and "spending" in datasets:
        spending = spending_table(datasets["spending"].rows, item.data.spending, scheme)
    if item.data.incidents is not None and "incidents" in datasets:
        incidents = incident_table(datasets["incidents"].rows, item.data.incidents, scheme)
    return ItemView(item, spending, incidents)


def highest_level(valid: ValidMeeting, views: list[ItemView]) -> Level:
    levels = [marked.level for model in [valid.meeting, *valid.items]
              for _, marked in walk_marked(model)]
    levels += [table.level for view in views for table in (view.spending, view.incidents) if table]
    return valid.scheme.highest(levels)


# --- spending -------------------------------------------------------------

def spending_table(rows: list[SpendingRow], view: SpendingView, scheme: Scheme) -> SpendingTable:
    years = view.years or [max((row.year for row in rows), default=0)]
    by_ally: dict[str, dict[int, SpendingRow]] = {}
    for row in rows:
        by_ally.setdefault(row.country, {})[row.year] = row
    table_rows = [(ally, [format_pct(figures[y].pct_gdp) if y in figures else "–" for y in years])
                  for ally, figures in sorted(by_ally.items())]
    used = [row for row in rows if row.year in years]
    return SpendingTable(
        years=years,
        estimates=[any(row.estimate for row in used if row.year == y) for y in years],
        thresholds=[format_pct(t, places=None) + "%" for t in view.thresholds],
        rows=table_rows,
        counts=[year_count(rows, year, view.thresholds) for year in years],
        sources=list(dict.fromkeys(row.source for row in used)),
        data_as_of=str(max(years)) if used else "no data",
        level=scheme.highest(row.level for row in used),
    )


def allies_at_or_above(rows: list[SpendingRow], year: int, threshold: Decimal) -> list[str]:
    """Allies whose % of GDP in ``year`` is at or above ``threshold``, as published (2 dp)."""
    return sorted(row.country for row in rows if row.year == year and row.pct_gdp >= threshold)


def year_count(rows: list[SpendingRow], year: int, thresholds: list[Decimal]) -> YearCount:
    with_figure = sum(1 for row in rows if row.year == year)
    estimate = any(row.estimate for row in rows if row.year == year)
    counts = [len(allies_at_or_above(rows, year, t)) for t in thresholds]
    statement = spending_statement(year, estimate, with_figure, thresholds, counts)
    return YearCount(year, estimate, with_figure, counts, statement)


def spending_statement(year, estimate, with_figure, thresholds, counts) -> str:
    """One sentence per year: '2014: 3 of 31 allies with a published figure at or above 2% ...'."""
    clauses = [f"{n} at or above {format_pct(t, places=None)}%" for t, n in zip(thresholds, counts)]
    if clauses:
        clauses[0] = (f"{counts[0]} of {with_figure} allies with a published figure at or above "
                      f"{format_pct(thresholds[0], places=None)}% of GDP")
    label = f"{year} (NATO estimate)" if estimate else str(year)
    return f"{label}: {'; '.join(clauses)}."


def format_pct(value: Decimal, places: int | None = 2) -> str:
    """2 dp as NATO prints figures; ``places=None`` drops trailing zeros (3.50 -> 3.5)."""
    if places is None:
        text = format(value.normalize(), "f")
        return text
    return f"{value:.{places}f}"


# --- incidents ------------------------------------------------------------

def incident_table(rows: list[IncidentRow], view: IncidentView, scheme: Scheme) -> IncidentTable:
    chosen = sorted(select_incidents(rows, view), key=lambda r: (r.date, r.id))
    return IncidentTable(
        window=describe_window(view),
        statement=incident_statement(chosen, describe_window(view)),
        rows=chosen,
        by_country=Counter(r.country for r in chosen).most_common(),
        by_type=Counter(r.type for r in chosen).most_common(),
        article4=[r for r in chosen if r.article4],
        sources=list(dict.fromkeys(r.source for r in chosen)),
        data_as_of=format_date(max(r.date for r in chosen)) if chosen else "no incidents",
        level=scheme.highest(r.level for r in chosen),
        mixed_levels=len({r.level for r in chosen}) > 1,
    )


def select_incidents(rows: list[IncidentRow], view: IncidentView) -> list[IncidentRow]:
    """Rows inside the view's date window, countries and types."""
    wanted = {country_code(c) or c for c in view.countries}
    types = {t.lower() for t in view.types}
    return [
        row for row in rows
        if (view.from_ is None or row.date >= view.from_)
        and (view.to is None or row.date <= view.to)
        and (not wanted or row._iso3 in wanted or row.country in wanted)
        and (not types or row.type.lower() in types)
    ]


def incident_statement(rows: list[IncidentRow], window: str) -> str:
    """'14 recorded events, 1 September 2025 to 15 October 2025; Article 4 ...'."""
    text = f"{len(rows)} recorded event{'s' if len(rows) != 1 else ''}, {window}"
    requested = list(dict.fromkeys(row.country for row in rows if row.article4))
    if requested:
        text += f"; Article 4 consultations requested by {join_names(requested)}"
    return text + "."


def join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_window(view: IncidentView) -> str:
    if view.from_ and view.to:
        return f"{format_date(view.from_)} to {format_date(view.to)}"
    if view.from_:
        return f"since {format_date(view.from_)}"
    if view.to:
        return f"up to {format_date(view.to)}"
    return "all dates"


def format_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- annex ----------------------------------------------------------------

def summarise(dataset: Dataset) -> DatasetSummary:
    return DatasetSummary(dataset.name, dataset.path.name, len(dataset.rows),
                          row_sources(dataset), latest_date(dataset))


def row_sources(dataset: Dataset) -> list[str]:
    """Distinct sources; for data sets whose rows have ids, each source names its rows."""
    if not dataset.rows or not hasattr(dataset.rows[0], "id"):
        return dataset.sources
    by_source: dict[str, list[str]] = {}
    for row in dataset.rows:
        by_source.setdefault(row.source, []).append(row.id)
    return [f"{', '.join(ids)}: {source}" for source, ids in by_source.items()]


def latest_date(dataset: Dataset) -> str:
    if not dataset.rows:
        return "no rows"
    if dataset.name == "incidents":
        return format_date(max(row.date for row in dataset.rows))
    year = max(row.year for row in dataset.rows)
    estimate = any(row.estimate for row in dataset.rows if row.year == year)
    return f"{year}{' (estimate)' if estimate else ''}"
