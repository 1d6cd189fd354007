"""What changed since the last edition: new incidents, changed figures, changed briefs.

An *edition* is a build whose inputs differ from the one before. The meeting's output
folder keeps the state of the current edition and of the one before it in
``.editions.json``, so rebuilding the same inputs shows the same changes, and the
comparison needs nothing but the two states.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .formatting import format_pct
from .incremental import sha256
from .model import walk_prose
from .prose import embedded_image, images_in
from .publish import read_json
from .spending import ally_names
from .validate import ValidMeeting

STATE_FILE = ".editions.json"


@dataclass
class Changes:
    first_edition: bool
    new_incidents: list[dict] = field(default_factory=list)  # id, date, country, type
    changed_figures: list[dict] = field(default_factory=list)  # ally, year, before, after
    changed_items: list[str] = field(default_factory=list)  # titles of briefs whose YAML changed
    new_items: list[str] = field(default_factory=list)
    removed_items: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.new_incidents or self.changed_figures or self.changed_items
                    or self.new_items or self.removed_items)


def snapshot(valid: ValidMeeting) -> dict:
    """The facts of this edition that the next one compares against."""
    # what the item says, not how its file is written: a comment, CRLF or a BOM revise nothing
    items = {item.id: {"title": item.title, "sha": item_print(item, valid.directory)} for item in valid.items}
    incidents = {row.id: {"date": row.date.isoformat(), "country": row.country, "type": row.type}
                 for row in getattr(valid.datasets.get("incidents"), "rows", [])}
    spending = getattr(valid.datasets.get("spending"), "rows", [])
    figures = {figure_key(row): format_pct(row.pct_gdp) for row in spending}
    return {"items": items, "incidents": incidents, "figures": figures, "allies": ally_names(spending)}


def item_print(item, directory: Path) -> str:
    """What an item says, and the pictures its prose shows: a picture replaced in assets/
    revises the brief as an edit to its text does. An item that shows none keeps the print
    of what it says alone, so no brief of an earlier edition reads as revised for it."""
    said = item.model_dump_json()
    shown = [sha256(embedded_image(src, directory) or "") for src in images_of(item)]
    return sha256(said + "".join(shown)) if shown else sha256(said)


def images_of(item) -> list[str]:
    """The image sources in an item's prose, as written, in order."""
    return [src for _, _, text in walk_prose(item) for src in images_in(text)]


def figure_key(row) -> str:
    """How a spending row's figure is named in an edition's state: 'POL|2025'. By ISO code:
    an ally renamed between editions ('Turkey', then 'Türkiye') is the same ally, and a
    figure revised with the new name is a revised figure."""
    return f"{row.iso3}|{row.year}"


def editions(folder: Path, current: dict) -> tuple[dict | None, dict]:
    """(previous edition, state to store): a new edition starts when the inputs differ.
    A state file briefgen did not write (cut short, edited) counts as none: a first edition."""
    stored = read_json(folder / STATE_FILE)
    if not (isinstance(stored, dict) and well_formed_state(stored.get("current"))
            and (stored.get("previous") is None or well_formed_state(stored["previous"]))):
        return None, {"previous": None, "current": current}
    if stored.get("current") == current:
        return stored.get("previous"), stored
    return stored.get("current"), {"previous": stored.get("current"), "current": current}


def well_formed_state(state) -> bool:
    """An edition's state as ``snapshot`` makes it."""
    def table(name, fields):
        rows = state.get(name) if isinstance(state, dict) else None
        return isinstance(rows, dict) and all(isinstance(row, dict) and all(isinstance(row.get(f), str) for f in fields)
                                              for row in rows.values())

    figures = state.get("figures") if isinstance(state, dict) else None
    return (table("items", ("title", "sha")) and table("incidents", ("date", "country", "type"))
            and isinstance(figures, dict) and all(isinstance(v, str) and "|" in k for k, v in figures.items()))


def compare(previous: dict | None, current: dict) -> Changes:
    if previous is None:
        return Changes(first_edition=True)
    changes = Changes(first_edition=False)
    names = current.get("allies", {})  # each ally as this edition's book names it
    changes.new_incidents = [{"id": key, **row} for key, row in current["incidents"].items()
                             if key not in previous["incidents"]]
    for key, after in current["figures"].items():
        before = previous["figures"].get(key)
        if before is not None and before != after:
            ally, year = key.rsplit("|", 1)  # a name may hold a '|'; a year cannot
            changes.changed_figures.append({"ally": names.get(ally, ally), "year": int(year),
                                            "before": before, "after": after})
    old, new = previous["items"], current["items"]
    changes.changed_items = [new[i]["title"] for i in new if i in old and old[i]["sha"] != new[i]["sha"]]
    changes.new_items = [new[i]["title"] for i in new if i not in old]
    changes.removed_items = [old[i]["title"] for i in old if i not in new]
    return changes


def to_json(changes: Changes, classification: str) -> str:
    """changes.json, marked with the book's level: it names the book's restricted rows too."""
    return json.dumps({**asdict(changes), "classification": classification}, indent=2, sort_keys=True) + "\n"
