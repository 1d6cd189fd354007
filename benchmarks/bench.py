"""Nightly-build benchmark: the five targets of the nightly rebuild, measured in one run.

    .venv/bin/python benchmarks/bench.py [--items 20] [--meetings 20] [--repeat 3]

Generates synthetic meetings from the reference one in a temporary folder (a big book:
the four reference items repeated to --items; a shelf: --meetings copies), runs the
briefgen command on them, and prints a table. Ratios are compared within one run, because
a shared 2-core machine is noisy. Results go into benchmarks/RESULTS.md by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
REFERENCE = PROJECT / "agendas" / "2025-10-defence-ministers"
BRIEFGEN = [sys.executable, "-m", "briefgen"]


def make_meeting(root: Path, name: str, items: int) -> Path:
    """A copy of the reference meeting with its items repeated to ``items``."""
    target = root / "agendas" / name
    target.mkdir(parents=True)
    sources = sorted(p for p in REFERENCE.glob("*.yaml") if p.name != "meeting.yaml")
    ids = []
    for index in range(items):
        source = sources[index % len(sources)]
        item_id = f"{source.stem}-{index + 1}"
        text = source.read_text(encoding="utf-8").replace(f"id: {source.stem}", f"id: {item_id}", 1)
        (target / f"{item_id}.yaml").write_text(text, encoding="utf-8")
        ids.append(item_id)
    meeting = (REFERENCE / "meeting.yaml").read_text(encoding="utf-8")
    start = meeting.index("items:")
    end = meeting.index("\n", start)
    meeting = meeting[:start] + f"items: [{', '.join(ids)}]" + meeting[end:]
    (target / "meeting.yaml").write_text(meeting, encoding="utf-8")
    return target


def run(args: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds of one briefgen command, and the peak RSS (KiB) of any of its processes."""
    print("running: briefgen " + " ".join(args[:1] + args[-4:]), file=sys.stderr, flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(BRIEFGEN + args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:  # each process's high-water mark, read while it lives
        peak = max([peak, *(high_water_kib(pid) for pid in family(process.pid))])
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, args)
    return wall, peak


def family(pid: int) -> list[int]:
    """``pid`` and every process descended from it (Linux /proc)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def high_water_kib(pid: int) -> int:
    """The peak resident memory of a live process so far (VmHWM), 0 if it has ended."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def best(times: list[float]) -> float:
    return min(times)


def python(code: str, *args) -> str:
    """What a fresh interpreter prints running ``code``; sys.argv[1] is the project, then ``args``."""
    code = "import sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n" + code
    return subprocess.run([sys.executable, "-c", code, str(PROJECT), *map(str, args)], check=True,
                          capture_output=True, text=True).stdout


def whole_book_html(meeting: Path, target: Path) -> Path:
    """The book as one HTML document for print, as briefgen renders it before splitting it."""
    python(
        "from briefgen.validate import validate_meeting; from briefgen.merge import merge\n"
        "from briefgen.redact import redact, up_to; from briefgen.render_html import render_book\n"
        "from briefgen.changes import Changes\n"
        "v = validate_meeting(Path(sys.argv[2])); b = merge(redact(v, up_to(v.ceiling)))\n"
        "Path(sys.argv[3]).write_text(render_book(b, for_pdf=True, changes=Changes(first_edition=True)))",
        meeting, target)
    return target


def weasyprint_command(html: Path) -> float:
    """Wall seconds of the ``weasyprint`` command on that HTML: start, import, lay out, write.
    Tagged, as briefgen's book is: the same PDF from the same HTML."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "weasyprint", "--pdf-tags", "-u", str(PROJECT / "templates") + "/",
                    str(html), str(html.with_suffix(".pdf"))], check=True, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def weasyprint_alone(html: Path) -> float:
    """Seconds WeasyPrint takes to lay out and write that HTML in one process (no start-up, no import)."""
    return float(python(
        "from weasyprint import HTML\n"
        "html = Path(sys.argv[2]).read_text()\n"
        "t = time.perf_counter(); HTML(string=html, base_url=sys.argv[1] + '/templates/').write_pdf(pdf_tags=True)\n"
        "print(time.perf_counter() - t)", html))


def parts_alone(meeting: Path, out: Path) -> float:
    """Seconds WeasyPrint takes to lay out and write the same book as its parts, one after another."""
    return float(python(
        "from briefgen import jobs; from briefgen.render_pdf import lay_out, LayoutRequest; import weasyprint\n"
        "t = sys.argv[1] + '/templates'\n"
        "p = jobs.prepare(sys.argv[2], sys.argv[3], ('book',), t, False)\n"
        "start = time.perf_counter()\n"
        "[lay_out(LayoutRequest(jobs.fill_page_numbers(h, None), t, [t], 'x', tagged=True)) for _, h in p.parts]\n"
        "print(time.perf_counter() - start)", meeting, out))


def own_work_share(meeting: Path, out: Path) -> tuple[float, float]:
    """(total, layout) seconds of a cold --jobs 1 build, timing WeasyPrint inside it."""
    total, layout = python(
        "import briefgen.render_pdf as r; import briefgen.pipeline as p\n"
        "spent = [0.0]; original = r.lay_out\n"
        "def timed(request):\n"
        "    t = time.perf_counter(); result = original(request); spent[0] += time.perf_counter() - t; return result\n"
        "p.lay_out = timed; import briefgen.jobs as j; j.lay_out = timed\n"
        "t = time.perf_counter(); p.build([Path(sys.argv[2])], Path(sys.argv[3]), jobs_count=1, force=True)\n"
        "print(time.perf_counter() - t, spent[0])", meeting, out).split()
    return float(total), float(layout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20, help="items in the big book (about 5 pages each)")
    parser.add_argument("--meetings", type=int, default=20, help="meetings on the shelf")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", default="noop,book,shelf", help="which cases to run (comma-separated)")
    options = parser.parse_args()
    cases = options.cases.split(",")
    root = Path(tempfile.mkdtemp(prefix="briefgen-bench-"))
    shutil.copytree(PROJECT / "data", root / "data")
    rows = []
    try:
        if "noop" in cases:
            rows += bench_noop(root, options.repeat)
        if "book" in cases:
            rows += bench_big_book(root, options.items, options.repeat)
        if "shelf" in cases:
            rows += bench_shelf(root, options.meetings)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'case':72} {'measured':>16} {'target':>14} {'met':>4}")
    for case, measured, target, met in rows:
        print(f"{case:72} {measured:>16} {target:>14} {'yes' if met else 'NO':>4}")


def bench_noop(root: Path, repeat: int) -> list:
    shutil.copytree(REFERENCE, root / "agendas" / REFERENCE.name)
    out = root / "out-reference"
    run(["build", str(root / "agendas" / REFERENCE.name), "--out", str(out)], root)
    times = [run(["build", str(root / "agendas" / REFERENCE.name), "--out", str(out)], root)[0]
             for _ in range(repeat)]
    return [("build with nothing changed, reference project (s)", f"{best(times):.3f}", "<= 0.300",
             best(times) <= 0.3)]


def bench_big_book(root: Path, items: int, repeat: int) -> list:
    meeting = make_meeting(root, "big", items)
    html = whole_book_html(meeting, root / "whole-book.html")
    alone = best([weasyprint_alone(html) for _ in range(repeat)])
    parts = best([parts_alone(meeting, root / "out-parts") for _ in range(repeat)])
    command = best([weasyprint_command(html) for _ in range(repeat)])
    colds = []
    for attempt in range(repeat):
        out = root / f"out-big-{attempt}"
        colds.append(run(["build", str(meeting), "--out", str(out), "--jobs", "2", "--edition", "book"], root)[0])
    cold = best(colds)
    pages = len(__import__("pikepdf").open(root / "out-big-0" / "big" / "book.pdf").pages)
    changed = []
    for attempt in range(repeat):  # an edit to the prose: that item's pages change
        item = sorted(meeting.glob("drone-wall-*.yaml"))[0]
        text = item.read_text(encoding="utf-8").replace("purpose: >-\n", f"purpose: >-\n  Edit {attempt}.\n", 1)
        item.write_text(text, encoding="utf-8")
        changed.append(run(["build", str(meeting), "--out", str(root / "out-big-0"), "--jobs", "2",
                            "--edition", "book"], root)[0])
    one = best(changed)
    total, layout = own_work_share(meeting, root / "out-own")
    own = (total - layout) / total
    return [
        (f"{pages}-page book, cold, --jobs 2 (s)", f"{cold:.2f}", "", True),
        ("  same HTML, WeasyPrint alone, one process (s)", f"{alone:.2f}", "", True),
        ("  same book as its parts, laid out one after another (s)", f"{parts:.2f}", "", True),
        ("  floor for 2 workers: half the parts / WeasyPrint alone", f"{parts / 2 / alone:.2f}", "", True),
        ("  ratio cold / WeasyPrint alone", f"{cold / alone:.2f}", "<= 0.55", cold / alone <= 0.55),
        ("  same HTML, the weasyprint command (start, import, lay out, write) (s)", f"{command:.2f}", "", True),
        ("  ratio cold / weasyprint command", f"{cold / command:.2f}", "<= 0.55", cold / command <= 0.55),
        ("one item changed in that book / cold build", f"{one:.2f}s = {one / cold:.0%}", "<= 15%", one / cold <= 0.15),
        ("briefgen's own work in a cold --jobs 1 build", f"{total - layout:.2f}s = {own:.1%}", "<= 5%", own <= 0.05),
    ]


def bench_shelf(root: Path, meetings: int) -> list:
    names = [make_meeting(root, f"shelf-{index:02d}", 4).name for index in range(meetings)]
    dirs = [str(root / "agendas" / name) for name in names]
    serial, _ = run(["build", *dirs, "--out", str(root / "out-shelf-1"), "--jobs", "1"], root)
    parallel, peak = run(["build", *dirs, "--out", str(root / "out-shelf-2"), "--jobs", "2"], root)
    half = meetings // 2
    _, half_peak = run(["build", *dirs[:half], "--out", str(root / "out-shelf-half"), "--jobs", "2"], root)
    return [
        (f"{meetings} meetings, --jobs 1 (s)", f"{serial:.2f}", "", True),
        (f"{meetings} meetings, --jobs 2 (s)", f"{parallel:.2f}", "", True),
        ("  speed-up --jobs 2 over --jobs 1", f"{serial / parallel:.2f}x", ">= 1.80x", serial / parallel >= 1.8),
        (f"  peak memory of any process, {meetings} meetings (MiB)", f"{peak / 1024:.0f}", "bounded", True),
        (f"  the same, {half} meetings (MiB)", f"{half_peak / 1024:.0f}", "", True),
    ]


if __name__ == "__main__":
    main()
