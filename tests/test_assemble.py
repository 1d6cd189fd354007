"""The assembly on small synthetic parts: no layout, just the stitching."""

from __future__ import annotations

import io

import pikepdf

from briefgen.assemble import assemble
from briefgen.render_pdf import Layout

A4 = (595.28, 841.89)


def synthetic(pages: int, version: str = "1.7", **facts) -> Layout:
    """A part (or overlay piece) of ``pages`` blank A4 pages, saved as PDF ``version``."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=A4)
    out = io.BytesIO()
    pdf.save(out, min_version=version, deterministic_id=True)
    return Layout(out.getvalue(), A4, [[] for _ in range(pages)], **facts)


def test_the_book_keeps_the_pdf_version_of_its_parts():
    """A new pikepdf document says PDF 1.3; WeasyPrint's parts are 1.7 and the book uses
    what 1.3 lacks (transparency groups, /Lang), so it says 1.7 as they do."""
    book = pikepdf.open(io.BytesIO(assemble([synthetic(1), synthetic(2, "1.5")], [synthetic(3)], "en")))
    assert book.pdf_version == "1.7"
    assert len(book.pages) == 3


def test_the_book_keeps_the_metadata_of_its_first_part_whatever_objects_hold_it():
    """A part's /Info values may be objects of their own in its file (indirect), and older
    pikepdf (the one Python 3.10 gets) refuses to take even a direct value from another
    file: the book copies the dictionary across, rather than failing with a bug."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=A4)
    pdf.docinfo["/Title"] = pdf.make_indirect(pikepdf.String("Meeting: briefing book"))
    pdf.docinfo["/Producer"] = pikepdf.String("WeasyPrint 70.0")
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    first = Layout(out.getvalue(), A4, [[]])
    book = pikepdf.open(io.BytesIO(assemble([first, synthetic(1)], [synthetic(2)], "en")))
    assert str(book.docinfo["/Title"]) == "Meeting: briefing book"
    assert str(book.docinfo["/Producer"]) == "WeasyPrint 70.0"
