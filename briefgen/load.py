"""Stage 1, load: read YAML and CSV files, remembering the line of every value.

Nothing here knows the meaning of a field. Mappings and lists come back as
``LineMap`` / ``LineList`` so that later stages can point a user at ``path:line``.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
import sys
from pathlib import Path

import yaml

from .errors import BriefgenError, Problem, ProblemList, plural_words, quotable
from .safety import MAX_FILE_BYTES
from .yamlscreen import EditorLines, screen_yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # never in a CSV typed by hand
# Embeddings, overrides and isolates: a line of restricted text stored backwards would
# show the right way round, past a reviewer and past the leak guard ("Trojan Source").
CORE_TAG = "tag:yaml.org,2002:"
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Code points Unicode keeps for a program's own use, never text: U+FDD0-U+FDEF and the last
# two of each plane. PyYAML refuses U+FFFE and U+FFFF in a file's text; CSV let them through.
NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(chr(plane + 0xFFFE) + chr(plane + 0xFFFF)
                                                      for plane in range(0, 0x110000, 0x10000)) + "]")


class LineMap(dict):
    """A YAML mapping that knows its own line and the line of each key."""

    line: int = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.key_lines: dict = {}

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence that knows its own line and the line of each entry."""

    line: int = 0

    def __init__(self, *args):
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _LineLoader(_BaseLoader):
    """Safe loader that records lines and refuses duplicate keys."""

    def __init__(self, stream, problems: ProblemList, path: Path):
        super().__init__(stream)
        self.problems = problems
        self.path = path
        self.line_of = EditorLines(stream)
        self.written_keys: dict[int, set[int]] = {}
        self.alias_keys: dict[tuple[int, int], int] = {}  # from screen_yaml
        self.pair_lines: dict[int, int] = {}  # id of a (key, value) pair -> its alias key's line

    def flatten_mapping(self, node):
        """Merge the '<<' mappings into ``node``, remembering first which keys it has written
        in itself, and the line of each alias written as a key (the pairs are still in their
        written places): a mapping merged into another is flattened before it is built."""
        if id(node) not in self.written_keys:
            self.written_keys[id(node)] = {id(key_node) for key_node, _ in node.value}
            for place, pair in enumerate(node.value):
                if (node.start_mark.index, place) in self.alias_keys:
                    self.pair_lines[id(pair)] = self.alias_keys[node.start_mark.index, place]
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                _check_merged(key_node, value_node)
        super().flatten_mapping(node)

    def construct_object(self, node, deep=False):
        """A value that cannot be built (a 13th month, a 5000-digit number) names its line."""
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # noqa: BLE001  PyYAML's builders fail every way on a tag they cannot build
            shown = str(node.value)[:40] if isinstance(node, yaml.ScalarNode) else node.tag
            if isinstance(exc, (ValueError, TypeError, OverflowError)):
                kind = "date" if node.tag.endswith(":timestamp") else "value"
                message = f"'{shown}' is not a valid {kind}: {too_long(node) or exc}"
            else:  # 'time: !!bool maybe', '!!seq x'
                tag = node.tag.replace(CORE_TAG, "!!")
                message = f"'{shown}' cannot be read as {tag}: remove the tag, or give a value of its kind"
            raise yaml.constructor.ConstructorError(None, None, message, node.start_mark) from None


MERGE_TAG = CORE_TAG + "merge"


def _check_merged(key_node: yaml.Node, value_node: yaml.Node) -> None:
    """A ConstructorError at the '<<' itself if what it merges is not a mapping or a list of
    mappings: PyYAML's own error points at the value, which for an alias (<<: *name) is
    the line of its anchor, and speaks of nodes."""
    merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
    odd = next((node for node in merged if not isinstance(node, yaml.MappingNode)), None)
    if odd is not None:
        text = "" if isinstance(odd, yaml.SequenceNode) else str(odd.value)[:40]
        found = "a list" if isinstance(odd, yaml.SequenceNode) else f"'{text}'" if text else "nothing"
        inside = " in its list" if odd is not value_node else ""
        raise yaml.constructor.ConstructorError(
            None, None, f"'<<' merges a mapping, or a list of mappings, into this one; found {found}{inside}",
            key_node.start_mark)


