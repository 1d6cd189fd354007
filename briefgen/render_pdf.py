"""Stage 6, render PDF: WeasyPrint lays out HTML, behind a fetcher that can only read
what we allow.

Everything here runs in worker processes and takes and returns plain data, so it can
be sent across a process pool. WeasyPrint is imported inside the functions: its import
costs most of a second, and a run with nothing to lay out should not pay it.
"""

from __future__ import annotations

import io
import logging
import sys
import warnings
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from .errors import BriefgenError, Problem
from .load import read_bytes
from .safety import DEFAULT_TIME_LIMIT, MAX_ASSET_BYTES, TimeLimitExceeded, time_limit
from .tagging import mend_tags

PX_TO_MM = 25.4 / 96
PX_TO_PT = 72 / 96


def make_fetcher(allowed_roots: list[Path]):
    """A URL fetcher allowing ``data:`` URLs and regular files under ``allowed_roots`` only.

    Files are read here, not by urllib: a ``file://host/...`` URL would otherwise be
    handed to urllib's FTP handler, and a path checked then reopened could be swapped.
    Anything else, http(s) and ftp included, stops the document (fail closed).
    """
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    roots = [Path(root).resolve() for root in allowed_roots]

    class LockedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            path = local_path(url) if scheme == "file" else None
            # resolve() follows symlinks and '..', so nothing escapes a root
            if path is not None and any(path.is_relative_to(root) for root in roots):
                try:
                    return URLFetcherResponse(url, body=read_bytes(path, MAX_ASSET_BYTES))
                except (OSError, BriefgenError):
                    pass
            raise FatalURLFetchingError(f"refused to fetch {url[:200]}")

    return LockedFetcher(timeout=5, allowed_protocols={"data", "file"}, allow_redirects=False)


def local_path(url: str) -> Path | None:
    """The resolved local path of a ``file:`` URL; None if it names another host."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path)).resolve()


@dataclass
class LayoutRequest:
    """What a worker needs to lay out one document."""

    html: str
    base_dir: str
    allowed_roots: list[str]
    source: str  # the input file named in errors
    what: str = "document"
    time_limit: float | None = DEFAULT_TIME_LIMIT  # seconds
    tagged: bool = False  # a structure tree for screen readers (headings, tables, figures' alt text)


@dataclass
class Layout:
    """A laid-out document, as plain data: the PDF and what landed on each page."""

    pdf: bytes
    page_size: tuple[float, float]  # points
    levels: list[list[str]]  # per page: the classifications found on it
    bookmarks: list[tuple[int, str, int, float]] = field(default_factory=list)  # level, label, page, top (pt)
    anchors: dict[str, int] = field(default_factory=dict)  # id -> page
    used_mm_after_first: float = 0.0  # content beyond page one, for "cut about N mm"
    text: str = ""  # every piece of text drawn into the PDF, for the leak guard
    remarks: list[str] = field(default_factory=list)  # WeasyPrint's warnings (CSS it ignored...)

    @property
    def pages(self) -> int:
        return len(self.levels)


def import_weasyprint() -> None:
    """Import WeasyPrint, looking its C libraries up in the linker's cache only.

    WeasyPrint tries several names for each library, most of which exist on no given
    system. For each miss, cffi asks ``ctypes.util.find_library``, which on Linux runs
    ldconfig, then gcc, then ld: about 12 ms a miss, 0.2 s of a 0.6 s import. The names
    that do exist are in the linker's cache, which ldconfig alone reads. Should the
    libraries be where only gcc or ld would find them, the import is done again the
    usual way (the modules that failed to import are not kept).
    """
    if "weasyprint" in sys.modules:
        return
    try:  # WeasyPrint prints advice on a failure: kept for the usual import
        with libraries_from_linker_cache(), redirect_stdout(io.StringIO()):
            import weasyprint  # noqa: F401
    except OSError:
        import weasyprint  # noqa: F401,F811


@contextmanager
def libraries_from_linker_cache():
    import ctypes.util

    from_cache = getattr(ctypes.util, "_findSoname_ldconfig", None)  # private: may go in a later Python
    if not sys.platform.startswith("linux") or from_cache is None:
        yield
        return
    usual, ctypes.util.find_library = ctypes.util.find_library, from_cache
    try:
        yield
    finally:
        ctypes.util.find_library = usual


def lay_out(request: LayoutRequest) -> Layout:
    """Lay out one HTML document and describe its pages, within the request's time limit."""
    import_weasyprint()
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = make_fetcher([Path(root) for root in request.allowed_roots])
    try:
        with time_limit(request.time_limit), weasyprint_remarks() as remarks:
            document = HTML(string=request.html, base_url=request.base_dir + "/", url_fetcher=fetcher).render(
                font_config=font_config(request.base_dir, tuple(request.allowed_roots)))
            refuse_attachments(document)
            layout = describe(document)  # before writing: it adds the links between parts
            layout.pdf = document.write_pdf(pdf_tags=request.tagged)
            if request.tagged:
                layout.pdf = mend_tags(layout.pdf)
        layout.remarks = remarks
        return layout
    except FatalURLFetchingError as exc:
        raise _not_written(request, str(exc)) from None
    except TimeLimitExceeded:
        raise _not_written(request, f"laying it out took longer than {request.time_limit:g} s; "
                           "stopped (--time-limit sets the limit)") from None


