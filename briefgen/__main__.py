"""``python -m briefgen``: the same as the ``briefgen`` command."""

from .entry import main

if __name__ == "__main__":  # worker processes import this module again: they must not run it
    main()
