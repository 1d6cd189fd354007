"""The command line: parses arguments, calls the pipeline, prints problems.

Exit status: 0 success; 1 a problem in the input (each printed as path:line: message);
2 a usage error (click's own); 3 an internal error; 4 the output folder is locked by
another build (still, after --wait SECONDS); 5 an output could not be written.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import json
import logging
import math
import os
import signal
import sys
from pathlib import Path

import click

from . import __version__, pipeline
from .errors import BriefgenError, display_path, one_line
from .entry import EXIT_INTERRUPTED, EXIT_TERMINATED, json_log_asked
from .locate import DEFAULT_TEMPLATES
from .publish import CannotWrite, OutputBusy
from .safety import DEFAULT_TIME_LIMIT, MAX_TIME_LIMIT, MAX_WAIT, Policy

EXIT_INPUT_ERROR = 1
EXIT_INTERNAL = 3
EXIT_BUSY = 4
EXIT_CANNOT_WRITE = 5
UNFINISHED = "what was not finished keeps its earlier outputs"

meetings_argument = click.argument(
    "meeting_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
strict_option = click.option("--strict", is_flag=True,
                             help="Treat warnings (unknown keys, stale data) as errors: for nightly runs.")
log_format_option = click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                                 show_default=True, help="json: one event per line on stderr, for machines.")
verbose_option = click.option("--verbose", "-v", is_flag=True, help="Show progress and, for a crash, the traceback.")
outside_option = click.option("--allow-outside-paths", is_flag=True,
                              help="Let data files named in YAML lie outside the project folder.")


def a_number_of_seconds(ctx, param, seconds: float) -> float:
    """FloatRange lets 'nan' through (no comparison holds for it): the alarm clock cannot be set to it."""
    if math.isnan(seconds):
        raise click.BadParameter("nan is not a number of seconds.")
    return seconds


time_limit_option = click.option(
    "--time-limit", type=click.FloatRange(min=0, min_open=True, max=MAX_TIME_LIMIT), default=DEFAULT_TIME_LIMIT,
    show_default=True, callback=a_number_of_seconds,
    help="Seconds one document may take to render before it is stopped.")
wait_option = click.option(
    "--wait", type=click.FloatRange(min=0, max=MAX_WAIT), default=0, metavar="SECONDS", callback=a_number_of_seconds,
    help="If another build is writing to the output folder, wait up to this long for it to finish "
         "(default: exit 4 at once).")
# More processes than this only wait for each other, and each costs a start (99999 took minutes).
MAX_JOBS = max(64, 2 * (os.cpu_count() or 1))
OWN_TEMPLATES = "Your own templates folder; rendered in a sandbox, built-in templates fill the gaps."


class Folder(click.Path):
    """A folder option's value. click takes the token after the option as its value, even
    when it is the next option: `--out --log-format json` built into a folder '--log-format'."""

    def __init__(self, **options):
        super().__init__(file_okay=False, path_type=Path, **options)

    def convert(self, value, param, ctx):
        if str(value).startswith("-"):
            self.fail(f"'{value}' looks like an option, not a folder: write ./{value} if you mean a folder "
                      "of that name", param, ctx)
        return super().convert(value, param, ctx)


def templates_option(help: str = OWN_TEMPLATES):
    return click.option("--templates", type=Folder(exists=True), default=None, help=help)


def out_option(help: str):
    return click.option("--out", type=Folder(), default=Path("output"),
                        show_default=True, help=help, callback=a_folder_or_nothing)


def a_folder_or_nothing(ctx, param, path: Path) -> Path:
    """click refuses a regular file only; a FIFO or a device would fail later, as 'File exists'."""
    if path.is_symlink() and not path.exists():
        raise click.BadParameter(f"'{path}' is a link to nothing.")
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"'{path}' exists and is not a folder.")
    return path


class Commands(click.Group):
    """briefgen's commands. With --log-format json a usage error is an event too: a cron
    job appending stderr to a log of JSON lines must not find click's plain text in it."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _state.clear()  # one run's log format is not the next one's in the same process (a test's, an embedder's)
        argv = list(sys.argv[1:] if args is None else args)
        if not (standalone_mode and json_log_asked(argv)):
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            status = super().main(argv, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            _emit({"event": "usage_error", "exit_status": exc.exit_code, "message": exc.format_message()})
            sys.exit(exc.exit_code)
        except click.Abort:
            _emit({"event": "build.stopped", "signal": "SIGINT", "message": "briefgen: aborted"})
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(status if isinstance(status, int) else 0)  # --help and --version return 0 here


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefgen")
def main() -> None:
    """Briefing books and fact sheets from YAML agendas and CSV data.

    \b
    Exit status:
      0  success (also when everything was up to date)
      1  a problem in the input, one line each: path:line: message
      2  a usage error
      3  an internal error (a bug: --verbose shows the traceback)
      4  another build is writing the same output folder (still, after --wait)
      5  an output could not be written (disk full, no permission)
      130  interrupted (Ctrl-C); what was not finished keeps its earlier outputs
      143  stopped by SIGTERM (timeout, systemd), the same way
    """
    check_source_date_epoch(os.environ.get("SOURCE_DATE_EPOCH"))


def check_source_date_epoch(value: str | None) -> None:
    """briefgen writes no build time, but matplotlib reads SOURCE_DATE_EPOCH while it draws
    a chart, and a value it cannot read would fail every meeting with charts as a bug."""
    if value is None or value == "":
        return
    try:
        datetime.datetime.fromtimestamp(int(value), datetime.timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise click.UsageError(f"SOURCE_DATE_EPOCH={value[:40]!r} is not a time in whole seconds since "
                               "1970 (briefgen's outputs carry no build time: it may be left unset)") from None


@main.command()
@meetings_argument
@out_option("Output folder; each meeting goes into OUT/<meeting>/.")
@click.option("--edition", "editions", type=click.Choice(pipeline.EDITIONS), multiple=True,
              help="Build only this edition: the staff book or the press fact sheets (default: both).")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS), default=None,
              help="Documents laid out at once, one process each (default: the number of cores).")