def too_long(node) -> str | None:
    """Why a number cannot be read, in the writer's terms, if it is one of more digits than
    Python converts (its own message tells a programmer to raise a limit, in words that
    differ between versions)."""
    digits = sum(character.isdigit() for character in str(node.value))
    limit = getattr(sys, "get_int_max_str_digits", lambda: 0)()  # 0: no limit (or a Python before it)
    if node.tag.endswith(":int") and 0 < limit < digits:
        return f"a number of {digits} digits is too long to be read"
    return None


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    loader.flatten_mapping(node)  # merged pairs first: a later pair overrides them
    written = loader.written_keys[id(node)]
    result = LineMap()
    result.line = loader.line_of(node.start_mark)
    stored: dict = {}  # the YAML identity of each key -> the key it is stored under
    first_written: dict = {}  # the YAML identity of each key written here -> its line
    for pair in node.value:
        key_node, value_node = pair
        key = loader.construct_object(key_node, deep=True)
        line = loader.pair_lines.get(id(pair)) or loader.line_of(key_node.start_mark)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            loader.problems.add(loader.path, line, "a key must be plain text")
            continue
        identity = key_identity(key)
        if identity in first_written and id(key_node) in written:
            loader.problems.add(loader.path, line, f"duplicate key {_shown_key(key, key_node)} "
                                f"(first given on line {first_written[identity]})")
            continue
        if id(key_node) in written:
            first_written[identity] = line
        if identity not in stored:
            stored[identity] = key if key not in result else TwinKey(key)
        result[stored[identity]] = _construct_value(loader, value_node)
        result.key_lines[stored[identity]] = line
    return result


def key_identity(key) -> tuple:
    """A key as YAML compares keys, by its kind and value: Python holds True == 1 == 1.0,
    YAML holds true, 1 and 1.0 three keys (null and ~, 16 and 0x10 are one)."""
    return type(key), key


class TwinKey:
    """A key Python holds equal to one already in its mapping, and YAML does not (1 after
    true): stored under this, so that both are kept and each is reported for what it is."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other) -> bool:
        return isinstance(other, TwinKey) and key_identity(self.value) == key_identity(other.value)

    def __hash__(self) -> int:
        return hash(key_identity(self.value))

    def __repr__(self) -> str:
        return repr(self.value)


def plain_key(key):
    """A key of a LineMap as YAML read it."""
    return key.value if isinstance(key, TwinKey) else key


def _shown_key(key, key_node: yaml.Node) -> str:
    """A key for a message: text quoted (or its length, if long); any other as written (~, 0x10)."""
    if not isinstance(key, str):
        return f"'{key_node.value}'" if isinstance(key_node, yaml.ScalarNode) else f"'{key}'"
    return f"'{key}'" if quotable(key) else f"(a text of {plural_words(key)})"


def _construct_value(loader: _LineLoader, node: yaml.Node):
    """A value, refused if a quoted escape ("\\e", "\\u202e") made it hold a character the
    file itself may not: the check of the file's text sees only the escape."""
    value = loader.construct_object(node, deep=True)
    refused = isinstance(value, str) and refused_character_in(value, " (written as an escape in quotes)")
    if refused:
        loader.problems.add(loader.path, loader.line_of(node.start_mark), refused)
    return value


def refused_character_in(text: str, how: str) -> str | None:
    """What is wrong with the first control, bidirectional or noncharacter in ``text``,
    written ``how`` (as an escape, a reference); None if it holds none."""
    found = refused_character_at(text, how)
    return found and found[1]


