"""Stage 7, publish: write outputs atomically, record them in a manifest, index them.

Each file is written to a temporary file beside its target and moved into place
with ``os.replace``, so a failed or killed build never leaves half a file and the
previous output stays intact until the new one is complete.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import hashlib
import json
import logging
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import quote

from .errors import BriefgenError, Problem

MANIFEST = "manifest.json"

log = logging.getLogger(__name__)
unwritable_caches: set[Path] = set()  # reported once a build each (build() empties it)


@dataclass
class Artifact:
    """One file of a meeting's output, as the manifest and the index describe it."""

    path: str  # relative to the meeting's output folder
    edition: str  # "book" or "factsheets"
    item: str | None
    format: str  # "html" or "pdf"
    label: str
    classification: str
    sha256: str
    pages: int | None = None
    build_key: str = ""  # hash of everything that shaped it (see incremental)
    inputs: list[str] = field(default_factory=list)  # names of the inputs in the build key
    rows: list[str] = field(default_factory=list)  # a fact sheet's: the data rows it shows (guard.row_key)
    remarks: list[str] = field(default_factory=list)  # a fact sheet PDF's: WeasyPrint's warnings, told while kept
    written: bool = field(default=True, compare=False)  # False: kept from an earlier build

    @classmethod
    def kept(cls, record: dict) -> "Artifact":
        return cls(**{**record, "written": False})

    def record(self) -> dict:
        data = asdict(self)
        del data["written"]
        return data


class CannotWrite(BriefgenError):
    """An output could not be written: the disk is full, or the folder is not ours to write.
    Not the input's fault, nor a bug: the CLI gives it an exit status of its own."""

    def __init__(self, path: Path, reason: OSError | str):
        self.path = Path(path)
        blocker = file_in_the_way(self.path) if isinstance(reason, OSError) and reason.errno in FOLDER_BLOCKED else None
        if blocker is not None:  # 'File exists' on the file briefgen wanted to write misleads
            self.path, reason = blocker, "a file is in the way: briefgen writes a folder here; move the file away"
        self.reason = (reason.strerror or str(reason)) if isinstance(reason, OSError) else reason
        super().__init__([Problem(self.path, None, f"cannot write: {self.reason}")])

    def __reduce__(self):
        return (CannotWrite, (self.path, self.reason))


# A folder on the way to a file could not be made: something else holds its name.
FOLDER_BLOCKED = {errno.EEXIST, errno.ENOTDIR}


def file_in_the_way(path: Path) -> Path | None:
    """The first of ``path``'s folders, from the top, that exists as something else."""
    for folder in reversed(path.parents):
        if os.path.lexists(folder) and not folder.is_dir():
            return folder
    return None


class OutputBusy(Exception):
    """Another build holds the output folder."""


LOCK_FILE = ".briefgen.lock"
LOCK_POLL_SECONDS = 0.2  # how often a waiting build tries the lock again
# Opening the lock file for writing failed because the folder is not ours to write: one
# published by another user, or mounted read-only. Not a full disk, nor a file in the way.
READ_ONLY_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS}
_held_here: dict[tuple[int, int], int] = {}  # lock files this process holds (device, inode) -> thread