@contextmanager
def weasyprint_remarks():
    """WeasyPrint's warnings meanwhile, and Python's (Pillow's on a huge image), kept
    (not printed) for the main process to report.

    A worker's log goes nowhere, so without this a template's ignored CSS would be
    reported with ``--jobs 1`` only; WeasyPrint's progress messages are dropped.
    """
    remarks: list[str] = []
    keeper = logging.Handler(logging.WARNING)
    keeper.emit = lambda record: remarks.append(record.getMessage())
    logger = logging.getLogger("weasyprint")
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(keeper)
    try:
        with warnings.catch_warnings(record=True) as caught:  # Pillow's, say: raw lines on stderr otherwise
            yield remarks
    finally:
        logger.removeHandler(keeper)
        logger.propagate = propagate
    remarks += [f"{w.category.__name__}: {w.message}" for w in caught]


@lru_cache(maxsize=8)
def font_config(base_dir: str, allowed_roots: tuple[str, ...]):
    """One font configuration for every document with the same templates in this process.

    A new one costs about 30 ms a document (fontconfig is set up again), a tenth of a
    book part's layout; WeasyPrint recommends reusing it. One per templates folder, so
    the fonts of one set of templates' ``@font-face`` rules never reach another's.
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def refuse_attachments(document) -> None:
    """A PDF never carries files: a template asking for one stops the document."""
    from weasyprint.urls import FatalURLFetchingError

    links = [target for page in document.pages for kind, target, *_ in page.links if kind == "attachment"]
    if links or document.metadata.attachments:
        shown = links[0][:200] if links else "the file of a <link rel=attachment>"
        raise FatalURLFetchingError(f"refused to attach {shown} to the PDF")


# Stands for a link's target in another part of the book until the assembly knows its page
CROSS_PART_LINK = "briefgen-anchor:"


def cross_part_link(target: str, element) -> str:
    """The stand-in address of a link to ``target``: the anchor (quoted: no space in it), then
    the link's text, which the assembly makes the annotation's description (/Contents, what
    a screen reader says of the link; WeasyPrint puts the address there)."""
    return f"{CROSS_PART_LINK}{quote(target, safe='')} {' '.join(''.join(element.itertext()).split())}"


def _not_written(request: LayoutRequest, reason: str) -> BriefgenError:
    return BriefgenError([Problem(Path(request.source), None, f"{request.what} not written: {reason}")])


def describe(document) -> Layout:
    """What landed on each page (its PDF is written after), in one walk of the page boxes
    that also gives each ``data-target`` link (to another part of the book) its annotation.

    The annotation has a stand-in address, which the assembly replaces by the anchor's page.
    It is made before the PDF is written, not in the assembly, so that WeasyPrint puts it in
    the structure tree, inside the Link element of the link's own text.
    """
    from weasyprint.formatting_structure.boxes import LineBox, TextBox

    first = document.pages[0]
    height_pt = first.height * PX_TO_PT
    layout = Layout(b"", (first.width * PX_TO_PT, height_pt), [])
    drawn = []
    for number, page in enumerate(document.pages):
        found = set()
        for box in boxes(page._page_box):
            if hasattr(box, "text") and isinstance(box.text, str):
                drawn.append(box.text)
            element = getattr(box, "element", None)
            if element is None:
                continue
            found.add(element.get("data-classification"))
            target = element.get("data-target")
            if target and box.element_tag == "a" and not isinstance(box, (LineBox, TextBox)):
                x, y, width, height = box.hit_area()
                page.links.append(("external", cross_part_link(target, element), (x, y, x + width, y + height), box))
        layout.levels.append(sorted(name for name in found if name))
        for anchor in page.anchors:
            layout.anchors.setdefault(anchor, number)
    layout.text = " ".join(drawn)
    layout.bookmarks = flatten_bookmarks(document.make_bookmark_tree(), height_pt)
    layout.used_mm_after_first = sum(used_height(page) for page in document.pages[1:]) * PX_TO_MM
    return layout


def flatten_bookmarks(tree, height_pt: float, level: int = 1) -> list[tuple[int, str, int, float]]:
    flat = []
    for label, (page, _x, y), children, _state in tree:
        flat.append((level, label, page, height_pt - y * PX_TO_PT))
        flat.extend(flatten_bookmarks(children, height_pt, level + 1))
    return flat


def boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from boxes(child)


def used_height(page) -> float:
    """Height (px) of the content laid out on a page, margins excluded."""
    root = page._page_box.children[0]
    tops, bottoms = [], []
    for box in boxes(root):
        if box is not root and getattr(box, "height", None) and box.position_y is not None:
            tops.append(box.position_y)
            bottoms.append(box.position_y + box.height)
    return max(bottoms) - min(tops) if tops else 0.0