@click.option("--force", is_flag=True, help="Rebuild everything, even what is up to date.")
@templates_option()
@time_limit_option
@wait_option
@outside_option
@strict_option
@log_format_option
@verbose_option
def build(meeting_dirs: tuple[Path, ...], out: Path, editions: tuple[str, ...], jobs: int | None,
          force: bool, templates: Path | None, time_limit: float, wait: float, allow_outside_paths: bool,
          strict: bool, log_format: str, verbose: bool) -> None:
    """Build the briefing book and fact sheets of each meeting (default: all under agendas/).

    Incremental: what is up to date is not rebuilt (--force rebuilds it all).
    """
    _setup_logging(verbose, log_format)
    chosen = editions or pipeline.EDITIONS
    policy = Policy(allow_outside_paths=allow_outside_paths, time_limit=time_limit)
    with stopping_on_sigterm():  # the report too: a SIGTERM while it is printed is no traceback
        _guard(verbose, lambda: _finish(pipeline.build(
            _meetings(meeting_dirs), out, chosen, templates=templates or DEFAULT_TEMPLATES, strict=strict,
            force=force, jobs_count=jobs, policy=policy, wait=wait, waiting=_say_waiting(wait)), "built"))


@main.command()
@meetings_argument
@out_option("Where the last build is: the page-count rules are read from its manifest.")
@templates_option("Also render every page through your own templates folder (no layout), to find their errors.")
@time_limit_option
@outside_option
@strict_option
@log_format_option
@verbose_option
def check(meeting_dirs: tuple[Path, ...], out: Path, templates: Path | None, time_limit: float,
          allow_outside_paths: bool, strict: bool, log_format: str, verbose: bool) -> None:
    """Validate and lint each meeting (default: all under agendas/) without writing anything.

    The linter's rules are warnings (errors under --strict), each named in its message.
    """
    _setup_logging(verbose, log_format)
    policy = Policy(allow_outside_paths=allow_outside_paths, time_limit=time_limit)
    results = _guard(verbose, lambda: pipeline.check(_meetings(meeting_dirs), strict=strict, out=out,
                                                     policy=policy, templates=templates))
    _finish(results, "ok")