class OutputLock:
    """An exclusive lock on an output folder, so two builds never write it at once.

    Held by another build, the lock is waited for up to ``wait`` seconds (``waiting`` is
    told once, with who holds it where the lock file says), then ``OutputBusy``. The wait
    polls rather than blocks in flock: a signal stops it at once, and it needs no alarm
    clock (the time limit has that one).

    An output folder this process may not write (published by another user, mounted
    read-only) is locked through a read-only handle, which flock accepts, so a build
    writing there is still waited for; ``read_only`` then says why it cannot be written,
    and the caller must write nothing. Where even that handle cannot be had (no lock file
    in a folder no one can write), no build can be writing there either.
    """

    def __init__(self, out: Path, wait: float = 0.0, waiting=None):
        self.path = Path(out) / LOCK_FILE
        self.wait, self.waiting = wait, waiting
        self.handle = None
        self.read_only: str | None = None  # why the folder cannot be written, if it cannot

    def __enter__(self):
        self.handle = self._open()
        if self.handle is None:
            return self
        try:
            self._take()
        except BaseException:  # busy, or a signal while waiting: nothing is left behind
            self.handle.close()
            raise
        self._say_who_holds_it()
        return self

    def __exit__(self, *exc_info):
        if self.handle is None:
            return
        _held_here.pop(self._identity(), None)
        if self.read_only is None:  # a waiter must not name this build once it is gone
            with contextlib.suppress(OSError):
                self.handle.truncate(0)
        self.handle.close()  # closing releases the lock, as does the process ending

    def _open(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return open_lock_file(self.path, writable=True)
        except OSError as exc:
            if exc.errno not in READ_ONLY_ERRORS or not self.path.parent.is_dir():
                raise CannotWrite(self.path, exc) from None
            self.read_only = exc.strerror or str(exc)
        try:
            return open_lock_file(self.path, writable=False)
        except OSError:  # no lock file, or not ours to read
            return None

    def _take(self) -> None:
        if self._try():
            return
        folder, holder = self.path.parent, self.holder()
        if self.wait <= 0:
            raise OutputBusy(f"another briefgen build is writing to {folder}{described(holder)}; "
                             "run again when it has finished")
        if _held_here.get(self._identity()) == threading.get_ident():  # it would wait for itself
            raise OutputBusy(f"this briefgen build is already writing to {folder}: a build started "
                             "inside it cannot wait for it")
        if self.waiting is not None:
            self.waiting(f"another briefgen build is writing to {folder}{described(holder)}; "
                         f"waiting up to {self.wait:g} s for it to finish", holder)
        deadline = time.monotonic() + self.wait
        while not self._try():
            left = deadline - time.monotonic()
            if left <= 0:
                raise OutputBusy(f"another briefgen build is still writing to {folder}{described(self.holder())} "
                                 f"after {self.wait:g} s of waiting; run again when it has finished")
            time.sleep(min(LOCK_POLL_SECONDS, left))

    def _try(self) -> bool:
        import fcntl

        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        _held_here[self._identity()] = threading.get_ident()
        return True

    def _identity(self) -> tuple[int, int]:
        info = os.fstat(self.handle.fileno())
        return info.st_dev, info.st_ino

    def _say_who_holds_it(self) -> None:
        """Written into the lock file, for a build that has to wait to name this one."""
        if self.read_only is not None:
            return
        with contextlib.suppress(OSError):  # only a courtesy to the next build
            self.handle.truncate(0)
            self.handle.write(json.dumps(this_process()) + "\n")
            self.handle.flush()

    def holder(self) -> dict | None:
        """Who holds the lock, as its holder wrote it; None if it did not, or is gone."""
        try:
            self.handle.seek(0)
            record = json.loads(self.handle.read(4096))
        except (OSError, ValueError):
            return None
        if not (isinstance(record, dict) and isinstance(record.get("pid"), int)
                and all(isinstance(record.get(key), (str, type(None))) for key in ("user", "host", "since"))):
            return None
        if record.get("host") == socket.gethostname() and not process_exists(record["pid"]):
            return None  # a build killed before it could say it was done
        return {key: record.get(key) for key in ("pid", "user", "host", "since")}


def open_lock_file(path: Path, writable: bool):
    """The lock file, opened without waiting: a FIFO in its place would hold the open until
    something wrote to it (for ever, in a nightly build). Anything but a regular file there
    (a FIFO, a folder, left by a person or a crash) is refused, naming it; so is a symbolic
    link, not followed: the build writes its name into the lock file and empties it when
    done, and would do so to whatever file the link named."""
    flags = (os.O_RDWR | os.O_CREAT | os.O_APPEND) if writable else os.O_RDONLY
    try:
        descriptor = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symbolic link, O_NOFOLLOW says so
            raise CannotWrite(path, NOT_A_LOCK_FILE) from None
        raise
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise CannotWrite(path, NOT_A_LOCK_FILE)
    return os.fdopen(descriptor, "a+" if writable else "r", encoding="utf-8")


NOT_A_LOCK_FILE = "not a regular file; remove it (briefgen makes its lock file itself)"


def this_process() -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a user id with no name
        user = None
    return {"pid": os.getpid(), "user": user, "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def described(holder: dict | None) -> str:
    if holder is None:
        return ""
    facts = [f"pid {holder['pid']}"] + [f"{key} {holder[key]}" for key in ("user", "host", "since") if holder[key]]
    return f" ({', '.join(facts)})"


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: it exists
        return True
    return True


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write beside the target, then move into place: readers see the old file or the new.

    Raises ``CannotWrite`` (the file as it was) if the disk is full or the folder not writable.
    """
    try:
        _write_beside(path, as_bytes(data))
    except OSError as exc:
        raise CannotWrite(path, exc) from None


def write_if_new(path: Path, data: bytes | str) -> None:
    """``write_atomic``, unless the file holds these very bytes already."""
    if _sha256_of(path) != hashlib.sha256(as_bytes(data)).hexdigest():
        write_atomic(path, data)


def as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _write_beside(path: Path, data: bytes) -> None:
    os.replace(_temporary_beside(path, data), path)


def _temporary_beside(path: Path, data: bytes) -> Path:
    """``data`` on disk, synced, in a temporary file beside ``path`` with the mode ``path`` gets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, file_mode(path))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Path(temporary)


def _sha256_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    except OSError:
        return None


class Publication:
    """A meeting's files, written beside their targets first and moved into place together.

    A full disk or a failure while writing them replaces nothing (the meeting's outputs
    stay the last good edition, whole); the moves that follow take milliseconds, and
    Ctrl-C or SIGTERM waits until they are done. (Only SIGKILL in those milliseconds
    could leave a mix; the next build puts it right.)
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.moves: list[tuple[Path, Path]] = []

    def add(self, relative: str, data: bytes | str, last: dict | None = None, **facts) -> Artifact:
        """An artifact of the meeting, described for the manifest. A file the last build
        (its manifest record ``last``) wrote with these very bytes, still in place as it
        wrote it, is kept rather than written again."""
        raw = as_bytes(data)
        artifact = Artifact(path=relative, sha256=hashlib.sha256(raw).hexdigest(), **facts)
        if last and last.get("sha256") == artifact.sha256 and _sha256_of(self.folder / relative) == artifact.sha256:
            artifact.written = False
        else:
            self.write(relative, raw)
        return artifact

    def write(self, relative: str, data: bytes | str) -> None:
        path = self.folder / relative
        try:
            self.moves.append((_temporary_beside(path, as_bytes(data)), path))
        except OSError as exc:
            self.discard()
            raise CannotWrite(path, exc) from None

    def commit(self) -> None:
        """Move every file into place, the manifest last; signals wait until it is done."""
        signals = {signal.SIGINT, signal.SIGTERM}
        hold = threading.current_thread() is threading.main_thread()
        if hold:
            signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            for temporary, path in self.moves:
                os.replace(temporary, path)
        except OSError as exc:  # the folder made unwritable meanwhile: what moved stays
            self.discard()
            raise CannotWrite(path, exc) from None
        finally:
            self.moves = []
            if hold:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)

    def discard(self) -> None:
        for temporary, _ in self.moves:
            temporary.unlink(missing_ok=True)
        self.moves = []


def file_mode(path: Path) -> int:
    """The mode a file written over ``path`` gets: the one it has (an owner may have made a
    restricted book unreadable to others), else what the umask allows, as for any new file
    (the temporary file is made 0600 whatever the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it; set back at once
    os.umask(mask)
    return mask


def keep_in_cache(path: Path, data: bytes | str) -> None:
    """Write a cache file if it can be written. A cache only saves time: a full disk or a
    folder not ours to write costs the next build time, not this build its outputs."""
    try:
        write_atomic(path, data)
    except CannotWrite as exc:
        if path.parent not in unwritable_caches:
            unwritable_caches.add(path.parent)
            log.warning("%s: not kept for the next build: %s", path.parent, exc.reason,
                        extra={"event": "cache.not_written"})


def manifest_text(previous: dict, meeting: dict, artifacts: list[Artifact], editions: list[str]) -> str:
    """This build's artifacts for the manifest; the ``previous`` manifest's entries of
    editions not rebuilt this time are kept."""
    kept = [a for a in previous.get("artifacts", []) if a["edition"] not in editions]
    entries = in_agenda_order(kept + [a.record() for a in artifacts], meeting.get("items", []))
    return json.dumps({**meeting, "artifacts": entries}, indent=2) + "\n"


def in_agenda_order(records: list[dict], items: list[str]) -> list[dict]:
    """The book first, then the fact sheets as the agenda orders their items (not by file
    name: 'udcg' would come before 'drone-wall'), each item's HTML before its PDF. The
    index lists them so."""
    position = {item: index for index, item in enumerate(items)}
    return sorted(records, key=lambda a: (a["edition"] != "book", position.get(a["item"], len(items)), a["path"]))


def read_manifest(folder: Path) -> dict:
    """The last build's manifest; {} if there is none, or it is not one briefgen wrote
    (cut short, edited by hand, a folder or a pipe in its place): the meeting is built."""
    manifest = read_json(folder / MANIFEST)
    return manifest if well_formed_manifest(manifest) else {}


STATE_LIMIT = 1 << 30  # bytes: a state file bigger than this was not written by briefgen


def read_json(path: Path):
    """A state file's JSON, or None if it is missing or unreadable (never waits on a pipe)."""
    from .load import read_bytes

    try:
        return json.loads(read_bytes(path, STATE_LIMIT))
    except (OSError, ValueError, RecursionError, BriefgenError):  # RecursionError: nested too deep
        return None


# What every manifest record must hold, and of which types; the other keys are optional.
MANIFEST_FIELDS = {"title": str, "date": str, "artifacts": list}
MANIFEST_OPTIONAL = {"inputs_keys": dict, "inputs": dict, "brief_pages": dict, "page_numbers": (dict, type(None)),
                     "warnings": list, "venue": (str, type(None)), "meeting": str, "source": str,
                     "changes_sha256": (str, type(None)), "language": str, "items": list}
# The fields of an Artifact's record and their types (a test keeps them in step with Artifact).
ARTIFACT_FIELDS = {"path": str, "edition": str, "item": (str, type(None)), "format": str, "label": str,
                   "classification": str, "sha256": str, "pages": (int, type(None)), "build_key": str,
                   "inputs": list}
ARTIFACT_OPTIONAL = {"rows": list, "remarks": list}  # a manifest written before briefgen recorded them is still read


def well_formed_manifest(manifest) -> bool:
    return (isinstance(manifest, dict)
            and all(isinstance(manifest.get(key), kind) for key, kind in MANIFEST_FIELDS.items())
            and all(isinstance(manifest[key], kind) for key, kind in MANIFEST_OPTIONAL.items() if key in manifest)
            and all(well_formed_artifact(record) for record in manifest["artifacts"])
            and all(isinstance(pages, int) for pages in manifest.get("brief_pages", {}).values())
            and all(isinstance(w, dict) and isinstance(w.get("path"), str) and isinstance(w.get("message"), str)
                    and isinstance(w.get("line"), (int, type(None))) for w in manifest.get("warnings", [])))


ARTIFACT_PATH = re.compile(r"book\.(html|pdf)|factsheets/[\w.-]+\.(html|pdf)")  # what a build writes


def well_formed_artifact(record) -> bool:
    fields = {**ARTIFACT_FIELDS, **ARTIFACT_OPTIONAL}
    return (isinstance(record, dict) and set(ARTIFACT_FIELDS) <= set(record) <= set(fields)
            and all(isinstance(record[name], kind) for name, kind in fields.items() if name in record)
            and all(isinstance(remark, str) for remark in record.get("remarks", []))  # told as text
            and bool(ARTIFACT_PATH.fullmatch(record["path"])))


def manifests(out: Path) -> list[dict]:
    """Every meeting manifest under ``out``, the latest meeting first (then by folder name),
    with the relative URL of its folder: a folder named 'javascript:...' must not make a
    link that runs a script. A manifest written before briefgen recorded the meeting's
    language is taken to be in English, as the meeting then was by default."""
    found = []
    for path in sorted(Path(out).glob(f"*/{MANIFEST}")):
        manifest = read_manifest(path.parent)
        if manifest and still_there(path.parent, manifest):
            found.append({"language": "en", **manifest, "artifacts": files_in_place(path.parent, manifest),
                          "name": path.parent.name, "href": "./" + quote(path.parent.name) + "/"})
    return sorted(found, key=lambda manifest: manifest["date"], reverse=True)  # stable: names stay in order


def files_in_place(folder: Path, manifest: dict) -> list[dict]:
    """The manifest's artifacts that are there to link: a book deleted since its build
    stays listed while only the fact sheets are built, and the index links no file that is
    not there."""
    return [record for record in manifest["artifacts"] if (folder / record["path"]).is_file()]


def still_there(folder: Path, manifest: dict) -> bool:
    """The meeting a manifest was built from still exists: one renamed or deleted since is
    left out of the index (its output folder stays until someone deletes it)."""
    source = manifest.get("source")
    return source is None or (folder / source / "meeting.yaml").is_file()
