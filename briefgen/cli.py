"""The command line: parses arguments, calls the pipeline, prints problems.

Exit status: 0 success; 1 a problem in the input (each printed as path:line: message);
2 a usage error (click's own); 3 an internal error; 4 the output folder is locked by
another build.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import __version__, pipeline
from .publish import OutputBusy

EXIT_INPUT_ERROR = 1
EXIT_INTERNAL = 3
EXIT_BUSY = 4

meetings_argument = click.argument(
    "meeting_dirs", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
strict_option = click.option("--strict", is_flag=True,
                             help="Treat warnings (unknown keys, stale data) as errors: for nightly runs.")
verbose_option = click.option("--verbose", "-v", is_flag=True, help="Show progress and, for a crash, the traceback.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="briefgen")
def main() -> None:
    """Briefing books and fact sheets from YAML agendas and CSV data.

    \b
    Exit status:
      0  success (also when everything was up to date)
      1  a problem in the input, one line each: path:line: message
      2  a usage error
      3  an internal error (a bug: --verbose shows the traceback)
      4  another build is writing the same output folder
    """


@main.command()
@meetings_argument
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("output"),
              show_default=True, help="Output folder; each meeting goes into OUT/<meeting>/.")
@click.option("--edition", "editions", type=click.Choice(pipeline.EDITIONS), multiple=True,
              help="Build only this edition: the staff book or the press fact sheets (default: both).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Documents laid out at once, one process each (default: the number of cores).")
@click.option("--force", is_flag=True, help="Rebuild everything, even what is up to date.")
@strict_option
@verbose_option
def build(meeting_dirs: tuple[Path, ...], out: Path, editions: tuple[str, ...], jobs: int | None,
          force: bool, strict: bool, verbose: bool) -> None:
    """Build the briefing book and fact sheets of each meeting (default: all under agendas/).

    Incremental: what is up to date is not rebuilt (--force rebuilds it all).
    """
    _setup_logging(verbose)
    chosen = editions or pipeline.EDITIONS
    results = _guard(verbose, lambda: pipeline.build(_meetings(meeting_dirs), out, chosen, strict=strict,
                                                     force=force, jobs_count=jobs))
    _finish(results, "built")


@main.command()
@meetings_argument
@strict_option
@verbose_option
def check(meeting_dirs: tuple[Path, ...], strict: bool, verbose: bool) -> None:
    """Validate each meeting (default: all under agendas/) without writing anything."""
    _setup_logging(verbose)
    results = _guard(verbose, lambda: pipeline.check(_meetings(meeting_dirs), strict=strict))
    _finish(results, "ok")


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
        return action()
    except click.ClickException:
        raise
    except OutputBusy as exc:
        click.echo(f"briefgen: {exc}", err=True)
        sys.exit(EXIT_BUSY)
    except Exception as exc:  # a bug in briefgen, not the user's mistake
        if verbose:
            raise
        click.echo(f"briefgen: internal error: {type(exc).__name__}: {exc} "
                   "(run with --verbose for the traceback)", err=True)
        sys.exit(EXIT_INTERNAL)


def _finish(results: list[pipeline.MeetingResult], verb: str) -> None:
    for result in results:
        for problem in result.problems:
            click.echo(str(problem), err=True)
        if result.ok:
            for output in result.outputs:
                click.echo(f"wrote {output}")
            if result.skipped and not result.outputs:
                click.echo(f"{result.directory}: up to date")
            elif not result.outputs:
                click.echo(f"{result.directory}: {verb}")
    failed = [r for r in results if not r.ok]
    if failed:
        click.echo(f"briefgen: {len(failed)} of {len(results)} meeting(s) failed", err=True)
        sys.exit(EXIT_INPUT_ERROR)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
