"""The typed model of a meeting, its items and its data rows.

Each class documents the YAML or CSV it accepts, one field per key. Validation of
a field's type happens here (pydantic); cross-checks that need the whole meeting
(item ids, classification levels, data paths) happen in ``validate``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from typing import Annotated, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator,
                      model_validator)

from .classification import Level


class Schema(BaseModel):
    # Unknown keys are reported by validate.unknown_keys as warnings with a
    # suggestion, so here they are simply ignored.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    _tree: object = PrivateAttr(None)  # the loaded YAML, for path:line in later checks


class Marked(Schema):
    """Anything that carries a classification; unmarked takes its container's."""

    classification: str | None = Field(None, description="Classification level; default: the item's or meeting's.")
    _level: Level | None = PrivateAttr(None)

    @property
    def level(self) -> Level:
        assert self._level is not None, "classification not resolved"
        return self._level


class Portion(Marked):
    """A piece of markdown prose: a plain string, or {text, classification}."""

    text: str = Field(description="Markdown text.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value):
        return {"text": value} if isinstance(value, str) else value


class LineToTake(Marked):
    """An 'if pressed' line: the likely question and the answer to give."""

    question: str = Field(description="The question, as a journalist or counterpart would put it.")
    answer: str = Field(description="Markdown answer.")


class ProgrammeEntry(Marked):
    """One line of the meeting's programme."""

    time: str = Field(description='Time or range, quoted: "10:00-11:15".')
    event: str = Field(description="What happens, as the programme shows it.")
    location: str = ""
    people: list[str] = Field(default_factory=list,
                              description="Who speaks or takes part, by name as in the who's who.")


class Person(Marked):
    """One entry of the who's who."""

    name: str = Field(description="As the programme's people: lists name them.")
    role: str = ""
    country: str = ""
    bio: str = Field("", description="Markdown biography.")


def _iso_date(value):
    """YYYY-MM-DD only: 0 or '1759276800' would otherwise pass as a timestamp, and YAML's
    2025-10-15 10:00 (a date and time) be refused in pydantic's words."""
    if (isinstance(value, (int, float, dt.datetime))
            or (isinstance(value, str) and not ISO_DATE.fullmatch(value))):
        raise ValueError("write the date as YYYY-MM-DD")
    return value


def _in_nato_years(value: dt.date) -> dt.date:
    if not 1949 <= value.year <= 2100:
        raise ValueError("the year must be between 1949 and 2100")
    return value


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Day = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_in_nato_years)]
Year = Annotated[int, Field(ge=1949, le=2100)]  # NATO's years
Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]


class IncidentView(Schema):
    """Which incidents an item shows: a date window, countries and types."""

    from_: Day | None = Field(None, alias="from", description="First date shown (inclusive).")
    to: Day | None = Field(None, description="Last date shown (inclusive).")
    countries: list[str] = Field(default_factory=list, description="Country names or ISO alpha-3 codes; empty: all.")
    types: list[str] = Field(default_factory=list, description="Incident types; empty: all.")
    heading: str | None = Field(None, description="What the incidents are, heading their section and the "
                                "fact sheet's, e.g. 'Airspace incidents'. Like a title, it is not a portion: "
                                "keep it public. Default: 'Incidents'.")


class SpendingView(Schema):
    """Which spending figures an item shows."""

    years: list[Year] = Field(default_factory=list, description="Years shown; empty: the latest year.")
    thresholds: list[Percent] = Field(default_factory=lambda: [Decimal("2.0")], min_length=1,
                                      description="% of GDP thresholds whose allies are counted.")
    target: Percent = Field(Decimal("3.5"), description="% of GDP target whose gap is shown (The Hague: 3.5% core).")
    target_year: int = Field(2035, ge=1949, le=2100, description="Year by which the target is to be met.")


class ItemData(Schema):
    """Views of the meeting's data sets shown in the brief (facts and figures)."""

    incidents: IncidentView | None = Field(None, description="Incidents shown: a window, countries, types.")
    spending: SpendingView | None = Field(None, description="Spending figures shown: years and thresholds.")


class FactSheet(Schema):
    """The press fact sheet for an item: public portions only."""

    title: str | None = Field(None, description="Default: the item's title.")
    lede: Portion | None = Field(None, description="The opening paragraph; must be marked public.")
    facts: list[Portion] = Field(default_factory=list, description="Short facts; each must be marked public.")


