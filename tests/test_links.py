"""Anchors and links inside the book: unique anchors, and prose links that reach other parts."""

from __future__ import annotations

import re

from pypdf import PdfReader

from briefgen import pipeline
from briefgen.jobs import staff_book
from briefgen.locate import DEFAULT_TEMPLATES
from briefgen.render_html import render_book
from briefgen.validate import validate_meeting

from .conftest import ALPHA_YAML, BETA_YAML, MEETING_YAML, write_meeting

LINKING = ALPHA_YAML.replace("background: Alpha background paragraph.",
                             "background: 'See [the beta item](#item-beta), [who is who](#people) and "
                             "[our purpose](#item-alpha/purpose).'")


def test_anchors_are_unique_whatever_the_item_ids(tmp_path):
    """An item named after another's section ('alpha-purpose') must not share its anchor."""
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("[alpha, beta]", "[alpha, beta, alpha-purpose]"))
    (meeting / "alpha-purpose.yaml").write_text(BETA_YAML, encoding="utf-8")
    ids = re.findall(r'\sid="([^"]*)"', render_book(staff_book(validate_meeting(meeting))))
    assert "item-alpha-purpose" in ids and "item-alpha/purpose" in ids
    assert len(ids) == len(set(ids))


def link_pages(reader: PdfReader, page: int) -> list[int]:
    """The pages the links on ``page`` (0-based) go to, 0-based."""
    found = []
    for annotation in reader.pages[page].get("/Annots", []):
        annotation = annotation.get_object()
        dest = annotation.get("/Dest") or annotation.get("/A", {}).get("/D")
        if isinstance(dest, str):
            dest = reader.named_destinations[dest].page
        if dest is not None:
            found.append(reader.get_page_number(dest[0].get_object() if isinstance(dest, list) else dest))
    return found


def test_prose_links_to_other_parts_of_the_book_work_in_the_pdf(tmp_path, recwarn):
    meeting = write_meeting(tmp_path, alpha=LINKING)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert not [w for w in recwarn if "PageCopyWarning" in str(w.category)]  # stderr is the log's
    assert result.ok and not result.problems, [str(p) for p in result.problems]
    reader = PdfReader(tmp_path / "out" / "tiny" / "book.pdf")
    texts = [page.extract_text() for page in reader.pages]
    linking = next(n for n, text in enumerate(texts) if "See the beta item" in text)
    beta = next(n for n, text in enumerate(texts) if "Beta item on spending" in text and "Purpose" in text)
    people = next(n for n, text in enumerate(texts) if "Ann Example" in text and "Who" in text)
    alpha = next(n for n, text in enumerate(texts) if "Decide the alpha question" in text)
    assert {beta, people, alpha} <= set(link_pages(reader, linking))


HINT = "the book has no such anchor (its anchors: #item-<id>, #item-<id>/<section>, #programme, #people, #annex)"


def broken_links(level: str) -> str:
    """LINKING with two links going nowhere, in a background marked ``level``."""
    broken = LINKING.replace("(#item-beta)", "(#item-gamma)").replace("(#people)", "(#peeple)")
    return broken.replace("background: 'See", "background: {text: 'See").replace(
        "(#item-alpha/purpose).'", f"(#item-alpha/purpose).', classification: {level}}}")


def test_a_link_that_goes_nowhere_is_a_warning_at_its_line(tmp_path):
    broken = broken_links("PUBLIC")
    meeting = write_meeting(tmp_path, alpha=broken)
    line = broken.splitlines().index(next(l for l in broken.splitlines() if "#item-gamma" in l)) + 1
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok
    assert [str(p) for p in result.problems] == [
        f"{meeting / 'alpha.yaml'}:{line}: warning: background.0: the link to '#{target}' goes nowhere: "
        f"{HINT} [prose-link]" for target in ("item-gamma", "peeple")]
    [strict] = pipeline.build([meeting], tmp_path / "strict", editions=("book",), jobs_count=1, strict=True)
    assert not strict.ok and not (tmp_path / "strict" / "tiny" / "book.pdf").exists()
    assert [p.severity for p in strict.problems] == ["error", "error"]


def test_a_link_going_nowhere_from_restricted_prose_is_not_quoted(tmp_path):
    """The anchor is the writer's text: messages reach logs not cleared for restricted text."""
    broken = broken_links("NATO RESTRICTED").replace("#item-gamma", "#operation-nightjar")
    meeting = write_meeting(tmp_path, alpha=broken)
    [result] = pipeline.check([meeting], templates=DEFAULT_TEMPLATES)
    messages = [str(p) for p in result.problems if "[prose-link]" in str(p)]
    assert len(messages) == 2 and not [m for m in messages if "nightjar" in m or "peeple" in m]
    assert messages[0].endswith(f"alpha.yaml:9: warning: background.0: the link to [not shown: a NATO "
                                f"RESTRICTED portion] goes nowhere: {HINT} [prose-link]")


