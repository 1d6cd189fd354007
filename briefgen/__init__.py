"""briefgen: ministerial briefing books and press fact sheets from YAML and CSV.

The pipeline, one module per stage:
load -> validate -> merge -> render_html -> render_pdf -> publish.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "BriefgenError", "Problem", "build", "check"]



def __getattr__(name: str):
    """The pipeline is imported when first used, not with the package: the command's entry
    point (briefgen.entry) must be able to stop cleanly while it is imported."""
    if name in ("build", "check"):
        from . import pipeline
        return getattr(pipeline, name)
    if name in ("BriefgenError", "Problem"):
        from . import errors
        return getattr(errors, name)
    raise AttributeError(f"module 'briefgen' has no attribute {name!r}")