def refused_character_at(text: str, how: str = "") -> tuple[int, str] | None:
    """Where the first control character (else bidirectional control, else noncharacter) in
    ``text`` is, and what is wrong with it; None if it holds none."""
    for refused, message in ((CONTROL_CHARACTER, control_message), (BIDI_CONTROL, bidi_message),
                             (NONCHARACTER, noncharacter_message)):
        found = refused.search(text)
        if found:
            return found.start(), message(found.group(), how)
    return None


def control_message(character: str, how: str = "") -> str:
    mend = "remove it" if how else "save the file as plain text"
    return f"control character U+{ord(character):04X}{how} is not allowed; {mend}"


def bidi_message(character: str, how: str = "") -> str:
    return (f"bidirectional control character U+{ord(character):04X}{how} is not allowed: "
            "it makes text read otherwise than it is stored")


def noncharacter_message(character: str, how: str = "") -> str:
    return (f"noncharacter U+{ord(character):04X}{how} is not allowed: Unicode reserves it for programs' "
            "own use, not for text; remove it")


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(_construct_value(loader, child) for child in node.value)
    result.line = loader.line_of(node.start_mark)
    result.item_lines = [loader.line_of(child.start_mark) for child in node.value]
    return result


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """Read a UTF-8 input file, turning every failure into a Problem.

    Only regular files are read (a FIFO or device named like an input would block or
    never end), and never more than ``limit`` bytes.
    """
    try:
        data = read_bytes(path, limit)
    except FileNotFoundError:
        raise _fail(path, None, "file not found") from None
    except OSError as exc:
        raise _fail(path, None, f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, data.count(b"\n", 0, exc.start) + 1, not_utf8(data, exc)) from None
    refused = refused_character_at(text)  # the parser of YAML refuses more control characters (C1)
    if refused:
        raise _fail(path, text.count("\n", 0, refused[0]) + 1, refused[1])
    return text


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; OSError or BriefgenError if not."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _fail(path, None, "not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _fail(path, None, f"file is larger than the limit of {limit} bytes")
    return data


def not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "not UTF-8 text: it is UTF-16; save it as UTF-8"
    return f"not UTF-8 text (byte 0x{data[exc.start]:02X}); save the file as UTF-8"


def load_yaml(path: Path):
    """Parse one YAML file into LineMap/LineList values; every failure names the line."""
    text = read_text(path)
    problems = ProblemList()
    loader = _LineLoader(text, problems, path)
    try:
        loader.alias_keys = screen_yaml(text, path)
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = _mistake_mark(exc)
        raise _fail(path, loader.line_of(mark) if mark else None, _yaml_message(exc, text)) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise _fail(path, line, control_message(chr(exc.character))) from None
    except yaml.YAMLError as exc:
        raise _fail(path, None, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    problems.raise_if_errors()
    return data


# Hints for the messages a tired editor meets most: tabs, and a wrong indent.
_HINTS = {
    "tab character": "indent with spaces, not tabs",
    "mapping values are not allowed": "check the indentation of this line, or put a text "
                                      "holding ': ' in quotes",
    "did not find expected key": "check the indentation of this line and the one above",
    "expected '-' indicator": "check the indentation of this line: each entry of the list "
                              "above starts with '- '",
    "expected a single document": "one document per file: remove the '---' line",
}


# The parser finds these out lines later (a key without its ':' on the next line, an
# unclosed quote or bracket at the next key or the end of the file): the mistake is where
# the thing it was reading began, and the message points there.
_FOUND_LATER = {
    "while scanning a simple key": "write ': ' after the key, or indent this line if it "
                                   "goes on the text above",
    "while scanning a quoted scalar": "the quote opened on this line is not closed",
    "while parsing a flow sequence": "the '[' opened on this line is not closed with ']'",
    "while parsing a flow mapping": "the '{' opened on this line is not closed with '}'",
}


def _mistake_mark(exc: yaml.MarkedYAMLError):
    """Where the mistake is: the start of what the parser was reading, for _FOUND_LATER."""
    if exc.context in _FOUND_LATER and exc.context_mark:
        return exc.context_mark
    return exc.problem_mark or exc.context_mark


def _yaml_message(exc: yaml.MarkedYAMLError, text: str) -> str:
    reason = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, yaml.constructor.ConstructorError):
        return reason
    too_long = _key_too_long(exc)
    if too_long:
        return f"YAML syntax error: {too_long}"
    if exc.context and reason.startswith("but "):
        reason = f"{exc.context}, {reason}"
    hints = [hint for found, hint in _HINTS.items() if found in reason]
    hints += [_FOUND_LATER[exc.context]] if exc.context in _FOUND_LATER else []
    if _tab_before(exc.problem_mark, text):
        hints.insert(0, "indent with spaces, not tabs")
    return f"YAML syntax error: {reason}" + (f" ({hints[0]})" if hints else "")


