"""Part of the render PDF stage: mend what WeasyPrint 70's structure tree leaves short of
PDF/UA, in each tagged document it writes (a fact sheet, a part of the book).

- A list item holding a paragraph or a block (``<li><p>``, ``<li><div>``) has that element
  straight under LI, where a list item holds only its label (Lbl) and body (LBody): each
  run of such elements goes into an LBody.
- The text of the page's margin boxes (a fact sheet's classification banners) is marked
  content whose elements WeasyPrint leaves out of the tree: a screen reader, which reads
  the tree, would never say the page's classification. They go into the tree as they are
  in the HTML twin: what is in the top half of the page before the page's content, the
  rest after it.
- The title is in the document information only; PDF/UA asks for it in XMP metadata
  (dc:title) too, where tools that check accessibility look for it.
"""

from __future__ import annotations

import io

import pikepdf
from pikepdf import Array, Dictionary, Name

LIST_ITEM_PARTS = (Name.Lbl, Name.LBody)


def mend_tags(pdf: bytes) -> bytes:
    """``pdf`` with its structure tree mended; the same bytes if there was nothing to mend."""
    document = pikepdf.open(io.BytesIO(pdf))
    if Name.StructTreeRoot not in document.Root:
        return pdf
    tree = list(elements(document.Root.StructTreeRoot))  # walked once: a part's tree has thousands
    mended = wrap_list_bodies(document, tree) + adopt_margin_content(document, tree) + describe_in_xmp(document)
    if not mended:
        return pdf
    out = io.BytesIO()
    document.save(out, deterministic_id=True)  # same inputs, same bytes
    return out.getvalue()


def describe_in_xmp(pdf: pikepdf.Pdf) -> int:
    """XMP metadata from the document information (title, subject, keywords...), with no
    date or editor in it: same inputs, same bytes. 1 if added, 0 if there was some."""
    if Name.Metadata in pdf.Root:
        return 0
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as metadata:
        metadata.load_from_docinfo(pdf.docinfo)
    return 1


def as_list(value) -> list:
    return list(value) if isinstance(value, Array) else [] if value is None else [value]


def is_element(kid) -> bool:
    return isinstance(kid, Dictionary) and Name.S in kid


def elements(root: pikepdf.Object):
    """Every structure element under ``root`` (walked without recursion: a deep tree must
    not reach Python's limit)."""
    stack = [kid for kid in reversed(as_list(root.get(Name.K))) if is_element(kid)]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(kid for kid in reversed(as_list(node.get(Name.K))) if is_element(kid))


def wrap_list_bodies(pdf: pikepdf.Pdf, tree: list[pikepdf.Object]) -> int:
    """Put each run of a list item's elements other than Lbl and LBody into an LBody;
    the number of LBody made. ``tree``: the elements of the structure tree."""
    made = 0
    for item in [e for e in tree if e.S == Name.LI]:
        kids, run = [], []
        for kid in [*as_list(item.K), None]:  # None closes the last run
            if is_element(kid) and kid.S not in LIST_ITEM_PARTS:
                run.append(kid)
                continue
            if run:
                kids.append(list_body(pdf, item, run))
                made, run = made + 1, []
            if kid is not None:
                kids.append(kid)
        item.K = Array(kids)
    return made


def list_body(pdf: pikepdf.Pdf, item: pikepdf.Object, kids: list) -> pikepdf.Object:
    body = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.LBody, P=item, K=Array(kids)))
    if Name.Pg in item:
        body.Pg = item.Pg
    for kid in kids:
        kid.P = body
    return body


def adopt_margin_content(pdf: pikepdf.Pdf, tree: list[pikepdf.Object]) -> int:
    """Put the elements the tree leaves out (WeasyPrint's, for margin boxes) into the
    Document, before or after the content of their page; the number put in."""
    document = as_list(pdf.Root.StructTreeRoot.K)[0]
    in_tree = {element.objgen for element in tree}
    parents = pikepdf.NumberTree(pdf.Root.StructTreeRoot.ParentTree)
    adopted = 0
    for page in pdf.pages:
        if Name.StructParents not in page.obj:
            continue
        left_out = {}  # MCID -> the outermost element holding it that the tree left out
        for mcid, element in enumerate(parents[int(page.obj.StructParents)]):
            outermost = outermost_left_out(element, in_tree)
            if outermost is not None:
                in_tree.update(e.objgen for e in [outermost, *elements(outermost)])
                left_out[mcid] = outermost
        if left_out:  # most pages have none: their content is not read (some 7 ms a page)
            heights = marked_heights(page)
            above, below = [], []
            for mcid, element in left_out.items():
                (above if heights.get(mcid, 0) > page.mediabox[3] / 2 else below).append(element)
            place_around_page(document, page, above, below)
            adopted += len(left_out)
    return adopted


def outermost_left_out(element: pikepdf.Object, in_tree: set):
    """The outermost element out of the tree that holds ``element``; None if it is in."""
    if not is_element(element) or element.objgen in in_tree:
        return None
    while Name.P in element and is_element(element.P) and element.P.objgen not in in_tree:
        element = element.P
    return element


def place_around_page(document: pikepdf.Object, page: pikepdf.Page, above: list, below: list) -> None:
    kids = as_list(document.K)
    on_page = [n for n, kid in enumerate(kids) if is_element(kid) and Name.Pg in kid
               and kid.Pg.objgen == page.obj.objgen]
    first, last = (on_page[0], on_page[-1] + 1) if on_page else (len(kids), len(kids))
    for element in above + below:
        element.P = document
    document.K = Array(kids[:first] + above + kids[first:last] + below + kids[last:])


def marked_heights(page: pikepdf.Page) -> dict[int, float]:
    """Each MCID's height on the page (points from the bottom) where its text starts."""
    heights, ctm, saved, mcids = {}, pikepdf.Matrix(), [], []
    for operands, operator in pikepdf.parse_content_stream(page):
        operator = str(operator)
        if operator == "q":
            saved.append(ctm)
        elif operator == "Q":
            ctm = saved.pop() if saved else ctm
        elif operator == "cm":
            ctm = pikepdf.Matrix(*operands) @ ctm
        elif operator in ("BDC", "BMC"):
            mcids.append(marked_id(operands))
        elif operator == "EMC":
            mcids = mcids[:-1]
        elif operator == "Tm" and mcids and mcids[-1] is not None:
            heights.setdefault(mcids[-1], (pikepdf.Matrix(*operands) @ ctm).f)
    return heights


def marked_id(operands) -> int | None:
    properties = operands[1] if len(operands) > 1 else None
    return int(properties.MCID) if isinstance(properties, Dictionary) and Name.MCID in properties else None
