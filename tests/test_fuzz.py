"""Generated YAML documents and CSV rows through `briefgen check`: whatever comes in, the
only thing that may come out is the project's own error (as problems in the result).

The number of examples is bounded and the run derandomised, so CI is quick and repeatable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefgen import pipeline
from briefgen.errors import Problem
from briefgen.model import IncidentRow, Item, Meeting

from .conftest import INCIDENTS_CSV, write_meeting

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])

KEYS = sorted({*Item.model_fields, *Meeting.model_fields, "from", "to", "countries", "types", "years",
               "thresholds", "text", "classification", "question", "answer", "time", "event", "name", "bio"})
TRICKY = ["PUBLIC", "NATO RESTRICTED", "NATO SECRET", "10:00", "2025-10-15", "2025-13-45", "POL",
          "![x](assets/../../x.png)", "<script>alert(1)</script>", "{{ 7*7 }}", "alpha", "beta", "../x",
          "=cmd|' /C calc'!A0", "\t", "*a", "&a", "!!python/object", "'", '"']

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.dates(),
                    st.text(max_size=30), st.sampled_from(TRICKY))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=6)),
    max_leaves=30)


def dump(tree) -> str:
    return yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)


@st.composite
def damaged(draw, text: str) -> str:
    """``text`` with a few characters inserted or removed somewhere."""
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.one_of(st.text(max_size=4), st.sampled_from(TRICKY))) + text[at + cut:]
    return text


documents = st.one_of(trees.map(dump), trees.map(dump).flatmap(damaged), st.text(max_size=300))

COLUMNS = list(IncidentRow.model_fields)
cells = st.one_of(st.text(max_size=20), st.sampled_from(
    ["T-1", "2025-09-10", "Poland", "POL", "NATO (east)", "drone", "19", "-1", "1e999", "NaN", "true",
     "maybe", "", "PUBLIC", "NATO SECRET", "=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)"]))
rows = st.lists(st.one_of(st.lists(cells, min_size=len(COLUMNS), max_size=len(COLUMNS)),
                          st.lists(cells, max_size=12)), max_size=6)


def to_csv(header: list[str], records: list[list[str]]) -> str:
    """The rows as CSV, every cell quoted: Python 3.10's csv writer refuses a NUL, which
    the file a writer saves may hold all the same."""
    return "".join(",".join('"' + cell.replace('"', '""') + '"' for cell in row) + "\n"
                   for row in [header, *records])


def check_survives(**files: str) -> None:
    """`check` on the tiny meeting with ``files`` replaced: problems, never an exception."""
    with tempfile.TemporaryDirectory() as folder:
        meeting = write_meeting(Path(folder), **files)
        [result] = pipeline.check([meeting], strict=True)
        assert all(isinstance(p, Problem) and str(p) for p in result.problems)


@FUZZ
@given(document=documents, target=st.sampled_from(["alpha", "meeting"]))
def test_generated_yaml_gives_problems_not_crashes(document, target):
    check_survives(**{target: document})


@FUZZ
@given(records=rows, header=st.one_of(st.just(COLUMNS), st.permutations(COLUMNS), st.lists(cells, max_size=11)))
def test_generated_csv_rows_give_problems_not_crashes(records, header):
    check_survives(incidents=to_csv(header, records))


def test_the_fuzzed_meeting_is_valid_unchanged():
    """The fuzz starts from a meeting that checks clean, so what it finds is its own doing."""
    with tempfile.TemporaryDirectory() as folder:
        [result] = pipeline.check([write_meeting(Path(folder), incidents=INCIDENTS_CSV)], strict=True)
        assert result.ok and not result.problems
