"""Problems found in a user's input, and the one exception that carries them.

A user's mistake is never a traceback: every stage collects ``Problem``s and the
stage that finds any raises one ``BriefgenError`` holding all of them, which the
CLI prints one per line as ``path:line: message``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, and where it is."""

    path: Path
    line: int | None
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = one_line(display_path(self.path))
        if self.line:
            where = f"{where}:{self.line}"
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{one_line(self.message)}"


# Unicode's format characters (category Cf) and its other default-ignorable code points
# (drawn as nothing), written out: building the class from unicodedata at import would
# cost every build a few milliseconds. Tests check both lists.
FORMAT_CHARACTER = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
OTHER_IGNORABLE = ("\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2065\u3164\ufe00-\ufe0f\uffa0"
                   "\ufff0-\ufff8\U000e0000-\U000e0fff")
INVISIBLE = re.compile(f"[{FORMAT_CHARACTER}{OTHER_IGNORABLE}]")

# A value quoted in a message (an item id, a key, a file name) may hold a line break: printed
# as it is, it would split the problem in two, or forge a line a log reader takes for another.
# Other controls do as much harm: a terminal escape (ESC) can clear or rewrite the screen, and
# a bidirectional control (U+202E) shows the rest of the line backwards. What is drawn as
# nothing (a zero-width space) made a message contradict itself: "unknown item id
# 'drone-wall' (item ids here: drone-wall, ...)".
UNPRINTABLE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029{FORMAT_CHARACTER}{OTHER_IGNORABLE}]")


def cut_short(text: str, limit: int = 60) -> str:
    """A value as a message quotes it: a 4,400-digit number or a pasted page would bury the message."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def one_line(text: str) -> str:
    """``text`` with each line break, control or invisible character written as its escape:
    '\\n', '\\u202e', '\\u200b'."""
    return UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


class BriefgenError(Exception):
    """Raised with every problem a stage found; never for a bug in briefgen."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # crosses process boundaries with its problems intact
        return (BriefgenError, (self.problems,))


class ProblemList(list):
    """Collects problems during a stage, then raises them all at once."""

    def add(self, path: Path, line: int | None, message: str) -> None:
        self.append(Problem(Path(path), line, message))

    def warn(self, path: Path, line: int | None, message: str) -> None:
        self.append(Problem(Path(path), line, message, severity="warning"))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self if p.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.errors:
            raise BriefgenError(self)


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory if inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:  # outside the working directory: keep it as given
        return str(path)


def not_shown(reason: str) -> str:
    """In a message, the place of a value that is not quoted: messages reach terminals and
    logs that are not cleared for restricted text."""
    return f"[not shown: {reason}]"


def withheld(level, what: str) -> str | None:
    """How a message names a value taken from a ``what`` (row, portion, entry) at ``level``:
    None if the level is public (quote the value), else the place of a value not shown."""
    return None if level.public else not_shown(f"a {level.name} {what}")


# A portion written in the wrong shape (a sentence read as a key, say) is restricted prose
# until known otherwise: a word or a short text is quoted, a sentence is not. The leak
# guard counts text this short as too common to be a secret, too.
SHORT_TEXT = 12


def quotable(text: str) -> bool:
    return len(text.split()) <= 1 or len(text) < SHORT_TEXT


def plural_words(text: str) -> str:
    return f"{len(text.split())} words"