@main.command()
@click.argument("meeting_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but 127.0.0.1 shows the book to other machines.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@out_option("Where a PDF is built when the page asks for one, and charts are kept.")
@templates_option()
@time_limit_option
@wait_option
@outside_option
@verbose_option
def serve(meeting_dir: Path | None, host: str, port: int, out: Path, templates: Path | None, time_limit: float,
          wait: float, allow_outside_paths: bool, verbose: bool) -> None:
    """Preview a meeting's book and fact sheets in the browser, rebuilt on every change.

    Saving a YAML, CSV or template file rebuilds the HTML and reloads the page; an error
    shows on the page and here, and the last good preview stays. The page's PDF link
    builds the PDF (as build does, into --out, waiting as --wait says). MEETING_DIR
    defaults to the only meeting under agendas/.
    """
    from .serve import Preview, make_server, serve_forever

    _setup_logging(verbose)
    meeting = meeting_dir or _only_meeting()
    if not (meeting / "meeting.yaml").is_file():
        raise click.UsageError(f"{meeting} is not a meeting folder: no meeting.yaml")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"briefgen: warning: serving on {host}: other machines can read this book, "
                   "and everything in it up to its classification", err=True)
    policy = Policy(allow_outside_paths=allow_outside_paths, time_limit=time_limit)
    preview = Preview(meeting, out, templates or DEFAULT_TEMPLATES, policy,
                      say=lambda text: click.echo(text, err=True), wait=wait)
    try:
        server = make_server(preview, host, port)
    except OSError as exc:
        raise click.UsageError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    _guard(verbose, lambda: serve_forever(preview, server, announce=click.echo))


def _only_meeting() -> Path:
    found = _meetings(())
    if len(found) > 1:
        names = ", ".join(str(path) for path in found)
        raise click.UsageError(f"several meetings under agendas/; give one: {names}")
    return found[0]


@main.command()
@click.argument("kind", type=click.Choice(["meeting", "item"]))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: print it).")
def schema(kind: str, output: Path | None) -> None:
    """Print the JSON Schema of a meeting or item file, for editors.

    A YAML file whose first line is `# yaml-language-server: $schema=<path>` then gets
    completion and inline errors in editors that use yaml-language-server. The schemas
    ship in schemas/; the files `briefgen new` writes point at them.
    """
    from .schema import schema_text

    text = schema_text(kind)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:  # a folder that is not there, or not ours to write
            _fail(str(CannotWrite(output, exc)), EXIT_CANNOT_WRITE)
        click.echo(f"wrote {output}")


@main.group()
def new() -> None:
    """Start a meeting or an agenda item: every field present and commented, ready to build."""


@new.command("meeting")
@click.argument("name")
@click.option("--agendas", type=click.Path(file_okay=False, path_type=Path), default=Path("agendas"),
              show_default=True, help="The folder of meetings.")
def new_meeting(name: str, agendas: Path) -> None:
    """Write AGENDAS/NAME/meeting.yaml (NAME: lower-case letters, digits, hyphens)."""
    from .scaffold import new_meeting as scaffold

    _wrote(lambda: scaffold(agendas, name))
    click.echo(f"next: briefgen new item {name} ITEM-ID, then briefgen serve {agendas / name}")


@new.command("item")
@click.argument("meeting")
@click.argument("item_id", metavar="ID")
@click.option("--agendas", type=click.Path(file_okay=False, path_type=Path), default=Path("agendas"),
              show_default=True, help="The folder of meetings, when MEETING is a name.")
def new_item(meeting: str, item_id: str, agendas: Path) -> None:
    """Write MEETING/ID.yaml and add ID to the meeting's items: list.

    MEETING is a meeting folder, or the name of one under AGENDAS.
    """
    from .scaffold import new_item as scaffold

    folder = Path(meeting) if (Path(meeting) / "meeting.yaml").is_file() else agendas / meeting
    _wrote(lambda: scaffold(folder, item_id))


def _wrote(action) -> None:
    """Run a scaffolding ``action``; it refuses (exit 1) rather than overwrite."""
    from .scaffold import BadName, ScaffoldError

    try:
        written = action()
    except BadName as exc:
        raise click.UsageError(str(exc)) from None
    except ScaffoldError as exc:
        _fail(f"briefgen: {exc}", EXIT_INPUT_ERROR)
    except CannotWrite as exc:
        _fail(str(exc), EXIT_CANNOT_WRITE)
    except BriefgenError as exc:  # meeting.yaml or briefgen.yaml as the writer left it: path:line
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_INPUT_ERROR)
    for path in written:
        click.echo(f"wrote {path}")


