"""Computed views: every number from the rows, following the CSV when it changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from briefgen.incidents import select_incidents
from briefgen.merge import merge
from briefgen.spending import allies_at_or_above
from briefgen.model import IncidentView
from briefgen.render_html import render_book
from briefgen.validate import validate_meeting

from .conftest import REFERENCE, SPENDING_CSV, write_meeting


def spending_rows(directory=REFERENCE):
    return validate_meeting(directory).datasets["spending"].rows


def test_allies_at_2_percent_from_the_shipped_data():
    rows = spending_rows()
    counts = {year: len(allies_at_or_above(rows, year, Decimal("2"))) for year in (2014, 2021, 2022, 2024, 2025)}
    assert counts == {2014: 3, 2021: 6, 2022: 7, 2024: 18, 2025: 30}
    assert allies_at_or_above(rows, 2014, Decimal("2")) == ["Greece", "United Kingdom", "United States"]


def test_a_figure_exactly_on_the_threshold_counts(tmp_path):
    meeting = write_meeting(tmp_path, spending=SPENDING_CSV.replace("Estonia,EST,2014,1.93", "Estonia,EST,2014,2.00"))
    assert allies_at_or_above(spending_rows(meeting), 2014, Decimal("2.0")) == ["Estonia", "Greece"]


def test_book_follows_a_changed_spending_figure(reference_copy):
    spending = reference_copy.parent.parent / "data" / "spending.csv"
    text = spending.read_text(encoding="utf-8")
    assert "Albania,ALB,2014,1.33," in text
    spending.write_text(text.replace("Albania,ALB,2014,1.33,", "Albania,ALB,2014,2.33,"), encoding="utf-8")
    html = render_book(merge(validate_meeting(reference_copy)))
    assert "2014: 4 of 31 allies with a published figure at or above 2% of GDP" in html


def test_incident_window_and_countries(tiny_meeting):
    rows = validate_meeting(tiny_meeting).datasets["incidents"].rows
    view = IncidentView(**{"from": dt.date(2025, 9, 1), "countries": ["POL"]})
    assert [row.id for row in select_incidents(rows, view)] == ["T-1"]
    view = IncidentView(countries=["Estonia", "POL"])
    assert [row.id for row in select_incidents(rows, view)] == ["T-1", "T-2", "T-3"]


def test_incident_statement_counts_what_the_item_shows(tiny_meeting):
    book = merge(validate_meeting(tiny_meeting))
    alpha = book.items[0].incidents
    assert alpha.statement == ("2 recorded events, since 1 September 2025; "
                               "Article 4 consultations requested by Poland and Estonia.")
