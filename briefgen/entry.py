"""The command's entry point, light enough to stop cleanly while the rest is imported.

Importing briefgen's modules and their libraries takes about a third of a second. A
Ctrl-C in that time printed the traceback of an import cut short, and a SIGTERM (a
timeout, systemd) ended the process with no last line for a JSON log. Nothing has been
read or written yet: the run stops with the status a stopped build has.
"""

from __future__ import annotations

import json
import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM


class StoppedWhileStarting(BaseException):
    """SIGTERM arrived during the imports (not an Exception: nothing may catch it)."""


def main():
    def stop(signum, frame):
        raise StoppedWhileStarting()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        from .cli import main as run_command
    except KeyboardInterrupt:
        stopped_while_starting("SIGINT", "briefgen: interrupted while starting; nothing was written",
                               EXIT_INTERRUPTED)
    except StoppedWhileStarting:
        stopped_while_starting("SIGTERM", "briefgen: stopped (SIGTERM) while starting; nothing was written",
                               EXIT_TERMINATED)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return run_command()


def stopped_while_starting(by: str, message: str, status: int) -> None:
    if json_log_asked(sys.argv[1:]):
        message = json.dumps({"event": "build.stopped", "message": message, "signal": by}, sort_keys=True)
    print(message, file=sys.stderr, flush=True)
    sys.exit(status)


def json_log_asked(argv: list[str]) -> bool:
    """--log-format json among the arguments, read before click parses them (parsing is
    what may fail, and here nothing that parses them is imported yet)."""
    return "--log-format=json" in argv or any(a == "--log-format" and b == "json" for a, b in zip(argv, argv[1:]))
