"""Limits on what an input may cost, and where an input may point.

Agendas are written by many hands and built unattended, so every input is bounded:
its size, how deep it nests, how far YAML aliases expand it, which folders a path in it
may reach, and how long one document may take to render. The numbers are far above
anything a real meeting needs; they only stop pasted dumps and hostile files.
"""

from __future__ import annotations

import os
import signal
import stat
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 2_000_000  # one YAML or CSV file
MAX_ASSET_BYTES = 5_000_000  # one image in a meeting's assets/ folder
MAX_IMAGE_PIXELS = 25_000_000  # one image, once decoded: 100 MB in RGBA; an A4 page at 300 dpi is 9 million
MAX_NESTING = 50  # YAML levels, aliases expanded
# Elements inside one another in one prose field's HTML. WeasyPrint lays out a level with
# several nested calls and stops at Python's recursion limit: lists fail from about 130.
MAX_PROSE_NESTING = 50
# Characters in one prose portion: some 15 pages. Markdown's inline parsing slows down
# sharply with the marks in one paragraph (20,000 <b> tags took 7 s, 40,000 over 20 s).
MAX_PROSE_CHARS = 50_000
MAX_ALIAS_VALUES = 10_000  # values YAML aliases may add to a file
MAX_ITEMS = 200  # agenda item files in one meeting
DEFAULT_TIME_LIMIT = 120.0  # seconds for one document (HTML of a meeting, or one layout)
MAX_TIME_LIMIT = 1_000_000.0  # some 11 days; the system's alarm clock cannot be set much further
MAX_WAIT = 1_000_000.0  # seconds --wait may wait for another build, as long: 1e300 is a typo, not a wait


@dataclass(frozen=True)
class Policy:
    """What a build allows beyond the defaults; sent to worker processes with each job."""

    allow_outside_paths: bool = False  # data files named in YAML may leave the project folder
    time_limit: float = DEFAULT_TIME_LIMIT


class UnusablePath(OSError):
    """A path no file can have, or none can be read through: it says why."""


def resolved(path: Path) -> Path:
    """``path`` with '..' and symlinks resolved; UnusablePath if that cannot be done."""
    try:
        return Path(path).resolve()
    except ValueError:  # a NUL: %00 in a link
        raise UnusablePath("the path holds a NUL character") from None
    except RuntimeError:
        raise UnusablePath("a symbolic link that leads back to itself") from None
    except OSError as exc:  # too long, say
        raise UnusablePath(exc.strerror or str(exc)) from None


def is_file(path: Path) -> bool:
    """Path.is_file, False rather than an error for a path no file can have."""
    return not_a_file(path) is None


def not_a_file(path: Path) -> str | None:
    """Why ``path`` is no input file, as the end of a sentence naming it, or None if it is
    a regular file. A folder or a named pipe in a file's place is said to be so: "not
    found" sent the writer looking for a file that is there."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # missing, a dangling link, a path no file can have
        return "not found"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return "is not a regular file (a named pipe or a device: reading it could wait forever)"


# Names Windows gives to devices, whatever follows a '.': con.html is no file there.
WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10))}


def names_a_device(name: str) -> bool:
    """True if a file called ``name`` (or ``name.<anything>``) cannot be opened on Windows."""
    return name.split(".")[0].upper() in WINDOWS_DEVICES


def is_inside(path: Path, root: Path) -> bool:
    """True if ``path`` stays under ``root`` once '..' and symlinks are resolved
    (UnusablePath if they cannot be)."""
    return resolved(path).is_relative_to(resolved(root))


class TimeLimitExceeded(BaseException):
    """Raised inside a document that ran too long.

    A BaseException, so that no ``except Exception`` in a library swallows it.
    """


@contextmanager
def time_limit(seconds: float | None):
    """Interrupt the body after ``seconds`` with TimeLimitExceeded.

    Uses SIGALRM, so it works in the main thread of a process, which is where every
    job runs (a pool worker or the CLI). Elsewhere the body runs without a limit. The
    alarm repeats every 0.1 s until it gets through, in case something swallows it.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    armed = [True]

    def interrupt(signum, frame):
        if armed[0]:
            raise TimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)  # inside the try: it may ring at once
        yield
    finally:
        _disarm(armed, previous)


def _disarm(armed: list[bool], previous) -> None:
    """Stop the alarm. One ringing on the way out (a short limit, a body that ended just in
    time) is let go: escaping here, it would leave the alarm ringing every 0.1 s for good,
    and a TimeLimitExceeded would surface anywhere later, as a traceback."""
    while True:
        try:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            return
        except TimeLimitExceeded:
            continue
