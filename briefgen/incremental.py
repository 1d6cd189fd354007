"""What makes a build incremental: fingerprints of the inputs and a cache of laid-out parts.

A build key is a hash of everything that shapes an artifact: its YAML, the data files,
the templates and CSS, the project config (scheme, freshness) and the versions of
briefgen and the libraries that draw it. The previous build's keys are in its manifest.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from dataclasses import asdict
from importlib import metadata
from functools import lru_cache
from pathlib import Path

from . import __version__
from .errors import BriefgenError
from .load import load_yaml, read_bytes
from .prose import ASSETS
from .safety import MAX_ASSET_BYTES, UnusablePath, is_file, is_inside
from .locate import DEFAULT_TEMPLATES, find_config, project_root
from .publish import keep_in_cache, read_json
from .render_pdf import Layout

LIBRARIES = ("weasyprint", "pikepdf", "matplotlib", "jinja2", "markdown", "nh3", "pydantic")


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=None)
def versions() -> dict[str, str]:
    """Versions read from package metadata: no import, so no import cost (read once)."""
    found = {"briefgen": __version__, "briefgen-code": code_print()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def code_print() -> str:
    """A hash of briefgen's own modules: an editable install (or a git pull) changes the
    code without changing the version, and a build with other code is another build."""
    package = Path(__file__).parent
    return sha256(b"".join(path.name.encode() + b"\0" + path.read_bytes() for path in sorted(package.glob("*.py"))))


def input_files(meeting_dir: Path, templates: Path, allow_outside_paths: bool = False) -> dict[str, Path]:
    """Every file a meeting's build reads, by a stable name.

    A data file outside the project is left out unless allowed: validation refuses it,
    and nothing should read it before then.
    """
    files = {path.name: path for path in sorted(meeting_dir.glob("*.yaml"))}
    # Kept even when not a regular file (a folder, a FIFO, a dangling link): it is printed
    # as missing, so its coming changes the key and validation, run again, reports it.
    meeting_files = set(files)
    root = project_root(meeting_dir)
    for name, relative in data_paths(meeting_dir / "meeting.yaml").items():
        with contextlib.suppress(UnusablePath):  # validation says what is wrong with it
            if allow_outside_paths or is_inside(meeting_dir / relative, root):
                files[f"data:{name}"] = meeting_dir / relative
    config = find_config(meeting_dir)
    if config:
        files["config"] = config
    for path in sorted(templates.rglob("*")):
        files[f"templates:{path.relative_to(templates)}"] = path
    if templates.resolve() != DEFAULT_TEMPLATES.resolve():  # a user's folder falls back on them
        for path in sorted(DEFAULT_TEMPLATES.rglob("*")):
            files[f"builtin-templates:{path.relative_to(DEFAULT_TEMPLATES)}"] = path
    for path in sorted((meeting_dir / ASSETS).rglob("*")):
        files[f"assets:{path.relative_to(meeting_dir / ASSETS)}"] = path
    return {name: path for name, path in files.items() if name in meeting_files or is_file(path)}


def data_paths(meeting_yaml: Path) -> dict[str, str]:
    """The data: paths of a meeting, read without validating (validation comes later)."""
    try:
        paths = load_yaml(meeting_yaml).get("data") or {}
        return {str(k): str(v) for k, v in paths.items() if isinstance(v, str)}
    except (BriefgenError, AttributeError):
        return {}


def fingerprint(meeting_dir: Path, templates: Path, allow_outside_paths: bool = False) -> dict[str, str]:
    """Name -> sha256 of every input, plus the library versions."""
    prints = {}
    for name, path in input_files(meeting_dir, templates, allow_outside_paths).items():
        try:
            prints[name] = sha256(read_bytes(path, MAX_ASSET_BYTES))
        except (OSError, BriefgenError):
            prints[name] = "missing"  # validation says why
    prints.update({f"version:{k}": v for k, v in versions().items()})
    return prints


def key_of(prints: dict[str, str], names=None) -> str:
    """One key from the fingerprints of ``names`` (default: all)."""
    chosen = {k: v for k, v in prints.items() if names is None or k in names}
    return sha256(json.dumps(chosen, sort_keys=True))


def factsheet_inputs(prints: dict[str, str], item_file: str) -> list[str]:
    """A fact sheet reads its own item, the meeting, the data, config, templates, versions."""
    return [name for name in prints
            if name == item_file or name == "meeting.yaml" or not name.endswith(".yaml")]


def layout_from(record: dict) -> Layout:
    """A kept layout, rebuilt field by field: anything not of the shape ``put`` writes raises."""
    pdf = base64.b64decode(record["pdf"], validate=True)
    if not pdf.startswith(b"%PDF-"):
        raise ValueError("not a PDF")
    width, height = (float(value) for value in record["page_size"])
    return Layout(
        pdf=pdf, page_size=(width, height),
        levels=[[text(name) for name in page] for page in record["levels"]],
        bookmarks=[(int(level), text(label), int(page), float(top)) for level, label, page, top in record["bookmarks"]],
        anchors={text(anchor): int(page) for anchor, page in record["anchors"].items()},
        used_mm_after_first=float(record["used_mm_after_first"]), text=text(record["text"]),
        remarks=[text(remark) for remark in record["remarks"]])


def text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not text")
    return value


class PartCache:
    """Laid-out parts of books, kept between builds under ``<meeting>/.cache/``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: set[str] = set()

    def get(self, key: str) -> Layout | None:
        """The layout kept under ``key``; None if there is none, or it is not whole."""
        self.used.add(key)
        try:
            return layout_from(read_json(self.folder / f"{key}.json"))
        except (TypeError, ValueError, KeyError, AttributeError):  # cut short, or edited by hand
            return None

    def put(self, key: str, layout: Layout) -> None:
        self.used.add(key)
        record = asdict(layout)
        record["pdf"] = base64.b64encode(layout.pdf).decode("ascii")
        keep_in_cache(self.folder / f"{key}.json", json.dumps(record))

    def prune(self) -> None:
        """Forget parts this build did not use, so the cache does not grow without end."""
        for path in self.folder.glob("*.json"):
            if path.stem not in self.used:
                path.unlink(missing_ok=True)
