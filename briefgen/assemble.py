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
import itertools
import warnings
from urllib.parse import unquote

import pikepdf
from pikepdf import Array, Dictionary, Name, OutlineItem

from .classification import Level, Scheme
from .render_pdf import CROSS_PART_LINK, Layout
from .tagging import as_list


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
    if all(Name.StructTreeRoot in source.Root for source in sources):  # half a tree would mislead a reader
        merge_structure_trees(book, sources)
    pieces = [pikepdf.open(io.BytesIO(piece.pdf)) for piece in overlay]  # kept open while their pages are used
    stamp_pages(book, [page for piece in pieces for page in piece.pages])
    add_outline(book, parts)
    add_named_destinations(book, sources)
    add_cross_part_links(book, parts)
    book.docinfo = book.copy_foreign(sources[0].docinfo)  # its values may be objects of that file
    if Name.Metadata in sources[0].Root:  # the same in XMP, where PDF/UA looks for the title
        book.Root.Metadata = book.copy_foreign(sources[0].Root.Metadata)
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
        # an artifact: a screen reader skips banners and page numbers, as it skips page furniture
        page.contents_add(book.make_stream(b"Q\n/Artifact BMC q " + name.unparse() + b" Do Q EMC\n"))


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
    """Links to another part (the contents, prose) go to the page of their anchor; one whose
    anchor is in no part (the linter warns of it) is taken away, with its structure."""
    targets = anchor_pages(parts)
    for page in book.pages:
        for annotation in list(page.obj.get(Name.Annots, ())):
            anchor, text = cross_part_anchor(annotation)
            if anchor in targets:
                del annotation.A
                annotation.Dest = Array([book.pages[targets[anchor]].obj, Name.Fit])
                annotation.Contents = pikepdf.String(text or anchor)  # not the stand-in address
            elif anchor is not None:
                remove_annotation(book, page.obj, annotation)


def cross_part_anchor(annotation: pikepdf.Object) -> tuple[str | None, str]:
    """The anchor a link laid out with a stand-in address goes to, and the link's text;
    None for other links."""
    uri = str(annotation.get(Name.A, {}).get(Name.URI, ""))
    if not uri.startswith(CROSS_PART_LINK):
        return None, ""
    anchor, _, text = uri.removeprefix(CROSS_PART_LINK).partition(" ")
    return unquote(anchor), text


def remove_annotation(book: pikepdf.Pdf, page: pikepdf.Dictionary, annotation: pikepdf.Object) -> None:
    page.Annots = Array([kept for kept in page.Annots if kept.objgen != annotation.objgen])
    if Name.StructParent in annotation:
        tree = pikepdf.NumberTree(book.Root.StructTreeRoot.ParentTree)
        link = tree[int(annotation.StructParent)]
        link.K = Array([kid for kid in link.K if not is_reference_to(kid, annotation)])
        del tree[int(annotation.StructParent)]


def is_reference_to(kid: pikepdf.Object, annotation: pikepdf.Object) -> bool:
    return isinstance(kid, Dictionary) and kid.get(Name.Type) == Name.OBJR and kid.Obj.objgen == annotation.objgen


def merge_structure_trees(book: pikepdf.Pdf, sources: list[pikepdf.Pdf]) -> None:
    """One structure tree for the book from its parts' (WeasyPrint's, one per part).

    Each part's elements go, in order, under one Document; each page and annotation gets a
    new key into the one parent tree (pages first, by book page number, as WeasyPrint
    numbers them, then annotations); the parts' element IDs (which table headers name, and
    which WeasyPrint numbers from 1 in each part) take the part's number so they stay unique.
    """
    document = book.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array()))
    entries, role_map, first_page = {}, Dictionary(), 0
    annotation_keys = itertools.count(len(book.pages))
    for number, source in enumerate(sources):
        root = book.copy_foreign(source.Root.StructTreeRoot)  # its pages are the book's copies already
        pages = book.pages[first_page:first_page + len(source.pages)]
        entries.update(renumber_parents(root, pages, first_page, annotation_keys))
        adopt_elements(document, top_elements(root), f"p{number}-")
        for role, standard in root.get(Name.RoleMap, Dictionary()).items():
            if role not in role_map:
                role_map[role] = standard
        first_page += len(source.pages)
    book.Root.StructTreeRoot = structure_root(book, document, entries, role_map)
    book.Root.MarkInfo = Dictionary(Marked=True)
    book.Root.ViewerPreferences = Dictionary(DisplayDocTitle=True)


def renumber_parents(root: pikepdf.Object, pages, first_page: int, annotation_keys) -> dict:
    """The part's parent-tree entries under the book's keys; its pages and annotations
    are given those keys."""
    old = pikepdf.NumberTree(root.ParentTree)
    entries = {}
    for number, page in enumerate(pages, start=first_page):
        if Name.StructParents in page.obj:
            entries[number] = old[int(page.obj.StructParents)]
            page.obj.StructParents = number
        for annotation in page.obj.get(Name.Annots, ()):
            if Name.StructParent in annotation:
                key = next(annotation_keys)
                entries[key] = old[int(annotation.StructParent)]
                annotation.StructParent = key
    return entries


def top_elements(root: pikepdf.Object) -> list[pikepdf.Object]:
    """A part's elements under its Document (WeasyPrint's one top element)."""
    return [kid for top in as_list(root.K) for kid in (as_list(top.K) if top.get(Name.S) == Name.Document else [top])]


def adopt_elements(document: pikepdf.Object, elements: list[pikepdf.Object], prefix: str) -> None:
    for element in elements:
        element.P = document
        document.K.append(element)
        prefix_ids(element, prefix)


# Elements that hold text, not tables: IDs are on table cells only (WeasyPrint's header
# cells), so the walk does not go into these, a tree's bulk (an element per line of text).
HOLD_NO_TABLE = {Name(f"/{role}") for role in ("P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "Span", "Link",
                                               "Lbl", "Caption", "Figure", "Code", "Quote", "Reference", "Note")}


def prefix_ids(element: pikepdf.Object, prefix: str) -> None:
    """Prefix the IDs of ``element`` and everything under it, and the table headers that
    name them (walked without recursion: a deep tree must not reach Python's limit)."""
    stack = [element]
    while stack:
        node = stack.pop()
        if Name.ID in node:
            node.ID = pikepdf.String(prefix + str(node.ID))
        for attributes in as_list(node.get(Name.A, Array())):
            if isinstance(attributes, Dictionary) and Name.Headers in attributes:
                attributes.Headers = Array([pikepdf.String(prefix + str(h)) for h in attributes.Headers])
        if node.S not in HOLD_NO_TABLE:
            stack.extend(kid for kid in as_list(node.get(Name.K, Array()))
                         if isinstance(kid, Dictionary) and Name.S in kid)


def structure_root(book: pikepdf.Pdf, document: pikepdf.Object, entries: dict, role_map: Dictionary):
    root = book.make_indirect(Dictionary(Type=Name.StructTreeRoot, K=Array([document])))
    document.P = root
    parent_tree = pikepdf.NumberTree.new(book)
    for key in sorted(entries):
        parent_tree[key] = entries[key]
    root.ParentTree = parent_tree.obj
    root.ParentTreeNextKey = max(entries, default=-1) + 1
    if role_map:
        root.RoleMap = role_map
    return root
