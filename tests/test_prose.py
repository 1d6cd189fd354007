"""Markdown as pasted prose writes it: fenced code blocks and aligned table columns."""

from __future__ import annotations

from pypdf import PdfReader

from briefgen import pipeline
from briefgen.prose import markdown_to_html

from .conftest import ALPHA_YAML, write_meeting

FENCED = "Log:\n\n```\nline one\n    line two <b>kept as text</b>\n```"
ALIGNED = "| Figure | Count |\n|:--|--:|\n| one | 7 |\n| many | 1234567 |"
LONG_LINE = "start " + "word " * 40 + "end"


def test_a_fenced_code_block_is_a_block_that_keeps_its_lines():
    assert markdown_to_html(FENCED) == (
        "<p>Log:</p>\n<pre><code>line one\n    line two &lt;b&gt;kept as text&lt;/b&gt;\n</code></pre>")


def test_a_table_column_keeps_its_alignment_through_the_sanitiser():
    html = markdown_to_html(ALIGNED)
    assert '<th align="left">Figure</th>' in html and '<td align="right">1234567</td>' in html
    assert "style=" not in html


def test_the_book_lays_code_out_line_by_line_and_honours_a_column_s_alignment(tmp_path):
    background = "\n\n".join([FENCED.replace("line one", "line one\n" + LONG_LINE), ALIGNED])
    alpha = ALPHA_YAML.replace("background: Alpha background paragraph.",
                               "background: |\n" + "".join(f"  {line}\n" for line in background.splitlines()))
    meeting = write_meeting(tmp_path, alpha=alpha)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    page = next(page for page in PdfReader(tmp_path / "out" / "tiny" / "book.pdf").pages
                if "line one" in page.extract_text())
    lines = page.extract_text(extraction_mode="layout").splitlines()
    assert any(line.strip() == "line one" for line in lines)  # not run into the next line
    assert any(line.strip() == "line two <b>kept as text</b>" for line in lines)
    start = next(line for line in lines if "start word" in line)
    assert "end" not in start.split()  # the long line wraps inside the page
    [one] = [line for line in lines if line.strip().startswith("one ")]
    [many] = [line for line in lines if line.strip().startswith("many ")]
    assert one.rindex("7") > many.rindex("1234567") + 6  # right-aligned: six digits further right
