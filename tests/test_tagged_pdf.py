"""Tagged PDFs: a structure tree screen readers can follow, checked as PDF facts."""

from __future__ import annotations

import pikepdf
import pypdf
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


def test_the_book_and_each_fact_sheet_have_their_title_in_xmp_metadata_too(sheets, book):
    """PDF/UA looks for the title in XMP metadata (dc:title); WeasyPrint writes /Info only."""
    for pdf in [book, *(pdf for pdf, _ in sheets)]:
        title = str(pdf.docinfo.Title)
        assert title and pdf.open_metadata().get("dc:title") == title


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


def marked_text(path, page: int = 0) -> dict[int, str]:
    """The text of each MCID on a page, as a text extractor reads it (through ToUnicode)."""
    texts, open_ids = {}, []

    def operator(op, operands, *_):
        if op == b"BDC":
            properties = operands[1] if isinstance(operands[1], dict) else {}
            open_ids.append(properties.get("/MCID"))
        elif op == b"BMC":
            open_ids.append(None)
        elif op == b"EMC" and open_ids:
            open_ids.pop()

    def text(drawn, *_):
        if open_ids and open_ids[-1] is not None:
            texts[open_ids[-1]] = texts.get(open_ids[-1], "") + drawn

    pypdf.PdfReader(path).pages[page].extract_text(visitor_operand_before=operator, visitor_text=text)
    return texts


def reached_ids(element) -> list[int]:
    """The MCIDs of ``element`` and everything under it, in reading order."""
    kids = element.get("/K")
    kids = kids if isinstance(kids, pikepdf.Array) else [] if kids is None else [kids]
    return [found for kid in kids for found in ([int(kid)] if isinstance(kid, int) else
                                                 reached_ids(kid) if isinstance(kid, pikepdf.Dictionary) else [])]


def test_every_list_item_holds_only_its_label_and_body(sheets, book):
    """WeasyPrint puts an item's paragraph or block (<li><p>, <li><div>) straight under LI,
    where PDF allows only Lbl and LBody: a screen reader would not read it as the item's body."""
    items = [item for pdf in [book, *(pdf for pdf, _ in sheets)] for item in of_kind(pdf, "/LI")]
    assert items
    for item in items:
        assert {kid.S for kid in children(item)} <= {"/Lbl", "/LBody"}
        assert all(kid.P.objgen == item.objgen for kid in children(item))


def test_a_fact_sheet_s_text_is_all_in_its_structure_tree_the_banners_read_first_and_last(reference_book, sheets):
    """WeasyPrint leaves the elements of margin boxes out of the tree: a screen reader, which
    reads the tree, never said the sheet's classification (the banners)."""
    for path in sorted((reference_book / "factsheets").glob("*.pdf")):
        pdf, texts = pikepdf.open(path), marked_text(path)
        [document] = children(pdf.Root.StructTreeRoot)
        assert sorted(reached_ids(document)) == sorted(texts)
        top = children(document)
        banner = str(pdf.docinfo.Keywords).split(",")[0]
        assert ["".join(texts[mcid] for mcid in reached_ids(top[n])).strip() for n in (0, -1)] == [banner] * 2


# --- the book: laid out in parts, their structure trees merged into one

@pytest.fixture(scope="module")
def book(reference_book):
    return pikepdf.open(reference_book / "book.pdf")


def marked_ids(page: pikepdf.Page) -> set[int]:
    """The MCIDs of the page's marked content."""
    return {int(operands[1].MCID) for operands, operator in pikepdf.parse_content_stream(page)
            if str(operator) == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]}


def test_the_book_has_one_structure_tree_under_one_document(book):
    assert book.Root.MarkInfo.Marked is True
    assert [kid.S for kid in children(book.Root.StructTreeRoot)] == ["/Document"]
    assert book.Root.ViewerPreferences.DisplayDocTitle is True and str(book.Root.Lang)


