"""Classification schemes: ordered levels, their portion marks, which are public.

The default is NATO's. A level is looked up by its full name or its portion mark,
case-insensitively, so ``NR`` and ``NATO Restricted`` both mean NATO RESTRICTED.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    name: str
    mark: str
    rank: int
    public: bool = False


class Scheme:
    """An ordered list of levels, lowest first."""

    def __init__(self, levels: list[tuple[str, str, bool]]):
        self.levels = [Level(name, mark, rank, public)
                       for rank, (name, mark, public) in enumerate(levels)]
        self._lookup = {}
        for level in self.levels:
            self._lookup[level_key(level.name)] = level
            self._lookup[level_key(level.mark)] = level

    def get(self, text) -> Level | None:
        """The level named by ``text``, or None if the scheme has no such level."""
        if not isinstance(text, str):
            return None
        return self._lookup.get(level_key(text))

    def names(self) -> list[str]:
        return [level.name for level in self.levels]

    @property
    def public_level(self) -> Level | None:
        """The lowest public level: what press products are marked with."""
        return next((level for level in self.levels if level.public), None)

    def highest(self, levels) -> Level:
        """The highest of ``levels``; the lowest level of the scheme if there are none."""
        return max(levels, key=lambda level: level.rank, default=self.levels[0])


def level_key(text: str) -> tuple[str, str]:
    """``text`` in capitals and in small letters, its spaces tidied: equal for two spellings
    of a level that differ in case alone. Capitals alone would match lookalikes: 'publıc'
    (dotless ı) and 'ſecret' (long s) are 'PUBLIC' and 'SECRET' in capitals."""
    text = " ".join(text.split())
    return text.upper(), text.lower()


NATO = Scheme([
    ("PUBLIC", "PUBLIC", True),
    ("NATO UNCLASSIFIED", "NU", False),
    ("NATO RESTRICTED", "NR", False),
    ("NATO CONFIDENTIAL", "NC", False),
    ("NATO SECRET", "NS", False),
    ("COSMIC TOP SECRET", "CTS", False),
])
