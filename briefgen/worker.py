"""Imported once by the server process that forks the workers: what every worker needs,
loaded before the fork, so no worker pays for it again."""

from . import assemble, jobs, render_pdf  # noqa: F401

render_pdf.import_weasyprint()
