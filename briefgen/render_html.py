"""Stage 4, render HTML: Jinja2 templates, markdown prose, sanitised output.

Jinja2 runs with StrictUndefined (a template typo is an error, not a blank) and
autoescape (YAML text is user input). Markdown prose is cleaned by ``prose`` before it
is marked safe. The built-in templates are briefgen's own; a user's templates folder
(``--templates``) is someone else's code, so it renders in Jinja2's immutable sandbox,
may only read templates inside its own folder, and a template that fails says where.
Every page written as HTML must be inert (``inert``): one that could run code or fetch
from elsewhere in a browser is refused, naming the template line that wrote it.
"""

from __future__ import annotations

import re
import traceback
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from html import unescape
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from .charts import NotDrawnYet
from .errors import BriefgenError, Problem
from .formatting import format_long_date
from .inert import Finding, active_content
from .load import not_utf8, refused_character_at
from .locate import DEFAULT_TEMPLATES
from .merge import BookView
from .prose import markdown_to_html
from .safety import MAX_FILE_BYTES, UnusablePath, is_file, is_inside

# The meeting whose assets/ folder prose images come from, while one of its documents renders.
_meeting_dir: ContextVar[Path | None] = ContextVar("meeting_dir", default=None)


@contextmanager
def images_from(meeting_dir: Path):
    token = _meeting_dir.set(Path(meeting_dir))
    try:
        yield
    finally:
        _meeting_dir.reset(token)


def md(text: str, lead: Markup | str = "") -> Markup:
    """The ``md`` filter: prose as sanitised HTML, images from the meeting being rendered.
    ``lead`` (a portion's mark) opens the prose: inside its first paragraph, or the first
    item of the list it opens with, where it is laid out as that text is. Floated beside the
    paragraph, WeasyPrint could leave it at the foot of a page whose text went over to the
    next; floated beside a list, the first item's bullet was printed over it."""
    html = markdown_to_html(text, _meeting_dir.get())
    opening = FIRST_LINE.match(html)
    if opening is None:
        return Markup(lead) + html
    return html[:opening.end()] + Markup(lead) + html[opening.end():]


# Where the first line of text opens: a paragraph, or a list's first item (and the
# paragraph inside it, in a list whose items markdown spaced apart)
FIRST_LINE = re.compile(r"<p(?:\s[^>]*)?>|<[ou]l(?:\s[^>]*)?>\s*<li(?:\s[^>]*)?>(?:<p(?:\s[^>]*)?>)?")


def css_string(text: str) -> Markup:
    """``text`` as a quoted CSS string, for generated content such as page banners."""
    escaped = "".join(ch if ch.isalnum() or ch in " -_.,()" else f"\\{ord(ch):x} " for ch in str(text))
    return Markup(f'"{escaped}"')


# Languages written right to left, and the scripts that make any language so (BCP 47).
RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ps", "sd", "syr", "ug", "ur", "yi"}
RTL_SCRIPTS = {"arab", "hebr", "syrc", "thaa", "nkoo", "adlm", "rohg"}


def direction(language: str) -> str:
    """``rtl`` or ``ltr`` for the html element's ``dir``: 'ar' and 'az-Arab' are right to
    left, 'ku-Latn' left to right whatever its language's usual script."""
    primary, *subtags = str(language).lower().split("-")
    script = next((tag for tag in subtags if len(tag) == 4 and tag.isalpha()), None)
    if script is not None:
        return "rtl" if script in RTL_SCRIPTS else "ltr"
    return "rtl" if primary in RTL_LANGUAGES else "ltr"


def is_builtin(templates: Path) -> bool:
    return Path(templates).resolve() == DEFAULT_TEMPLATES.resolve()


class ConfinedLoader(jinja2.FileSystemLoader):
    """Loads templates from one folder only: a symlink out of it is not followed."""

    def get_source(self, environment, template):
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:  # its line and file, not the page that includes it
            path = Path(self.searchpath[0], *jinja2.loaders.split_template_path(template))
            raise jinja2.TemplateSyntaxError(not_utf8(exc.object, exc), exc.object.count(b"\n", 0, exc.start) + 1,
                                             template, str(path)) from None
        root = Path(self.searchpath[0]).resolve()
        if not Path(filename).resolve().is_relative_to(root):
            raise jinja2.TemplateNotFound(template)
        refuse_odd_characters(environment, source, template, filename)
        return source, filename, uptodate