def _fail(line: str, status: int, event: str = "build.failed") -> None:
    """The last word of a run that cannot go on: a line, or with --log-format json an event."""
    _clear_status_line()
    if _state.get("json"):
        _emit({"event": event, "exit_status": status, "message": line})
    else:
        click.echo(line, err=True)
    sys.exit(status)


def _meetings(meeting_dirs: tuple[Path, ...]) -> list[Path]:
    if meeting_dirs:
        return list(meeting_dirs)
    found = pipeline.find_meetings(Path("agendas"))
    if not found:
        raise click.UsageError("no meetings found under agendas/ (give a MEETING_DIR)")
    return found


def _guard(verbose: bool, action):
    """Run ``action``; an unexpected crash is one line unless --verbose asks for the traceback."""
    try:
        done = action()
        if _state.pop("terminated", False):  # raised where Python drops exceptions (an import's callback)
            raise Terminated()
        return done
    except click.ClickException:
        raise
    except OutputBusy as exc:
        _fail(f"briefgen: {exc}", EXIT_BUSY, "build.busy")
    except CannotWrite as exc:
        _fail(str(exc), EXIT_CANNOT_WRITE)
    except KeyboardInterrupt:
        _say_stopped("SIGINT", f"briefgen: interrupted; {UNFINISHED}")
        sys.exit(EXIT_INTERRUPTED)
    except Terminated:
        _say_stopped("SIGTERM", f"briefgen: stopped (SIGTERM); {UNFINISHED}")
        sys.exit(EXIT_TERMINATED)
    except Exception as exc:  # a bug in briefgen, not the user's mistake
        if verbose:
            raise
        _fail(f"briefgen: internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)",
              EXIT_INTERNAL, "internal_error")


class Terminated(BaseException):
    """SIGTERM arrived: the build stops as for Ctrl-C (not an Exception: nothing may catch it)."""


@contextlib.contextmanager
def stopping_on_sigterm():
    """Stop cleanly on SIGTERM (``timeout``, systemd): the workers are stopped, temporary
    files removed, and the log ends with a line that says so, rather than the process
    vanishing with its pool half shut. The handler it replaced is put back on the way out:
    raised while the interpreter shuts down, ``Terminated`` could only crash it (a fatal
    error, exit status 134); a SIGTERM then ends the process as the signal does (143)."""
    def stop(signum, frame):
        _state["terminated"] = True
        raise Terminated()

    def unraisable(dropped):  # Terminated dropped there is told by _guard, not as a traceback amid the log
        if not isinstance(dropped.exc_value, Terminated):
            previous_hook(dropped)

    previous, previous_hook = signal.signal(signal.SIGTERM, stop), sys.unraisablehook
    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        _state.pop("terminated", None)
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = previous_hook


def _say_waiting(seconds: float):
    """What a build tells once when another holds its output folder, before it waits."""
    def say(message: str, holder: dict | None) -> None:
        if _state.get("json"):
            _emit({"event": "build.waiting", "message": f"briefgen: {message}", "holder": holder, "wait": seconds})
        else:
            click.echo(f"briefgen: {message}", err=True)

    return say


def _say_stopped(by: str, text: str) -> None:
    _clear_status_line()
    if _state.get("json"):
        _emit({"event": "build.stopped", "signal": by, "message": text})
    else:
        click.echo(text, err=True)


def _finish(results: pipeline.Results, verb: str) -> None:
    _clear_status_line()
    mode = "json" if _state.get("json") else "text"
    for result in results:
        _REPORT[mode](result, verb)
    shelf_problems = results.problems  # of the build as a whole: the index
    for problem in shelf_problems:
        _REPORT_PROBLEM[mode](problem)
    failed = [r for r in results if not r.ok]
    summary = {"event": "build.done", "meetings": len(results), "failed": len(failed),
               "written": sum(len(r.outputs) for r in results)}
    if _state.get("json"):
        _emit(summary)
    elif failed:
        click.echo(f"briefgen: {len(failed)} of {len(results)} meeting(s) failed", err=True)
    if failed or shelf_problems:
        sys.exit(_exit_status(results, failed))


