"""Imported once by the server process that forks the workers: what every worker needs,
loaded before the fork, so no worker pays for it again."""

import signal

# Ctrl-C reaches every process of the terminal's job, this server and its workers too.
# The build's own process stops the workers itself (Runner.stop), so they need not hear
# it: the server would print the traceback of an import cut short. The workers inherit this.
signal.signal(signal.SIGINT, signal.SIG_IGN)

import os  # noqa: E402

from . import assemble, jobs, parallel, render_pdf  # noqa: E402,F401

parallel.quiet_once_the_build_ends(os.getppid())  # this server's parent is the build

render_pdf.import_weasyprint()
