"""Computed views of the spending data: every figure a brief states about it.

Part of the merge stage. Figures are compared as NATO publishes them (2 dp), with
Decimal arithmetic, so 2.00 is at the 2% guideline and never 1.9999999.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from statistics import median

from .charts import Chart, draw
from .classification import Level, Scheme
from .formatting import format_pct, join_names
from .model import SpendingRow, SpendingView


@dataclass
class YearCount:
    """How many allies were at or above each threshold in one year."""

    year: int
    estimate: bool  # every figure of the year is a NATO estimate
    with_figure: int
    at_or_above: list[int]  # one per threshold, same order as SpendingTable.thresholds
    statement: str
    median: str  # the median ally's % of GDP, formatted with its "%"; "–" for a year without figures
    shown: list[str]  # at_or_above as a table shows it: "–" for a year without figures, not "0"
    label: str  # the year as a fact sheet's table names it: "2025 (estimate)", "2024 (partly estimates)"


@dataclass
class AllyGap:
    """One ally's distance to the target in the latest year, and the pace needed."""

    ally: str
    latest: str
    gap: str  # percentage points, "0.00" when at or above the target
    per_year: str  # percentage points a year until the target year


@dataclass
class SpendingTable:
    years: list[int]
    estimates: list[bool]  # per year: every figure of that year is an estimate (its column is "2025e")
    thresholds: list[str]  # formatted, e.g. "2%", "3.5%"
    rows: list[tuple[str, list[str]]]  # (ally, formatted % per year, "–" if none, "1.58e" if an estimate
    #                                     in a year whose other figures are not)
    counts: list[YearCount]  # the years asked for, else the latest; none without a figure: gap_statement says so
    trend: list[YearCount]  # every year in the data, first threshold only
    gaps: list[AllyGap]  # empty if no ally is below the target: the statement says so
    gap_year: str  # the year the gaps are measured in, "2025e" if all its figures are estimates; "" if no year
    gap_statement: str
    sources: list[str]
    data_as_of: str
    level: Level  # the highest of the rows shown
    charts: list[Chart]


def spending_table(rows: list[SpendingRow], view: SpendingView, scheme: Scheme) -> SpendingTable:
    latest = max((row.year for row in rows), default=None)
    years = view.years or ([latest] if latest else [])  # no figure and no year asked for: no year, not year 0
    used = [row for row in rows if row.year in years]
    level = scheme.highest(row.level for row in rows)
    sources = list(dict.fromkeys(row.source for row in rows))
    all_years = sorted({row.year for row in rows})
    trend = [year_count(rows, year, view.thresholds[:1]) for year in all_years]
    names, last = ally_names(rows), max(years, default=None)  # the gaps to the target are measured in the last year shown
    gaps = ally_gaps(rows, names, last, view.target, view.target_year) if last else []
    table = SpendingTable(
        years=years,
        estimates=[all_estimates(used, y) for y in years],
        thresholds=[format_pct(t, places=None) + "%" for t in view.thresholds],
        rows=ally_rows(rows, names, years),
        counts=[year_count(rows, year, view.thresholds) for year in years],
        trend=trend,
        gaps=gaps if any(Decimal(gap.gap) > 0 for gap in gaps) else [],  # a table of 0.00s tells nothing
        gap_year=f"{last}{'e' if all_estimates(rows, last) else ''}" if last else "",
        gap_statement=gap_statement(gaps, last, view.target, view.target_year),
        sources=sources,
        data_as_of=data_as_of(rows),
        level=level,
        charts=[],
    )
    if rows:
        table.charts = spending_charts(table, rows, names, view, last)
    return table


def ally_names(rows: list[SpendingRow]) -> dict[str, str]:
    """Each ally's name by ISO code, as its latest figure gives it: an ally renamed over the
    years ('Turkey', then 'Türkiye') is named one way in every table and chart."""
    latest: dict[str, SpendingRow] = {}
    for row in rows:
        if row.iso3 not in latest or row.year >= latest[row.iso3].year:
            latest[row.iso3] = row
    return {iso3: row.country for iso3, row in latest.items()}


