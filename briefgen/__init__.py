"""briefgen: ministerial briefing books and press fact sheets from YAML and CSV.

The pipeline, one module per stage:
load -> validate -> merge -> render_html -> render_pdf -> publish.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "BriefgenError", "Problem", "build", "check"]

from .errors import BriefgenError, Problem  # noqa: E402
from .pipeline import build, check  # noqa: E402
