"""The pipeline: validate -> redact -> merge -> render HTML -> lay out -> assemble -> publish.

Each meeting that changed is prepared (validated, merged, rendered to HTML) in this
process, and its documents go to the process pool at once, so the workers lay out one
meeting while the next is prepared. As results come back, each meeting moves on by
itself (see ``Flow``): once a book's parts are laid out, its front matter is laid out
with the real page numbers, then the stamp overlay, then the parts are assembled; then
the meeting is published.

The CLI calls ``check`` and ``build``; so can any Python program.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from . import jobs
from .charts import between_drawings
from .errors import BriefgenError, Problem
from .formatting import plural
from .locate import DEFAULT_TEMPLATES, meeting_name
from .incremental import PartCache, factsheet_inputs, fingerprint, key_of, sha256, versions
from .load import read_bytes
from .parallel import Runner, WorkerDied, default_jobs
from .publish import (MANIFEST, STATE_LIMIT, Artifact, CannotWrite, OutputLock, Publication,
                      manifest_text, manifests, read_manifest, unwritable_caches, write_if_new)
from .render_pdf import LayoutRequest, lay_out
from .safety import Policy

log = logging.getLogger(__name__)

EDITIONS = ("book", "factsheets")
CHANGES = "changes.json"  # what changed since the last edition, written with the book


@dataclass
class MeetingResult:
    """What happened to one meeting in a run."""

    directory: Path
    outputs: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    laid_out: list[str] = field(default_factory=list)  # documents laid out (not from the cache)
    internal_error: bool = False  # a bug in briefgen met this meeting (exit status 3)
    cannot_write: bool = False  # an output could not be written: disk full, permissions (exit status 5)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def find_meetings(agendas: Path) -> list[Path]:
    """Every folder under ``agendas`` that holds a meeting.yaml, in name order."""
    return sorted(path.parent for path in Path(agendas).glob("*/meeting.yaml"))


def check(directories: list[Path], strict: bool = False, out: Path | None = None,
          policy: Policy = Policy(), templates: Path | None = None) -> list[MeetingResult]:
    """Validate each meeting; nothing is written. With ``out``, the page rules of the
    linter are read from the last build there (``out/<meeting>/manifest.json``). With
    ``templates``, every page is also rendered through them (no layout), to find their errors."""
    from .lint import pages_from_manifest
    from .validate import MEETING_FILE, validate_meeting

    results = Results()
    for directory in directories:
        result = MeetingResult(Path(directory))
        try:
            with jobs.in_time(result.directory, policy, "checking the meeting"):
                valid = validate_meeting(result.directory, policy=policy)
                warnings = list(valid.warnings)
                if out is not None:
                    warnings += pages_from_manifest(read_manifest(Path(out) / valid.name),
                                                    valid.directory / MEETING_FILE, valid.item_paths,
                                                    jobs.items_with_sheets(valid))
                if templates is not None:
                    warnings += jobs.render_everything(valid, Path(templates), Path(out or "output") / valid.name)
            result.problems += as_errors(warnings) if strict else warnings
        except BriefgenError as exc:
            result.problems += exc.problems
        except Exception as exc:  # a bug: this meeting fails, the others are still checked
            result.internal_error = True
            result.problems.append(bug_problem(result.directory, "checking it", exc))
        results.append(result)
    return results


def as_errors(warnings: list[Problem]) -> list[Problem]:
    """--strict: every warning fails the run."""
    return [dataclasses.replace(w, severity="error") for w in warnings]


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
    waiting: set[str] = field(default_factory=set)  # documents in the pool
    front_numbers: dict | None = None  # the page numbers the front was laid out with
    front_tries: int = 0
    overlay_html: list[str] | None = None  # the stamp overlay's pieces laid out (or in the pool)
    book_pdf: bytes | None = None
    changes_sha256: str | None = None  # of the changes.json this build wrote
    book_failed: bool = False  # a part, the front, the overlay or the assembly failed
    remarks: set[str] = field(default_factory=set)  # WeasyPrint's warnings reported so far
    # without --strict, WeasyPrint's warnings are told by the log; the manifest keeps them,
    # so a build with nothing to do tells them again and --strict fails on them then
    remark_warnings: list[Problem] = field(default_factory=list)
    withdrawn: bool = False  # a kept fact sheet was withdrawn: the manifest must say so
    published: bool = False

    def release(self) -> None:
        """Published: let go of its HTML and PDFs, so a long shelf does not pile them up."""
        self.prepared, self.cache, self.book_pdf, self.overlay_html = None, None, None, None
        self.layouts = {}


def build(directories: list[Path], out: Path, editions=EDITIONS, templates: Path = DEFAULT_TEMPLATES,
          strict: bool = False, force: bool = False, jobs_count: int | None = None,
          policy: Policy = Policy(), wait: float = 0.0, waiting=None) -> list[MeetingResult]:
    """Build each meeting into ``out/<meeting>/``; a broken meeting does not stop the rest.
    Another build writing to ``out`` is waited for up to ``wait`` seconds (``waiting`` is
    told so, see ``OutputLock``), then ``OutputBusy``."""
    out, editions = Path(out), tuple(editions)
    with OutputLock(out, wait, waiting) as lock:
        if lock.read_only is None:
            remove_stale_temporaries(out)
        unwritable_caches.clear()
        plans = [plan_meeting(d, out, templates, editions, force, policy) for d in once_each(directories)]
        refuse_shared_folders(plans)
        refuse_folders_of_other_projects(plans)
        for plan in plans:
            if plan.result.skipped:  # what the build that made them said stays said
                plan.result.problems += last_warnings(plan, strict)
        todo = [plan for plan in plans if not (plan.result.skipped or plan.result.problems)]
        if lock.read_only is not None:
            return nothing_written(out, plans, todo, lock.read_only)
        runner = Runner(jobs_count or default_jobs(), stall_after=stall_limit(policy))
        try:
            if todo:
                runner.warm_up()
            Flow(runner, editions, force, strict).run(todo)
        except BaseException:  # Ctrl-C, or a bug outside any one meeting
            runner.stop()
            raise
        runner.close()
        results = Results(plan.result for plan in plans)
        if todo or index_out_of_date(out):
            write_index(out, templates, results)
    return results


def nothing_written(out: Path, plans: list[Plan], todo: list[Plan], why: str) -> "Results":
    """The output folder cannot be written (published by another user, mounted read-only):
    a meeting up to date is so, as in any build, and each one that is not, and an index out
    of date, fails with a line naming the folder. Nothing is written, even where it could be
    (a meeting's folder writable inside a read-only one): the lock was not taken to write."""
    results = Results(plan.result for plan in plans)
    unwritable = f"the output folder {out} cannot be written ({why})"
    for plan in todo:
        plan.result.cannot_write = True
        plan.result.problems.append(Problem(plan.folder, None, f"not built: the meeting is not up to date, "
                                            f"and {unwritable}"))
    if not todo and index_out_of_date(out):
        results.index_unwritable = True
        results.problems.append(Problem(out / "index.html", None, f"not written: it is not up to date, "
                                        f"and {unwritable}"))
    return results


# Left in the output folder while a user's index.html fails, so that a build with nothing
# else to do renders it again and says so, rather than "up to date" over the last index.
INDEX_FAILED = ".briefgen-index-failed"
# The sha256 of the index last written, then that of what it lists: one deleted or damaged
# since is made again, as a meeting's files are, by a build with nothing else to do; so is
# one that lists a meeting or a file gone since, or leaves out one back since.
INDEX_SHA256 = ".briefgen-index.sha256"


def index_out_of_date(out: Path) -> bool:
    """The index must be made again though every meeting is up to date: it is missing or
    damaged, a user's index.html failed last time, or what it lists has changed since."""
    try:  # never waits on a FIFO in either's place: it is damaged, and made again
        now = [sha256(read_bytes(out / "index.html", STATE_LIMIT)), listing_sha256(manifests(out))]
        damaged = now != read_bytes(out / INDEX_SHA256, STATE_LIMIT).decode("ascii").split()
    except (OSError, UnicodeDecodeError, BriefgenError):  # missing, a folder, not ours to read
        damaged = True
    return damaged or (out / INDEX_FAILED).is_file()


def listing_sha256(listing: list[dict]) -> str:
    """What an index is made from: each meeting listed and the files it links."""
    return sha256(json.dumps(listing, sort_keys=True))


def write_index(out: Path, templates: Path, results: "Results") -> None:
    from .render_html import render_index

    try:
        listing = manifests(out)
        index = render_index(listing, templates)
        write_if_new(out / "index.html", index)
        write_if_new(out / INDEX_SHA256, f"{sha256(index)}\n{listing_sha256(listing)}\n")
        with contextlib.suppress(OSError):  # a folder of its name is not the mark: left alone
            (out / INDEX_FAILED).unlink(missing_ok=True)
    except CannotWrite as exc:
        results.problems += exc.problems
        results.index_unwritable = True
    except BriefgenError as exc:  # a user's index.html failed: the last index stays
        results.problems += exc.problems
        with contextlib.suppress(OSError):  # then the next build cannot say it again: no worse
            (out / INDEX_FAILED).touch()


class Results(list):
    """Each meeting's result, and the problems of the build as a whole (the index)."""

    def __init__(self, results=()):
        super().__init__(results)
        self.problems: list[Problem] = []
        self.index_unwritable = False  # rather than refused: a full disk, say

    @property
    def cannot_write(self) -> bool:
        return self.index_unwritable or any(result.cannot_write for result in self)


def stall_limit(policy: Policy) -> float:
    """Seconds with no document finished before the workers are thought stuck and killed.

    Every layout stops at the time limit (the alarm repeats until it gets through), so a
    worker still busy well past it is stuck in a C library, where no alarm reaches.
    """
    return policy.time_limit * 1.5 + 10


def remove_stale_temporaries(out: Path) -> None:
    """Temporary files a killed build left behind (it can hold the lock no longer)."""
    for path in out.glob("**/.*.tmp"):
        with contextlib.suppress(OSError):  # another user's file: left alone
            path.unlink(missing_ok=True)


def plan_meeting(directory: Path, out: Path, templates: Path, editions, force: bool, policy: Policy) -> Plan:
    """Fingerprint the inputs; a meeting whose outputs match them is skipped whole.
    A bug met here fails this meeting only (with a problem; it is not built)."""
    folder = out / meeting_name(directory)
    plan = Plan(MeetingResult(directory), folder, {}, {}, Path(templates), policy)
    try:
        plan.prints = fingerprint(directory, templates, policy.allow_outside_paths)
        plan.previous = read_manifest(folder)
    except Exception as exc:
        internal_error(plan, "looking at its inputs", exc)
        return plan
    if not force and up_to_date(plan, editions):
        plan.result.skipped = [folder / a["path"] for a in plan.previous["artifacts"]]
        log.info("%s: up to date", directory.name, extra={"event": "meeting.skipped", "meeting": directory.name})
    return plan


def once_each(directories) -> list[Path]:
    """The meeting folders, each once however it is written ('tiny', './tiny/')."""
    seen: dict[str, Path] = {}
    for directory in map(Path, directories):
        seen.setdefault(os.path.realpath(directory), directory)
    return list(seen.values())


def refuse_shared_folders(plans: list[Plan]) -> None:
    """Two meetings whose folders have the same name would overwrite each other's outputs;
    so would two whose names differ only in case (or in how an accent is encoded), written
    where names are compared ignoring case: on macOS or Windows, or a share the output
    folder is copied to."""
    first: dict[str, Plan] = {}
    for plan in plans:
        other = first.setdefault(unicodedata.normalize("NFC", plan.folder.name).casefold(), plan)
        if other is plan:
            continue
        plan.result.skipped = []
        if other.folder == plan.folder:
            why = f"has the same folder name, and both would be written to {plan.folder}"
        else:
            why = (f"has the same folder name but for case ({other.folder.name}, {plan.folder.name}), and both "
                   "would be written to one folder where names are compared ignoring case; rename one")
        plan.result.problems.append(Problem(plan.result.directory / "meeting.yaml", None,
                                            f"not built: {other.result.directory} {why}"))


def refuse_folders_of_other_projects(plans: list[Plan]) -> None:
    """Two projects building into one ``--out`` with meetings of the same folder name would
    overwrite each other's outputs every night, each edition's changes counted against the
    other's. A folder whose manifest names a meeting folder that still exists, and is not
    this one, is left to it. (A meeting moved or renamed since leaves no such folder.)"""
    for plan in plans:
        other = meeting_built_here(plan)
        if other is not None:
            plan.result.skipped = []
            plan.result.problems.append(Problem(plan.result.directory / "meeting.yaml", None,
                                                f"not built: {plan.folder} holds the outputs of {other}, which still "
                                                "exists; give each project its own --out"))


def meeting_built_here(plan: Plan) -> str | None:
    """The meeting folder the last build into ``plan.folder`` was made from, if it is
    another one that still exists."""
    source = plan.previous.get("source")
    if source is None:
        return None
    other = plan.folder / source
    try:
        elsewhere = (other / "meeting.yaml").is_file() and not os.path.samefile(other, plan.result.directory)
    except OSError:  # this meeting's folder is not there: it fails on its own
        return None
    return os.path.normpath(os.path.abspath(other)) if elsewhere else None


def up_to_date(plan: Plan, editions) -> bool:
    """Each edition asked for was last built from these very inputs, in this very folder (a
    manifest naming the folder a project was moved from would leave the meeting out of the
    index), and its files are intact."""
    previous, key = plan.previous, key_of(plan.prints)
    if not previous.get("artifacts") or any(previous.get("inputs_keys", {}).get(e) != key for e in editions):
        return False
    if previous.get("source") != recorded_source(plan):
        return False
    return (all(intact(plan, a) for a in previous["artifacts"] if a["edition"] in editions)
            and ("book" not in editions or changes_intact(plan)))


def intact(plan: Plan, record: dict) -> bool:
    """The file the last build recorded is there, as it wrote it."""
    path = plan.folder / record["path"]
    return path.is_file() and sha256(path.read_bytes()) == record["sha256"]


def changes_intact(plan: Plan) -> bool:
    """changes.json, written with the book, is there as the last build wrote it: it is an
    output too, and one deleted or damaged since is made again."""
    path = plan.folder / CHANGES
    return path.is_file() and sha256(path.read_bytes()) == plan.previous.get("changes_sha256")


def last_warnings(plan: Plan, strict: bool) -> list[Problem]:
    """The warnings of the build that made a meeting's outputs, told again (errors with --strict)."""
    found = [Problem(Path(os.path.normpath(plan.result.directory / w["path"])), w["line"], w["message"], "warning")
             for w in plan.previous.get("warnings", [])]
    return as_errors(found) if strict else found


class Flow:
    """Moves every meeting through its stages as the pool hands back results."""

    ASSEMBLY = "assembly"
    FRONT_TRIES = 4  # layouts of the front at most: the numbers could, in theory, change its length
    LAST_STAGE, DOCUMENT = (0,), (1,)  # priorities in the pool: a book's last stages first

    def __init__(self, runner: Runner, editions, force: bool, strict: bool):
        self.runner, self.editions, self.force, self.strict = runner, editions, force, strict

    def run(self, plans: list[Plan]) -> None:
        for plan in plans:
            while self.in_flight(plans) >= self.most_in_flight() and self.runner.busy:
                self.collect(block=True)  # memory stays bounded, however many meetings
            self.prepare(plan)
            self.collect(block=False)  # keep later stages of earlier meetings moving
        while self.runner.busy:
            self.collect(block=True)

    def most_in_flight(self) -> int:
        """Meetings prepared and not yet published, at most: enough to keep every worker busy
        (preparing is quicker than laying out), few enough that their HTML and PDFs do not
        pile up in memory on a long shelf."""
        return self.runner.jobs + 2

    @staticmethod
    def in_flight(plans: list[Plan]) -> int:
        return sum(1 for plan in plans if plan.prepared is not None and not plan.published)

    def prepare(self, plan: Plan) -> None:
        plan.cache = PartCache(plan.folder / ".cache")

        def part_ready(part: str, html: str) -> None:
            if part == "front":  # laid out again if the page numbers turn out different
                plan.front_numbers, plan.front_tries = last_page_numbers(plan), 1
                html = jobs.fill_page_numbers(html, plan.front_numbers)
            self.lay_out(plan, part, html)
            self.runner.poll()  # workers that finished get new work while charts are drawn

        try:
            with between_drawings(self.runner.poll):
                prepared = jobs.prepare(str(plan.result.directory), str(plan.folder), self.editions,
                                        str(plan.templates), self.strict, plan.policy, part_ready, self.force)
        except BriefgenError as exc:
            plan.result.problems += exc.problems
            plan.book_failed = True
            return
        except Exception as exc:  # a bug: this meeting fails, the rest are built
            internal_error(plan, "preparing the meeting", exc)
            return
        plan.prepared = prepared
        plan.result.problems += prepared.warnings
        for sheet in prepared.factsheets:
            if self.force or factsheet_changed(plan, sheet):
                self.submit(plan, f"factsheet:{sheet.item}", jobs.factsheet, (sheet, prepared.fragments),
                            priority=self.DOCUMENT + (-len(sheet.html),))
            else:  # kept as it is: its remarks are this build's warnings, as a cached part's are
                self.tell_remarks(plan, f"factsheet:{sheet.item}", kept_remarks(plan, sheet))
        self.advance(plan)

    def lay_out(self, plan: Plan, name: str, html: str, last_stage: bool = False) -> None:
        """From the part cache if it holds this HTML's layout, else in the pool.

        A book's last stages go before any part, the longest documents first: the pool
        is never left with one long document to finish while a worker waits.
        """
        key = layout_key(html)
        cached = None if self.force else plan.cache.get(key)
        if cached is not None:
            plan.layouts[name] = cached
            self.tell_remarks(plan, name, cached.remarks)  # they are this build's warnings as much as the last one's
        else:
            priority = (self.LAST_STAGE if last_stage else self.DOCUMENT) + (-len(html),)
            # the stamps are drawn over the pages as artifacts: they need no structure of their own
            request = part_request(plan, html, "book", tagged=not name.startswith("stamps:"))
            self.submit(plan, name, lay_out, (request,), key, priority)

    def submit(self, plan: Plan, name: str, function, args: tuple, key: str | None = None,
               priority: tuple = LAST_STAGE) -> None:
        plan.waiting.add(name)
        self.runner.submit((plan, name, key), function, args, priority)

    def collect(self, block: bool) -> None:
        for (plan, name, key), result in self.runner.finished(block):
            plan.waiting.discard(name)
            of_book = not name.startswith("factsheet:")
            if isinstance(result, WorkerDied):
                result = BriefgenError([died_problem(plan, name, result)])
            if isinstance(result, BriefgenError):
                plan.result.problems += result.problems
                plan.book_failed |= of_book
            elif isinstance(result, Exception):
                internal_error(plan, f"laying out {name}", result, book=of_book)
            elif name == self.ASSEMBLY:
                plan.book_pdf = result
            else:
                self.file_layout(plan, name, key, result)
            self.advance(plan)

    def file_layout(self, plan: Plan, name: str, key: str | None, layout) -> None:
        plan.layouts[name] = layout
        if key:
            plan.cache.put(key, layout)
        plan.result.laid_out.append(name)
        meeting = plan.result.directory.name
        log.info("laid out %s of %s", name, meeting, extra={"event": "layout.done", "meeting": meeting, "part": name})
        self.tell_remarks(plan, name, layout.remarks)

    def tell_remarks(self, plan: Plan, name: str, remarks: list[str]) -> None:
        meeting = plan.result.directory.name
        for remark in remarks:  # once a meeting: every part of a book shares its CSS
            remark = shortened(remark)  # it may quote a whole data: URL
            if remark not in plan.remarks:
                plan.remarks.add(remark)
                log.warning("%s, %s: WeasyPrint: %s", meeting, name, remark,
                            extra={"event": "layout.warning", "meeting": meeting, "part": name})
                problem = Problem(source_of(plan, name), None, f"WeasyPrint: {remark}", "warning")
                if self.strict:  # --strict: every warning fails the run, WeasyPrint's too
                    plan.result.problems += as_errors([problem])
                else:
                    plan.remark_warnings.append(problem)

    def advance(self, plan: Plan) -> None:
        """Take the meeting's book on as far as it can go; publish when all is done."""
        if plan.published or plan.prepared is None:  # done, failed, or still being prepared
            return
        try:
            if self.book_wanted(plan) and self.parts_back(plan):
                self.book_stage_or_fail(plan)
            if not plan.waiting:
                plan.published = True
                publish_meeting(plan, self.editions, self.strict)
                plan.release()
        except CannotWrite as exc:  # what was written stays; its manifest is the last good one
            plan.result.problems += exc.problems
            plan.result.cannot_write = plan.published = True
        except Exception as exc:  # a bug: this meeting fails, the rest are built
            internal_error(plan, "assembling and publishing the meeting", exc)
            plan.published = True  # what was written stays; its manifest is the last good one

    def book_wanted(self, plan: Plan) -> bool:
        return ("book" in self.editions and bool(plan.prepared.parts) and plan.book_pdf is None
                and not plan.book_failed)

    def book_stage_or_fail(self, plan: Plan) -> None:
        """The book's next stage; a user's stamps.html that fails on this book's pages (the
        overlay is rendered only once the page count is known) fails the book as an input
        error at its template line, as a failing part does, and the fact sheets are published."""
        try:
            self.next_book_stage(plan)
        except BriefgenError as exc:
            plan.result.problems += exc.problems
            plan.book_failed = True

    def parts_back(self, plan: Plan) -> bool:
        """Every part laid out at least once (the front perhaps with other page numbers)."""
        return self.ASSEMBLY not in plan.waiting and all(part in plan.layouts for part, _ in plan.prepared.parts)

    def next_book_stage(self, plan: Plan) -> None:
        """The front with real page numbers and the stamp overlay at once, then assembly.

        The overlay is made for the pages as they stand; if the front's final length
        differs from its first layout's (in theory it could), both are made again.
        """
        while "front" not in plan.waiting and plan.front_tries < self.FRONT_TRIES:
            numbers = page_numbers(plan)
            if numbers == plan.front_numbers:
                break
            plan.front_tries, plan.front_numbers = plan.front_tries + 1, numbers
            self.lay_out(plan, "front", jobs.fill_page_numbers(front_html(plan), numbers), last_stage=True)
        overlay = overlay_html(plan)
        if not plan.waiting & set(stamp_names(plan)) and plan.overlay_html != overlay:
            plan.overlay_html = overlay
            for name, html in zip(stamp_names(plan), overlay):
                self.lay_out(plan, name, html, last_stage=True)
        if not plan.waiting & {"front", *stamp_names(plan)}:
            from .assemble import assemble

            stamps = [plan.layouts[name] for name in stamp_names(plan)]
            self.submit(plan, self.ASSEMBLY, assemble, (ordered_parts(plan), stamps, plan.prepared.language))


# Most pages of the stamp overlay laid out as one document: the pieces are laid out side
# by side, after the last part. Not set by the number of workers, so the PDF's bytes do
# not depend on it.
STAMP_PAGES = 30


def shortened(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def source_of(plan: Plan, name: str) -> Path:
    """The input file a document comes from: its item's file, else meeting.yaml."""
    item = name.removeprefix("item-").removeprefix("factsheet:")
    files = plan.prepared.item_files if plan.prepared else {}
    return plan.result.directory / files.get(item, "meeting.yaml")


def last_page_numbers(plan: Plan) -> dict[str, int] | None:
    """The contents' page numbers of the last build: most nights they have not changed,
    and the front is then laid out once. None (wide stand-ins) if there are none."""
    numbers = plan.previous.get("page_numbers")
    if isinstance(numbers, dict) and all(isinstance(n, int) for n in numbers.values()):
        return numbers
    return None


def overlay_html(plan: Plan) -> list[str]:
    """The stamp overlay, in pieces of at most STAMP_PAGES pages, as even as can be."""
    from .render_html import render_stamps

    banners = [level.name for level in banner_levels(plan)]
    pieces = max(1, math.ceil(len(banners) / STAMP_PAGES))
    size = max(1, math.ceil(len(banners) / pieces))
    return [render_stamps(banners[start:start + size], plan.prepared.meta["title"], plan.prepared.language,
                          plan.templates, first=start + 1, pages=len(banners))
            for start in range(0, len(banners), size)]


def stamp_names(plan: Plan) -> list[str]:
    return [f"stamps:{index}" for index in range(len(plan.overlay_html or ()))]


def factsheet_changed(plan: Plan, sheet: jobs.FactsheetJob) -> bool:
    """Laid out again unless the last build published this very HTML, and both its files
    are as it wrote them (a sheet deleted or damaged since is made again)."""
    old = last_records(plan)
    records = [old.get(path) for path in factsheet_paths(sheet)]
    return not all(r and r.get("build_key") == layout_key(sheet.html) and intact(plan, r) for r in records)


def kept_remarks(plan: Plan, sheet: jobs.FactsheetJob) -> list[str]:
    """WeasyPrint's warnings on a sheet kept from the last build, as its PDF's record keeps them."""
    return last_records(plan)[f"factsheets/{sheet.item}.pdf"].get("remarks", [])


def factsheet_paths(sheet: jobs.FactsheetJob) -> list[str]:
    return [f"factsheets/{sheet.item}.html", f"factsheets/{sheet.item}.pdf"]


def part_request(plan: Plan, html: str, what: str, tagged: bool = False) -> LayoutRequest:
    roots = jobs.allowed_roots(plan.templates, plan.result.directory)
    return LayoutRequest(html, str(plan.templates), roots, str(plan.result.directory / "meeting.yaml"), what,
                         plan.policy.time_limit, tagged)


def layout_key(html: str) -> str:
    return sha256(html + repr(sorted(versions().items())))


def ordered_parts(plan: Plan) -> list:
    return [plan.layouts[part] for part, _ in plan.prepared.parts]


def internal_error(plan: Plan, doing: str, exc: Exception, book: bool = True) -> None:
    """A bug in briefgen met while ``doing`` something for this meeting: it fails (exit
    status 3), the rest of the build goes on; the traceback is logged (--verbose shows it)."""
    plan.result.internal_error = True
    plan.book_failed |= book
    plan.result.problems.append(bug_problem(plan.result.directory, doing, exc))


def bug_problem(directory: Path, doing: str, exc: Exception) -> Problem:
    """The one line that reports a bug against a meeting; its traceback goes to the log."""
    import traceback

    trace = getattr(exc, "traceback_text", None) or "".join(traceback.format_exception(exc))
    log.info("internal error while %s of %s:\n%s", doing, directory.name, trace.rstrip(),
             extra={"event": "internal.traceback", "meeting": directory.name})
    return Problem(directory / "meeting.yaml", None, f"internal error while {doing}: {type(exc).__name__}: "
                   f"{exc} (a bug in briefgen: --verbose shows the traceback)")


def died_problem(plan: Plan, name: str, died: WorkerDied) -> Problem:
    """The worker laying out a document died twice: that document, and only it, fails."""
    directory = plan.result.directory
    if name.startswith("factsheet:"):
        item = name.split(":", 1)[1]
        return Problem(directory / plan.prepared.item_files[item], None,
                       f"fact sheet '{item}' not written: the process laying it out {died}")
    doing = "assembling it" if name == Flow.ASSEMBLY else f"laying out its part '{name}'"
    return Problem(directory / "meeting.yaml", None, f"book not written: the process {doing} {died}")


def front_html(plan: Plan) -> str:
    """The front's HTML, its contents' page numbers still to fill in."""
    return dict(plan.prepared.parts)["front"]


def page_numbers(plan: Plan) -> dict[str, int]:
    """The page (1-based) of each anchor the contents show: only a change to these lays
    the front out again."""
    from .assemble import anchor_pages

    shown = jobs.numbered_anchors(front_html(plan))
    return {anchor: page + 1 for anchor, page in anchor_pages(ordered_parts(plan)).items() if anchor in shown}


def banner_levels(plan: Plan):
    from .assemble import page_banners

    return page_banners(ordered_parts(plan), plan.prepared.scheme)


def publish_meeting(plan: Plan, editions, strict: bool = False) -> None:
    """Write what was built, keep what was up to date, record it all in the manifest:
    every file written first, then all moved into place together (``Publication``)."""
    publication = Publication(plan.folder)
    try:
        staged = stage_meeting(plan, editions, strict, publication)
        publication.commit()
    finally:
        publication.discard()  # what a failure left staged; nothing after a commit
    if staged:
        after_publishing(plan, editions)


def stage_meeting(plan: Plan, editions, strict: bool, publication: Publication) -> bool:
    """Write the meeting's new files beside their targets; False if there is nothing new."""
    prepared = plan.prepared
    if "book" in editions and plan.book_pdf is not None:
        publish_book(plan, publication)
    elif "book" in editions:  # failed, or nothing to lay out: the last good book stays listed
        plan.artifacts += kept_artifacts(plan, ("book.html", "book.pdf"))
    if "factsheets" in editions:
        publish_factsheets(plan, publication)
    briefs = brief_pages(plan) or plan.previous.get("brief_pages", {})
    check_pages(plan, briefs, strict)
    if not plan.result.ok and not any(a.written for a in plan.artifacts) and not plan.withdrawn:
        return False  # nothing new: the manifest of the last good build stays as it was
    # by edition: a build of one edition says nothing of the other's files
    key = key_of(plan.prints) if plan.result.ok and not changed_meanwhile(plan) else None
    keys = dict(sorted({**plan.previous.get("inputs_keys", {}), **{edition: key for edition in editions}}.items()))
    meta = {**prepared.meta, "source": recorded_source(plan), "inputs_keys": keys, "inputs": plan.prints,
            "brief_pages": briefs,
            "page_numbers": plan.front_numbers if plan.book_pdf else plan.previous.get("page_numbers"),
            "changes_sha256": plan.changes_sha256 or plan.previous.get("changes_sha256"),
            "warnings": warning_records(plan)}
    publication.write(MANIFEST, manifest_text(plan.previous, meta, plan.artifacts, list(editions)))
    return True


def recorded_source(plan: Plan) -> str:
    """The meeting folder, relative to its output folder: what the manifest's ``source`` says."""
    return Path(os.path.relpath(os.path.abspath(plan.result.directory), os.path.abspath(plan.folder))).as_posix()


def changed_meanwhile(plan: Plan) -> bool:
    """An input saved while the meeting was built: the outputs may hold its new text under
    the key of the old, and were it put back, the next build would call them up to date.
    With no key recorded, the next build builds the meeting again."""
    now = fingerprint(plan.result.directory, plan.templates, plan.policy.allow_outside_paths)
    changed = sorted(name for name in now.keys() | plan.prints.keys() if now.get(name) != plan.prints.get(name))
    if changed:
        meeting = plan.result.directory.name
        log.warning("%s: %s changed while the meeting was built; it is built again next time", meeting,
                    ", ".join(changed), extra={"event": "inputs.changed", "meeting": meeting})
    return bool(changed)


def after_publishing(plan: Plan, editions) -> None:
    """Withdraw stale fact sheets, forget unused parts, and say what was written."""
    folder, built = plan.folder, plan.artifacts
    if "factsheets" in editions:
        withdraw_stale_factsheets(plan)
    if "book" in editions:  # a fact sheets' build uses no part: it would empty the cache
        plan.cache.prune()
    plan.result.outputs += [folder / a.path for a in built if a.written]
    plan.result.skipped += [folder / a.path for a in built if not a.written]


def warning_records(plan: Plan) -> list[dict]:
    """This build's warnings, with paths relative to the meeting folder (the manifest
    does not depend on where the project lies)."""
    return [{"path": os.path.relpath(p.path, plan.result.directory), "line": p.line, "message": p.message}
            for p in [*plan.result.problems, *plan.remark_warnings] if p.severity == "warning"]


def brief_pages(plan: Plan) -> dict[str, int]:
    """Pages of each brief in the book (each is a part that starts on a new page), up to
    its facts and figures: what the linter's length rule counts."""
    from .lint import written_pages

    found = {}
    for part, _ in plan.prepared.parts:
        if part.startswith("item-") and part in plan.layouts:
            item, layout = part.removeprefix("item-"), plan.layouts[part]
            found[item] = written_pages(item, layout.pages, layout.anchors)
    return found


def check_pages(plan: Plan, briefs: dict[str, int], strict: bool) -> None:
    """The linter's page rules, from this build's layouts and the fact sheets it keeps."""
    from .lint import lint_pages

    paths = {item: plan.result.directory / name for item, name in plan.prepared.item_files.items()}
    sheets = {a.item: a.pages for a in plan.artifacts if a.edition == "factsheets" and a.format == "pdf"}
    excess = {name.split(":", 1)[1]: layout.used_mm_after_first
              for name, layout in plan.layouts.items() if name.startswith("factsheet:")}
    found = lint_pages(briefs, sheets, paths, excess)
    plan.result.problems += as_errors(found) if strict else found


def publish_book(plan: Plan, publication: Publication) -> None:
    from .changes import STATE_FILE, to_json

    prepared, pdf = plan.prepared, plan.book_pdf
    key = key_of(plan.prints)
    facts = dict(edition="book", item=None, label="Briefing book", classification=prepared.highest,
                 build_key=key, inputs=sorted(plan.prints))
    last = last_records(plan)  # the same bytes, still in place, are not written again
    plan.artifacts.append(publication.add("book.html", prepared.book_html, last.get("book.html"), format="html", **facts))
    pages = sum(part.pages for part in ordered_parts(plan))
    plan.artifacts.append(publication.add("book.pdf", pdf, last.get("book.pdf"), format="pdf", pages=pages, **facts))
    changes = to_json(prepared.changes, prepared.highest)
    publication.write(CHANGES, changes)
    plan.changes_sha256 = sha256(changes)
    publication.write(STATE_FILE, _json(prepared.state))


def publish_factsheets(plan: Plan, publication: Publication) -> None:
    """A sheet's build key is its HTML's (with the versions): the HTML holds everything
    that shapes the sheet, the data rows it shows and not the others included."""
    prepared = plan.prepared
    for sheet in prepared.factsheets:
        html_path, pdf_path = factsheet_paths(sheet)
        layout = plan.layouts.get(f"factsheet:{sheet.item}")
        facts = dict(edition="factsheets", item=sheet.item, label=f"Fact sheet: {sheet.title}",
                     classification=sheet.level, build_key=layout_key(sheet.html),
                     inputs=factsheet_inputs(plan.prints, prepared.item_files[sheet.item]), rows=sheet.rows)
        if layout is None:  # unchanged, or this attempt failed
            if not withdrawn(plan, sheet, html_path):
                plan.artifacts += [described_now(a, facts) for a in kept_artifacts(plan, (html_path, pdf_path))]
            continue
        last = last_records(plan)  # a sheet whose HTML changed may print the same PDF: it is kept
        plan.artifacts.append(publication.add(html_path, sheet.html, last.get(html_path), format="html", **facts))
        plan.artifacts.append(publication.add(pdf_path, layout.pdf, last.get(pdf_path), format="pdf",
                                              pages=layout.pages, remarks=[shortened(r) for r in layout.remarks],
                                              **facts))


def described_now(kept: Artifact, facts: dict) -> Artifact:
    """A kept sheet made from this very HTML, described as this build describes it: the
    inputs named in its record are this build's (an item file renamed, a template added
    since), as a full build would name them. A sheet kept because its new one failed keeps
    its old record: that describes the file in place."""
    return dataclasses.replace(kept, **facts) if kept.build_key == facts["build_key"] else kept


def withdrawn(plan: Plan, sheet: jobs.FactsheetJob, html_path: str) -> bool:
    """A sheet kept from the last build that holds text restricted now, or shows a data row
    no longer public, is withdrawn: they may have been reclassified since, and the sheet
    that leaves them out not made."""
    from .guard import leaks_in

    try:
        kept = (plan.folder / html_path).read_text(encoding="utf-8")  # the PDF's source
    except (OSError, UnicodeDecodeError):
        return False  # not there, or not a sheet briefgen wrote: not kept either
    found = leaks_in(plan.prepared.fragments, kept)
    rows = set(last_records(plan).get(html_path, {}).get("rows", [])) & plan.prepared.rows_not_public
    if found:
        level, path, line = plan.prepared.fragments[found[0]]
        why = f"contains {level} text, from {path}:{line}"
    elif rows:
        why = f"counts {plural(len(rows), 'data row')} no longer public"
    else:
        return False
    plan.result.problems.append(Problem(Path(sheet.source), None, f"fact sheet '{sheet.item}' withdrawn: the "
                                        f"one last published {why} (not quoted here)"))
    plan.withdrawn = True
    return True


def withdraw_stale_factsheets(plan: Plan) -> None:
    """A fact sheet the last build listed whose item is gone, or now closed to the press,
    leaves the folder with the manifest's entry: a press officer must not find it there."""
    current = {a.path for a in plan.artifacts}
    for old in plan.previous.get("artifacts", []):
        if old["edition"] == "factsheets" and old["path"] not in current:  # a path a build writes (read_manifest)
            with contextlib.suppress(OSError):
                (plan.folder / old["path"]).unlink(missing_ok=True)


def last_records(plan: Plan) -> dict[str, dict]:
    """The last build's manifest records of the meeting's files, by path."""
    return {a["path"]: a for a in plan.previous.get("artifacts", [])}


def kept_artifacts(plan: Plan, paths) -> list[Artifact]:
    """The last build's records of ``paths``, for those still in place."""
    old = last_records(plan)
    return [Artifact.kept(old[path]) for path in paths if path in old and (plan.folder / path).is_file()]


def _json(data) -> str:
    import json

    return json.dumps(data, indent=1, sort_keys=True) + "\n"
