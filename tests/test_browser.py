"""The HTML book in a real browser: headless Chromium at phone width.

Skipped, saying why, where Chromium is not installed; `scripts/install.sh --test`
installs it (the Debian package `chromium`), so CI runs it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or next(
    (path for path in ("/usr/bin/chromium",) if Path(path).is_file()), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: bash scripts/install.sh --test installs it "
                             "(Debian package chromium)")

PHONE = (390, 844)
# Offline and quiet: without these Chromium reaches for the network at start.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--hide-scrollbars", f"--window-size={PHONE[0]},{PHONE[1]}"]

# Follows every contents link as a reader would and records where its section landed.
CHECK_LINKS = """<script>
(function () {
  var found = {width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, links: []};
  document.querySelectorAll('nav.toc a[href^="#"]').forEach(function (link) {
    var id = link.getAttribute("href").slice(1), target = document.getElementById(id);
    window.scrollTo(0, 0);
    link.click();
    var box = target ? target.getBoundingClientRect() : null;
    found.links.push({id: id, exists: !!target, top: box && box.top, scrolled: window.scrollY,
                      height: window.innerHeight});
  });
  var out = document.createElement("pre");
  out.id = "link-check";
  out.textContent = JSON.stringify(found);
  document.body.appendChild(out);
})();
</script>
"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                          capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_phone_width_screenshot_of_the_book(reference_book, tmp_path):
    from PIL import Image

    shot = tmp_path / "book.png"
    chromium(tmp_path, f"--screenshot={shot}", (reference_book / "book.html").as_uri())
    with Image.open(shot) as image:
        assert image.size == PHONE
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 50, "the screenshot is blank"
    assert any(r > 150 and g < 60 and b < 60 for _, (r, g, b) in colours), "no red classification banner"


def test_contents_links_reach_their_sections_at_phone_width(reference_book, tmp_path):
    book = (reference_book / "book.html").read_text(encoding="utf-8")
    page = tmp_path / "book.html"
    page.write_text(book.replace("</body>", CHECK_LINKS + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    found = json.loads(html.unescape(re.search(r'<pre id="link-check">(.*?)</pre>', dom, re.S).group(1)))

    ids = [link["id"] for link in found["links"]]
    assert ids == ["programme", "item-drone-wall", "item-spending-targets", "item-nato-ukraine-council",
                   "item-udcg", "people", "annex"]
    for link in found["links"]:
        assert link["exists"], f"#{link['id']} is not in the page"
        assert link["scrolled"] > 0, f"following #{link['id']} did not move the page"
        assert -2 <= link["top"] < link["height"], f"#{link['id']} is not on screen after its link: {link}"
    assert found["scrollWidth"] <= found["width"], "the page is wider than a phone: something does not wrap"


# How wide the window, the page and its column are, and the widest table, once laid out.
MEASURE_WIDTH = """<script>
(function () {
  var widest = 0;
  document.querySelectorAll("table").forEach(function (t) {
    widest = Math.max(widest, t.getBoundingClientRect().width);
  });
  var out = document.createElement("pre");
  out.id = "width-check";
  out.textContent = JSON.stringify({width: window.innerWidth, page: document.documentElement.scrollWidth,
                                    column: document.body.clientWidth, widest: widest});
  document.body.appendChild(out);
})();
</script>
"""


@pytest.mark.parametrize("window", [PHONE[0], 1280])
def test_a_wide_fact_sheet_table_scrolls_inside_the_page(reference_copy, tmp_path, window):
    """Twelve years of every ally's figures, the web fact sheet's full table: it ran off the
    page, at phone width and on a desktop too, and out of reach to the left in a
    right-to-left sheet. It now scrolls sideways inside the page."""
    from briefgen.jobs import public_factsheets
    from briefgen.render_html import DEFAULT_TEMPLATES
    from briefgen.validate import validate_meeting

    item = reference_copy / "spending-targets.yaml"
    item.write_text(item.read_text(encoding="utf-8").replace(
        "years: [2014, 2021, 2024, 2025]", f"years: {list(range(2014, 2026))}"), encoding="utf-8")
    # the HTML only: its one-page PDF would not hold so many years
    sheets = {item_id: html for item_id, _, _, html, _ in
              public_factsheets(validate_meeting(reference_copy), DEFAULT_TEMPLATES)}
    sheet = sheets["spending-targets"]
    assert ">2017</th>" in sheet
    page = tmp_path / "sheet.html"
    page.write_text(sheet.replace("</body>", MEASURE_WIDTH + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, f"--window-size={window},900", "--dump-dom", page.as_uri()).stdout
    found = json.loads(html.unescape(re.search(r'<pre id="width-check">(.*?)</pre>', dom, re.S).group(1)))
    assert found["page"] <= found["width"], f"the fact sheet is wider than the window: {found}"
    assert found["widest"] <= found["column"], f"a table runs out of the page's column: {found}"