def ally_rows(rows: list[SpendingRow], names: dict[str, str], years: list[int]) -> list[tuple[str, list[str]]]:
    """One row per ally, one figure per year."""
    by_ally: dict[str, dict[int, SpendingRow]] = {}
    for row in rows:
        by_ally.setdefault(names[row.iso3], {})[row.year] = row
    marked = {year for year in years if all_estimates(rows, year)}  # once a year, not once a figure
    return [(ally, [figure(figures[y], y in marked) if y in figures else "–" for y in years])
            for ally, figures in sorted(by_ally.items())]


def all_estimates(rows: list[SpendingRow], year: int) -> bool:
    """Every figure of ``year`` is a NATO estimate, so the year itself is marked ("2025e")."""
    figures = [row for row in rows if row.year == year]
    return bool(figures) and all(row.estimate for row in figures)


def partly_estimated(rows: list[SpendingRow], year: int) -> bool:
    """Some figures of ``year`` are NATO estimates, and some are final."""
    return not all_estimates(rows, year) and any(row.estimate for row in rows if row.year == year)


def figure(row: SpendingRow, year_marked: bool) -> str:
    """A figure as published; an estimate in a year not marked as one ("2025e": all its
    figures are estimates) carries its own "e": marking the year would call the final
    figures estimates."""
    return format_pct(row.pct_gdp) + ("e" if row.estimate and not year_marked else "")


def allies_at_or_above(rows: list[SpendingRow], year: int, threshold: Decimal) -> list[str]:
    """Allies whose % of GDP in ``year`` is at or above ``threshold``, as published (2 dp)."""
    return sorted(row.country for row in rows if row.year == year and row.pct_gdp >= threshold)


def year_count(rows: list[SpendingRow], year: int, thresholds: list[Decimal]) -> YearCount:
    figures = [row.pct_gdp for row in rows if row.year == year]
    estimate = all_estimates(rows, year)
    counts = [len(allies_at_or_above(rows, year, t)) for t in thresholds]
    partly = partly_estimated(rows, year)
    label = f"{year} (NATO estimate)" if estimate else f"{year} (partly NATO estimates)" if partly else str(year)
    statement = spending_statement(label, len(figures), thresholds, counts)
    middle = format_pct(Decimal(median(figures)).quantize(Decimal("0.01"), ROUND_HALF_UP)) + "%" if figures else "–"
    shown = [str(n) if figures else "–" for n in counts]  # no figure is not no ally at 2%
    return YearCount(year, estimate, len(figures), counts, statement, middle, shown,
                     f"{year}{estimate_note(rows, year)}")


def estimate_note(rows: list[SpendingRow], year: int) -> str:
    """What a year's label adds where a table or chart cannot mark each figure with its "e":
    " (estimate)", " (partly estimates)" (as "Data as of" says it), or nothing."""
    return " (estimate)" if all_estimates(rows, year) else " (partly estimates)" if partly_estimated(rows, year) else ""


def spending_statement(label, with_figure, thresholds, counts) -> str:
    """One sentence per year: '2014: 3 of 31 allies with a published figure at or above 2% ...'.
    A year the view asks for and the data lacks (a warning in check) says so, not '0 of 0'."""
    if not with_figure:
        return f"{label}: no ally has a published figure."
    clauses = [f"{n} at or above {format_pct(t, places=None)}%" for t, n in zip(thresholds, counts)]
    allies = "ally" if with_figure == 1 else "allies"  # '1 of 1 ally', as '1 of 2 allies'
    if clauses:
        clauses[0] = (f"{counts[0]} of {with_figure} {allies} with a published figure at or above "
                      f"{format_pct(thresholds[0], places=None)}% of GDP")
    return f"{label}: {'; '.join(clauses)}."


def ally_gaps(rows: list[SpendingRow], names: dict[str, str], year: int, target: Decimal,
              target_year: int) -> list[AllyGap]:
    """Each ally's gap to ``target`` in ``year`` and the yearly rise that closes it by
    ``target_year`` (validation makes sure that year is still to come). The rise is rounded
    up, not half up: it is the least an ally must add, so the figure shown, added each
    year, reaches the target, and an ally below it never reads as needing 0.00."""
    years_left = max(target_year - year, 1)
    gaps, marked = [], all_estimates(rows, year)
    for row in sorted((r for r in rows if r.year == year), key=lambda r: (r.pct_gdp, names[r.iso3])):
        gap = max(target - row.pct_gdp, Decimal(0))
        per_year = (gap / years_left).quantize(Decimal("0.01"), ROUND_CEILING)
        gaps.append(AllyGap(names[row.iso3], figure(row, marked), format_pct(gap), format_pct(per_year)))
    return gaps


