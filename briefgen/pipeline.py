"""The pipeline: validate -> redact -> merge -> render HTML -> lay out -> assemble -> publish.

A build runs in waves of independent jobs (see ``jobs``), each wave across every
meeting at once so the process pool stays busy:

1. prepare each meeting that changed (validate, merge, render HTML);
2. lay out every book part not in the cache, and every fact sheet that changed;
3. lay out each book's front matter with its page numbers;
4. lay out each book's stamp overlay; then assemble and publish in this process.

The CLI calls ``check`` and ``build``; so can any Python program.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from . import jobs
from .errors import BriefgenError, Problem
from .locate import DEFAULT_TEMPLATES
from .incremental import PartCache, factsheet_inputs, fingerprint, key_of, sha256, versions
from .parallel import Runner, default_jobs
from .publish import Artifact, OutputLock, manifests, publish, read_manifest, write_atomic, write_manifest
from .render_pdf import LayoutRequest, lay_out
from .safety import Policy

log = logging.getLogger(__name__)

EDITIONS = ("book", "factsheets")


@dataclass
class MeetingResult:
    """What happened to one meeting in a run."""

    directory: Path
    outputs: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    laid_out: list[str] = field(default_factory=list)  # documents laid out (not from the cache)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def find_meetings(agendas: Path) -> list[Path]:
    """Every folder under ``agendas`` that holds a meeting.yaml, in name order."""
    return sorted(path.parent for path in Path(agendas).glob("*/meeting.yaml"))


def check(directories: list[Path], strict: bool = False, policy: Policy = Policy()) -> list[MeetingResult]:
    """Validate each meeting; nothing is written."""
    from .validate import validate_meeting

    results = []
    for directory in directories:
        result = MeetingResult(Path(directory))
        try:
            valid = validate_meeting(result.directory, policy=policy)
            severity = "error" if strict else "warning"
            result.problems += [dataclasses.replace(w, severity=severity) for w in valid.warnings]
        except BriefgenError as exc:
            result.problems += exc.problems
        results.append(result)
    return results


@dataclass
class Plan:
    """One meeting's build in progress."""

    result: MeetingResult
    folder: Path
    prints: dict[str, str]
    previous: dict
    templates: Path
    policy: Policy = Policy()
    prepared: jobs.Prepared | None = None
    cache: PartCache | None = None
    layouts: dict = field(default_factory=dict)
    artifacts: list[Artifact] = field(default_factory=list)


