"""Imported once by the server process that forks the workers: what every worker needs,
loaded before the fork, so no worker pays for it again."""

import gc

from . import assemble, jobs, render_pdf  # noqa: F401

render_pdf.import_weasyprint()

# What is imported lives as long as the worker. Frozen, it is left out of the worker's
# garbage collections, which then neither walk it nor copy the server's memory pages
# (a worker copied 12 MiB fewer of them). A layout makes millions of objects, most of
# which live until its PDF is written: collecting the youngest ones every 10,000 new
# objects instead of every 700 spares the collector work that frees nothing. Together:
# a worker's first document 0.52 -> 0.43 s (median of 10, forked, as a worker is).
gc.freeze()
gc.set_threshold(10_000, 10, 10)
