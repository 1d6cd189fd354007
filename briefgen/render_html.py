"""Stage 4, render HTML: Jinja2 templates, markdown prose, sanitised output.

Jinja2 runs with StrictUndefined (a template typo is an error, not a blank) and
autoescape (YAML text is user input). Markdown output is cleaned with nh3 to a
small allow-list before it is marked safe.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import markdown
import nh3
from markupsafe import Markup

from .locate import DEFAULT_TEMPLATES
from .merge import BookView


ALLOWED_TAGS = {
    "p", "br", "hr", "ul", "ol", "li", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr",
    "th", "td", "sup", "sub", "abbr",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"https", "http", "mailto"}


@lru_cache(maxsize=None)
def _markdown() -> markdown.Markdown:
    # one converter per process: building one costs more than converting a paragraph
    return markdown.Markdown(extensions=["sane_lists", "tables"], output_format="html")


@lru_cache(maxsize=4096)  # a book renders each portion for the web and for print
def markdown_to_html(text: str) -> Markup:
    """Markdown prose as sanitised HTML: raw HTML in YAML never reaches a reader unfiltered."""
    html = _markdown().reset().convert(text)
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=ALLOWED_URL_SCHEMES, link_rel="noopener noreferrer")
    return Markup(clean)


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, for generated content such as page banners."""
    escaped = "".join(ch if ch.isalnum() or ch in " -_.,()" else f"\\{ord(ch):x} " for ch in str(text))
    return Markup(f'"{escaped}"')


@lru_cache(maxsize=8)
def environment(templates: Path = DEFAULT_TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown_to_html
    env.filters["css_string"] = css_string
    return env


def book_parts(book: BookView) -> list[str]:
    """The parts a book is laid out in, in order; each starts on a new page."""
    return ["front", *(f"item-{view.item.id}" for view in book.items), "back"]


def render_book(book: BookView, templates: Path = DEFAULT_TEMPLATES, part: str | None = None,
                page_numbers: dict[str, str] | None = None, for_pdf: bool = False, changes=None) -> str:
    """The book as one self-contained HTML page (CSS inline), or one ``part`` of it.

    ``for_pdf`` leaves the page banners to the stamp overlay; ``page_numbers`` fills in
    the contents when the front part is laid out apart from the pages it points to.
    """
    template = environment(templates).get_template("book.html")
    valid = book.valid
    return template.render(
        meeting=valid.meeting,
        highest=book.highest,
        items=book.items,
        annex=book.annex,
        date=format_long_date(valid.meeting.date),
        show=lambda name: part is None or part == name,
        page_numbers=page_numbers,
        for_pdf=for_pdf,
        changes=changes,
    )


def render_stamps(banners: list[str], title: str, language: str, templates: Path = DEFAULT_TEMPLATES) -> str:
    """The overlay that puts banners, title and page numbers on every page of the book."""
    template = environment(templates).get_template("stamps.html")
    return template.render(banners=banners, title=title, language=language)


def format_long_date(day) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def render_factsheet(book: BookView, index: int, banner: str, templates: Path = DEFAULT_TEMPLATES) -> str:
    """The press fact sheet of item ``index``, from an already redacted (public) view."""
    view = book.items[index]
    item = view.item
    sheet = item.factsheet
    template = environment(templates).get_template("factsheet.html")
    return template.render(
        meeting=book.valid.meeting,
        date=format_long_date(book.valid.meeting.date),
        banner=banner,
        view=view,
        title=(sheet.title if sheet and sheet.title else item.title),
        lede=sheet.lede if sheet else None,
        facts=sheet.facts if sheet else [],
    )


def render_index(meetings: list[dict], templates: Path = DEFAULT_TEMPLATES) -> str:
    """``output/index.html``: every meeting's book and fact sheets, from their manifests."""
    return environment(templates).get_template("index.html").render(meetings=meetings)
