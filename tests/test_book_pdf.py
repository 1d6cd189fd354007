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


def test_contents_dots_and_page_numbers_are_regular_in_every_row(reader, page_texts, item_titles):
    """Bold dots (an item's row) are wider than regular ones: the rows' dots did not line up."""
    contents = next(index for index, text in enumerate(page_texts)
                    if text.startswith(("NATO RESTRICTED Contents", "Contents")))
    fonts: dict[str, set[str]] = {}

    def note_font(text, cm, tm, font, size):
        if text.strip() and font:
            kind = "number" if text.strip().isdigit() else "dots" if set(text.strip()) == {"."} else text.strip()
            fonts.setdefault(kind, set()).add(font["/BaseFont"].split("+")[-1])

    reader.pages[contents].extract_text(visitor_text=note_font)
    assert fonts["dots"] == fonts["number"] == {"DejaVu-Sans"}
    assert fonts[item_titles[0]] == {"DejaVu-Sans-Bold"}


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


def test_a_portion_mark_stays_on_the_page_of_its_text_at_a_page_break(tmp_path):
    """A floated mark could stay at the foot of a page whose text WeasyPrint moved to the
    next (a paragraph's first lines need room for two): the mark stood alone, and a heading
    with it. Portions of every length, so that page breaks fall at each point of one."""
    from briefgen import pipeline

    from .conftest import ALPHA_YAML, write_meeting

    sentence = "Allied ministers reviewed the latest figures and agreed the next steps together. "
    background = "".join(f"  - {sentence * (1 + i % 5)}\n" for i in range(60))
    alpha = ALPHA_YAML.replace("background: Alpha background paragraph.\n", f"background:\n{background}")
    meeting = write_meeting(tmp_path, alpha=alpha)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    pages = PdfReader(tmp_path / "out" / "tiny" / "book.pdf").pages
    breaks = 0
    for number, page in enumerate(pages, 1):
        runs = []
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text.strip(), tm[5])))
        runs = [(text, y) for text, y in runs if text]
        breaks += any(sentence.split()[0] in text for text, _ in runs)
        for mark, y in [(text, y) for text, y in runs if re.fullmatch(r"\((NR|PUBLIC)\)", text)]:
            assert any(abs(y - other) < 3 and not re.fullmatch(r"\(\w+\)", text) for text, other in runs), (
                f"page {number}: {mark} alone on its line")
    assert breaks >= 4  # the background ran over several pages


def test_an_incident_s_mark_stays_on_the_line_of_its_date(tmp_path):
    """Where an item's incidents differ in level, each row's date carries its mark. Floated,
    the mark was left out of the column's width, and every '(PUBLIC)' row's date went onto a
    line of its own below the mark, while an '(NR)' row's fitted beside it. (Long summaries
    take the slack a table of short ones leaves the date's column.)"""
    import io

    from weasyprint import HTML

    from briefgen.jobs import staff_book
    from briefgen.render_html import render_book

    from .conftest import INCIDENTS_CSV, write_meeting

    lines = INCIDENTS_CSV.replace("Jets over Estonia.", "Jets over Estonia, " * 20).splitlines()
    incidents = "\n".join([lines[0] + ",classification", lines[1] + ",NATO RESTRICTED",
                            *(line + ",PUBLIC" for line in lines[2:])]) + "\n"
    meeting = write_meeting(tmp_path, incidents=incidents)
    html = render_book(staff_book(validate_meeting(meeting)), part="item-alpha", for_pdf=True)
    runs = []
    for page in PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text.strip(), tm[5])))
    for date in ("2025-09-10", "2025-09-19"):  # (NR), then (PUBLIC)
        [y] = [y for text, y in runs if date in text]
        assert any(abs(y - other) < 1 for text, other in runs if re.fullmatch(r"\((NR|PUBLIC)\)", text)), (
            f"{date} is not on its mark's line")


@pytest.mark.parametrize("length", [100, 200, 400, 800])
def test_a_long_meeting_title_keeps_the_cover_on_one_page(tmp_path, length):
    """A title of 330 characters at the cover's full size pushed the handling note onto a
    second cover page, and every page number of the contents on by one."""
    import io

    from weasyprint import HTML

    from briefgen.jobs import staff_book
    from briefgen.render_html import render_book
    from briefgen.validate import validate_meeting

    from .conftest import MEETING_YAML, write_meeting

    words = ("Meeting of Ministers of Defence and Foreign Affairs with partners " * 20)[:length].rsplit(" ", 1)[0]
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("title: Test Ministerial", f"title: {words}"))
    html = render_book(staff_book(validate_meeting(meeting)), part="front", for_pdf=True)
    pages = PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages
    first, second = ("".join(page.extract_text().split()) for page in pages[:2])
    assert "Eachportioncarriesitsownmark" in first and second.startswith("Contents")


