"""`briefgen serve`: the preview rebuilds on an edit, shows errors, keeps the last good page."""

from __future__ import annotations

import http.client
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from briefgen import pipeline
from briefgen.errors import Problem
from briefgen.serve import Preview, make_server, preview_bar, render_preview

from .conftest import ALPHA_YAML, MEETING_YAML, write_meeting

DEADLINE = 15.0  # seconds a poll may wait; the delays themselves are measured


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=40) as response:
        return response.read().decode("utf-8")


def wait_for(url: str, wanted, deadline: float = DEADLINE) -> tuple[str, float]:
    """Poll ``url`` until ``wanted(page)``; the page and when it came (monotonic)."""
    end = time.monotonic() + deadline
    while True:
        page = get(url)
        if wanted(page):
            return page, time.monotonic()
        assert time.monotonic() < end, "the served page did not change in time"
        time.sleep(0.02)


@pytest.fixture
def served(reference_copy, tmp_path):
    """`briefgen serve` on the reference meeting's copy, on a free port: its URL."""
    command = [sys.executable, "-m", "briefgen", "serve", str(reference_copy), "--port", "0",
               "--out", str(tmp_path / "out")]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=60)
        assert first.startswith("Serving "), first
        yield first.split(" at ")[1].split()[0], process, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_an_edit_shows_within_a_second_and_errors_keep_the_last_good_page(served, reference_copy):
    url, process, lines = served
    book = url + "book.html"
    page = get(book)
    assert "Countering drones on the eastern flank" in page and "briefgen-preview" in page
    assert 'id="briefgen-problems"' not in page

    item = reference_copy / "drone-wall.yaml"
    text = item.read_text(encoding="utf-8")
    edited = text.replace("title: Countering drones on the eastern flank", "title: Drones, edited in preview")
    written = time.monotonic()
    item.write_text(edited, encoding="utf-8")
    page, arrived = wait_for(book, lambda p: "Drones, edited in preview" in p)
    delay = arrived - written
    print(f"reload delay: {delay:.3f} s")
    assert delay < 1.0

    item.write_text(edited.replace("title: Drones, edited in preview", "title: [broken"), encoding="utf-8")
    page, _ = wait_for(book, lambda p: 'id="briefgen-problems"' in p)
    assert "drone-wall.yaml:3: YAML syntax error" in page  # path:line, on the page
    assert "Drones, edited in preview" in page  # the last good content stays

    item.write_text(text, encoding="utf-8")
    page, _ = wait_for(book, lambda p: 'id="briefgen-problems"' not in p)
    assert "Countering drones on the eastern flank" in page

    # the page's script waits on /__reload with the number of the build it shows
    generation = int(get(url + "__reload?since=0").split()[-1].rstrip("}"))
    threading.Timer(0.3, lambda: item.write_text(text + "\n", encoding="utf-8")).start()
    assert int(get(url + f"__reload?since={generation}").split()[-1].rstrip("}")) > generation

    process.send_signal(signal.SIGINT)  # Ctrl-C stops it cleanly
    assert process.wait(timeout=10) == 0
    assert "Stopped." in list(lines.queue)[-1]
    terminal = process.stderr.read()
    assert "drone-wall.yaml:3: YAML syntax error" in terminal and "rebuilt in" in terminal


