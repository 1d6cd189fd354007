"""``briefgen serve``: a live preview of one meeting's book and fact sheets, as HTML.

The shape of mkdocs' ``serve``: build once, watch the inputs, rebuild on a change and
tell the browser to reload. Only the HTML editions are rendered (no WeasyPrint: a
rebuild of the reference meeting takes a fraction of a second); a PDF is built on
demand, by the normal incremental build into the output folder, when the page's PDF
link is followed.

Each served page gets a small bar (links, and the problems of the last rebuild) and a
script that long-polls ``/__reload`` with the number of the build it shows, reloading
when a newer one exists. Built outputs never carry either. A rebuild that fails keeps
the last good pages and shows why, on the page and in the terminal.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from .errors import BriefgenError, Problem
from .incremental import input_files
from .locate import DEFAULT_TEMPLATES, meeting_name
from .safety import Policy

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1  # how often the inputs are looked at
LONG_POLL_SECONDS = 25  # a browser's reload request is answered at the latest after this
RELOAD_PATH = "/__reload"


def render_preview(meeting: Path, out: Path, templates: Path,
                   policy: Policy = Policy()) -> tuple[dict[str, str], list[Problem]]:
    """The HTML of the book and every fact sheet, by URL path, and the warnings.

    In time: a user's template that loops is stopped at the time limit, as in a build.
    """
    from .charts import keep_charts_in
    from .jobs import changes_since_last_edition, in_time, public_factsheets, staff_book
    from .render_html import render_book
    from .validate import validate_meeting

    folder = out / meeting_name(meeting)
    # a build's kept charts are read, and none written: the output folder is the builds',
    # one at a time under its lock, which the preview does not take
    keep_charts_in(folder / ".cache" / "charts", write=False)
    with in_time(meeting, policy, "rendering the preview"):
        valid = validate_meeting(meeting, policy=policy)
        book = staff_book(valid)
        # the changes the next build's book will list; the preview stores no edition
        changes, _ = changes_since_last_edition(valid, book, folder)
        pages = {"book.html": render_book(book, templates, changes=changes)}
        for item, _, _, page, _ in public_factsheets(valid, templates):
            pages[f"factsheets/{item}.html"] = page
    return pages, list(valid.warnings)


class Preview:
    """The pages of the last good build, the problems of the last build, and its number."""

    def __init__(self, meeting: Path, out: Path, templates: Path = DEFAULT_TEMPLATES, policy: Policy = Policy(),
                 say=print, wait: float = 0.0):
        self.meeting, self.out, self.templates, self.policy = Path(meeting), Path(out), Path(templates), policy
        self.wait = wait  # seconds a PDF's build waits for another build writing to ``out``
        self.say = say  # the terminal's side of a rebuild
        self.pages: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.generation = 0
        self.changed = threading.Condition()
        self.pdf_lock = threading.Lock()

    def rebuild(self) -> None:
        started = time.monotonic()
        pages = None
        try:
            pages, problems = render_preview(self.meeting, self.out, self.templates, self.policy)
        except BriefgenError as exc:
            problems = exc.problems
        except Exception as exc:  # a bug in briefgen: shown, and the preview keeps watching
            log.debug("rebuild failed", exc_info=True)
            problems = [Problem(self.meeting, None, f"internal error: {type(exc).__name__}: {exc}")]
        with self.changed:
            self.pages = pages if pages is not None else self.pages
            self.problems = problems
            self.generation += 1
            self.changed.notify_all()
        for problem in problems:
            self.say(str(problem))
        if pages is None:
            self.say("not rebuilt: the preview keeps the last good version")
        else:
            self.say(f"rebuilt in {time.monotonic() - started:.2f} s")

    def wait_for_change(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.generation != seen, timeout)
            return self.generation

    def page(self, path: str) -> str | None:
        """A page with the preview bar and the reload script; None if there is no such page."""
        with self.changed:
            source, problems, generation = self.pages.get(path), list(self.problems), self.generation
            names = sorted(self.pages)
        if source is None and (self.pages or not problems):
            return None
        source = source or EMPTY_PAGE
        bar = preview_bar(self.meeting.name, path, names, problems)
        source = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + bar, source, count=1)
        return source.replace("</body>", RELOAD_SCRIPT.replace("GENERATION", str(generation)) + "</body>", 1)

    def has_pdf(self, path: str) -> bool:
        """Only the meeting's own PDFs: the book (whose build shows why it cannot be built,
        if so) and the fact sheets shown."""
        with self.changed:
            return path == "book.pdf" or (path.endswith(".pdf") and path.removesuffix(".pdf") + ".html" in self.pages)

    def pdf(self, path: str) -> tuple[bytes | None, list[Problem]]:
        """Build the meeting (incrementally) and read one PDF of it."""
        from . import pipeline

        with self.pdf_lock:
            [result] = pipeline.build([self.meeting], self.out, templates=self.templates, policy=self.policy,
                                      wait=self.wait, waiting=lambda message, holder: self.say(f"briefgen: {message}"))
        target = self.out / self.meeting.name / path
        if not result.ok or not target.is_file():
            return None, result.problems or [Problem(self.meeting, None, f"no {path} in this meeting")]
        return target.read_bytes(), result.problems


def preview_bar(meeting: str, current: str, names: list[str], problems: list[Problem]) -> str:
    """Links to every page, the PDF of this one, and the problems of the last rebuild."""
    links = [f'<a href="/{name}"{" aria-current=page" if name == current else ""}>'
             f'{"Book" if name == "book.html" else html.escape(Path(name).stem)}</a>' for name in names]
    pdf = current.removesuffix(".html") + ".pdf"
    # briefgen's English, and paths: left to right in a right-to-left book too
    bar = (f'<div id="briefgen-preview" dir="ltr" style="{BAR_STYLE}">Preview of {html.escape(meeting)} · '
           f'{" · ".join(links)} · <a href="/{html.escape(pdf)}">PDF of this page</a></div>')
    if problems:
        errors = any(p.severity == "error" for p in problems)
        title = ("This preview is out of date: the last change has errors" if errors
                 else "Warnings")
        lines = "".join(f"<li>{html.escape(str(p))}</li>" for p in problems)
        colour = "#a40000" if errors else "#8a5a00"
        bar += (f'<div id="briefgen-problems" role="alert" dir="ltr" style="{PROBLEMS_STYLE}border-color:{colour}">'
                f'<strong style="color:{colour}">{title}</strong><ul>{lines}</ul></div>')
    return bar + ("<style>#briefgen-preview a { color: #fff; } "
                  "@media print { #briefgen-preview, #briefgen-problems { display: none; } }</style>")


BAR_STYLE = ("font:14px/1.4 sans-serif;background:#0b2545;color:#fff;padding:.4em .8em;"
             "position:sticky;top:0;z-index:10;overflow-x:auto;white-space:nowrap")
PROBLEMS_STYLE = ("font:13px/1.4 monospace;background:#fff8e6;border:2px solid;padding:.5em .8em;"
                  "margin:.5em 0;overflow-x:auto;white-space:pre-wrap;")
EMPTY_PAGE = "<!DOCTYPE html><html><head><meta charset=utf-8><title>briefgen preview</title></head><body></body></html>"
RELOAD_SCRIPT = """<script>
(function poll(seen) {
  fetch("/__reload?since=" + seen).then(function (r) { return r.json(); }).then(function (d) {
    if (d.generation !== seen) { location.reload(); } else { poll(seen); }
  }).catch(function () { setTimeout(function () { poll(seen); }, 1000); });
})(GENERATION);
</script>
"""


class Watcher:
    """Looks at the inputs' modification times every POLL_SECONDS; rebuilds on a change.

    It runs in the main thread, the only one where the time limit's alarm can stop a
    rebuild; the server answers the browser from its own thread meanwhile.
    """

    def __init__(self, preview: Preview):
        self.preview = preview
        # the inputs as they are now, before the first build: an edit made during it is seen
        self.seen = self.inputs()

    def inputs(self) -> dict[str, tuple[int, int] | None]:
        preview = self.preview
        return stamps(preview.meeting, preview.templates, preview.policy.allow_outside_paths)

    def run(self) -> None:
        while True:
            time.sleep(POLL_SECONDS)
            now = self.inputs()
            if now != self.seen:
                self.seen = now
                self.preview.rebuild()


def stamps(meeting: Path, templates: Path, allow_outside_paths: bool = False) -> dict[str, tuple[int, int] | None]:
    """Modification time and size of every input: YAML, data, templates, briefgen.yaml."""
    found = {}
    for name, path in input_files(meeting, templates, allow_outside_paths).items():
        try:
            info = path.stat()
            found[name] = (info.st_mtime_ns, info.st_size)
        except OSError:
            found[name] = None
    return found


class Handler(BaseHTTPRequestHandler):
    preview: Preview  # set on the subclass made for each server
    head_only = False  # a HEAD request: the headers a GET would have, no body

    def do_HEAD(self) -> None:  # noqa: N802 (link checkers and some browsers ask before they fetch)
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        url = urlsplit(self.path)
        path = url.path.lstrip("/")
        if not self.host_allowed():
            self.reply("this preview answers to its own address only", "text/plain", HTTPStatus.FORBIDDEN)
        elif url.path == "/":
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", "/book.html")
            self.end_headers()
        elif url.path == RELOAD_PATH:
            seen = int((parse_qs(url.query).get("since") or ["0"])[0] or 0)
            generation = self.preview.wait_for_change(seen, LONG_POLL_SECONDS)
            self.reply(json.dumps({"generation": generation}), "application/json")
        elif self.preview.has_pdf(path):
            self.send_pdf(path)
        else:
            page = self.preview.page(path)
            if page is None:
                self.reply(f"no page {html.escape(path)} in this preview", "text/plain", HTTPStatus.NOT_FOUND)
            else:
                self.reply(page, "text/html")

    def host_allowed(self) -> bool:
        """A preview on a loopback address answers only to that address, so a web page whose
        name someone points at 127.0.0.1 (DNS rebinding) cannot read the book through it."""
        bound, port = self.server.server_address[:2]
        if not ipaddress.ip_address(bound).is_loopback:  # --host opened it to others on purpose
            return True
        return self.headers.get("Host", "") in {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    def send_pdf(self, path: str) -> None:
        from .publish import CannotWrite, OutputBusy

        try:
            data, problems = self.preview.pdf(path)
        except OutputBusy as exc:
            self.reply(str(exc), "text/plain", HTTPStatus.SERVICE_UNAVAILABLE)
            return
        except CannotWrite as exc:  # the output folder itself
            data, problems = None, exc.problems
        if data is None:
            lines = "\n".join(str(p) for p in problems)
            self.reply(f"{path} was not built:\n{lines}", "text/plain", HTTPStatus.INTERNAL_SERVER_ERROR)
        else:
            self.reply(data, "application/pdf")

    def reply(self, body: str | bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text") else ""))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.head_only:
            return
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the browser left: nothing to tell
            pass

    def log_message(self, format: str, *args) -> None:  # requests are not news
        log.debug(format, *args)


def make_server(preview: Preview, host: str, port: int) -> ThreadingHTTPServer:
    handler = type("PreviewHandler", (Handler,), {"preview": preview})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True  # a waiting reload request does not hold up Ctrl-C
    return server


def serve_forever(preview: Preview, server: ThreadingHTTPServer, announce=print) -> None:
    """Build, then serve and watch until interrupted (Ctrl-C)."""
    watcher = Watcher(preview)
    preview.rebuild()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True,
                     name="briefgen-server").start()
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(f"Serving {preview.meeting} at http://{shown}:{port}/ (Ctrl-C to stop)")
    try:
        watcher.run()
    except KeyboardInterrupt:
        announce("Stopped.")
    finally:
        server.shutdown()
        server.server_close()
