"""Tagged PDFs: a structure tree screen readers can follow, checked as PDF facts."""

from __future__ import annotations

import pikepdf
import pytest
import tinyhtml5

HIDDEN_IN_PRINT = {"web-only", "screen-only"}  # classes the print style sheets hide


def children(node) -> list[pikepdf.Dictionary]:
    """The structure elements directly under ``node`` (not its marked content or objects)."""
    kids = node.get("/K")
    kids = kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    return [kid for kid in kids if isinstance(kid, pikepdf.Dictionary) and "/S" in kid]


def elements(node):
    """Every structure element under ``node``, depth first, in reading order."""
    for kid in children(node):
        yield kid
        yield from elements(kid)


def tree(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    return list(elements(pdf.Root.StructTreeRoot))


def of_kind(pdf: pikepdf.Pdf, kind: str) -> list[pikepdf.Dictionary]:
    return [element for element in tree(pdf) if element.S == kind]


def printed_chart_alts(html: str) -> list[str]:
    """The alt text of each chart the page prints, in order."""
    found = []

    def walk(node, hidden: bool) -> None:
        hidden = hidden or bool(HIDDEN_IN_PRINT & set(node.get("class", "").split()))
        if node.tag.endswith("img") and "chart-image" in node.get("class", "").split() and not hidden:
            found.append(node.get("alt"))
        for child in node:
            if isinstance(child.tag, str):
                walk(child, hidden)

    walk(tinyhtml5.parse(html), False)
    return found


@pytest.fixture(scope="module")
def sheets(reference_book):
    folder = reference_book / "factsheets"
    return [(pikepdf.open(path), (folder / f"{path.stem}.html").read_text(encoding="utf-8"))
            for path in sorted(folder.glob("*.pdf"))]


def test_fact_sheets_are_marked_with_a_structure_tree_and_the_title_shown(sheets):
    assert sheets
    for pdf, _ in sheets:
        assert pdf.Root.MarkInfo.Marked is True
        assert [kid.S for kid in children(pdf.Root.StructTreeRoot)] == ["/Document"]
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.Root.Lang)


def test_a_fact_sheet_has_one_h1_and_its_sections_as_h2(sheets):
    for pdf, _ in sheets:
        assert len(of_kind(pdf, "/H1")) == 1
        assert len(of_kind(pdf, "/H2")) >= 1


def test_a_fact_sheet_s_tables_have_header_cells(sheets):
    tables = [table for pdf, _ in sheets for table in of_kind(pdf, "/Table")]
    assert tables, "no fact sheet prints a table: nothing to check"
    for table in tables:
        assert any(cell.S == "/TH" for cell in elements(table))


def test_each_chart_a_fact_sheet_prints_is_a_figure_with_its_alt_text(sheets):
    charts = 0
    for pdf, html in sheets:
        alts = [str(figure.get("/Alt", "")) for figure in of_kind(pdf, "/Figure")]
        assert alts == printed_chart_alts(html)
        assert all(alt.strip() for alt in alts)
        charts += len(alts)
    assert charts, "no fact sheet prints a chart: nothing to check"