def test_each_page_s_marked_content_has_its_own_entry_in_the_parent_tree(book):
    parents = pikepdf.NumberTree(book.Root.StructTreeRoot.ParentTree)
    keys = []
    for page in book.pages:
        marked = marked_ids(page)
        assert marked, "a page of the book has no marked content"
        keys.append(int(page.obj.StructParents))
        entry = parents[keys[-1]]
        assert all(entry[mcid].S for mcid in marked)  # each MCID has its element
    assert len(set(keys)) == len(keys)
    assert int(book.Root.StructTreeRoot.ParentTreeNextKey) > max(parents.keys())


def test_every_link_is_a_link_element_holding_its_annotation(book):
    parents = pikepdf.NumberTree(book.Root.StructTreeRoot.ParentTree)
    links = [a for page in book.pages for a in page.obj.get("/Annots", ()) if a.Subtype == "/Link"]
    assert links
    for annotation in links:
        element = parents[int(annotation.StructParent)]
        assert element.S == "/Link"
        assert [kid for kid in element.K if isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == "/OBJR"
                and kid.Obj.objgen == annotation.objgen]


def test_a_link_to_another_part_is_described_by_its_own_text(book, reference_book):
    """A link's /Contents is what a screen reader says of it: a link laid out with a stand-in
    address (to another part of the book) was described by that address."""
    parents = pikepdf.NumberTree(book.Root.StructTreeRoot.ParentTree)
    described = 0
    for number, page in enumerate(book.pages):
        texts = marked_text(reference_book / "book.pdf", number)
        for annotation in [a for a in page.obj.get("/Annots", ()) if "/Dest" in a]:
            link = parents[int(annotation.StructParent)]
            drawn = " ".join("".join(texts[mcid] for mcid in reached_ids(link)).split())
            assert str(annotation.Contents) and drawn.startswith(str(annotation.Contents))  # then its page number
            described += 1
    assert described, "the book has no link to another part: nothing to check"


def test_nothing_is_drawn_outside_marked_content_the_stamps_are_artifacts(book):
    for number, page in enumerate(book.pages, start=1):
        depth, artifacts = 0, 0
        for operands, operator in pikepdf.parse_content_stream(page):
            operator = str(operator)
            if operator in ("BDC", "BMC"):
                depth += 1
                artifacts += operator == "BMC" and operands[0] == "/Artifact"
            elif operator == "EMC":
                depth -= 1
            elif operator in ("Do", "Tj", "TJ", "'", '"'):
                assert depth > 0, f"page {number}: {operator} outside marked content"
        assert artifacts, f"page {number}: its stamp is not an artifact"


def test_the_book_s_h1s_follow_the_outline_and_so_the_agenda(book):
    pages = {page.obj.objgen: number for number, page in enumerate(book.pages)}
    with book.open_outline() as outline:
        top = [pages[item.destination[0].objgen] for item in outline.root]
    h1_pages = [pages[h1.Pg.objgen] for h1 in of_kind(book, "/H1")]
    assert h1_pages[0] == 0 and h1_pages[1:] == top  # the cover's title is an H1 the outline leaves out


def test_each_chart_the_book_prints_is_a_figure_with_its_alt_text(book, reference_book):
    alts = [str(figure.get("/Alt", "")) for figure in of_kind(book, "/Figure")]
    assert alts and all(alt.strip() for alt in alts)
    assert alts == printed_chart_alts((reference_book / "book.html").read_text(encoding="utf-8"))


def test_the_book_s_table_header_ids_are_unique_and_every_cell_names_its_own_table_s(book):
    """WeasyPrint numbers each part's header cells from 1: merged as they were, a cell of one
    brief's table would be read with another brief's headers."""
    tables = of_kind(book, "/Table")
    assert len(tables) > 1, "the book has fewer than two tables: nothing to check"
    seen = set()
    for table in tables:
        cells = list(elements(table))
        ids = {str(cell.ID) for cell in cells if "/ID" in cell}
        assert ids and not ids & seen
        seen |= ids
        named = {str(header) for cell in cells for attributes in ([cell.A] if "/A" in cell else [])
                 for header in (attributes.get("/Headers", ()) if isinstance(attributes, pikepdf.Dictionary) else ())}
        assert named and named <= ids