def _exit_status(results, failed) -> int:
    """The gravest cause first: a bug, then an output not written, then the input."""
    if any(r.internal_error for r in failed):
        return EXIT_INTERNAL
    if results.cannot_write:
        return EXIT_CANNOT_WRITE
    return EXIT_INPUT_ERROR


def _problem_text(problem) -> None:
    click.echo(str(problem), err=True)


def _problem_json(problem) -> None:
    """Its path as its text names it: a file is named the same on every night's log."""
    _emit({"event": "problem", "severity": problem.severity, "path": display_path(problem.path),
           "line": problem.line, "message": problem.message, "text": str(problem)})


def _report_text(result: pipeline.MeetingResult, verb: str) -> None:
    for problem in result.problems:
        _problem_text(problem)
    for output in result.outputs:  # a meeting folder's name may hold a line break: one line each
        click.echo(f"wrote {one_line(str(output))}")
    if result.ok and not result.outputs:
        click.echo(f"{one_line(str(result.directory))}: {'up to date' if result.skipped else verb}")


def _report_json(result: pipeline.MeetingResult, verb: str) -> None:
    for problem in result.problems:
        _problem_json(problem)
    for output in result.outputs:
        _emit({"event": "artifact.written", "path": str(output)})
    _emit({"event": "meeting.done", "meeting": str(result.directory), "ok": result.ok,
           "written": len(result.outputs), "up_to_date": len(result.skipped),
           "laid_out": result.laid_out})


_REPORT = {"text": _report_text, "json": _report_json}
_REPORT_PROBLEM = {"text": _problem_text, "json": _problem_json}
_state: dict = {}


def _emit(event: dict) -> None:
    click.echo(json.dumps(event, sort_keys=True), err=True)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: level, event, message and the record's extra fields."""

    FIELDS = ("event", "meeting", "part")

    def format(self, record: logging.LogRecord) -> str:
        event = {"level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        event.update({k: getattr(record, k) for k in self.FIELDS if hasattr(record, k)})
        event.setdefault("event", "log")
        return json.dumps(event, sort_keys=True)


def _own_info_or_a_warning(record: logging.LogRecord) -> bool:
    """A JSON log's events: briefgen's own at INFO, another library's only from WARNING
    (README's `log` event); its INFO remarks (matplotlib's on category axes) are chatter."""
    return record.name.split(".")[0] == "briefgen" or record.levelno >= logging.WARNING


class ProgressHandler(logging.Handler):
    """In a terminal: one status line, rewritten as documents are laid out, and cleared
    before anything else is printed (a warning, the report), which would run on from it."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.count = 0
        self.shown = False

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "event", "") == "layout.done":
            self.count += 1
            sys.stderr.write(f"\r\033[K[{self.count}] {record.getMessage()}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.shown = False

    def close(self) -> None:
        self.clear()
        super().close()


def _clear_status_line() -> None:
    if _state.get("progress"):
        _state["progress"].clear()


class LineHandler(logging.StreamHandler):
    """A log line, on a line of its own: the status line is cleared first."""

    def emit(self, record: logging.LogRecord) -> None:
        _clear_status_line()
        super().emit(record)


def _setup_logging(verbose: bool, log_format: str = "text") -> None:
    """Console formatting lives here only. Levels: INFO progress, WARNING what a reader
    should know (WeasyPrint's own remarks), ERROR failures."""
    _state["json"], _state["progress"] = log_format == "json", None
    root = logging.getLogger()
    root.handlers.clear()
    handler = LineHandler(sys.stderr)
    if _state["json"]:
        handler.setFormatter(JsonFormatter())
        handler.addFilter(_own_info_or_a_warning)
        level = logging.INFO
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        level = logging.INFO if verbose else logging.WARNING
        if not verbose and sys.stderr.isatty():
            progress = _state["progress"] = ProgressHandler()
            logging.getLogger("briefgen").addHandler(progress)
            logging.getLogger("briefgen").setLevel(logging.INFO)
            atexit.register(progress.close)
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # A library's warning is an event too, not a stray line amid JSON. Off first: logging
    # patches the warnings module only once per process, and a caller may have undone it.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    logging.getLogger("pikepdf").setLevel(logging.WARNING)  # it announces itself at INFO
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # its steps, at INFO, even on import
