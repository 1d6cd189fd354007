"""Markdown prose as safe HTML, and the images it may show.

Every prose field of a meeting is markdown written by many hands, so raw HTML in it is
user input: it is cleaned with nh3 to a small allow-list (no script, style, iframe,
object, form, event handlers, or ``javascript:`` links). Images are the one thing prose
may pull in, and only files in the meeting's own ``assets/`` folder: a reference is
resolved against the meeting folder (where the YAML files are), must stay inside
``assets/`` once '..' and symlinks are resolved, and must be a PNG, JPEG or GIF. The
file is embedded as a ``data:`` URL, so the HTML is self-contained and neither a
browser nor WeasyPrint fetches anything for it.
"""

from __future__ import annotations

import base64
import io
import warnings
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markdown
import nh3
from markdown.extensions.tables import TableExtension
from markdown.extensions.toc import TocExtension
from markupsafe import Markup

from .errors import BriefgenError
from .load import read_bytes, refused_character_in
from .safety import MAX_ASSET_BYTES, MAX_IMAGE_PIXELS, MAX_PROSE_NESTING, UnusablePath, not_a_file, resolved

ASSETS = "assets"

ALLOWED_TAGS = {
    "p", "br", "hr", "ul", "ol", "li", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr",
    "th", "td", "sup", "sub", "abbr", "img",
}
VOID_TAGS = {"br", "hr", "img"}  # allowed tags that hold nothing, so have no end tag
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"},
                      "img": {"src", "alt", "title"}}
# Links may point anywhere a reader can follow: nothing follows them for the reader.
ALLOWED_URL_SCHEMES = {"https", "http", "mailto"}

# Each image type with the bytes its files start with.
IMAGE_TYPES = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
}


class ImageRefused(ValueError):
    """An image reference that prose may not use; the message says why, naming the image
    as IMAGE for ``check_image`` to fill in: quoted, or not if its prose is not public."""


IMAGE = "{image}"


def markdown_to_html(text: str, meeting_dir: Path | None = None) -> Markup:
    """Markdown prose as sanitised HTML; images from ``meeting_dir``/assets embedded, others dropped."""
    def embed_images_and_check_links(element: str, attribute: str, value: str) -> str | None:
        if element == "img" and attribute == "src":
            return embedded_image(value, meeting_dir)
        if element == "a" and attribute == "href":
            return value if followable(value) else None
        return value

    clean = nh3.clean(_markdown(text), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=ALLOWED_URL_SCHEMES, link_rel="noopener noreferrer",
                      attribute_filter=embed_images_and_check_links)
    return Markup(clean)


@lru_cache(maxsize=4096)  # validation's checks each read a portion's HTML: sanitised once
def sanitised(text: str) -> Markup:
    """Markdown ``text`` as sanitised HTML without a meeting folder: images left out."""
    return markdown_to_html(text)


@lru_cache(maxsize=4096)  # a book renders each portion for the web and for print
def _markdown(text: str) -> str:
    try:
        return _converter().reset().convert(text)
    except BaseException:  # RecursionError, or the time limit, mid-parse
        # reset() does not clear the block parser's state stack: a parse stopped inside a
        # list leaves 'list' states that would garble every later conversion (images lost).
        _converter.cache_clear()
        raise


@lru_cache(maxsize=None)
def _converter() -> markdown.Markdown:
    # one converter per process: building one costs more than converting a paragraph.
    # Prose sits under a brief's h2 sections: its '#' is an h3, and so on down to h6.
    # Fenced code (```) is common in pasted prose; without the extension it became inline
    # code in a paragraph, its line breaks lost. A table column's alignment (---:) is written
    # as align=, which the sanitiser keeps: the default style= attribute it strips.
    extensions = ["sane_lists", "fenced_code", TableExtension(use_align_attribute=True),
                  TocExtension(baselevel=3, marker="")]
    return markdown.Markdown(extensions=extensions, output_format="html")


def followable(href: str) -> bool:
    """A place in the book (#...) or a web address. A relative link ('tor.pdf') has nowhere
    to go: WeasyPrint would make it a file: link to the build machine's templates folder."""
    return href.startswith("#") or urlsplit(href.strip()).scheme.lower() in ALLOWED_URL_SCHEMES


def embedded_image(src: str, meeting_dir: Path | None) -> str | None:
    if meeting_dir is None:
        return None
    try:
        return image_data_url(src, meeting_dir)
    except (ImageRefused, BriefgenError, OSError):
        return None  # validation has told the editor; the reader gets the alt text


def nested_too_deeply(text: str) -> bool:
    """True if markdown ``text``, once sanitised, holds elements more than MAX_PROSE_NESTING
    deep, or is too deep for markdown itself to parse (it recurses once a level of list).

    Laying such prose out would exhaust Python's stack in WeasyPrint. The depth is measured
    after sanitising, as laid out: tags nh3 removes (<div>) nest nothing."""
    try:
        html = sanitised(text)  # no meeting folder: images need not be read to be counted
    except RecursionError:
        return True
    return _DepthGauge.of(html) > MAX_PROSE_NESTING


class _DepthGauge(HTMLParser):
    """The deepest nesting of elements in sanitised HTML, whose end tags are all written."""

    def __init__(self):
        super().__init__()
        self.depth = self.deepest = 0

    @classmethod
    def of(cls, html: str) -> int:
        gauge = cls()
        gauge.feed(html)
        gauge.close()
        return gauge.deepest

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_TAGS:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag):
        self.depth -= 1


# Allowed tags whose effect runs on until they are closed: left open, they carry on past
# their text (the sanitiser closes them, at the end of the portion, or later).
RUNNING_TAGS = {"strong", "em", "b", "i", "code", "a", "sup", "sub", "abbr"}


