"""Charts as SVG, drawn with matplotlib from numbers merge has already computed.

Deterministic: no date in the metadata, a fixed hash salt for element ids, and text
kept as text (so the PDF's text, and the leak guard, can read it).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
import textwrap
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from markupsafe import Markup

from .classification import Level
from .errors import BriefgenError
from .incremental import versions
from .load import read_bytes
from .publish import STATE_LIMIT, keep_in_cache

STYLE = {
    "svg.hashsalt": "briefgen",
    "svg.fonttype": "none",
    "text.parse_math": False,  # a place named "NATO ($5 bn)" is text, not a formula
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
MIN_HEIGHT_MM = 30  # room for the axes' labels and ticks whatever the number of rows
# A row's label (a country, an ally) wraps after this many characters: on one line, a name
# such as "United Kingdom of Great Britain and Northern Ireland" took half the chart's width.
LABEL_CHARACTERS = 28
NAVY, RED, GREY = "#0b2545", "#a40000", "#8da9c4"
PALETTE = ["#0b2545", "#a40000", "#2f6690", "#d98c00", "#3a7d44", "#7b3294", "#5c5c5c", "#c2185b"]
# After the palette's eight colours a timeline's rows change shape, so that no two countries
# look alike: circles, then squares, triangles, diamonds.
MARKERS = ["o", "s", "^", "D"]


@dataclass
class Chart:
    """A chart ready for a template: the SVG and everything said about it."""

    svg: Drawing
    caption: str
    alt: str
    source: str
    data_as_of: str
    level: Level


# Drawn charts, by a hash of what they show: the book and the fact sheets often show the
# same chart, and an unchanged item's charts need not be drawn again on the next build.
_drawn: dict[str, str] = {}
KEPT_IN_MEMORY = 64  # drawn charts held for the next meetings of a run (the oldest go first)
_folder: list[Path] = []  # where drawn charts are kept between builds, if anywhere
_used: set[str] = set()  # the charts the current meeting showed
_on_disk: set[Path] = set()  # kept charts known to be whole in this run
_reuse: list[bool] = [True]  # False under --force: kept charts are drawn again
_write: list[bool] = [True]  # False in the preview: it reads kept charts, keeping none


def keep_charts_in(folder: Path, reuse: bool = True, write: bool = True) -> None:
    """Keep drawn charts in ``folder`` between builds (a build's cache folder); with
    ``reuse`` false (``--force``), draw every chart again over the kept ones. With ``write``
    false (the preview, which holds no lock on the output folder), only read them there."""
    _folder[:] = [folder]
    _reuse[0], _write[0] = reuse, write
    _used.clear()
    _on_disk.clear()


def forget_unused_charts() -> None:
    """Delete the kept charts the current meeting no longer shows, so the cache cannot grow without end."""
    for path in _folder[0].glob("*.svg64") if _folder else ():
        if path.stem not in _used:
            path.unlink(missing_ok=True)


class NotDrawnYet(Exception):
    """A document showed a chart not drawn yet, while drawing is put off (``drawing_later``)."""


_later: list[bool] = [False]
_meanwhile: list = [lambda: None]  # called between the steps of drawing charts


@contextmanager
def drawing_later():
    """Documents rendered meanwhile raise NotDrawnYet instead of drawing a chart, so the
    caller can send the documents whose charts are ready to be laid out first."""
    _later[0] = True
    try:
        yield
    finally:
        _later[0] = False


@contextmanager
def between_drawings(call):
    """Call ``call()`` after each step of drawing a chart, importing matplotlib and drawing
    (a second the first time: the process pool should not wait for this process meanwhile)."""
    _meanwhile[0] = call
    try:
        yield
    finally:
        _meanwhile[0] = lambda: None


def draw(kind: str, alt: str, *args) -> Drawing:
    """The chart ``kind`` of ``args`` as an <img>, drawn when first shown, once for the same arguments."""
    # briefgen's code and matplotlib's version draw the chart as much as its arguments do
    key = hashlib.sha256(repr((kind, args, STYLE, sorted(versions().items()))).encode("utf-8")).hexdigest()
    _used.add(key)
    return Drawing(key, kind, alt, args)


@dataclass(frozen=True)
class Drawing:
    """A chart's <img>: drawn (or read from the kept charts) the first time a template shows it."""

    key: str
    kind: str
    alt: str
    args: tuple

    def __html__(self) -> str:
        kept = _folder[0] / f"{self.key}.svg64" if _folder else None
        data = _drawn.get(self.key)
        if data is None and kept and _reuse[0]:
            data = _read(kept)
            if data is not None:
                _on_disk.add(kept)  # read whole: nothing to write
        if data is None:
            if _later[0]:
                raise NotDrawnYet(self.kind)
            import matplotlib.figure  # noqa: F401  (0.4 s the first time)

            _meanwhile[0]()
            data = svg_data(CHARTS[self.kind](*self.args))
            _meanwhile[0]()
        if kept and _write[0] and kept not in _on_disk:  # also when drawn for another meeting of this run
            if _read(kept) != data:
                keep_in_cache(kept, data)  # a killed build leaves no half chart behind
            _on_disk.add(kept)
        _drawn[self.key] = data
        while len(_drawn) > KEPT_IN_MEMORY:
            del _drawn[next(iter(_drawn))]
        return _img(data, self.alt)

    __str__ = __html__


def _read(kept: Path | None) -> str | None:
    """A kept chart, if it is one: a cache file goes into the HTML as it is, so anything
    but a whole SVG in base64 (truncated, tampered with, a link elsewhere) is drawn again."""
    try:  # a regular file only: a FIFO in its place would hold the build for ever
        data = read_bytes(kept, STATE_LIMIT).decode("ascii") if kept and not kept.is_symlink() else None
        svg = base64.b64decode(data, validate=True) if data else b""
    except (OSError, ValueError, BriefgenError):  # binascii.Error and UnicodeDecodeError are ValueErrors
        return None
    return data if svg.startswith(b"<?xml") and svg.rstrip().endswith(b"</svg>") else None


def to_svg(figure, alt: str) -> Markup:
    """The figure as an <img> with an SVG data URL and ``alt`` text.

    An image rather than inline <svg>: the chart's own styles stay inside it instead of
    meeting the page's CSS, and ``alt`` is the standard place for the description.
    """
    return _img(svg_data(figure), alt)


def _img(data: str, alt: str) -> Markup:
    return Markup('<img class="chart-image" src="data:image/svg+xml;base64,{}" alt="{}">').format(
        Markup(data), alt)


def svg_data(figure) -> str:
    """The figure as base64 SVG, without the metadata that would differ between runs."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = re.sub(r"<metadata>.*?</metadata>", "", buffer.getvalue(), flags=re.S)
    return base64.b64encode(svg.encode("utf-8")).decode("ascii")


def new_figure(width_mm: float, height_mm: float):
    """A figure outside pyplot (no global state), imported late: matplotlib costs 0.3 s."""
    import matplotlib

    matplotlib.use("svg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(width_mm / 25.4, height_mm / 25.4), layout="constrained")
        figure.add_subplot()
    return figure


def allies_at_threshold(years: list[int], counts: list[int], totals: list[int],
                        estimates: list[bool], threshold: str):
    """Bars: allies at or above one threshold, per year, against allies with a figure."""
    import matplotlib

    figure = new_figure(160, 55)
    axes = figure.axes[0]
    with matplotlib.rc_context(STYLE):
        labels = [f"{y}{'e' if e else ''}" for y, e in zip(years, estimates)]
        axes.bar(labels, totals, color="#e8eef4", label="allies with a figure")
        bars = axes.bar(labels, counts, color=NAVY, label=f"at or above {threshold} of GDP")
        axes.bar_label(bars, padding=1, fontsize=7)
        axes.set_ylabel("allies")
        axes.yaxis.get_major_locator().set_params(integer=True)  # allies come whole
        axes.legend(frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=2)  # above: never on a bar
    return figure


def latest_by_ally(allies: list[str], values: list[float], year_label: str,
                   thresholds: list[tuple[float, str]]):
    """Horizontal bars: each ally's % of GDP in one year, with the threshold lines."""
    import matplotlib

    labels, lines = row_labels(allies)
    figure = new_figure(160, max(12 + max(4.2, 3.4 * lines) * len(allies), MIN_HEIGHT_MM))
    axes = figure.axes[0]
    with matplotlib.rc_context(STYLE):
        axes.barh(range(len(allies)), values, color=GREY, height=0.7)
        axes.set_yticks(range(len(allies)), labels)
        axes.invert_yaxis()
        for (value, label), colour in zip(thresholds, [RED, NAVY, "#3a7d44", "#d98c00"]):
            axes.axvline(value, color=colour, linewidth=1, linestyle="--")
            axes.text(value, 1.0, f" {label}", color=colour, fontsize=7, va="bottom",
                      transform=axes.get_xaxis_transform())  # just above the bars, however many
        axes.set_xlabel(f"% of GDP, {year_label}")
        axes.tick_params(axis="y", labelsize=7)
    return figure


def incidents_over_time(countries: list[str], events: list[tuple[str, object, int]],
                        shown: tuple[dt.date, dt.date]):
    """A timeline: one row per country, one dot per event (bigger for more aircraft),
    across the dates ``shown`` (first, last)."""
    import matplotlib
    import matplotlib.dates

    labels, lines = row_labels(countries)
    figure = new_figure(160, max(14 + max(6, 3.6 * lines) * len(countries), MIN_HEIGHT_MM))
    axes = figure.axes[0]
    with matplotlib.rc_context(STYLE):
        for index, country in enumerate(countries):
            dates = [day for c, day, _ in events if c == country]
            sizes = [18 + 6 * min(count, 20) for c, _, count in events if c == country]
            colour, marker = country_style(index)
            axes.scatter(dates, [index] * len(dates), s=sizes, color=colour, marker=marker, alpha=0.85, zorder=3)
        axes.set_yticks(range(len(countries)), labels)
        axes.set_ylim(len(countries) - 0.5, -0.5)
        axes.grid(axis="x", color="#dddddd", zorder=0)
        first, last = shown
        margin = max((last - first) / 30, dt.timedelta(days=1))  # a dot on the edge shows whole
        start, end = (dt.datetime.combine(day, dt.time()) for day in (first - margin, last + margin))
        locator = (  # whole days: a short window would get hours, each labelled by its day
            matplotlib.dates.DayLocator() if (last - first).days < 7
            else matplotlib.dates.AutoDateLocator(minticks=3, maxticks=7))
        low, high = matplotlib.dates.date2num([start, end])
        axes.set_xticks(evenly_spaced([t for t in locator.tick_values(start, end) if low <= t <= high]))
        axes.set_xlim(low, high)
        # the year only where the dates shown cross one: "01 Jan" alone could be any year's
        axes.xaxis.set_major_formatter(matplotlib.dates.DateFormatter(
            "%d %b" if start.year == end.year else "%d %b\n%Y"))  # the year below: as wide as "01 Jan"
    return figure


def row_labels(names: list[str]) -> tuple[list[str], float]:
    """``names`` wrapped at LABEL_CHARACTERS, and the lines two neighbouring rows' labels
    take, on average, at most: the rows are spaced for them, so that their lines never meet."""
    labels = [textwrap.fill(name, LABEL_CHARACTERS, break_long_words=False) for name in names]
    lines = [label.count("\n") + 1 for label in labels]
    return labels, max([(a + b) / 2 for a, b in zip(lines, lines[1:])] + lines[:1])


def country_style(index: int) -> tuple[str, str]:
    """The colour and marker of a timeline's row ``index``: one of a kind for 32 rows."""
    return PALETTE[index % len(PALETTE)], MARKERS[index // len(PALETTE) % len(MARKERS)]


def evenly_spaced(ticks: list[float]) -> list[float]:
    """``ticks`` without one that crowds the next: matplotlib counts days in steps from each
    month's 1st, so '31 Dec' can fall a day before '01 Jan' and their labels overlap. The
    later tick is kept, so a month's first day keeps its label."""
    if len(ticks) < 3:
        return ticks
    step = median(after - before for before, after in zip(ticks, ticks[1:]))
    kept = [ticks[-1]]
    for tick in reversed(ticks[:-1]):
        if kept[-1] - tick >= 0.75 * step:
            kept.append(tick)
    return kept[::-1]


CHARTS = {
    "allies_at_threshold": allies_at_threshold,
    "latest_by_ally": latest_by_ally,
    "incidents_over_time": incidents_over_time,
}