def test_check_with_templates_renders_the_book_so_reports_a_link_going_nowhere(tmp_path):
    meeting = write_meeting(tmp_path, alpha=broken_links("PUBLIC").replace("(#peeple)", "(#people)"))
    [plain] = pipeline.check([meeting])
    [rendered] = pipeline.check([meeting], templates=DEFAULT_TEMPLATES)
    [strict] = pipeline.check([meeting], templates=DEFAULT_TEMPLATES, strict=True)
    assert not [p for p in plain.problems if "[prose-link]" in str(p)]
    assert [str(p).split(": ", 1)[1] for p in rendered.problems if "[prose-link]" in str(p)] == [
        f"warning: background.0: the link to '#item-gamma' goes nowhere: {HINT} [prose-link]"]
    assert rendered.ok and not strict.ok


def test_a_fact_sheet_has_no_links_to_a_book_it_is_not_part_of(tmp_path):
    public = LINKING.replace("background: 'See", "factsheet:\n  lede: {text: 'See", 1).replace(
        "(#item-alpha/purpose).'", "(#item-alpha/purpose).', classification: PUBLIC}")
    meeting = write_meeting(tmp_path, alpha=public)
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("factsheets",), jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    html = (tmp_path / "out" / "tiny" / "factsheets" / "alpha.html").read_text(encoding="utf-8")
    assert 'See <a rel="noopener noreferrer">the beta item</a>' in html and 'href="#' not in html


def test_markdown_headings_sit_under_a_brief_s_sections():
    from briefgen.prose import markdown_to_html

    html = markdown_to_html("# One\n\n## Two\n\n###### Six")
    assert html == "<h3>One</h3>\n<h4>Two</h4>\n<h6>Six</h6>"  # no h1/h2 inside a brief, and no ids


def test_a_long_title_is_cut_at_a_word_for_the_foot_of_the_page():
    from briefgen.render_html import RUNNING_TITLE_CHARS, running_title

    title = "Meeting of the North Atlantic Council in Defence Ministers' session on drones and spending"
    short = running_title(title)
    assert short == "Meeting of the North Atlantic Council in Defence Ministers'…"
    assert len(short) <= RUNNING_TITLE_CHARS + 1 and title.startswith(short[:-1])
    assert running_title("Test Ministerial") == "Test Ministerial"


def test_a_meeting_without_people_or_data_has_no_empty_back_matter(tmp_path):
    bare = MEETING_YAML.split("people:")[0]  # no who's who, no data sets
    alpha = ALPHA_YAML.split("data:")[0]
    meeting = write_meeting(tmp_path, meeting=bare, alpha=alpha, beta=BETA_YAML.replace(  # nothing for the press
        "data:\n  spending: {years: [2014, 2025], thresholds: [2.0, 3.5]}\n", "press: closed\n"))
    book = staff_book(validate_meeting(meeting))
    html = render_book(book)
    assert 'id="people"' not in html and 'id="annex"' not in html and "Annex: data sources" not in html
    from briefgen.render_html import book_parts
    assert book_parts(book) == ["front", "item-alpha", "item-beta"]
    [result] = pipeline.build([meeting], tmp_path / "out", editions=("book",), jobs_count=1)
    assert result.ok and not result.problems, [str(p) for p in result.problems]
    reader = PdfReader(tmp_path / "out" / "tiny" / "book.pdf")
    assert "Beta item on spending" in reader.pages[-1].extract_text()  # the last page is the last brief's


def test_a_right_to_left_language_sets_the_direction_of_book_and_fact_sheet(tmp_path):
    from briefgen.render_html import direction

    assert [direction(tag) for tag in ("ar", "he-IL", "fa", "az-Arab", "ku-Latn", "en", "fr-BE", "ur-Latn")] == [
        "rtl", "rtl", "rtl", "rtl", "ltr", "ltr", "ltr", "ltr"]
    meeting = write_meeting(tmp_path, meeting=MEETING_YAML.replace("title:", "language: ar\ntitle:", 1))
    [result] = pipeline.build([meeting], tmp_path / "out", jobs_count=1)
    assert result.ok, [str(p) for p in result.problems]
    out = tmp_path / "out" / "tiny"
    for page in (out / "book.html", *sorted((out / "factsheets").glob("*.html"))):
        assert '<html lang="ar" dir="rtl">' in page.read_text(encoding="utf-8"), page.name
    assert len(PdfReader(out / "book.pdf").pages) >= 3
