"""A right-to-left book: the writer's text keeps the book's direction, briefgen's English
reads left to right (its numbers and full stops where English puts them)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from briefgen import pipeline

from .conftest import ALPHA_YAML, BETA_YAML, MEETING_YAML, write_meeting

ARABIC_TITLE = "مسيرات فوق الجناح الشرقي"
ARABIC_PROSE = "نص عربي عن الإنفاق."
VOID = {"br", "hr", "img", "meta", "link", "input", "wbr"}


class Directions(HTMLParser):
    """Each piece of text in a page with the direction its nearest ``dir`` gives it (or,
    read with ``attribute="lang"``, the language its nearest ``lang`` gives it)."""

    def __init__(self, html: str, attribute: str = "dir", default: str = "ltr"):
        super().__init__()
        self.attribute, self.default = attribute, default
        self.open: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append((tag, dict(attrs).get(self.attribute)))

    def handle_startendtag(self, tag, attrs):
        pass  # <path/> in a chart: holds nothing

    def handle_endtag(self, tag):
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if data.strip() and not any(tag in ("style", "script", "title") for tag, _ in self.open):
            self.texts.append((" ".join(data.split()), next((d for _, d in reversed(self.open) if d), self.default)))

    def direction_of(self, text: str) -> set[str]:
        found = {direction for piece, direction in self.texts if text in piece}
        assert found, f"{text!r} not in the page"
        return found


@pytest.fixture(scope="module")
def arabic_build(tmp_path_factory) -> Path:
    """The tiny meeting in Arabic (its titles and some prose), built: its output folder."""
    root = tmp_path_factory.mktemp("rtl")
    alpha = ALPHA_YAML.replace("title: Alpha item on drones", f"title: {ARABIC_TITLE}")
    beta = BETA_YAML.replace("purpose: Decide the beta question.", f"purpose: {ARABIC_PROSE}") + (
        "factsheet:\n  lede: {text: Beta lede., classification: PUBLIC}\npress_line: {text: Beta press line., "
        "classification: PUBLIC}\n")
    meeting = write_meeting(root, meeting=MEETING_YAML.replace("title:", "language: ar\ntitle:", 1),
                            alpha=alpha, beta=beta)
    [result] = pipeline.build([meeting], root / "out", jobs_count=1)
    assert result.ok and not result.problems, [str(p) for p in result.problems]
    return root / "out" / "tiny"


BOOK_ENGLISH = [
    "2 recorded events, since 1 September 2025", "Events by country over time", "Source: Test source A",
    "Data as of 19 September 2025", "Sources: press reports and official statements", "≥ 2%", "Median ally",
    "2014: 1 of 3 allies", "Incidents and responses, since 1 September 2025", "If asked:",
    "Lines to take (if pressed)", "This book contains material classified", "Wednesday 15 October 2025",
    "Contents", "Programme", "Annex: data sources", "This is the first edition", "(NR)", "Item 1",
    "Every table in this book", "Distance to the target", "NATO RESTRICTED",
]
SHEET_ENGLISH = ["2025 (estimate)", "≥ 2% of GDP", "Allies with a figure", "Source: Test source A", "Press line",
                 "Defence spending in figures"]


def test_briefgen_s_english_is_marked_left_to_right_and_the_writer_s_text_is_not(arabic_build):
    html = (arabic_build / "book.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    book = Directions(html)
    for text in BOOK_ENGLISH:
        assert book.direction_of(text) == {"ltr"}, text
    for text in (ARABIC_TITLE, ARABIC_PROSE, "Test House", "Alpha background paragraph.", "What about alpha?"):
        assert book.direction_of(text) == {"rtl"}, text
    sheet = Directions((arabic_build / "factsheets" / "beta.html").read_text(encoding="utf-8"))
    for text in SHEET_ENGLISH:
        assert sheet.direction_of(text) == {"ltr"}, text
    assert sheet.direction_of("Beta lede.") == {"rtl"}


def test_briefgen_s_english_is_marked_english_in_a_book_in_another_language(arabic_build):
    """A screen reader reads briefgen's words in English, the writer's in the book's language
    (it read "Contents", "If asked:" and the marks with an Arabic voice)."""
    book = Directions((arabic_build / "book.html").read_text(encoding="utf-8"), "lang", "")
    for text in BOOK_ENGLISH:
        assert book.direction_of(text) == {"en"}, text
    for text in (ARABIC_TITLE, ARABIC_PROSE, "Test House", "What about alpha?"):
        assert book.direction_of(text) == {"ar"}, text
    sheet = Directions((arabic_build / "factsheets" / "beta.html").read_text(encoding="utf-8"), "lang", "")
    for text in SHEET_ENGLISH:
        assert sheet.direction_of(text) == {"en"}, text
    assert sheet.direction_of("Beta lede.") == {"ar"}


def test_briefgen_s_english_reads_in_order_in_the_pdf_of_a_right_to_left_book(arabic_build):
    book = "\n".join(page.extract_text() for page in PdfReader(arabic_build / "book.pdf").pages)
    assert "2 recorded events, since 1 September 2025;" in book  # not "recorded events, ... by 2"
    assert "Source: Test source A. Data as of 2025 (estimate)." in book  # not ".Source:" nor ")estimate("
    assert "Page 4 of 9" in book
    sheet = PdfReader(arabic_build / "factsheets" / "beta.pdf").pages[0].extract_text()
    assert "2025 (estimate)" in sheet and "≥ 2% of GDP" in sheet  # not "of GDP 2% ≥", its sign mirrored


def test_the_page_foot_keeps_the_title_in_the_book_s_direction_and_briefgen_s_words_left_to_right():
    from briefgen.render_html import render_stamps
    from briefgen.serve import preview_bar

    stamps = render_stamps(["PUBLIC"], ARABIC_TITLE, "ar")
    assert '<html lang="ar" dir="rtl">' in stamps  # the running title
    for corner in ("top-center", "bottom-center", "bottom-right"):  # banners, "Page X of Y"
        assert re.search(r"@%s \{[^}]*direction: ltr;" % corner, stamps), corner
    assert preview_bar("tiny", "book.html", ["book.html"], []).startswith('<div id="briefgen-preview" dir="ltr"')


def placed(page) -> list[tuple[str, float]]:
    """Each run of text on a PDF page, with how far from the page's left edge it starts."""
    runs = []
    page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text.strip(), tm[4])))
    return [(text, x) for text, x in runs if text]


def test_a_portion_mark_stands_on_the_right_of_a_right_to_left_portion(arabic_build):
    pages = [placed(page) for page in PdfReader(arabic_build / "book.pdf").pages]
    [runs] = [runs for runs in pages if any("Decide the alpha question" in text for text, _ in runs)]
    prose = [x for text, x in runs if "alpha" in text]
    marks = [x for text, x in runs if text == "(NR)"]  # alpha's own portions: none is briefgen's English
    assert len(marks) >= 4 and min(marks) > max(prose), (marks, prose)


def test_a_marked_table_caption_starts_at_the_margin_with_its_table(reference_book):
    """A floated mark in a caption moved WeasyPrint's whole table right by the mark's width."""
    pages = [placed(page) for page in PdfReader(reference_book / "book.pdf").pages]
    [runs] = [runs for runs in pages if any(text == "Events by country" for text, _ in runs)]
    at = next(i for i, (text, _) in enumerate(runs) if text == "Events by country")
    assert runs[at - 1][0] == "(PUBLIC)" and runs[at - 1][1] == min(x for _, x in runs)
