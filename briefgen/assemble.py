"""Part of the render PDF stage: stitch laid-out parts into one book and stamp it.

A book is laid out in parts (front matter, one part per item, back matter) that can
be laid out in parallel and reused from the last build. Each part starts on a new page,
so the parts paginate exactly as the whole book would. This module joins them with
pikepdf (qpdf: a 100-page book in a few hundredths of a second), stamps every page with
its banners and "Page X of Y" from a thin overlay, and rebuilds what spans the parts
from what each layout recorded: the outline, the named destinations (``book.pdf#id``)
and the contents links.
"""

from __future__ import annotations

import io
import warnings

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem

from .classification import Level, Scheme
from .render_pdf import Layout


def page_banners(parts: list[Layout], scheme: Scheme) -> list[Level]:
    """The highest classification on each page; the cover carries the book's highest."""
    banners = []
    for part in parts:
        for names in part.levels:
            banners.append(scheme.highest(scheme.get(n) for n in names if scheme.get(n)))
    if banners:
        banners[0] = scheme.highest(banners)
    return banners


def start_pages(parts: list[Layout]) -> list[int]:
    """The page (0-based) on which each part starts in the whole book."""
    starts, page = [], 0
    for part in parts:
        starts.append(page)
        page += part.pages
    return starts


def anchor_pages(parts: list[Layout]) -> dict[str, int]:
    """Every anchor's page (0-based) in the whole book."""
    pages = {}
    for start, part in zip(start_pages(parts), parts):
        for anchor, page in part.anchors.items():
            pages.setdefault(anchor, start + page)
    return pages


def assemble(parts: list[Layout], overlay: list[Layout], lang: str) -> bytes:
    """One PDF from the parts in order, each page stamped with its page of the overlay
    (laid out in one or more pieces, in order)."""
    book = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(part.pdf)) for part in parts]
    with warnings.catch_warnings():  # that named destinations are not copied: add_named_destinations does it
        warnings.simplefilter("ignore", pikepdf.PageCopyWarning)
        for source in sources:
            book.pages.extend(source.pages)
    pieces = [pikepdf.open(io.BytesIO(piece.pdf)) for piece in overlay]  # kept open while their pages are used
    stamp_pages(book, [page for piece in pieces for page in piece.pages])
    add_outline(book, parts)
    add_named_destinations(book, sources)
    add_cross_part_links(book, parts)
    book.docinfo = book.copy_foreign(sources[0].docinfo)  # its values may be objects of that file
    book.Root.Lang = pikepdf.String(lang)
    out = io.BytesIO()
    # The file ID from the content: same inputs, same bytes. The parts' version (WeasyPrint
    # writes 1.7): a new PDF would say 1.3, below the transparency groups and /Lang it holds.
    book.save(out, deterministic_id=True, min_version=newest_version([*sources, *pieces]))
    return out.getvalue()


def newest_version(pdfs: list[pikepdf.Pdf]) -> str:
    """The highest PDF version among ``pdfs``, compared as numbers."""
    return max((pdf.pdf_version for pdf in pdfs), key=lambda version: tuple(int(n) for n in version.split(".")))


def stamp_pages(book: pikepdf.Pdf, stamps: list[pikepdf.Page]) -> None:
    """Draw each overlay page over its book page, as a form XObject.

    (Not ``Page.add_overlay``: it names the XObject at random, and two builds of the
    same inputs must give the same bytes.) The page's own content is wrapped in q/Q
    so its graphics state cannot leak into the stamp.
    """
    for number, (page, stamp) in enumerate(zip(book.pages, stamps)):
        form = book.copy_foreign(stamp.as_form_xobject())
        name = page.add_resource(form, Name.XObject, Name(f"/Stamp{number}"))
        page.contents_add(book.make_stream(b"q\n"), prepend=True)
        page.contents_add(book.make_stream(b"Q\nq " + name.unparse() + b" Do Q\n"))


def add_outline(book: pikepdf.Pdf, parts: list[Layout]) -> None:
    """Each part's bookmarks, nested by level, pointing at their place in the whole book."""
    with book.open_outline() as outline:
        open_items: list[OutlineItem] = []  # the last item seen at each level
        for start, part in zip(start_pages(parts), parts):
            for level, label, page, top in part.bookmarks:
                item = OutlineItem(label, start + page, "XYZ", top=top)
                del open_items[level - 1:]
                (open_items[-1].children if open_items else outline.root).append(item)
                open_items.append(item)


def add_named_destinations(book: pikepdf.Pdf, sources: list[pikepdf.Pdf]) -> None:
    """Every anchor WeasyPrint named in a part, so links like book.pdf#people still work."""
    names = {}
    offset = 0
    for source in sources:
        if "/Names" in source.Root and "/Dests" in source.Root.Names:
            index = {page.objgen: number for number, page in enumerate(source.pages)}
            for name, dest in pikepdf.NameTree(source.Root.Names.Dests).items():
                target = book.pages[offset + index[dest[0].objgen]].obj
                names.setdefault(name, Array([target, *list(dest)[1:]]))
        offset += len(source.pages)
    tree = pikepdf.NameTree.new(book)
    for name in sorted(names):
        tree[name] = names[name]
    book.Root.Names = Dictionary(Dests=tree.obj)


def add_cross_part_links(book: pikepdf.Pdf, parts: list[Layout]) -> None:
    """Links marked with data-target (the contents) go to the page of their anchor."""
    targets = anchor_pages(parts)
    for start, part in zip(start_pages(parts), parts):
        for page, anchor, rect in part.targets:
            if anchor in targets:
                link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array(rect), Border=Array([0, 0, 0]),
                                  Dest=Array([book.pages[targets[anchor]].obj, Name.Fit]))
                annotated = book.pages[start + page].obj
                if Name.Annots not in annotated:
                    annotated.Annots = Array()
                annotated.Annots.append(book.make_indirect(link))