def test_a_long_classification_banner_stays_on_one_line_at_the_foot_of_a_page():
    """A scheme's 'RESTREINT UE/EU RESTRICTED' was broken over two lines at the foot of
    each page, between the title and the page number."""
    import io

    from weasyprint import HTML

    from briefgen.render_html import render_stamps

    banners = ["RESTREINT UE/EU RESTRICTED", "CONFIDENTIEL UE/EU CONFIDENTIAL"]
    html = render_stamps(banners, "Meeting of NATO Ministers of Defence", "en", first=98, pages=120)
    for banner, page in zip(banners, PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages):
        runs = []
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text.strip(), tm[4])))
        top, foot = [x for text, x in runs if text == banner]
        assert abs(top - foot) < 1  # both centred on one line: a broken one starts further in
        assert "Meeting of NATO Ministers of Defence" in [text for text, _ in runs]  # the title whole beside it


def test_the_pdfs_author_is_the_meeting_s_author_and_absent_without_one(tmp_path):
    from briefgen import pipeline

    from .conftest import MEETING_YAML, write_meeting

    issued = write_meeting(tmp_path, "issued", meeting=MEETING_YAML + "author: Ministry of Defence, Policy Directorate\n")
    plain = write_meeting(tmp_path, "plain")
    assert all(result.ok for result in pipeline.build([issued, plain], tmp_path / "out"))
    for meeting, author in (("issued", "Ministry of Defence, Policy Directorate"), ("plain", None)):
        for pdf in ("book.pdf", "factsheets/alpha.pdf"):
            assert PdfReader(tmp_path / "out" / meeting / pdf).metadata.get("/Author") == author, (meeting, pdf)


def test_no_build_time_reaches_the_pdfs_whatever_source_date_epoch_says(tmp_path, monkeypatch):
    from briefgen import pipeline

    from .conftest import write_meeting

    meeting = write_meeting(tmp_path)
    outputs = []
    for epoch in ("0", "1760000000"):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        [result] = pipeline.build([meeting], tmp_path / f"out-{epoch}", editions=("book",))
        assert result.ok
        outputs.append((tmp_path / f"out-{epoch}" / "tiny" / "book.pdf").read_bytes())
    assert outputs[0] == outputs[1]
    metadata = PdfReader(tmp_path / "out-0" / "tiny" / "book.pdf").metadata
    assert not {"/CreationDate", "/ModDate"} & set(metadata)


@pytest.mark.parametrize("bullet, marker", [("-", "•"), ("1.", "1.")])
def test_a_portion_that_opens_with_a_list_has_its_mark_beside_the_first_item_not_under_its_bullet(
        tmp_path, bullet, marker):
    """The mark floated beside the list, and the first item's bullet, drawn outside the
    item at the same margin, was printed over it: '(PUB•IC)'."""
    import io

    from weasyprint import HTML

    from briefgen.jobs import staff_book
    from briefgen.render_html import render_book

    from .conftest import ALPHA_YAML, write_meeting

    background = (f"background:\n  - text: |-\n      {bullet} First point\n      {bullet} Second point\n"
                  "    classification: NATO UNCLASSIFIED\n")
    meeting = write_meeting(tmp_path, alpha=ALPHA_YAML.replace("background: Alpha background paragraph.\n", background))
    html = render_book(staff_book(validate_meeting(meeting)), part="item-alpha", for_pdf=True)
    runs = []
    for page in PdfReader(io.BytesIO(HTML(string=html).write_pdf())).pages:
        page.extract_text(visitor_text=lambda text, cm, tm, font, size: runs.append((text.strip(), tm[4], tm[5])))
    [(mark_x, mark_y)] = [(x, y) for text, x, y in runs if text == "(NU)"]
    markers = [x for text, x, y in runs if text == marker and abs(y - mark_y) < 3]
    assert markers and all(x < mark_x for x in markers), "the first item's bullet is printed over the mark"