def refuse_odd_characters(environment: jinja2.Environment, source: str, template: str, filename: str) -> None:
    """A TemplateSyntaxError at the line of a user template's first control or bidirectional
    character, in its text or written as an escape in one of its strings ("\\x1b"): the rule
    of a YAML or CSV file. The check of the page written found an ESC only, and could name
    no line for one written as an escape, nor the template that held it."""
    found = refused_character_at(source)
    if found:
        where, message = found
        raise jinja2.TemplateSyntaxError(message, source.count("\n", 0, where) + 1, template, filename)
    strings = (token for token in environment.lexer.tokenize(source, template, filename) if token.type == "string")
    for token in strings:
        found = refused_character_at(token.value, " (written as an escape in quotes)")
        if found:
            raise jinja2.TemplateSyntaxError(found[1], token.lineno, template, filename)


@lru_cache(maxsize=8)
def environment(templates: Path = DEFAULT_TEMPLATES) -> jinja2.Environment:
    """The built-in templates in a plain environment; a user's folder in the sandbox,
    falling back to the built-in templates for any file it does not provide."""
    options = dict(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True)
    if is_builtin(templates):
        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(DEFAULT_TEMPLATES)), **options)
    else:
        loader = jinja2.ChoiceLoader([ConfinedLoader(str(templates)),
                                      jinja2.FileSystemLoader(str(DEFAULT_TEMPLATES))])
        env = ImmutableSandboxedEnvironment(loader=loader, **options)
    env.filters["md"] = md
    env.filters["css_string"] = css_string
    env.filters["direction"] = direction
    return env


def render(templates: Path, name: str, **context) -> str:
    """Render template ``name``; a user template's failure is a Problem at its path:line."""
    try:
        return environment(templates).get_template(name).render(**context)
    except NotDrawnYet:
        raise  # not a failure: the document is rendered again once its charts are drawn
    except Exception as exc:
        if is_builtin(templates):
            raise  # briefgen's own templates failing is a bug, not the user's input
        raise BriefgenError([template_problem(exc, Path(templates) / name)]) from None


class ActiveContentWritten(RuntimeError):
    """Briefgen's own templates wrote a page that is not inert: a bug, never the user's input
    (prose is cleaned and every other value escaped before a template prints it)."""


def inert(html: str, templates: Path, name: str) -> str:
    """``html``, a page to be written, if no browser would run or fetch anything of it; else
    a Problem at each template line that wrote what it would. The pages laid out only
    (the book's parts, the stamp overlay) are not checked: WeasyPrint runs no script and
    fetches through its locked fetcher alone, and the check costs milliseconds a page."""
    findings = active_content(html)
    if not findings:
        return html
    templates = Path(templates)
    if is_builtin(templates):
        raise ActiveContentWritten(f"{name}: {findings[0].message}")
    sources = template_texts(templates, name)
    raise BriefgenError([where_written(finding, sources, templates / name) for finding in findings])


def where_written(finding: Finding, sources: list[tuple[Path, str]], rendered: Path) -> Problem:
    """The template file and line that most likely wrote ``finding``: the first of ``sources``
    to hold the most telling of its clues; else the rendered template, without a line."""
    for clue in finding.clues:
        for path, text in sources:
            found = text.find(clue.lower())
            if found >= 0:
                return Problem(path, text.count("\n", 0, found) + 1, finding.message)
    return Problem(rendered, None, finding.message)


def template_texts(templates: Path, first: str) -> list[tuple[Path, str]]:
    """The user's template files, lower-cased, ``first`` first: only regular files inside
    the folder, as the loader reads (a link out of it, or a pipe, is not read)."""
    paths = sorted(path for path in templates.rglob("*") if is_file(path))
    paths.sort(key=lambda path: path != templates / first)
    texts = []
    for path in paths:
        try:
            if is_inside(path, templates) and path.stat().st_size <= MAX_FILE_BYTES:
                texts.append((path, path.read_text(encoding="utf-8", errors="replace").lower()))
        except (OSError, UnusablePath):
            continue
    return texts


def template_problem(exc: Exception, default: Path) -> Problem:
    """Where a user template failed, and why, in the words a template author needs."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        filename, line = exc.filename, exc.lineno
    else:
        filename, line = _template_frame(exc)
    if isinstance(exc, jinja2.exceptions.SecurityError):
        reason = f"not allowed in a user template: {exc}"
    elif isinstance(exc, jinja2.TemplateNotFound):
        reason = f"template not found: {exc}"
    elif isinstance(exc, jinja2.TemplateError):
        reason = exc.message or str(exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return Problem(Path(filename or default), line, f"template error: {reason}")


def _template_frame(exc: Exception) -> tuple[str | None, int | None]:
    """The innermost template file and line in the traceback (Jinja2 rewrites it so)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".py") and not frame.filename.startswith("<"):
            return frame.filename, frame.lineno
    return None, None


