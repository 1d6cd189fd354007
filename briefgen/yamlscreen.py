"""Part of the load stage: a first pass over a YAML file's events, before any value is built.

It refuses what a safe loader would still accept and regret: tags that ask for Python
objects (or anything but plain values), nesting deep enough to crash the C parser's
composer, and aliases that expand a small file into a huge one (a "billion laughs").
The pass reads parser events only, so it runs in bounded memory and stack whatever the
file holds; it stops at the first thing refused, with its line.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path

import yaml

from .errors import BriefgenError, Problem
from .safety import MAX_ALIAS_VALUES, MAX_FILE_BYTES, MAX_NESTING

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CORE = "tag:yaml.org,2002:"
PLAIN_TAGS = {None, "!", *(CORE + name for name in ("str", "int", "float", "bool", "null", "map",
                                                     "seq", "timestamp"))}


# YAML also ends a line at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, which editors
# show inside a line (pasted from a word processor, say): counted the YAML way, every
# line after one would be misnamed in messages.
_YAML_ONLY_BREAKS = re.compile("[\x85\u2028\u2029]")


class EditorLines:
    """Line numbers of a YAML text as an editor counts them, from the parser's marks."""

    def __init__(self, text: str):
        self.breaks = ([found.start() for found in re.finditer(r"\r\n|\r|\n", text)]
                       if _YAML_ONLY_BREAKS.search(text) else None)

    def __call__(self, mark) -> int:
        if self.breaks is None:  # the usual case: the parser's own count is right
            return mark.line + 1
        return bisect.bisect_left(self.breaks, mark.index) + 1


class _Frame:
    """An open mapping or sequence: how many values it holds and how deep, aliases expanded."""

    def __init__(self, anchor: str | None = None, mapping_at: int | None = None):
        self.anchor = anchor
        self.mapping_at = mapping_at  # a mapping's start (its mark's index); None for a sequence
        self.entries = 0  # keys and values written in it, aliases counted once
        self.size = 1
        self.height = 0
        self.chars = 0

    def add(self, size: int, height: int, chars: int) -> None:
        self.entries += 1
        self.size += size
        self.height = max(self.height, height)
        self.chars += chars


def screen_yaml(text: str, path: Path) -> dict[tuple[int, int], int]:
    """Raise BriefgenError (path:line) for tags, deep nesting or alias bombs in ``text``.

    Syntax errors surface as the parser's own ``yaml.MarkedYAMLError``. Returns the line of
    each alias written as a key, by (its mapping's start index, its pair's place in it): the
    node built for the key is its anchor's, whose marks are the anchor's.
    """
    stack = [_Frame()]
    alias_keys: dict[tuple[int, int], int] = {}
    anchors: dict[str, tuple[int, int, int]] = {}  # anchor -> (values, levels, characters) it stands for
    anchor_lines: dict[str, int] = {}
    added = added_chars = 0  # values and characters added by aliases
    line_of = EditorLines(text)
    for event in yaml.parse(text, Loader=_Parser):
        line = line_of(event.start_mark)
        if isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            _check_tag(event.tag, path, line)
            _check_anchor(event.anchor, anchor_lines, path, line)
        if isinstance(event, yaml.CollectionStartEvent):
            mapping_at = event.start_mark.index if isinstance(event, yaml.MappingStartEvent) else None
            stack.append(_Frame(event.anchor, mapping_at))
            _check_depth(len(stack) - 1, path, line)
        elif isinstance(event, yaml.CollectionEndEvent):
            frame = stack.pop()
            _place(stack, frame.size, frame.height + 1, frame.chars, path, line)
            if frame.anchor:
                anchors[frame.anchor] = (frame.size, frame.height + 1, frame.chars)
        elif isinstance(event, yaml.ScalarEvent):
            _place(stack, 1, 1, len(event.value), path, line)
            if event.anchor:
                anchors[event.anchor] = (1, 1, len(event.value))
        elif isinstance(event, yaml.AliasEvent):
            if any(frame.anchor == event.anchor for frame in stack):
                raise _refuse(path, line, f"alias *{event.anchor} refers to a value that contains it")
            if event.anchor not in anchors:  # the parser's own words name neither the alias nor the cause
                raise _refuse(path, line, f"alias *{event.anchor} has no anchor &{event.anchor} above it: "
                              "write the anchor on the value it stands for, before any alias to it")
            holder = stack[-1]
            if holder.mapping_at is not None and holder.entries % 2 == 0:
                alias_keys[holder.mapping_at, holder.entries // 2] = line
            size, height, chars = anchors[event.anchor]
            added, added_chars = added + size, added_chars + chars
            if added > MAX_ALIAS_VALUES:
                raise _refuse(path, line, f"YAML aliases expand this file by more than {MAX_ALIAS_VALUES} "
                              "values; write the values out instead")
            if added_chars > MAX_FILE_BYTES:  # a few long texts repeated: a book of gigabytes
                raise _refuse(path, line, f"YAML aliases expand this file by more than {MAX_FILE_BYTES:,} "
                              "characters; write the text out instead")
            _place(stack, size, height, chars, path, line)
    return alias_keys


def _place(stack: list[_Frame], size: int, height: int, chars: int, path: Path, line: int) -> None:
    """Add a finished value (``height`` levels, a scalar being 1) to the collection that holds it."""
    _check_depth(len(stack) - 2 + height, path, line)
    stack[-1].add(size, height, chars)


def _check_tag(tag: str | None, path: Path, line: int) -> None:
    if tag not in PLAIN_TAGS:
        shown = "!!" + tag[len(CORE):] if tag.startswith(CORE) else tag
        raise _refuse(path, line, f"YAML tag '{shown}' is not allowed: briefgen reads plain "
                      "text, numbers, dates, lists and mappings only")


def _check_anchor(anchor: str | None, anchor_lines: dict[str, int], path: Path, line: int) -> None:
    """Note where ``anchor`` is given; a second one of the name is refused (the parser says
    only 'second occurrence')."""
    if anchor is None:
        return
    if anchor in anchor_lines:
        raise _refuse(path, line, f"anchor &{anchor} is given twice (first on line {anchor_lines[anchor]}): "
                      "give this one another name")
    anchor_lines[anchor] = line


def _check_depth(depth: int, path: Path, line: int) -> None:
    if depth > MAX_NESTING:
        raise _refuse(path, line, f"values are nested more than {MAX_NESTING} levels deep")


def _refuse(path: Path, line: int, message: str) -> BriefgenError:
    return BriefgenError([Problem(Path(path), line, message)])
