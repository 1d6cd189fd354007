"""The corpus of bad and hostile inputs in tests/hostile/, each with its expected outcome.

``hostile/cases.yaml`` lists every case: how it is run (``check``, ``build``, or ``html``:
the meeting rendered to HTML without layout), its exit status and the one
``path:line: message`` line it must print. A case's folder holds the files that replace
those of the tiny test meeting (``templates/`` becomes ``--templates``); a few cases are
made here instead (``GENERATED``), being large, links or pipes.

For every case: the exit status, the message, no traceback. A failing case is also built
over a good earlier build, whose outputs must stay byte for byte. Whatever a case writes
is inspected: no script, event handler or ``javascript:`` in the HTML; no text of the
secret file outside the project and no attached file in a PDF; and no connection to the
listener on 127.0.0.1 that every URL in the corpus points at.
"""

from __future__ import annotations

import html as html_module
import io
import os
import re
import shutil
import socket
import struct
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from pypdf import PdfReader

from briefgen import jobs, pipeline
from briefgen.cli import main
from briefgen.locate import DEFAULT_TEMPLATES

from .conftest import BETA_YAML, INCIDENTS_CSV, write_meeting
from .test_nightly import snapshot

CORPUS = Path(__file__).parent / "hostile"
TEXT_FILES = (".yaml", ".csv", ".html", ".txt", ".svg")


@dataclass
class Case:
    case: str
    run: str  # check | build | html
    exit: int = 0
    expect: str | list[str] | None = None  # whole stderr lines, paths relative to the project folder
    args: list[str] = field(default_factory=list)
    html_has: list[str] = field(default_factory=list)  # text the HTML must show, unescaped
    html_lacks: list[str] = field(default_factory=list)
    about: str = ""


CASES = [Case(**entry) for entry in yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))]


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections it is offered."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.count += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture(scope="module")
def listener():
    found = Listener()
    yield found
    found.close()


def test_the_listener_counts_a_connection():
    found = Listener()
    try:
        socket.create_connection(("127.0.0.1", found.port), timeout=2).close()
        for _ in range(50):
            if found.count:
                break
            threading.Event().wait(0.05)
        assert found.count == 1
    finally:
        found.close()


