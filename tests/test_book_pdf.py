"""The reference book, checked by its facts: outline, pages, text, metadata."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from briefgen.validate import validate_meeting

from .conftest import PROJECT, REFERENCE


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def reader(reference_book):
    return PdfReader(reference_book / "book.pdf")


@pytest.fixture(scope="module")
def page_texts(reader):
    return [squash(page.extract_text()) for page in reader.pages]


@pytest.fixture(scope="module")
def item_titles():
    valid = validate_meeting(REFERENCE)
    return [item.title for item in valid.items]


def top_level_outline(reader):
    return [(entry.title, reader.get_destination_page_number(entry) + 1)
            for entry in reader.outline if not isinstance(entry, list)]


def test_outline_has_one_entry_per_item_in_agenda_order(reader, item_titles):
    titles = [title for title, _ in top_level_outline(reader)]
    assert [t for t in titles if t in item_titles] == item_titles
    for title in item_titles:
        assert titles.count(title) == 1


def test_outline_has_the_sections_of_the_book(reader):
    titles = [title for title, _ in top_level_outline(reader)]
    for section in ("Contents", "Programme", "Who's who", "Annex: data sources"):
        assert section in titles


def test_every_item_has_section_bookmarks(reader, item_titles):
    outline = list(reader.outline)
    for title in item_titles:
        index = next(i for i, entry in enumerate(outline)
                     if not isinstance(entry, list) and entry.title == title)
        children = outline[index + 1]
        assert isinstance(children, list), f"{title!r} has no section bookmarks"
        names = [child.title for child in children]
        assert names[0] == "Purpose" and "Press line" in names, names


LEVELS = ("PUBLIC", "NATO UNCLASSIFIED", "NATO RESTRICTED", "NATO CONFIDENTIAL")


def test_every_page_carries_a_classification_top_and_bottom(page_texts):
    for number, text in enumerate(page_texts, start=1):
        banner = max((level for level in LEVELS if text.count(level) >= 2), key=LEVELS.index, default=None)
        assert banner, f"page {number} lacks its banners"


def test_cover_carries_the_highest_classification(page_texts):
    assert page_texts[0].count("NATO RESTRICTED") >= 3  # banners and the cover itself


def test_every_page_says_page_x_of_y(page_texts):
    total = len(page_texts)
    for number, text in enumerate(page_texts, start=1):
        assert f"Page {number} of {total}" in text


def test_contents_page_numbers_match_where_items_start(reader, page_texts, item_titles):
    contents = next(text for text in page_texts if text.startswith(("NATO RESTRICTED Contents", "Contents")))
    starts = dict(top_level_outline(reader))
    for title in item_titles:
        match = re.search(re.escape(title) + r"[ .]*?(\d+)\b", contents)
        assert match, f"{title!r} not in the contents"
        assert int(match.group(1)) == starts[title]
        assert title in page_texts[starts[title] - 1]


def test_metadata_has_title_and_language(reader):
    assert reader.metadata.title.startswith("Meeting of NATO Ministers of Defence")
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_cover_has_title_date_venue_classification(page_texts):
    cover = page_texts[0]
    for fact in ("Meeting of NATO Ministers of Defence", "15 October 2025",
                 "NATO Headquarters, Brussels", "NATO RESTRICTED"):
        assert fact in cover


def allies_at_or_above_2_percent(year: int) -> tuple[int, int]:
    """Counted straight from the CSV with the csv module, independently of briefgen."""
    with open(PROJECT / "data" / "spending.csv", encoding="utf-8") as stream:
        rows = [row for row in csv.DictReader(stream) if int(row["year"]) == year]
    return sum(Decimal(row["pct_gdp"]) >= 2 for row in rows), len(rows)


@pytest.mark.parametrize("year, expected", [(2014, 3), (2021, 6), (2024, 18), (2025, 30)])
def test_book_states_allies_at_2_percent(page_texts, year, expected):
    count, with_figure = allies_at_or_above_2_percent(year)
    assert count == expected  # the hand-checked figures of NATO's Aug 2025 edition
    statement = f"{count} of {with_figure} allies with a published figure at or above 2% of GDP"
    assert any(re.search(rf"{year}( \(NATO estimate\))?: {re.escape(statement)}", t) for t in page_texts)


def test_html_book_has_the_same_content(reference_book, item_titles):
    html = (reference_book / "book.html").read_text(encoding="utf-8")
    assert '<html lang="en" dir="ltr">' in html
    for title in item_titles:
        assert title in html
    assert "3 of 31 allies with a published figure at or above 2% of GDP" in html
    assert html.count("NATO RESTRICTED") >= 2


def test_annex_lists_every_data_set_with_source_and_latest_date(page_texts):
    annex = next(text for text in page_texts if "Annex: data sources" in text and "Data set" in text)
    assert "incidents.csv 19 30 October 2025" in annex
    assert "spending.csv 371 2025 (estimate)" in annex
    assert any("Defence Expenditure of NATO Countries (2014-2025)" in text for text in page_texts[-3:])
