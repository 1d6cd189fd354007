"""Imported once by the server process that forks the workers: what every worker needs,
loaded before the fork, so no worker pays for it again."""

import weasyprint  # noqa: F401

from . import assemble, jobs, render_pdf  # noqa: F401