def book_parts(book: BookView) -> list[str]:
    """The parts a book is laid out in, in order; each starts on a new page."""
    back = ["back"] if book.valid.meeting.people or book.annex else []  # no blank last page
    return ["front", *(f"item-{view.item.id}" for view in book.items), *back]


def render_book(book: BookView, templates: Path = DEFAULT_TEMPLATES, part: str | None = None,
                page_numbers: dict[str, str] | None = None, for_pdf: bool = False, changes=None) -> str:
    """The book as one self-contained HTML page (CSS inline), or one ``part`` of it.

    ``for_pdf`` leaves the page banners to the stamp overlay; ``page_numbers`` fills in
    the contents when the front part is laid out apart from the pages it points to.
    """
    valid = book.valid
    with images_from(valid.directory):
        html = render(templates, "book.html", meeting=valid.meeting, highest=book.highest,
                      items=book.items, annex=book.annex, date=format_long_date(valid.meeting.date),
                      show=lambda name: part is None or part == name, page_numbers=page_numbers,
                      for_pdf=for_pdf, changes=changes, running_title=running_title(valid.meeting.title),
                      cover_title_size=cover_title_size(valid.meeting.title))
    return html if for_pdf else inert(html, templates, "book.html")


LOCAL_LINK = re.compile(r'(<a\b[^>]*?)\shref="#([^"]*)"')
ELEMENT_ID = re.compile(r'\sid="([^"]*)"')


def links_beyond_document(html: str, to_target: bool) -> str:
    """Links to anchors that are not in this document (prose may link to another part of
    the book), either kept as ``data-target`` for the assembly to link across parts, or
    made plain text (a fact sheet has no other part to go to)."""
    own = set(ELEMENT_ID.findall(html))

    def unlinked(match: re.Match) -> str:
        if match.group(2) in own:
            return match.group(0)
        return match.group(1) + (f' data-target="{match.group(2)}"' if to_target else "")

    return LOCAL_LINK.sub(unlinked, html)


def dangling_links(html: str) -> list[str]:
    """The anchors that links in ``html`` go to but no element of it carries, in order."""
    own = set(ELEMENT_ID.findall(html))
    return list(dict.fromkeys(unescape(target) for _, target in LOCAL_LINK.findall(html)
                              if target and target not in own))


def render_stamps(banners: list[str], title: str, language: str, templates: Path = DEFAULT_TEMPLATES,
                  first: int = 1, pages: int | None = None) -> str:
    """The overlay that puts banners, title and page numbers on the book's pages: on all
    of them, or on ``len(banners)`` pages from page ``first`` (1-based) of ``pages``."""
    return render(templates, "stamps.html", banners=banners, title=running_title(title), language=language,
                  first=first, pages=pages or len(banners))


RUNNING_TITLE_CHARS = 60  # two lines of the footer's corner at most


def running_title(title: str) -> str:
    """The title as the foot of each page shows it: a long one cut at a word, with an
    ellipsis (in full, it ran over the banner and off the page)."""
    title = " ".join(title.split())
    if len(title) <= RUNNING_TITLE_CHARS:
        return title
    cut = title[:RUNNING_TITLE_CHARS].rsplit(" ", 1)[0] or title[:RUNNING_TITLE_CHARS]
    return cut.rstrip(",;:-–— ") + "…"


# Titles longer than these many characters are set smaller on the cover (book.css): at the
# full size a title of 300 characters took two thirds of the page and pushed the handling
# note onto a second cover page, and every page number in the contents on by one.
COVER_TITLE_SIZES = ((100, ""), (200, "long"))


def cover_title_size(title: str) -> str:
    """The class that sizes the cover's title by its length: '', 'long' or 'very-long'."""
    length = len(" ".join(title.split()))
    return next((size for most, size in COVER_TITLE_SIZES if length <= most), "very-long")


def render_factsheet(book: BookView, index: int, banner: str, templates: Path = DEFAULT_TEMPLATES) -> str:
    """The press fact sheet of item ``index``, from an already redacted (public) view."""
    view = book.items[index]
    item = view.item
    sheet = item.factsheet
    with images_from(book.valid.directory):
        html = render(templates, "factsheet.html", meeting=book.valid.meeting,
                      date=format_long_date(book.valid.meeting.date), banner=banner, view=view,
                      title=(sheet.title if sheet and sheet.title else item.title),
                      lede=sheet.lede if sheet else None, facts=sheet.facts if sheet else [])
    return inert(links_beyond_document(html, to_target=False), templates, "factsheet.html")


def render_index(meetings: list[dict], templates: Path = DEFAULT_TEMPLATES) -> str:
    """``output/index.html``: every meeting's book and fact sheets, from their manifests."""
    return inert(render(templates, "index.html", meetings=meetings), templates, "index.html")
