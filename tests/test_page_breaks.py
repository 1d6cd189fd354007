"""Where the book's pages break: what belongs together is laid out on one page.

Each test lays out one brief of the tiny meeting with prose of several lengths before its
facts and figures, so that page breaks fall at each point of them, and reads on which
page WeasyPrint put each table row and caption."""

from __future__ import annotations

import pytest

from briefgen.jobs import staff_book
from briefgen.render_html import render_book
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, write_meeting

SENTENCE = "Allied ministers reviewed the latest figures and agreed the next steps together. "
LENGTHS = range(4, 40, 6)  # sentences of prose before the brief's figures


def incidents_csv(count: int) -> str:
    """``count`` incidents on days of their own, their summaries one to four lines long."""
    rows = ["id,date,country,type,count,duration_min,response,article4,summary,source"]
    for i in range(count):
        summary = f"Incident {i}: " + "what was seen, where and for how long. " * (3 + i * 7 % 11)
        rows.append(f"T-{i},2025-09-{i + 1:02d},{('Poland', 'Estonia')[i % 2]},drone,{i + 1},10,"
                    f"scrambled,false,\"{summary}\",Source {i}")
    return "\n".join(rows) + "\n"


def laid_out(tmp_path, part: str, prose: int):
    """The pages of one brief, with ``prose`` sentences of background and purpose."""
    from weasyprint import HTML

    text = SENTENCE * prose
    alpha = ALPHA_YAML.replace("background: Alpha background paragraph.", f"background: {text}")
    beta = BETA_YAML.replace("purpose: Decide the beta question.", f"purpose: {text}")
    meeting = write_meeting(tmp_path / str(prose), alpha=alpha, beta=beta, incidents=incidents_csv(20))
    html = render_book(staff_book(validate_meeting(meeting)), part=part, for_pdf=True)
    return HTML(string=html).render().pages


def pages_of(pages) -> dict:
    """Each element laid out, with the numbers of the pages it is on."""
    found: dict = {}
    for number, page in enumerate(pages, 1):
        for box in page._page_box.descendants():
            found.setdefault(box.element, set()).add(number)
    return found


def tables(pages, kind: str) -> list:
    """The tables of class ``kind`` in the document ``pages`` show."""
    root = pages[0]._page_box.children[0].element
    return [table for table in root.iter("table") if kind in table.get("class", "").split()]


def body_rows(table) -> list:
    return [row for body in table.iter("tbody") for row in body.iter("tr")]


@pytest.fixture(scope="module")
def incident_briefs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("incidents")
    return [laid_out(tmp, "item-alpha", prose) for prose in LENGTHS]


def test_an_incident_s_summary_is_on_the_page_of_its_row(incident_briefs):
    """A page could end with an incident's date, country and type, and the next begin with
    what happened: the summary row under no heading, the row above it with none."""
    for prose, pages in zip(LENGTHS, incident_briefs):
        on = pages_of(pages)
        [table] = tables(pages, "incidents")
        rows = body_rows(table)
        assert len(rows) == 2 * 20 and len(pages) >= 3  # the table ran over pages
        for row, summary in zip(rows[::2], rows[1::2]):
            assert row.get("class") == "incident" and summary.get("class") == "summary"
            assert on[summary] == on[row], f"{prose} sentences: an incident apart from its summary"


def test_a_table_s_caption_is_on_the_page_of_its_first_row(incident_briefs):
    """The caption of the incidents' table could stand alone at the foot of a page, its
    table starting on the next."""
    for prose, pages in zip(LENGTHS, incident_briefs):
        on = pages_of(pages)
        for table in tables(pages, "incidents"):
            [caption] = table.iter("caption")
            assert on[caption] == on[body_rows(table)[0]], f"{prose} sentences: a caption alone"


def test_the_table_of_allies_at_each_threshold_is_on_one_page(tmp_path):
    """The few rows of allies at each threshold were split over two pages, a caption and
    one year at the foot of one page, the other years on the next."""
    for prose in range(20, 34):
        pages = laid_out(tmp_path, "item-beta", prose)
        on = pages_of(pages)
        [table] = tables(pages, "counts")
        assert len({page for row in table.iter("tr") for page in on[row]}) == 1, f"{prose} sentences: split"
