"""The leak guard: a public artifact is checked for restricted text after rendering.

Redaction happens before rendering; this is the second lock on the door. The guard
knows every non-public portion and row of the meeting and looks for their sentences
in everything a reader or a machine could get out of the artifact: the HTML source
(visible text, attributes, comments, and SVG inside data URLs), every text WeasyPrint
drew into the PDF, and the PDF's metadata.
"""

from __future__ import annotations

import base64
import html
import io
import re
import unicodedata

from pydantic import BaseModel

from .errors import INVISIBLE
from .locate import DEFAULT_TEMPLATES
from .model import LineToTake, Marked, Person, Portion, ProgrammeEntry, walk_marked
from .validate import MEETING_FILE, ValidMeeting
from .yamlmodel import line_for

MIN_FRAGMENT_WORDS = 3  # shorter fragments ("Yes.") are too common to mean a leak
MIN_FRAGMENT_CHARS = 12


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, padded so matches are whole words.

    What a reader cannot see is taken out first, so it cannot hide a sentence: invisible
    characters (zero-width space, soft hyphen, combining grapheme joiner, variation
    selector...), accents however they are encoded ('é' as one character or as e and a
    combining accent, as pasted text often has it), and compatibility forms (ligatures,
    full-width letters). 'str\u200bike' is drawn, and read, as 'strike'.
    """
    visible = NOT_ASCII.sub(_plain, html.unescape(text))  # ASCII, nearly all of it, as it is
    words = re.findall(r"\w+", visible.lower())
    return " " + " ".join(words) + " "


def _plain(run: re.Match) -> str:
    decomposed = unicodedata.normalize("NFKD", run.group())
    return INVISIBLE.sub("", "".join(c for c in decomposed if not unicodedata.combining(c)))


NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def texts_of(marked: Marked) -> list[str]:
    """What a reader could recognise of ``marked``: markdown both as written and as a page
    shows it, since '[the plan](https://...)' is printed as 'the plan', without the address."""
    if isinstance(marked, Portion):
        return [*as_written_and_shown(marked.text)]
    if isinstance(marked, LineToTake):
        return [marked.question, *as_written_and_shown(marked.answer)]
    if isinstance(marked, ProgrammeEntry):
        return [marked.event, marked.location]
    if isinstance(marked, Person):
        return [*as_written_and_shown(marked.bio), f"{marked.name} {marked.role}", marked.country]
    return []


def as_written_and_shown(markdown: str) -> tuple[str, str]:
    from .prose import markdown_to_html

    return markdown, visible_text(markdown_to_html(markdown)) if markdown else ""


# Elements drawn inside a line of text: their tags join the words either side ('Str<b>ike</b>'
# reads 'Strike'). Any other tag ends a line (a table cell, a paragraph, a line break).
INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "em", "i", "kbd", "mark", "q", "s", "samp",
          "small", "span", "strong", "sub", "sup", "time", "u", "var"}
# A '<' outside quotes starts another tag: no page briefgen writes (nor any the inert check
# lets by) has one inside a tag, and read on, every '<a' of a text with no '>' after it (a
# PDF's text is prose as written) was read to the end, in C: 50,000 characters took 20 s.
TAG = re.compile(r"</?([A-Za-z][\w-]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*>")


def visible_text(page: str) -> str:
    """The words of HTML ``page`` as a reader sees them, without its tags and their attributes:
    '<strong>' in the middle of a sentence would otherwise split it for the guard."""
    return TAG.sub(lambda tag: "" if tag.group(1).lower() in INLINE else "\n", page)


def fragments(text: str) -> list[str]:
    """The whole text and each sentence or line of it, normalised, long enough to mean something."""
    pieces = [text, *re.split(r"(?<=[.!?;:])\s+|\n+", text)]
    found = []
    for piece in pieces:
        norm = normalise(piece)
        if len(norm.split()) >= MIN_FRAGMENT_WORDS or len(norm.strip()) >= MIN_FRAGMENT_CHARS:
            found.append(norm)
    return found


def row_key(row) -> str:
    """A data row by a name that outlives its classification: 'incident:ID', 'spending:POL|2025'."""
    return f"incident:{row.id}" if hasattr(row, "id") else f"spending:{row.iso3}|{row.year}"


def rows_not_public(valid: ValidMeeting) -> frozenset[str]:
    """The keys of the data rows no fact sheet may show now: a sheet kept from an earlier
    build that showed one (counted it, with no sentence of it to find) is withdrawn."""
    return frozenset(row_key(row) for dataset in valid.datasets.values() for row in dataset.rows
                     if not row.level.public)


class LeakGuard:
    """Built once per meeting from the full (unredacted) meeting.

    ``fragments`` maps each restricted fragment to its level, file and line: a refusal
    names them and never quotes the text, because messages end up in logs that are not
    cleared for it.
    """

    def __init__(self, valid: ValidMeeting):
        secret, public = [], []
        for text, level, origin in marked_texts(valid):
            if level.public:
                public.append(text)
            else:
                secret.append((text, (level.name, *origin)))
        public.extend([valid.meeting.title, *(item.title for item in valid.items), fixed_wording()])
        public_corpus = normalise(" \n ".join(public))
        found = {}
        for text, origin in secret:  # a sentence that is also said in public is no secret
            for fragment in fragments(text):
                if fragment not in public_corpus:
                    found.setdefault(fragment, origin)
        self.fragments = dict(sorted(found.items(), key=lambda pair: len(pair[0])))

    def leaks(self, artifact_text: str) -> list[str]:
        return leaks_in(self.fragments, artifact_text)


def fixed_wording() -> str:
    """What the built-in fact sheet prints on every sheet. A restricted text that says the
    same (a row's source given as "press reports and official statements", a chart's
    caption) is no secret, and finding it would refuse, then withdraw, every such sheet."""
    return "\n".join((DEFAULT_TEMPLATES / name).read_text(encoding="utf-8") for name in FACTSHEET_TEMPLATES)


FACTSHEET_TEMPLATES = ("factsheet.html", "_macros.html")


def marked_texts(valid: ValidMeeting):
    """(text, level, (file, line)) for everything in the meeting that carries a level."""
    models = [(valid.directory / MEETING_FILE, valid.meeting)]
    models += [(valid.item_paths[item.id], item) for item in valid.items]
    for path, model in models:
        for loc, marked in walk_marked(model):
            origin = (str(path), line_for(model._tree, loc))
            yield from ((text, marked.level, origin) for text in texts_of(marked) if text)
    for dataset in valid.datasets.values():
        for row in dataset.rows:
            yield row_text(row), row._level, (str(dataset.path), row._line)


def leaks_in(fragments, artifact_text: str) -> list[str]:
    """The restricted fragments found in ``artifact_text``, as its source (attributes and
    comments too) and as a reader sees it, including inside base64 data URLs (a chart's
    SVG is text too)."""
    haystack = normalise(" \n ".join((artifact_text, visible_text(artifact_text), decoded_data_urls(artifact_text))))
    return [fragment for fragment in fragments if fragment in haystack]


def decoded_data_urls(text: str) -> str:
    found = []
    for match in re.finditer(r"data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)", text):
        try:
            found.append(base64.b64decode(match.group(1)).decode("utf-8", "replace"))
        except ValueError:
            continue
    return " ".join(found)


def row_text(row: BaseModel) -> str:
    """Each field of a row a reader could recognise, one line each (the guard splits on lines)."""
    return "\n".join(str(getattr(row, name)) for name in ("id", "country", "summary", "source", "response")
                     if getattr(row, name, None))


def pdf_metadata(pdf: bytes) -> str:
    """The document information of a PDF (title, subject, keywords...), as text."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        return "\n".join(str(value) for value in document.docinfo.values())
