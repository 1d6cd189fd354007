"""Stage 3, merge: compute each item's data views from the data sets.

Every number a reader sees is computed here, in Python, from the rows; templates
only lay out what this module hands them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .classification import Level, Scheme
from .datasets import Dataset
from .formatting import format_date
from .incidents import IncidentTable, incident_table
from .model import Item, walk_marked
from .spending import SpendingTable, data_as_of, spending_table
from .validate import ValidMeeting


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
    sources: list[SourceLine]
    latest: str
    level: Level  # the highest of its rows: the annex lists them all, not only those the briefs show


class SourceLine(str):
    """One line of the annex's sources, as text, with the highest level of the rows it names."""

    level: Level

    def __new__(cls, text: str, level: Level):
        line = super().__new__(cls, text)
        line.level = level
        return line


@dataclass
class BookView:
    valid: ValidMeeting
    items: list[ItemView]
    annex: list[DatasetSummary]
    highest: Level  # the highest classification of anything in this view


def merge(valid: ValidMeeting) -> BookView:
    """Attach each item's computed data views, and summarise the data sets."""
    date = valid.meeting.date
    views = [item_view(item, valid.datasets, valid.scheme, date) for item in valid.items]
    annex = [summarise(dataset, valid.scheme) for dataset in valid.datasets.values()]
    return BookView(valid, views, annex, highest_level(valid, views, annex))


def item_view(item: Item, datasets: dict[str, Dataset], scheme: Scheme, date: dt.date) -> ItemView:
    spending = incidents = None
    if item.data.spending is not None and "spending" in datasets:
        spending = spending_table(datasets["spending"].rows, item.data.spending, scheme)
    if item.data.incidents is not None and "incidents" in datasets:
        incidents = incident_table(datasets["incidents"].rows, item.data.incidents, scheme, date)
    return ItemView(item, spending, incidents)


def highest_level(valid: ValidMeeting, views: list[ItemView], annex: list[DatasetSummary]) -> Level:
    levels = [marked.level for model in [valid.meeting, *valid.items]
              for _, marked in walk_marked(model)]
    levels += [table.level for view in views for table in (view.spending, view.incidents) if table]
    levels += [summary.level for summary in annex]  # every row, shown in a brief or not
    return valid.scheme.highest(levels)


def sheet_level(public: BookView, view: ItemView) -> Level:
    """What a fact sheet is marked with: the highest level it shows, where a scheme has
    more than one public level; the lowest public level if it shows nothing marked.
    ``public`` is the public-only view, so every level here is public."""
    levels = [marked.level for model in (public.valid.meeting, view.item) for _, marked in walk_marked(model)]
    levels += [table.level for table in (view.spending, view.incidents) if table and table.rows]
    return public.valid.scheme.highest([public.valid.scheme.public_level, *levels])


# --- annex ----------------------------------------------------------------

def summarise(dataset: Dataset, scheme: Scheme) -> DatasetSummary:
    return DatasetSummary(dataset.name, dataset.path.name, len(dataset.rows), row_sources(dataset, scheme),
                          latest_date(dataset), scheme.highest(row.level for row in dataset.rows))


def row_sources(dataset: Dataset, scheme: Scheme) -> list[SourceLine]:
    """Distinct sources; for data sets whose rows have ids, each source names its rows."""
    by_source: dict[str, list] = {}
    for row in dataset.rows:
        by_source.setdefault(row.source, []).append(row)
    named = dataset.rows and hasattr(dataset.rows[0], "id")
    return [SourceLine(f"{', '.join(row.id for row in rows)}: {source}" if named else source,
                       scheme.highest(row.level for row in rows))
            for source, rows in by_source.items()]


def latest_date(dataset: Dataset) -> str:
    if not dataset.rows:
        return "no rows"
    if dataset.name == "incidents":
        return format_date(max(row.date for row in dataset.rows))
    return data_as_of(dataset.rows)