@pytest.fixture(scope="module")
def earlier_build(tmp_path_factory) -> Path:
    """The tiny meeting built once, good: each failing case must leave this intact."""
    root = tmp_path_factory.mktemp("earlier")
    out = root / "out"
    [result] = pipeline.build([write_meeting(root / "project")], out, jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    return out


@dataclass
class World:
    """One case's project folder, its meeting, and the secret just outside the project."""

    root: Path
    port: int

    def __post_init__(self):
        self.project = self.root / "project"
        self.meeting = write_meeting(self.project)
        self.marker = f"SECRET-{uuid.uuid4().hex}"
        self.secret = self.root / "secret.txt"
        self.secret.write_text(f"{self.marker}\n", encoding="utf-8")
        self.outside = self.root / "outside"
        self.outside.mkdir()
        (self.outside / "incidents.csv").write_text(INCIDENTS_CSV, encoding="utf-8")
        self.templates = self.project / "templates"

    def fill(self, text: str) -> str:
        return (text.replace("@SECRET@", str(self.secret)).replace("@OUTSIDE@", str(self.outside))
                .replace("@PORT@", str(self.port)))

    def plain(self, text: str) -> str:
        """Output with this machine's paths and port replaced, to compare with cases.yaml."""
        for path, name in ((self.secret, "<secret>"), (self.outside, "<outside>")):
            text = self.uncut(text, path, name)
        return (text.replace(f"{self.project}/", "").replace(str(self.project), "<project>")
                .replace(str(self.secret), "<secret>").replace(str(self.outside), "<outside>")
                .replace(str(self.port), "<port>"))

    def uncut(self, text: str, path: Path, name: str) -> str:
        """``path`` cut short in a message ('…/secret.t…': quoted values have a length
        limit, which a long temporary folder reaches) as ``name``, as if whole."""
        whole = str(path)
        for end in range(len(whole) - 1, len(str(self.root)), -1):
            text = text.replace(whole[:end] + "…", name)
        return text


def apply_case(case: Case, world: World) -> None:
    folder = CORPUS / case.case
    for source in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if source.is_dir():
            continue
        relative = source.relative_to(folder)
        target = (world.project if relative.parts[0] == "templates" else world.meeting) / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = source.read_bytes()
        if source.suffix in TEXT_FILES and data.isascii():
            data = world.fill(data.decode("ascii")).encode("utf-8")
        target.write_bytes(data)
    if case.case in GENERATED:
        GENERATED[case.case](world)


# A garbage-collection callback (hypothesis installs one) swallows an alarm that lands in it;
# the repeated alarm then gets through, and Python reports the swallowed one as a warning.
TIMED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("case", [pytest.param(c, id=c.case, marks=[TIMED] if "--time-limit" in c.args else [])
                                  for c in CASES])
def test_case(case: Case, tmp_path, listener, earlier_build):
    world = World(tmp_path.resolve(), listener.port)
    apply_case(case, world)
    if case.run == "html":
        outputs = render_html(world)
    else:
        outputs = run_cli(case, world, earlier_build)
    for name, data in outputs.items():
        inspect(name, data, case, world)
    assert listener.count == 0, "a connection reached the listener"


def run_cli(case: Case, world: World, earlier_build: Path) -> dict[str, bytes]:
    """Run the case's command; a failing case runs `build` too, over the earlier build."""
    invoke(case.run, case, world, earlier_build)  # checks the exit status and the message
    if case.run == "check" and case.exit == 0:
        return {}
    if case.run == "check":
        invoke("build", case, world, earlier_build)
    out = world.root / "out"
    if case.exit != 0:  # the outputs are the earlier, good ones
        assert snapshot(out) == snapshot(earlier_build), "a failed build changed earlier outputs"
        return {}
    return snapshot(out)


def invoke(command: str, case: Case, world: World, earlier_build: Path):
    args = [command, str(world.meeting), *case.args]
    if command == "build":
        out = world.root / "out"
        if not out.exists():
            shutil.copytree(earlier_build, out)
        args += ["--out", str(out), "--jobs", "1"]
        if world.templates.is_dir():
            args += ["--templates", str(world.templates)]
    result = CliRunner().invoke(main, args)
    output = world.plain(result.output + result.stderr)
    assert "Traceback" not in output and result.exit_code != 3, output
    assert result.exit_code == case.exit, output
    if case.expect:
        lines = [world.plain(line) for line in result.stderr.splitlines()]
        for expected in [case.expect] if isinstance(case.expect, str) else case.expect:
            assert expected in lines, "\n".join(lines)
    return result


def render_html(world: World) -> dict[str, bytes]:
    """The meeting's book and fact sheets as HTML, without laying them out."""
    prepared = jobs.prepare(str(world.meeting), str(world.root / "out" / "tiny"), pipeline.EDITIONS,
                            str(DEFAULT_TEMPLATES), False)
    pages = {"book.html": prepared.book_html, **{f"factsheets/{s.item}.html": s.html for s in prepared.factsheets}}
    pages.update({f"part-{name}.html": html for name, html in prepared.parts})
    return {name: html.encode("utf-8") for name, html in pages.items()}


FORBIDDEN_TAGS = {"script", "style", "iframe", "object", "embed", "form", "input", "svg", "link", "frame", "base"}
FETCHED = re.compile(r"""^\s*(?:https?|file|ftp):|url\(\s*["']?\s*(?:https?|file|ftp):|@import""", re.IGNORECASE)


class Page(HTMLParser):
    """The tags, attributes and style sheets of an HTML page, as a browser parses them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data):
        if self.tags and self.tags[-1][0] == "style":
            self.styles.append(data)


def inspect(name: str, data: bytes, case: Case, world: World) -> None:
    if name.endswith(".html"):
        inspect_html(name, data.decode("utf-8"), case)
    elif name.endswith(".pdf"):
        inspect_pdf(name, data, world)
    assert world.marker.encode() not in data, f"{name} holds the secret"


def inspect_html(name: str, html: str, case: Case) -> None:
    assert "<script" not in html.lower() and "javascript:" not in html.lower(), name
    page = Page(html)
    styles = [tag for tag, _ in page.tags if tag == "style"]
    assert len(styles) <= 1, f"{name}: a <style> besides the template's own"
    for tag, attrs in page.tags:
        assert tag == "style" or tag not in FORBIDDEN_TAGS, f"{name}: <{tag}>"
        assert not [a for a in attrs if a.startswith("on")], f"{name}: <{tag} {attrs}>"
        fetched = [attrs.get(a, "") for a in ("src", "data", "action", "style", "background", "poster")]
        assert not [v for v in fetched if FETCHED.search(v)], f"{name}: <{tag} {attrs}>"
        assert not attrs.get("href", "").lower().startswith("file:"), f"{name}: <{tag} {attrs}>"
        assert "attachment" not in attrs.get("rel", ""), f"{name}: <{tag} {attrs}>"
    assert not [css for css in page.styles if FETCHED.search(css)], f"{name}: its style sheet fetches"
    shown = html_module.unescape(html)
    if name.endswith("book.html"):
        for text in case.html_has:
            assert text in shown, f"{name} lacks {text!r}"
    for text in case.html_lacks:
        assert text not in shown, f"{name} shows {text!r}"


def inspect_pdf(name: str, data: bytes, world: World) -> None:
    reader = PdfReader(io.BytesIO(data))
    names = reader.trailer["/Root"].get("/Names")
    assert names is None or "/EmbeddedFiles" not in names.get_object(), f"{name} embeds files"
    for page in reader.pages:
        annotations = [a.get_object() for a in page.get("/Annots") or []]
        assert not [a for a in annotations if a.get("/Subtype") == "/FileAttachment"], f"{name} attaches a file"
        uris = [str(a["/A"].get("/URI", "")) for a in annotations if "/A" in a]
        assert not [uri for uri in uris if not uri.startswith(("https:", "http:", "mailto:"))], f"{name}: {uris}"
        assert world.marker not in page.extract_text(), f"{name} shows the secret"


# --- cases made here: large files, links and pipes do not belong in the repository

def _oversized(world: World) -> None:
    (world.meeting / "alpha.yaml").write_text("title: Big\n# " + "x" * 2_000_100 + "\n", encoding="utf-8")


def _nested_deep_enough_to_crash_a_parser(world: World) -> None:
    (world.meeting / "alpha.yaml").write_text("title: Deep\nobjectives: " + "[" * 100_000 + "]" * 100_000 + "\n")


def _long_text_repeated(world: World) -> None:
    text = "word " * 20_000  # 100 KB, named 30 times: 3 MB from a file of 100 KB
    aliases = "".join("  - *long\n" for _ in range(30))
    (world.meeting / "alpha.yaml").write_text(f"title: Long\npurpose: &long {text}\nbackground:\n{aliases}")


def _pipe(world: World) -> None:
    (world.meeting / "alpha.yaml").unlink()
    os.mkfifo(world.meeting / "alpha.yaml")  # reading it would wait for a writer forever


def _many_items(world: World) -> None:
    for number in range(201):
        (world.meeting / f"extra-{number:03}.yaml").write_text(BETA_YAML, encoding="utf-8")


def _huge_csv_field(world: World) -> None:
    (world.meeting / "data" / "incidents.csv").write_text(
        INCIDENTS_CSV.replace('"Drones over Poland."', '"' + "drone " * 30_000 + '"'), encoding="utf-8")


def _png(width: int, height: int) -> bytes:
    """A black-and-white PNG of one colour: a few kilobytes, however many pixels it declares."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = zlib.compress((b"\0" * (1 + (width + 7) // 8)) * height, 9)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def _asset(world: World, name: str, data: bytes) -> None:
    (world.meeting / "assets").mkdir(exist_ok=True)
    (world.meeting / "assets" / name).write_bytes(data)
    _image_alpha(world, f"assets/{name}")


def _link(world: World, link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(target)


def _outside_item(world: World) -> None:
    (world.root / "gamma.yaml").write_text(f"title: {world.marker}\n", encoding="utf-8")
    _link(world, world.meeting / "gamma.yaml", world.root / "gamma.yaml")


def _alpha_background(world: World, markdown: str) -> None:
    path = world.meeting / "alpha.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("background: Alpha background paragraph.", f"background: '{markdown}'"))


def _image_alpha(world: World, src: str) -> None:
    _alpha_background(world, f"![leak]({src})")
    with open(world.meeting / "alpha.yaml", "a", encoding="utf-8") as alpha:
        alpha.write("classification: PUBLIC  # an image is named in a message from public prose only\n")


def _in_place_of(world: World, path: Path, make) -> None:
    """``make`` (mkdir, mkfifo) at ``path``, where a file was or is named."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    make(path)


GENERATED = {
    "item-id-case-twin": lambda w: (w.meeting / "Alpha.yaml").write_text(BETA_YAML, encoding="utf-8"),
    "item-id-windows-device": lambda w: (w.meeting / "aux.yaml").write_text(BETA_YAML, encoding="utf-8"),
    "item-file-name-bidi": lambda w: (w.meeting / "al\u202epha.yaml").write_text(BETA_YAML, encoding="utf-8"),
    "data-path-folder": lambda w: _in_place_of(w, w.meeting / "data" / "incidents.csv", Path.mkdir),
    "data-path-fifo": lambda w: _in_place_of(w, w.meeting / "data" / "incidents.csv", os.mkfifo),
    "image-folder": lambda w: (_in_place_of(w, w.meeting / "assets" / "map.png", Path.mkdir),
                               _image_alpha(w, "assets/map.png")),
    "image-fifo": lambda w: (_in_place_of(w, w.meeting / "assets" / "map.png", os.mkfifo),
                             _image_alpha(w, "assets/map.png")),
    "yaml-oversized": _oversized,
    "yaml-nesting-crash": _nested_deep_enough_to_crash_a_parser,
    "yaml-fifo": _pipe,
    "yaml-alias-long-text": _long_text_repeated,
    "too-many-items": _many_items,
    "csv-huge-field": _huge_csv_field,
    "data-symlink-out": lambda w: _link(w, w.meeting / "data" / "incidents.csv", w.secret),
    "item-symlink-out": _outside_item,
    "image-symlink-out": lambda w: (_link(w, w.meeting / "assets" / "leak.png", w.secret),
                                    _image_alpha(w, "assets/leak.png")),
    "image-assets-folder-linked-out": lambda w: (_link(w, w.meeting / "assets", w.root),
                                                 _image_alpha(w, "assets/secret.txt")),
    "image-pixel-bomb": lambda w: _asset(w, "map.png", _png(6000, 6000)),
    "image-damaged": lambda w: _asset(w, "map.png", _png(60, 60)[:40]),
    "prose-deep-emphasis": lambda w: _alpha_background(w, "<em>" * 2000 + "deep" + "</em>" * 2000),
    "prose-deep-quotes": lambda w: _alpha_background(w, ">" * 3000 + " deep"),
    "prose-deep-tables": lambda w: _alpha_background(w, "<table><tr><td>" * 100 + "deep" + "</td></tr></table>" * 100),
    "template-symlink-out": lambda w: (_link(w, w.templates / "leak.html", w.secret),
                                       (w.templates / "factsheet.html").write_text("{% include 'leak.html' %}")),
}


def test_every_case_has_an_expected_outcome():
    named = {c.case for c in CASES}
    folders = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert folders <= named and set(GENERATED) <= named
    assert all(c.case in folders or c.case in GENERATED for c in CASES)
    assert len(CASES) >= 40
