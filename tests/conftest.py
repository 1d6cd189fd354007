"""Shared fixtures: a tiny meeting written into a temp folder, and the reference
book built once per test session."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from briefgen import pipeline

PROJECT = Path(__file__).resolve().parent.parent
REFERENCE = PROJECT / "agendas" / "2025-10-defence-ministers"


def finishes(code: str, timeout: float = 60) -> None:
    """Runs Python ``code`` in a process of its own, which fails the test if it is still running
    after ``timeout`` seconds: a hang guard for a regular expression, which runs in C, where
    no time limit stops it. The bound is many times what the code takes."""
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT, check=True, timeout=timeout)

SPENDING_CSV = """\
country,iso3,year,pct_gdp,estimate,usd_million,source
Estonia,EST,2014,1.93,false,,Test source A
Estonia,EST,2025,3.38,true,,Test source A
Poland,POL,2014,1.88,false,,Test source A
Poland,POL,2025,4.48,true,,Test source A
Greece,GRC,2014,2.20,false,,Test source A
Greece,GRC,2025,2.85,true,,Test source A
"""

INCIDENTS_CSV = """\
id,date,country,type,count,duration_min,response,article4,summary,source
T-1,2025-09-10,Poland,drone,19,420,shot_down,true,"Drones over Poland.",Test source B
T-2,2025-09-19,Estonia,fixed-wing,3,12,scrambled,true,"Jets over Estonia.",Test source C
T-3,2025-08-01,Poland,drone,1,,none,false,"Outside the window.",Test source D
"""

MEETING_YAML = """\
title: Test Ministerial
date: 2025-10-15
venue: Test House
chair: Test Chair
classification: NATO RESTRICTED
items: [alpha, beta]
programme:
  - {time: "09:00", event: Opening session, location: Room 1, classification: PUBLIC}
people:
  - {name: Ann Example, role: Minister, country: Testland, bio: Has a bio., classification: PUBLIC}
data:
  incidents: data/incidents.csv
  spending: data/spending.csv
"""

ALPHA_YAML = """\
title: Alpha item on drones
time: "10:00-11:00"
purpose: Decide the alpha question.
objectives: [Agree the alpha line.]
key_messages:
  - {text: Alpha public message., classification: PUBLIC}
lines_to_take:
  - {question: "What about alpha?", answer: Alpha answer., classification: NATO RESTRICTED}
background: Alpha background paragraph.
press_line: {text: Alpha press line., classification: PUBLIC}
data:
  incidents: {from: 2025-09-01, countries: [POL, EST]}
"""

BETA_YAML = """\
title: Beta item on spending
time: "11:00-12:00"
purpose: Decide the beta question.
data:
  spending: {years: [2014, 2025], thresholds: [2.0, 3.5]}
objectives: [Agree the beta line.]
lines_to_take: [{question: "What about beta?", answer: Beta answer.}]
"""


def write_meeting(root: Path, folder: str = "tiny", **overrides: str) -> Path:
    """Write the tiny test meeting into ``root/folder``; ``overrides`` replace files by name
    (``meeting``, ``alpha``, ``beta``, ``spending``, ``incidents``)."""
    files = {"meeting": MEETING_YAML, "alpha": ALPHA_YAML, "beta": BETA_YAML,
             "spending": SPENDING_CSV, "incidents": INCIDENTS_CSV}
    files.update({k: textwrap.dedent(v) for k, v in overrides.items()})
    meeting = root / folder
    (meeting / "data").mkdir(parents=True, exist_ok=True)
    for name in ("meeting", "alpha", "beta"):
        if files[name] is not None:
            (meeting / f"{name}.yaml").write_text(files[name], encoding="utf-8")
    for name in ("spending", "incidents"):
        (meeting / "data" / f"{name}.csv").write_text(files[name], encoding="utf-8")
    return meeting


@pytest.fixture
def tiny_meeting(tmp_path) -> Path:
    return write_meeting(tmp_path)


@pytest.fixture(scope="session")
def reference_book(tmp_path_factory) -> Path:
    """The reference meeting built once: returns its output folder."""
    out = tmp_path_factory.mktemp("reference-out")
    [result] = pipeline.build([REFERENCE], out)
    assert result.ok, [str(p) for p in result.problems]
    return out / REFERENCE.name


@pytest.fixture
def reference_copy(tmp_path) -> Path:
    """A private copy of the reference meeting and its data, to modify."""
    shutil.copytree(PROJECT / "data", tmp_path / "data")
    target = tmp_path / "agendas" / REFERENCE.name
    shutil.copytree(REFERENCE, target)
    return target