class Item(Schema):
    """One agenda item: ``agendas/<meeting>/<item>.yaml``."""

    id: str | None = Field(None, description="Default: the file name without .yaml.")
    title: str = Field(description="The item's title, as in the contents.")
    time: str = Field("", description='Time or range, quoted: "10:00-11:15".')
    lead: str = Field("", description="Who leads on the item (a post, not a name).")
    classification: str | None = Field(None, description="Default for this item's portions; default: the meeting's.")
    purpose: Portion | None = Field(None, description="Why the item is on the agenda and what we want from it.")
    objectives: list[Portion] = Field(default_factory=list, description="Outcomes we want, one portion each.")
    key_messages: list[Portion] = Field(default_factory=list, description="What the minister says, one portion each.")
    lines_to_take: list[LineToTake] = Field(default_factory=list,
                                            description="If pressed: likely questions and the answers to give.")
    background: list[Portion] = Field(default_factory=list, description="A portion or a list of portions.")
    press: Literal["open", "closed"] | None = Field(
        None, description="open: the press attends or is briefed (a statement, a doorstep); closed: no press. "
                          "Default: open if the item has a fact sheet.")
    press_line: Portion | None = Field(None, description="The line for the press, usually marked public.")
    data: ItemData = Field(default_factory=ItemData, description="Facts and figures from the meeting's data sets.")
    factsheet: FactSheet | None = Field(None, description="The press fact sheet: public portions only.")

    @field_validator("background", mode="before")
    @classmethod
    def _one_or_many(cls, value):
        return [value] if isinstance(value, (str, dict)) else value


class MeetingData(Schema):
    """Paths of the data sets, relative to meeting.yaml."""

    incidents: str | None = Field(None, description="The incidents CSV, relative to meeting.yaml.")
    spending: str | None = Field(None, description="The spending CSV, relative to meeting.yaml.")


class Meeting(Schema):
    """A meeting: ``agendas/<meeting>/meeting.yaml``."""

    title: str = Field(description="The meeting's title, as on the cover.")
    date: Day = Field(description="The meeting's date, YYYY-MM-DD.")
    venue: str = Field(description="Where it takes place.")
    chair: str = Field("", description="Who chairs it.")
    author: str = Field("", description="Who issues the book and fact sheets (a ministry, a directorate), "
                                          "the PDFs' Author; not a portion, so nothing that is not public.")
    classification: str = Field(description="The ceiling for the full book.")
    language: str = Field("en", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
                          description="Language tag of the book (en, fr, en-GB, ar), for the HTML and PDF "
                                      "metadata; a right-to-left language lays the pages out so.")
    items: list[str] | None = Field(None, description="Item ids in agenda order; default: file names.")
    programme: list[ProgrammeEntry] = Field(default_factory=list, description="The day, in order.")
    people: list[Person] = Field(default_factory=list, description="The who's who.")
    data: MeetingData = Field(default_factory=MeetingData, description="The data sets the briefs draw on.")


class Row(BaseModel):
    """A CSV data row; blank cells mean 'no value'."""

    model_config = ConfigDict(extra="ignore")
    _line: int = PrivateAttr(0)
    _level: Level | None = PrivateAttr(None)  # from the optional classification column

    @property
    def level(self) -> Level:
        assert self._level is not None, "classification not resolved"
        return self._level

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, row):
        """A blank cell is a value not given: the column's default, or 'empty' if it needs one."""
        return {key: value for key, value in row.items() if value != ""}


class SpendingRow(Row):
    """Defence expenditure of one ally in one year (NATO definition)."""

    country: str
    iso3: str = Field(pattern=r"^[A-Z]{3}$")
    year: Year
    pct_gdp: Decimal = Field(ge=0, le=100, allow_inf_nan=False)
    estimate: bool = False
    usd_million: Decimal | None = Field(None, ge=0, allow_inf_nan=False)
    source: str
    classification: str | None = None

    @field_validator("pct_gdp")
    @classmethod
    def _as_published(cls, value: Decimal) -> Decimal:
        """To 2 dp, half up, once: so the figure a table shows is the one that is counted."""
        return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


class IncidentRow(Row):
    """One airspace incident or response."""

    id: str
    date: Day
    country: str
    type: str
    count: int | None = Field(None, ge=0)
    duration_min: Decimal | None = Field(None, ge=0, allow_inf_nan=False)
    response: str = ""
    article4: bool | None = None
    summary: str = ""
    source: str
    classification: str | None = None
    _iso3: str | None = PrivateAttr(None)


# The field of each kind of marked thing that holds markdown prose (the others are plain text).
MARKDOWN_FIELDS = {Portion: "text", LineToTake: "answer", Person: "bio"}


def walk_prose(model: BaseModel):
    """Yield (loc, Marked, markdown) for every prose field inside ``model``, in order."""
    for loc, marked in walk_marked(model):
        field_name = MARKDOWN_FIELDS.get(type(marked))
        if field_name:
            yield loc, marked, getattr(marked, field_name)


def walk_marked(model: BaseModel, loc: tuple = ()):
    """Yield (loc, Marked) for every classified thing inside ``model``, in order."""
    for name, value in model:
        key = type(model).model_fields[name].alias or name
        children = value if isinstance(value, list) else [value]
        for index, child in enumerate(children):
            child_loc = loc + ((key, index) if isinstance(value, list) else (key,))
            if isinstance(child, Marked):
                yield child_loc, child
            if isinstance(child, BaseModel):
                yield from walk_marked(child, child_loc)