@pytest.fixture
def tiny_server(tmp_path):
    def start(meeting):
        preview = Preview(meeting, tmp_path / "out", say=lambda text: None)
        preview.rebuild()
        server = make_server(preview, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    servers = []
    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_preview_writes_nothing_into_the_output_folder(tmp_path):
    """It takes no lock there: a build may be writing it, and removing what it finds there
    half-written. Charts a build kept there are read; the preview keeps none."""
    from briefgen.locate import DEFAULT_TEMPLATES
    from briefgen.serve import render_preview

    out = tmp_path / "out"
    pages, _ = render_preview(write_meeting(tmp_path), out, DEFAULT_TEMPLATES)
    assert "data:image/svg+xml;base64," in pages["book.html"]  # its charts were drawn, or read
    assert not out.exists()


def test_the_pdf_link_builds_the_pdf(tmp_path, tiny_server):
    url = tiny_server(write_meeting(tmp_path))
    page = get(url + "factsheets/alpha.html")
    assert 'href="/factsheets/alpha.pdf"' in page and 'href="/book.html"' in page
    with urllib.request.urlopen(url + "factsheets/alpha.pdf", timeout=60) as response:
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.read().startswith(b"%PDF")
    assert (tmp_path / "out" / "tiny" / "book.pdf").is_file()  # the normal build, into --out


def test_a_meeting_broken_from_the_start_shows_its_errors(tmp_path, tiny_server):
    url = tiny_server(write_meeting(tmp_path, alpha=ALPHA_YAML.replace("title: Alpha item on drones\n", "")))
    page = get(url)  # / leads to the book
    assert "alpha.yaml:1: title: missing required field" in page
    with pytest.raises(urllib.error.HTTPError) as error:
        get(url + "book.pdf")
    assert error.value.code == 500 and b"title: missing required field" in error.value.read()


def test_no_built_output_carries_the_preview_script(reference_book):
    assert "__reload" not in (reference_book / "book.html").read_text(encoding="utf-8")


def raw_get(url: str, path: str, host: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    """GET ``path`` as sent, unnormalised, with another Host header if given."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=40)
    connection.putrequest(method, path, skip_host=host is not None)
    if host is not None:
        connection.putheader("Host", host)
    connection.endheaders()
    response = connection.getresponse()
    return response.status, response.read()


def test_the_preview_gives_only_its_own_pdfs(tmp_path, tiny_server):
    elsewhere = tmp_path / "elsewhere.pdf"
    elsewhere.write_bytes(b"%PDF-1.7 not this preview's")
    url = tiny_server(write_meeting(tmp_path))
    status, body = raw_get(url, "/../../elsewhere.pdf")
    assert status == 404 and b"PDF-1.7" not in body
    assert raw_get(url, "/factsheets/no-such-item.pdf")[0] == 404
    assert not (tmp_path / "out" / "tiny" / "manifest.json").exists()  # nor did a request for one start a build


def test_the_preview_answers_only_to_its_own_address(tmp_path, tiny_server):
    url = tiny_server(write_meeting(tmp_path))
    port = urlsplit(url).port
    assert raw_get(url, "/book.html", host=f"rebound.example:{port}") == (
        403, b"this preview answers to its own address only")
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, body = raw_get(url, "/book.html", host=host)
        assert status == 200 and b"briefgen-preview" in body


def test_a_head_request_gets_the_headers_of_a_get_and_no_body(tmp_path, tiny_server):
    url = tiny_server(write_meeting(tmp_path))
    with urllib.request.urlopen(urllib.request.Request(url + "book.html", method="HEAD"), timeout=40) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
        length = int(response.headers["Content-Length"])
        assert response.read() == b""
    assert length == len(get(url + "book.html").encode("utf-8"))
    assert raw_get(url, "/no-such-page.html", method="HEAD") == (404, b"")


def test_the_preview_lists_the_changes_the_next_build_will_and_stores_no_edition(tmp_path):
    meeting, out = write_meeting(tmp_path), tmp_path / "out"
    pages, _ = render_preview(meeting, out, pipeline.DEFAULT_TEMPLATES)
    assert "This is the first edition of this book." in pages["book.html"]
    [result] = pipeline.build([meeting], out, jobs_count=1)
    assert result.ok
    state = (out / "tiny" / ".editions.json").read_bytes()
    (meeting / "meeting.yaml").write_text(MEETING_YAML.replace("venue: Test House", "venue: Other House"))
    pages, _ = render_preview(meeting, out, pipeline.DEFAULT_TEMPLATES)
    assert "Venue changed: Test House → Other House" in re.sub(r"<[^>]+>", "", pages["book.html"])
    assert (out / "tiny" / ".editions.json").read_bytes() == state


def test_the_problems_banner_has_its_colour_and_every_declaration_of_its_style():
    """A style run together ('pre-wrap' + 'border-color:...') loses both declarations:
    the border showed in black, the same for errors and warnings."""
    for severity, colour in (("error", "#a40000"), ("warning", "#8a5a00")):
        bar = preview_bar("m", "book.html", ["book.html"], [Problem(Path("x.yaml"), 3, "wrong", severity)])
        [style] = re.findall(r'id="briefgen-problems"[^>]*style="([^"]*)"', bar)
        declarations = dict(part.split(":", 1) for part in style.split(";") if part)
        assert declarations["border-color"] == colour and declarations["white-space"] == "pre-wrap"
