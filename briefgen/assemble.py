"""Part of the render PDF stage: stitch laid-out parts into one book and stamp it.

A book is laid out in parts (front matter, one part per item, back matter) that can
be laid out in parallel and reused from the last build. Each part starts on a new page,
so the parts paginate exactly as the whole book would. This module joins them with
pypdf, stamps every page with its banners and "Page X of Y" from a thin overlay, and
adds what crosses parts: the contents links. Outline entries come with each part.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, TextStringObject

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


def assemble(parts: list[Layout], overlay: Layout, lang: str) -> bytes:
    """One PDF from the parts in order, each page merged with its overlay page."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part.pdf)), import_outline=True)
    stamp_pages(writer, PdfReader(io.BytesIO(overlay.pdf)))
    add_cross_part_links(writer, parts)
    metadata = PdfReader(io.BytesIO(parts[0].pdf)).metadata or {}
    writer.add_metadata({key: value for key, value in metadata.items()})
    writer._root_object[NameObject("/Lang")] = TextStringObject(lang)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def stamp_pages(writer: PdfWriter, overlay: PdfReader) -> None:
    """Draw each overlay page over its book page, as a form XObject.

    Cheaper than pypdf's merge_page, which parses and rewrites every content stream:
    the page's own content is only wrapped in q/Q, so its graphics state cannot leak
    into the stamp, and the stamp is drawn after it.
    """
    save = writer._add_object(_stream(b"q\n"))
    for number, (page, stamp) in enumerate(zip(writer.pages, overlay.pages)):
        name = NameObject(f"/Stamp{number}")
        form = _stream(stamp.get_contents().get_data(), {
            "/Type": NameObject("/XObject"), "/Subtype": NameObject("/Form"),
            "/BBox": stamp.mediabox, "/Resources": stamp.raw_get("/Resources").clone(writer)})
        resources = page["/Resources"].get_object()
        if "/XObject" not in resources:
            resources[NameObject("/XObject")] = DictionaryObject()
        resources["/XObject"].get_object()[name] = writer._add_object(form)
        contents = page.raw_get("/Contents")
        own = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
        draw = writer._add_object(_stream(f"Q\nq {name} Do Q\n".encode()))
        page[NameObject("/Contents")] = ArrayObject([save, *own, draw])


def _stream(data: bytes, entries: dict | None = None) -> DecodedStreamObject:
    stream = DecodedStreamObject()
    stream.update({NameObject(k): v for k, v in (entries or {}).items()})
    stream.set_data(data)
    return stream


def add_cross_part_links(writer: PdfWriter, parts: list[Layout]) -> None:
    """Links marked with data-target (the contents) go to the page of their anchor."""
    targets = anchor_pages(parts)
    for start, part in zip(start_pages(parts), parts):
        for page, anchor, rect in part.targets:
            if anchor in targets:
                writer.add_annotation(start + page, Link(rect=rect, target_page_index=targets[anchor]))
