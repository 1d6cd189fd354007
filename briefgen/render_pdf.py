"""Stage 5, render PDF: WeasyPrint with a fetcher that can only read what we allow.

WeasyPrint is imported inside the functions: its import costs most of a second,
and a run that only checks, or has nothing to build, should not pay it.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import BriefgenError, Problem


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


def html_to_pdf(html: str, base_dir: Path, allowed_roots: list[Path], source: Path) -> bytes:
    """Lay out ``html`` and return the PDF bytes. ``source`` names the input in errors."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = make_fetcher(allowed_roots)
    try:
        document = HTML(string=html, base_url=str(base_dir) + "/", url_fetcher=fetcher)
        return document.write_pdf()
    except FatalURLFetchingError as exc:
        raise BriefgenError([Problem(source, None, f"PDF not written: {exc}")]) from None
