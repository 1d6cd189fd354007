"""The HTML editions as an accessibility checker reads them: table headers, languages."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes and the languages it sits in."""

    VOID = {"meta", "link", "img", "br", "hr", "input", "source", "wbr", "col", "area", "base", "embed"}

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict, str]] = []  # (tag, attributes, language in force)
        self.texts: list[tuple[str, str]] = []  # (text, language in force)
        self.open: list[tuple[str, str]] = []
        self.feed(page)

    def language(self) -> str:
        return self.open[-1][1] if self.open else ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        language = attributes.get("lang", self.language())
        self.found.append((tag, attributes, language))
        if tag not in self.VOID:
            self.open.append((tag, language))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        if data.strip():
            self.texts.append((data.strip(), self.language()))


def pages(folder: Path) -> dict[str, str]:
    found = {"book.html": (folder / "book.html").read_text(encoding="utf-8")}
    for sheet in sorted((folder / "factsheets").glob("*.html")):
        found[f"factsheets/{sheet.name}"] = sheet.read_text(encoding="utf-8")
    return found


def test_every_table_header_says_what_it_heads(reference_book):
    """A screen reader names each cell by its column's header: the headers say so."""
    for name, page in pages(reference_book).items():
        headers = [attributes for tag, attributes, _ in Elements(page).found if tag == "th"]
        assert headers, name
        assert all(attributes.get("scope") in ("col", "row") for attributes in headers), name


def test_the_fact_sheets_public_programme_has_a_header_row(reference_book):
    page = (reference_book / "factsheets" / "drone-wall.html").read_text(encoding="utf-8")
    programme = page[page.index('<table class="programme">'):]
    programme = programme[:programme.index("</table>")]
    assert '<th scope="col">Time</th><th scope="col">Event</th><th scope="col">Location</th>' in programme