def gap_statement(gaps: list[AllyGap], year: int | None, target: Decimal, target_year: int) -> str:
    """'In 2025, 27 of 30 allies ... were below 3.5% of GDP; to reach it by 2035 ...', in
    words that fit none, one or all of them being below."""
    if not gaps:
        return f"No figures for {year}." if year else "No ally has a published figure."
    below = [gap for gap in gaps if Decimal(gap.gap) > 0]
    target_text = f"{format_pct(target, places=None)}% of GDP"
    if not below:
        who = "the one ally" if len(gaps) == 1 else f"all {len(gaps)} allies"
        return f"In {year}, {who} with a published figure {'was' if len(gaps) == 1 else 'were'} at or above {target_text}."
    paces = sorted({gap.per_year for gap in below}, key=Decimal)
    pace = paces[0] if len(paces) == 1 else f"between {paces[0]} and {paces[-1]}"
    if len(below) == 1:
        who = "the one ally" if len(gaps) == 1 else f"1 of {len(gaps)} allies"  # not '1 of 1 allies'
        return (f"In {year}, {who} with a published figure was below {target_text}; "
                f"to reach it by {target_year} it needs to add {pace} percentage points a year.")
    return (f"In {year}, {len(below)} of {len(gaps)} allies with a published figure were below {target_text}; "
            f"to reach it by {target_year} they need to add {pace} percentage points a year.")


def data_as_of(rows: list[SpendingRow]) -> str:
    if not rows:
        return "no data"
    year = max(row.year for row in rows)
    return f"{year}{estimate_note(rows, year)}"


def spending_charts(table: SpendingTable, rows: list[SpendingRow], names: dict[str, str],
                    view: SpendingView, year: int) -> list[Chart]:
    source = "; ".join(table.sources)
    threshold = table.thresholds[0] if table.thresholds else "2%"
    # the alt text marks estimates as the chart's labels and the tables do ("2025e", "2.50e")
    # a year only partly estimated has no "e" on its bar: the caption and alt text say so
    partly = [c.year for c in table.trend if partly_estimated(rows, c.year)]
    trend_alt = ("Bar chart of allies at or above " + threshold + " of GDP each year: " +
                 ", ".join(f"{c.year}{'e' if c.estimate else ''}{' (partly estimates)' if c.year in partly else ''}"
                           f" {c.at_or_above[0]} of {c.with_figure}" for c in table.trend) + ".")
    trend = Chart(
        draw("allies_at_threshold", trend_alt, [c.year for c in table.trend],
             [c.at_or_above[0] for c in table.trend], [c.with_figure for c in table.trend],
             [c.estimate for c in table.trend], threshold),
        f"Allies at or above {threshold} of GDP, {year_span(table.trend[0].year, table.trend[-1].year)}"
        + (f" ({join_names([str(y) for y in partly])}: partly estimates)" if partly else ""),
        trend_alt, source, table.data_as_of, table.level)
    latest = sorted((r for r in rows if r.year == year), key=lambda r: (-r.pct_gdp, names[r.iso3]))
    if not latest:  # a year the view asks for and the data lacks: no bars, only axes made up
        return [trend]
    marked = all_estimates(rows, year)
    latest_alt = (f"Bar chart of each ally's defence spending as % of GDP, {year}{'e' if marked else ''}, "
                  "highest first: " + ", ".join(f"{names[r.iso3]} {figure(r, marked)}" for r in latest) + ".")
    lines = [(float(t), format_pct(t, places=None) + "%") for t in view.thresholds]
    by_ally = Chart(
        draw("latest_by_ally", latest_alt, [names[r.iso3] for r in latest], [float(r.pct_gdp) for r in latest],
             f"{year}{'e' if marked else ''}", lines),
        f"Defence spending by ally, {year}{' (partly estimates)' if partly_estimated(rows, year) else ''}, % of GDP",
        latest_alt, source, table.data_as_of, table.level)
    return [trend, by_ally]


def year_span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}–{last}"