def unclosed_tags(text: str) -> list[str]:
    """The running tags written as HTML in markdown ``text`` and not closed in their paragraph."""
    balance = _TagBalance()
    balance.feed(_markdown(text))
    balance.close()
    return balance.unclosed + [tag for tag in balance.open if tag in RUNNING_TAGS]


class _TagBalance(HTMLParser):
    """Open elements, as a stack; a running tag still open when an element around it ends
    (its paragraph, say) is unclosed. An end tag with nothing to close is dropped, by the
    sanitiser too."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.unclosed: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while (last := self.open.pop()) != tag:
                if last in RUNNING_TAGS:
                    self.unclosed.append(last)


def refused_character(text: str) -> str | None:
    """Why markdown ``text`` may not be shown, if a character reference in it (``&#x1b;``,
    ``&#x202e;``) stands for a character its file may not hold: an ESC made the page one a
    browser could read in another encoding, a bidirectional control stores text backwards
    past the leak guard. None if every character may be shown."""
    return refused_character_in(str(sanitised(text)), " (written as a character reference, &#...;)")


def images_in(text: str) -> list[str]:
    """Every image source in markdown ``text`` (markdown images and raw <img>), as written."""
    return _AttributeCollector.values(_markdown(text), "img", "src")


def local_links(text: str) -> list[str]:
    """The places in the book (``#anchor``, without its '#') that markdown ``text`` links to."""
    hrefs = _AttributeCollector.values(sanitised(text), "a", "href")
    return [href[1:] for href in hrefs if href.startswith("#")]


class _AttributeCollector(HTMLParser):
    """The values of one attribute of one kind of element in HTML, in order."""

    def __init__(self, tag: str, attribute: str):
        super().__init__()
        self.tag, self.attribute = tag, attribute
        self.found: list[str] = []

    @classmethod
    def values(cls, html: str, tag: str, attribute: str) -> list[str]:
        collector = cls(tag, attribute)
        collector.feed(html)
        collector.close()
        return collector.found

    def handle_starttag(self, tag, attrs):
        if tag == self.tag:
            self.found.append(dict(attrs).get(self.attribute) or "")


def resolve_image(src: str, meeting_dir: Path) -> Path:
    """The file an image reference names; ImageRefused unless it is an image in assets/."""
    parts = urlsplit(src.strip())
    if parts.scheme or parts.netloc or src.strip().startswith(("/", "\\")):
        raise ImageRefused(f"image {IMAGE} is not a file in the meeting's {ASSETS}/ folder "
                           f"(save it there and write {ASSETS}/<name>)")
    folder = assets_folder(meeting_dir)
    if folder is None:
        raise ImageRefused(f"the meeting's {ASSETS}/ folder links outside the meeting folder")
    try:
        path = resolved(meeting_dir / unquote(parts.path))
    except UnusablePath as exc:
        raise ImageRefused(f"image {IMAGE} cannot be read: {exc}") from None
    if not path.is_relative_to(folder):
        raise ImageRefused(f"image {IMAGE} is outside the meeting's {ASSETS}/ folder")
    if path.suffix.lower() not in IMAGE_TYPES:
        raise ImageRefused(f"image {IMAGE} must be a PNG, JPEG or GIF file")
    why = not_a_file(path)
    if why:
        raise ImageRefused(f"image {IMAGE} {why}" + (f" in the meeting's {ASSETS}/ folder" if why == "not found" else ""))
    return path


def assets_folder(meeting_dir: Path) -> Path | None:
    """The meeting's assets/ folder, resolved; None if it is a link out of the meeting folder."""
    folder = (Path(meeting_dir) / ASSETS).resolve()
    return folder if folder.is_relative_to(Path(meeting_dir).resolve()) else None


def image_data_url(src: str, meeting_dir: Path) -> str:
    """The image as a data: URL; ImageRefused if its bytes are not what its name says."""
    path = resolve_image(src, meeting_dir)
    mime, signatures = IMAGE_TYPES[path.suffix.lower()]
    data = read_bytes(path, MAX_ASSET_BYTES)
    kind = mime.split('/')[1].upper()
    if not data.startswith(signatures):
        raise ImageRefused(f"image {IMAGE} is not a {kind} file")
    _check_pixels(data, src, kind)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _check_pixels(data: bytes, src: str, kind: str) -> None:
    """ImageRefused unless the image's header can be read and declares a sane size. A few
    kilobytes of one colour can declare a gigapixel picture: laying it out took minutes and
    gigabytes, or WeasyPrint dropped the image from the page with a log line only."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError:
        width = height = MAX_IMAGE_PIXELS
    except (OSError, ValueError, SyntaxError):  # Pillow's ways of saying a header is damaged
        raise ImageRefused(f"image {IMAGE} cannot be read as a {kind} file (is it damaged?)") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageRefused(f"image {IMAGE} is too large to lay out: at most {MAX_IMAGE_PIXELS:,} "
                           "pixels (5000 x 5000); scale it down")


def check_image(src: str, meeting_dir: Path, withheld: str | None = None) -> str | None:
    """What is wrong with an image reference, or None if it can be shown. The message
    names the image as written, or by ``withheld`` if given: the name is text of its
    prose, and messages reach logs that are not cleared for restricted text."""
    try:
        image_data_url(src, meeting_dir)
    except ImageRefused as exc:
        problem = str(exc)
    except BriefgenError as exc:
        problem = f"image {IMAGE}: {exc.problems[0].message}"
    except OSError as exc:
        problem = f"image {IMAGE} cannot be read: {exc.strerror or 'an error of the system'}"
    else:
        return None
    return problem.replace(IMAGE, withheld or f"'{_short(src)}'")


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
