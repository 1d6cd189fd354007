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


def format_count(count: int) -> str:
    """A whole number as the book writes it, with thousands separators: '24,826'."""
    return f"{count:,}"


def plural(count: int, noun: str) -> str:
    return f"{format_count(count)} {noun}{'' if count == 1 else 's'}"


def join_names(names: list[str]) -> str:
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# Country names that English gives "the" in running prose: "requested by the United
# Kingdom", "the Netherlands", "the Slovak Republic" (table cells and lists keep the name bare).
THE_FIRST_WORDS = {"united"}
THE_WORDS = {"republic", "kingdom", "federation", "emirates", "islands", "states", "union"}
THE_NAMES = {"netherlands", "philippines", "bahamas", "maldives", "seychelles", "comoros", "gambia",
             "uk", "us", "usa", "uae", "eu", "un", "osce"}  # plural names; abbreviations read letter by letter


def in_prose(name: str, sentence_start: bool = False) -> str:
    """A country's (or organisation's) name as a sentence gives it: with "the" where English
    needs one, capitalised at the start of a sentence. A name written with its article
    ("The Netherlands") keeps it, in the case its place in the sentence wants."""
    bare = name.strip()
    written = bare[:4].lower() == "the "
    if written:
        bare = bare[4:].lstrip()
    words = bare.split(" (")[0].split()  # "Netherlands (North Sea)": the name, not its qualifier
    needs = written or bool(words) and (words[0].lower() in THE_FIRST_WORDS or " ".join(words).lower() in THE_NAMES
                                        or any(word.lower() in THE_WORDS for word in words))
    return f"{'The' if sentence_start else 'the'} {bare}" if needs else name