def build(directories: list[Path], out: Path, editions=EDITIONS, templates: Path = DEFAULT_TEMPLATES,
          strict: bool = False, force: bool = False, jobs_count: int | None = None,
          policy: Policy = Policy()) -> list[MeetingResult]:
    """Build each meeting into ``out/<meeting>/``; a broken meeting does not stop the rest."""
    out, editions = Path(out), tuple(editions)
    with OutputLock(out):
        remove_stale_temporaries(out)
        plans = [plan_meeting(Path(d), out, templates, editions, force, policy) for d in directories]
        todo = [plan for plan in plans if plan.prepared is None and not plan.result.skipped]
        runner = Runner(jobs_count or default_jobs())
        try:
            if todo:
                runner.warm_up()
            prepare_all(runner, todo, editions, templates, strict)
            todo = [plan for plan in todo if plan.prepared is not None]
            lay_out_all(runner, todo, force)
            finish_books(runner, todo)
        finally:
            runner.close()
        for plan in todo:
            publish_meeting(plan, editions)
        if todo or not (out / "index.html").is_file():
            from .render_html import render_index

            write_atomic(out / "index.html", render_index(manifests(out), templates))
    return [plan.result for plan in plans]


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed build left behind (it can hold the lock no longer)."""
    for path in out.glob("**/.*.tmp"):
        path.unlink(missing_ok=True)


def plan_meeting(directory: Path, out: Path, templates: Path, editions, force: bool, policy: Policy) -> Plan:
    """Fingerprint the inputs; a meeting whose outputs match them is skipped whole."""
    folder = out / directory.name
    plan = Plan(MeetingResult(directory), folder, fingerprint(directory, templates), read_manifest(folder),
                Path(templates), policy)
    if not force and up_to_date(plan, editions):
        plan.result.skipped = [folder / a["path"] for a in plan.previous["artifacts"]]
        log.info("%s: up to date", directory.name, extra={"event": "meeting.skipped", "meeting": directory.name})
    return plan


def up_to_date(plan: Plan, editions) -> bool:
    previous = plan.previous
    if previous.get("inputs_key") != key_of(plan.prints) or not previous.get("artifacts"):
        return False
    built = {a["edition"] for a in previous["artifacts"]}
    return set(editions) <= built and all(
        (plan.folder / a["path"]).is_file() and sha256((plan.folder / a["path"]).read_bytes()) == a["sha256"]
        for a in previous["artifacts"] if a["edition"] in editions)


def prepare_all(runner: Runner, plans: list[Plan], editions, templates: Path, strict: bool) -> None:
    calls = [(str(p.result.directory), str(p.folder), editions, str(templates), strict, p.policy) for p in plans]
    for plan, prepared in zip(plans, runner.run(jobs.prepare, calls)):
        if isinstance(prepared, BriefgenError):
            plan.result.problems += prepared.problems
        elif isinstance(prepared, Exception):
            raise prepared
        else:
            plan.prepared = prepared
            plan.result.problems += prepared.warnings
            plan.cache = PartCache(plan.folder / ".cache")


def part_request(plan: Plan, html: str, what: str) -> LayoutRequest:
    roots = jobs.allowed_roots(plan.templates, plan.result.directory)
    return LayoutRequest(html, str(plan.templates), roots, str(plan.result.directory / "meeting.yaml"), what,
                         plan.policy.time_limit)


def layout_key(html: str) -> str:
    return sha256(html + repr(sorted(versions().items())))


def lay_out_all(runner: Runner, plans: list[Plan], force: bool) -> None:
    """Wave 2: book parts missing from the cache (front with stand-in numbers), fact sheets."""
    wanted = []  # (plan, name, function, args, cache key or None)
    for plan in plans:
        prepared = plan.prepared
        for part, html in prepared.parts:
            html = jobs.fill_page_numbers(html, None) if part == "front" else html
            wanted.append((plan, part, lay_out, (part_request(plan, html, "book"),), layout_key(html)))
        for sheet in prepared.factsheets:
            if force or factsheet_changed(plan, sheet):
                wanted.append((plan, f"factsheet:{sheet.item}", jobs.factsheet, (sheet, prepared.fragments), None))
    run_layouts(runner, wanted, force)


def factsheet_changed(plan: Plan, sheet: jobs.FactsheetJob) -> bool:
    names = factsheet_inputs(plan.prints, plan.prepared.item_files[sheet.item])
    old = {a["path"]: a for a in plan.previous.get("artifacts", [])}.get(f"factsheets/{sheet.item}.pdf")
    return not (old and old.get("build_key") == key_of(plan.prints, names)
                and (plan.folder / old["path"]).is_file())


def run_layouts(runner: Runner, wanted: list, force: bool) -> None:
    """Run the layouts not found in a cache; file each result (or problem) with its plan."""
    missing = []
    for plan, name, function, args, key in wanted:
        cached = plan.cache.get(key) if key and not force else None
        if cached is not None:
            plan.layouts[name] = cached
        else:
            missing.append((plan, name, function, args, key))
    def done(index):
        plan, name = missing[index][:2]
        plan.result.laid_out.append(name)
        log.info("laid out %s of %s", name, plan.result.directory.name,
                 extra={"event": "layout.done", "meeting": plan.result.directory.name, "part": name})

    results = runner.run(_apply, [(function, args) for _, _, function, args, _ in missing], done)
    for (plan, name, _, _, key), layout in zip(missing, results):
        if isinstance(layout, BriefgenError):
            plan.result.problems += layout.problems
        elif isinstance(layout, Exception):
            raise layout
        else:
            plan.layouts[name] = layout
            if key:
                plan.cache.put(key, layout)


def _apply(function, args):
    return function(*args)


def finish_books(runner: Runner, plans: list[Plan]) -> None:
    """Waves 3 and 4: the front matter with real page numbers, then the stamp overlay."""
    books = [p for p in plans if p.prepared.parts and _parts_ready(p)]
    for _ in range(3):  # the numbers could, in theory, change the front's length
        wanted = []
        for plan in books:
            html = jobs.fill_page_numbers(dict(plan.prepared.parts)["front"], page_numbers(plan))
            wanted.append((plan, "front", lay_out, (part_request(plan, html, "book"),), layout_key(html)))
        stand_in = {id(p): p.layouts["front"].pages for p in books}
        run_layouts(runner, wanted, False)
        if all(p.layouts["front"].pages == stand_in[id(p)] for p in books):
            break
    from .render_html import render_stamps

    wanted = []
    for plan in books:
        banners = [level.name for level in banner_levels(plan)]
        html = render_stamps(banners, plan.prepared.meta["title"], plan.prepared.language, plan.templates)
        wanted.append((plan, "stamps", lay_out, (part_request(plan, html, "book"),), layout_key(html)))
    run_layouts(runner, wanted, False)


def _parts_ready(plan: Plan) -> bool:
    return all(part in plan.layouts for part, _ in plan.prepared.parts)


def ordered_parts(plan: Plan) -> list:
    return [plan.layouts[part] for part, _ in plan.prepared.parts]


def page_numbers(plan: Plan) -> dict[str, int]:
    from .assemble import anchor_pages

    return {anchor: page + 1 for anchor, page in anchor_pages(ordered_parts(plan)).items()}


def banner_levels(plan: Plan):
    from .assemble import page_banners

    return page_banners(ordered_parts(plan), plan.prepared.scheme)


def publish_meeting(plan: Plan, editions) -> None:
    """Write what was built, keep what was up to date, record it all in the manifest."""
    prepared, folder = plan.prepared, plan.folder
    if "book" in editions and prepared.parts and "stamps" in plan.layouts:
        publish_book(plan)
    if "factsheets" in editions:
        publish_factsheets(plan)
    if not plan.result.ok and not any(a.written for a in plan.artifacts):
        return  # nothing new: the manifest of the last good build stays as it was
    built = plan.artifacts
    write_manifest(folder, {**prepared.meta, "inputs_key": key_of(plan.prints) if plan.result.ok else None,
                            "inputs": plan.prints}, built, list(editions))
    plan.cache.prune()
    plan.result.outputs += [folder / a.path for a in built if a.written]
    plan.result.skipped += [folder / a.path for a in built if not a.written]


def publish_book(plan: Plan) -> None:
    from .assemble import assemble
    from .changes import STATE_FILE, to_json

    prepared, folder = plan.prepared, plan.folder
    pdf = assemble(ordered_parts(plan), plan.layouts["stamps"], prepared.language)
    key = key_of(plan.prints)
    facts = dict(edition="book", item=None, label="Briefing book", classification=prepared.highest,
                 build_key=key, inputs=sorted(plan.prints))
    plan.artifacts.append(publish(folder, "book.html", prepared.book_html, format="html", **facts))
    plan.artifacts.append(publish(folder, "book.pdf", pdf, format="pdf", pages=plan.layouts["stamps"].pages, **facts))
    write_atomic(folder / "changes.json", to_json(prepared.changes))
    write_atomic(folder / STATE_FILE, _json(prepared.state))


def publish_factsheets(plan: Plan) -> None:
    prepared, folder = plan.prepared, plan.folder
    old = {a["path"]: a for a in plan.previous.get("artifacts", [])}
    for sheet in prepared.factsheets:
        names = factsheet_inputs(plan.prints, prepared.item_files[sheet.item])
        facts = dict(edition="factsheets", item=sheet.item, label=f"Fact sheet: {sheet.title}",
                     classification=prepared.public_level, build_key=key_of(plan.prints, names), inputs=names)
        layout = plan.layouts.get(f"factsheet:{sheet.item}")
        for fmt, data in (("html", sheet.html), ("pdf", layout.pdf if layout else None)):
            path = f"factsheets/{sheet.item}.{fmt}"
            if layout is not None:
                plan.artifacts.append(publish(folder, path, data, format=fmt, pages=1 if fmt == "pdf" else None, **facts))
            elif path in old and (folder / path).is_file():  # unchanged, or this attempt failed
                plan.artifacts.append(Artifact.kept(old[path]))


def _json(data) -> str:
    import json

    return json.dumps(data, indent=1, sort_keys=True) + "\n"
