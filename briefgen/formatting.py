"""How numbers and dates are written in every edition: one place, so they agree."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


def format_pct(value: Decimal, places: int | None = 2) -> str:
    """2 dp as NATO prints figures; ``places=None`` drops trailing zeros (3.50 -> 3.5)."""
    if places is None:
        return format(value.normalize(), "f")
    return f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):.{places}f}"  # as NATO rounds


def format_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def format_long_date(day: dt.date) -> str:
    """The meeting's date as the cover gives it: 'Wednesday 15 October 2025'."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def join_names(names: list[str]) -> str:
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