MAX_KEY_CHARS = 1024  # PyYAML and libyaml read a key only if its ':' is at most this far from its start


def _key_too_long(exc: yaml.MarkedYAMLError) -> str | None:
    """What is wrong with a key whose ':' is on its line but too far on: the parser, which
    then stops reading it as a key, says it found no ':'."""
    start, end = exc.context_mark, exc.problem_mark
    if exc.context != "while scanning a simple key" or not (start and end) or start.line != end.line:
        return None  # a key with no ':' on its line: the hint of _FOUND_LATER
    return (f"a key of {end.index - start.index:,} characters from its start to its ':'; YAML reads at most "
            f"{MAX_KEY_CHARS:,} (a long text is a value: write a short key and ': ' before it; if this line is "
            "a sentence holding ': ', put it in quotes)")


def _tab_before(mark, text: str) -> bool:
    """True if the line of ``mark`` has a tab up to the place the parser stopped."""
    lines = text.splitlines()
    return bool(mark) and mark.line < len(lines) and "\t" in lines[mark.line][:mark.column + 1]


def load_csv(path: Path, problems: ProblemList, required: list[str] = ()) -> tuple[list[str], list[tuple[int, dict]]]:
    """Read a CSV with a header row; returns the header and (line, row) pairs.

    The line is where the record starts, so a quoted field that spans lines
    still points at its first line. A record with the wrong number of fields
    is reported in ``problems`` and skipped, so every such record is listed. A header
    without a ``required`` column is one problem, and no rows are read.
    """
    text = read_text(path)
    # lines end at \n, \r\n or \r only: splitlines() would also end one at U+2028 inside a
    # quoted field, and every line number after it would be off
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column_name(name) or Nameless(number) for number, name in enumerate(next(reader), start=1)]
    except StopIteration:
        raise _fail(path, 1, "empty file: expected a header row") from None
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:  # which of the two would count is anyone's guess (a second classification column...)
        problems.add(path, 1, f"column(s) named twice: {', '.join(twice)}")
        return header, []
    missing = [column for column in required if column not in header]
    if missing:
        problems.add(path, 1, f"missing column(s): {', '.join(missing)}")
        return header, []
    rows = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if len(record) != len(header) and any(c.strip() for c in record):
                problems.add(path, start, f"expected {len(header)} fields as in "
                             f"the header, found {len(record)}")
            elif any(cell.strip() for cell in record):
                rows.append((start, dict(zip(header, (c.strip() for c in record)))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _fail(path, start, f"CSV error: {exc}") from None
    return header, rows


def column_name(text: str) -> str:
    """A header cell as the column's name: 'Classification ' is the classification column."""
    return " ".join(text.split()).lower()


class Nameless(str):
    """A column whose header cell is blank, named by its place. Its cells are still read:
    a classification column whose heading was deleted would otherwise go unseen, and its
    rows be taken for public."""

    def __new__(cls, number: int):
        return super().__new__(cls, f"column {number} (no name in the header)")


def _fail(path: Path, line: int | None, message: str) -> BriefgenError:
    return BriefgenError([Problem(Path(path), line, message)])
