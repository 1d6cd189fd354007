"""Computed views of the incident data: what an item shows and every count it states.

Part of the merge stage. An item's view (dates, countries, types) selects the rows;
every count and chart is then made from those rows only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from .charts import Chart, draw
from .classification import Level, Scheme
from .datasets import country_code, organisation, place_name, type_key, type_name
from .formatting import format_count, format_date, in_prose, join_names, plural
from .model import IncidentRow, IncidentView


@dataclass
class IncidentTable:
    heading: str | None  # the writer's name for what the incidents are; None: briefgen's own
    window: str
    statement: str
    last_event: str
    rows: list[IncidentRow]
    by_country: list[tuple[str, int]]
    by_type: list[tuple[str, int]]
    shown_by_country: list[tuple[str, str]]  # by_country as a table shows it: '1,250'
    shown_by_type: list[tuple[str, str]]
    article4: list[IncidentRow]
    place: dict[str, str]  # each row's place by id, spelt as the counts spell it
    kind: dict[str, str]  # each row's type by id, likewise
    count: dict[str, str]  # each row's count by id as a table shows it: '1,500', '–' if none
    sources: list[str]
    data_as_of: str
    level: Level  # the highest of the rows shown
    mixed_levels: bool  # rows differ in level, so each shows its own mark
    charts: list[Chart]


def incident_table(rows: list[IncidentRow], view: IncidentView, scheme: Scheme,
                   meeting_date: dt.date) -> IncidentTable:
    """``rows`` are those the edition may show: the spellings come from them alone."""
    chosen = sorted(select_incidents(rows, view), key=lambda r: (r.date, r.id))
    place, kind = first_spellings(rows)
    window = describe_window(view)
    by_country = Counter(place[r.id] for r in chosen).most_common()
    by_type = Counter(kind[r.id] for r in chosen).most_common()
    table = IncidentTable(
        heading=view.heading.strip() if view.heading and view.heading.strip() else None,
        window=window,
        statement=incident_statement(chosen, window, place),
        last_event=last_event_statement(chosen, meeting_date),
        rows=chosen,
        by_country=by_country,
        by_type=by_type,
        shown_by_country=[(name, format_count(n)) for name, n in by_country],
        shown_by_type=[(name, format_count(n)) for name, n in by_type],
        article4=[r for r in chosen if r.article4],
        place={r.id: place[r.id] for r in chosen},
        kind={r.id: kind[r.id] for r in chosen},
        count={r.id: "–" if r.count is None else format_count(r.count) for r in chosen},
        sources=list(dict.fromkeys(r.source for r in chosen)),
        data_as_of=data_as_of(rows, view) if chosen else "",
        level=scheme.highest(r.level for r in chosen),
        mixed_levels=len({r.level for r in chosen}) > 1,
        charts=[],
    )
    if chosen:
        table.charts = [timeline_chart(table, view, place, data_end=max(row.date for row in rows))]
    return table


def first_spellings(rows: list[IncidentRow]) -> tuple[dict[str, str], dict[str, str]]:
    """(place, type) of each row by id, as the first of ``rows`` spells them: 'POL' and
    'Poland', 'Drone' and 'drone' count as one. A country's first name wins over a bare
    ISO code ('POL', then 'Poland' is Poland): a reader wants the name, and which row
    comes first may differ between editions; a country only ever given by its code is
    named from it ('LVA' is Latvia). A type's underscores are shown as spaces. Worked out
    per edition, so that a restricted row's spelling ("NATO (operation name)") never
    names a public row's place."""
    places, kinds = {}, {}
    for row in rows:
        key = place_key(row)
        if key not in places or is_bare_code(places[key], row._iso3) and not is_bare_code(row.country, row._iso3):
            places[key] = row.country
        kinds.setdefault(type_key(row.type), type_name(row.type))
    return ({row.id: place_name(places[place_key(row)]) for row in rows},
            {row.id: kinds[type_key(row.type)] for row in rows})


def is_bare_code(spelling: str, iso3: str | None) -> bool:
    return iso3 is not None and spelling.strip().upper() == iso3


def place_key(row: IncidentRow) -> str:
    return row._iso3 or organisation(row.country) or row.country


def select_incidents(rows: list[IncidentRow], view: IncidentView) -> list[IncidentRow]:
    """Rows inside the view's date window, countries and types."""
    wanted = {country_code(c) or organisation(c) or c for c in view.countries}
    types = {type_key(t) for t in view.types}
    return [
        row for row in rows
        if (view.from_ is None or row.date >= view.from_)
        and (view.to is None or row.date <= view.to)
        and (not wanted or place_key(row) in wanted)
        and (not types or type_key(row.type) in types)
    ]


def incident_statement(rows: list[IncidentRow], window: str, place: dict[str, str]) -> str:
    """'14 recorded events, 1 September 2025 to 15 October 2025; Article 4 ...'; an empty
    window says 'No recorded events, ...', not '0 recorded events'."""
    text = f"{plural(len(rows), 'recorded event') if rows else 'No recorded events'}, {window}"
    requested = list(dict.fromkeys(in_prose(place[row.id]) for row in rows if row.article4))
    if requested:
        text += f"; Article 4 consultations requested by {join_names(requested)}"
    return text + "."


def data_as_of(rows: list[IncidentRow], view: IncidentView) -> str:
    """How current the data behind a window is: its latest row, or the window's end where
    the data runs past it. Not the last event shown: a window quiet for its last days is
    covered by the data all the same, and 'Last event shown' says when that was."""
    latest = max(row.date for row in rows)
    return format_date(min(latest, view.to) if view.to else latest)


def last_event_statement(rows: list[IncidentRow], meeting_date: dt.date) -> str:
    """Days from the last event shown to the meeting (not to the build: books are reproducible)."""
    if not rows:
        return ""  # the statement already says there are none
    last = max(row.date for row in rows)
    days = (meeting_date - last).days
    if days == 0:  # not '0 days before the meeting'
        return f"Last event shown: {format_date(last)}, the day of the meeting."
    if days > 0:
        return f"Last event shown: {format_date(last)}, {plural(days, 'day')} before the meeting."
    return f"Last event shown: {format_date(last)}, {plural(-days, 'day')} after the meeting."


def describe_window(view: IncidentView) -> str:
    if view.from_ and view.from_ == view.to:  # one day: not "10 March 2026 to 10 March 2026"
        return format_date(view.from_)
    if view.from_ and view.to:
        return f"{format_date(view.from_)} to {format_date(view.to)}"
    if view.from_:
        return f"since {format_date(view.from_)}"
    if view.to:
        return f"up to {format_date(view.to)}"
    return "all dates"


def timeline_chart(table: IncidentTable, view: IncidentView, place: dict[str, str], data_end: dt.date) -> Chart:
    """The window's events by country over time. An open window runs to the edition's latest
    row (``data_end``), not the last event shown: quiet days the data covers are part of it."""
    countries = [country for country, _ in table.by_country]
    events = [(place[row.id], row.date, row.count or 1) for row in table.rows]
    shown = (view.from_ or min(row.date for row in table.rows), view.to or data_end)
    alt = ("Timeline of events by country, " + table.window + ": " +
           "; ".join(f"{country} {plural(n, 'event')}" for country, n in table.by_country) + ".")
    return Chart(draw("incidents_over_time", alt, countries, events, shown),
                 f"Events by country over time, {table.window}", alt,
                 "press reports and official statements",  # the book's annex lists them by event; a fact sheet has none
                 table.data_as_of, table.level)
