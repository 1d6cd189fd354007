"""Stage 6, render PDF: WeasyPrint with a fetcher that can only read what we allow.

WeasyPrint is imported inside the functions: its import costs most of a second,
and a run that only checks, or has nothing to build, should not pay it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .classification import Level, Scheme
from .errors import BriefgenError, Problem

PX_TO_MM = 25.4 / 96


def make_fetcher(allowed_roots: list[Path]):
    """A URL fetcher allowing ``data:`` URLs and files under ``allowed_roots`` only."""
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    roots = [Path(root).resolve() for root in allowed_roots]

    class LockedFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                # resolve() follows symlinks and '..', so nothing escapes a root
                path = Path(unquote(urlsplit(url).path)).resolve()
                if path.is_file() and any(path.is_relative_to(root) for root in roots):
                    return super().fetch(url, headers)
            raise FatalURLFetchingError(f"refused to fetch {url[:200]}")

    return LockedFetcher(timeout=5, allowed_protocols={"data", "file"}, allow_redirects=False)


class Renderer:
    """Lays out HTML with one locked-down fetcher; ``source`` names the input in errors."""

    def __init__(self, base_dir: Path, allowed_roots: list[Path], source: Path):
        self.base_url = str(base_dir) + "/"
        self.fetcher = make_fetcher(allowed_roots)
        self.source = source

    def layout(self, html: str, extra_css: str = ""):
        from weasyprint import CSS, HTML
        from weasyprint.urls import FatalURLFetchingError

        try:
            sheets = [CSS(string=extra_css, url_fetcher=self.fetcher)] if extra_css else []
            document = HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher)
            return document.render(stylesheets=sheets)
        except FatalURLFetchingError as exc:
            raise BriefgenError([Problem(self.source, None, f"PDF not written: {exc}")]) from None

    def book(self, html: str, scheme: Scheme) -> tuple[bytes, list[Level]]:
        """Lay out, find the highest level on each page, then lay out again with those
        banners. Banners live in the page margins, so pagination cannot change."""
        levels = page_levels(self.layout(html), scheme)
        document = self.layout(html, banner_css([level.name for level in levels]))
        return document.write_pdf(), levels

    def one_page(self, html: str, what: str, source: Path) -> bytes:
        """A document that must fit one page; the error says by how much it does not."""
        document = self.layout(html)
        if len(document.pages) > 1:
            extra = sum(used_height(page) for page in document.pages[1:]) * PX_TO_MM
            raise BriefgenError([Problem(source, None, f"{what} runs to {len(document.pages)} "
                                         f"pages; cut about {extra:.0f} mm of content to fit one")])
        return document.write_pdf()


def boxes(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from boxes(child)


def page_levels(document, scheme: Scheme) -> list[Level]:
    """The highest classification of what landed on each page; the cover gets the book's."""
    levels = []
    for page in document.pages:
        found = {box.element.get("data-classification") for box in boxes(page._page_box)
                 if getattr(box, "element", None) is not None}
        levels.append(scheme.highest(scheme.get(name) for name in found if scheme.get(name)))
    if levels:
        levels[0] = scheme.highest(levels)
    return levels


def banner_css(labels: list[str]) -> str:
    """One @page rule per page, top and bottom banner."""
    from .render_html import css_string

    rules = []
    for number, label in enumerate(labels, start=1):
        text = css_string(label)
        rules.append(f"@page :nth({number}) {{ @top-center {{ content: {text}; }} "
                     f"@bottom-center {{ content: {text}; }} }}")
    return "\n".join(rules)


def used_height(page) -> float:
    """Height (px) of the content laid out on a page, margins excluded."""
    root = page._page_box.children[0]
    tops, bottoms = [], []
    for box in boxes(root):
        if box is not root and getattr(box, "height", None) and box.position_y is not None:
            tops.append(box.position_y)
            bottoms.append(box.position_y + box.height)
    return max(bottoms) - min(tops) if tops else 0.0
