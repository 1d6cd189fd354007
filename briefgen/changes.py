"""What changed since the last edition: the meeting, the briefs, the incidents, the figures.

An *edition* is a build whose inputs differ from the one before. The meeting's output
folder keeps the state of the current edition and of the one before it in
``.editions.json``, so rebuilding the same inputs shows the same changes, and the
comparison needs nothing but the two states.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .formatting import format_count, format_long_date, format_pct
from .incidents import first_spellings, place_key
from .incremental import sha256
from .model import walk_prose
from .prose import embedded_image, images_in
from .publish import read_json
from .spending import ally_names
from .validate import ValidMeeting

STATE_FILE = ".editions.json"
# The meeting's facts a changes page names before and after, labelled as on the cover.
MEETING_FACTS = {"title": "Title", "date": "Date", "venue": "Venue", "chair": "Chair", "author": "Author",
                 "classification": "Classification", "language": "Language"}
# The meeting's sections a changes page says were revised, named as in the contents.
MEETING_SECTIONS = {"programme": "Programme", "people": "Who's who"}
# An incident's facts, named as the heads of the book's incident tables name them; its
# source as the annex, which lists the sources by incident.
INCIDENT_FACTS = {"date": "date", "place": "country", "type": "type", "count": "count",
                  "response": "response", "article4": "Art. 4", "summary": "summary", "source": "source"}
# How the page names what a spelling names: a row's country or type, a figure's ally.
SPELT = {"country": "Country", "type": "Incident type", "ally": "Ally"}
# Past this many lines of one kind about the same briefs, the page sums up the rest in one
# line ("and 37 more"): a widened window moves every incident in it. changes.json keeps all.
LISTED = 10
NONE = "–"  # a fact the meeting does not give, as the book's tables show it
# What a state of an earlier briefgen did not keep of a row: its level is taken as the
# book's ceiling (see marked), so nothing is marked lower than it may be.
UNKNOWN_INCIDENT = {"level": None}
UNKNOWN_FIGURE = {"estimate": False, "level": None}


@dataclass
class Changes:
    first_edition: bool
    new_incidents: list[dict] = field(default_factory=list)  # id, date, country, type, items
    # ally, year, before, after: a figure revised, made final (estimates) or reclassified
    changed_figures: list[dict] = field(default_factory=list)
    changed_items: list[str] = field(default_factory=list)  # titles of briefs whose YAML changed
    new_items: list[str] = field(default_factory=list)
    removed_items: list[str] = field(default_factory=list)
    # id, date, country, type as the last edition had them; items: the briefs that showed it
    removed_incidents: list[dict] = field(default_factory=list)
    # id, date, country, type; revised (facts), reclassified, joined and left (briefs)
    revised_incidents: list[dict] = field(default_factory=list)
    new_figures: list[dict] = field(default_factory=list)  # year, allies: a year's new figures, one line
    removed_figures: list[dict] = field(default_factory=list)  # year, allies
    retitled_items: list[dict] = field(default_factory=list)  # before, after
    renamed_items: list[dict] = field(default_factory=list)  # title, before, after: the item's id
    agenda_order: list[str] = field(default_factory=list)  # the briefs' titles, when their order changed
    meeting: list[dict] = field(default_factory=list)  # field, label, before, after
    revised_sections: list[str] = field(default_factory=list)  # "Programme", "Who's who"
    # before, after (ids), date, country, type, items: an incident whose id alone changed
    renumbered_incidents: list[dict] = field(default_factory=list)
    # what ("country", "type", "ally"), label, before, after: a spelling that changes the book's words
    respelled: list[dict] = field(default_factory=list)
    # the page's sections, brief by brief, long runs summed up (see page_sections); not in changes.json
    page: list = field(default_factory=list, metadata={"page_only": True})

    @property
    def empty(self) -> bool:
        return not any(value for name, value in self.listed().items() if name != "first_edition")

    def listed(self) -> dict:
        """What changed, as changes.json gives it."""
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("page_only")}


# --- the state of an edition ---------------------------------------------------

def snapshot(valid: ValidMeeting, book) -> dict:
    """The facts of this edition that the next one compares against. ``book``, the staff
    view, says which incidents each brief shows."""
    incidents = rows_of(valid, "incidents")
    spending = rows_of(valid, "spending")
    return {"items": {item.id: item_state(item, valid.directory) for item in valid.items},
            "order": [item.id for item in valid.items],
            "incidents": incident_states(incidents),
            "figures": {figure_key(row): format_pct(row.pct_gdp) for row in spending},
            "figure_facts": {figure_key(row): {"estimate": row.estimate, "level": row.level.name} for row in spending},
            "allies": ally_names(spending),
            "shown": shown_incidents(book),
            "meeting": meeting_state(valid)}


def rows_of(valid: ValidMeeting, name: str) -> list:
    return getattr(valid.datasets.get(name), "rows", [])


def item_state(item, directory: Path) -> dict:
    # what the item says, not how its file is written: a comment, CRLF or a BOM revise nothing;
    # "body" leaves out the id, so a brief whose file was renamed is known again
    return {"title": item.title, "sha": item_print(item, directory),
            "body": item_print(item.model_copy(update={"id": None}), directory)}


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


def incident_states(rows) -> dict:
    """Each incident as written, as the book spells it, and the facts that revise it."""
    place, kind = first_spellings(rows)
    return {row.id: {"date": row.date.isoformat(), "country": row.country, "type": row.type,
                     "shown_as": {"country": place[row.id], "type": kind[row.id]},
                     "facts": incident_facts(row)} for row in rows}


def incident_facts(row) -> dict:
    """What the book shows of an incident, by what it means: 'POL' and 'Poland' are one
    country; the summary by its hash, as it may be long."""
    def cell(value):
        return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    return {"date": row.date.isoformat(), "place": place_key(row), "type": row.type.casefold(),
            "count": cell(row.count), "response": row.response, "article4": cell(row.article4),
            "summary": sha256(row.summary), "source": sha256(row.source), "level": row.level.name}


def figure_key(row) -> str:
    """How a spending row's figure is named in an edition's state: 'POL|2025'. By ISO code:
    an ally renamed between editions ('Turkey', then 'Türkiye') is the same ally, and a
    figure revised with the new name is a revised figure."""
    return f"{row.iso3}|{row.year}"


def shown_incidents(book) -> dict:
    """The incidents each brief shows, by item id."""
    return {view.item.id: [row.id for row in view.incidents.rows] for view in book.items if view.incidents}


def meeting_state(valid: ValidMeeting) -> dict:
    meeting = valid.meeting
    facts = {"title": meeting.title, "date": format_long_date(meeting.date), "venue": meeting.venue,
             "chair": meeting.chair, "author": meeting.author, "classification": valid.ceiling.name,
             "language": meeting.language}
    sections = {name: sha256(json.dumps([entry.model_dump(mode="json") for entry in getattr(meeting, name)],
                                        sort_keys=True)) for name in MEETING_SECTIONS}
    return {**facts, **sections}


# --- editions ------------------------------------------------------------------

def editions(folder: Path, current: dict) -> tuple[dict | None, dict]:
    """(previous edition, state to store): a new edition starts when the inputs differ.
    A state file briefgen did not write (cut short, edited) counts as none: a first edition."""
    stored = read_json(folder / STATE_FILE)
    if not (isinstance(stored, dict) and well_formed_state(stored.get("current"))
            and (stored.get("previous") is None or well_formed_state(stored["previous"]))):
        return None, {"previous": None, "current": current}
    last, before = (in_current_terms(stored[key], current) if stored.get(key) is not None else None
                    for key in ("current", "previous"))
    if last == current:
        return before, {"previous": before, "current": current}
    return last, {"previous": last, "current": current}


def in_current_terms(state: dict, current: dict) -> dict:
    """A state written by an earlier briefgen lacks the facts added since: they are taken
    as this edition's, so an upgrade starts no edition and reports nothing it cannot know."""
    state = {**{key: value for key, value in current.items() if key not in state}, **state}
    for table in ("items", "incidents"):
        state[table] = {key: {**current[table].get(key, {}), **record} for key, record in state[table].items()}
    # and within a record: an incident's source, the meeting's author and language came later
    for key, record in state["incidents"].items():
        now = current["incidents"].get(key, {})
        state["incidents"][key] = {**record, **{part: {**now[part], **record[part]} for part in ("facts", "shown_as")
                                                if isinstance(record.get(part), dict) and part in now}}
    state["meeting"] = {**current.get("meeting", {}), **state["meeting"]}
    return state


def well_formed_state(state) -> bool:
    """An edition's state as ``snapshot`` makes it (or an earlier briefgen made it)."""
    if not isinstance(state, dict):
        return False

    def table(name, fields, optional=()):
        rows = state.get(name)
        return isinstance(rows, dict) and all(
            isinstance(row, dict) and all(isinstance(row.get(f), str) for f in fields)
            and all(isinstance(row.get(f, ""), str) for f in optional) for row in rows.values())

    def mapping(name, values, required=False):
        found = state.get(name)
        if found is None:
            return not required
        return isinstance(found, dict) and all(isinstance(key, str) and values(value) for key, value in found.items())

    def strings(value):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)

    return (table("items", ("title", "sha"), ("body",)) and table("incidents", ("date", "country", "type"))
            and mapping("figures", lambda v: isinstance(v, str), required=True)
            and all("|" in key for key in state["figures"])
            and all(_dict_of_strings(row.get("shown_as", {})) and _dict_of_strings(row.get("facts", {}))
                    for row in state["incidents"].values())
            and mapping("figure_facts", lambda v: isinstance(v, dict) and isinstance(v.get("estimate"), bool)
                        and isinstance(v.get("level"), str))
            and mapping("allies", lambda v: isinstance(v, str)) and mapping("shown", strings)
            and mapping("meeting", lambda v: isinstance(v, str))
            and (state.get("order") is None or strings(state["order"])))


def _dict_of_strings(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


# --- the comparison ------------------------------------------------------------

def compare(previous: dict | None, current: dict) -> Changes:
    if previous is None:
        return Changes(first_edition=True)
    changes = Changes(first_edition=False)
    # ``previous`` comes from ``editions``, already in this briefgen's terms
    current, previous = in_full(current), in_full(previous)
    renamed = renamed_items(previous["items"], current["items"])
    compare_meeting(previous, current, changes)
    compare_items(previous, current, renamed, changes)
    compare_incidents(previous, current, renamed, changes)
    compare_figures(previous, current, changes)
    return changes


def in_full(state: dict) -> dict:
    """A state with every table, those an earlier briefgen did not keep empty."""
    return {"meeting": {}, "order": list(state["items"]), "shown": {}, "figure_facts": {}, "allies": {}, **state}


def compare_meeting(previous: dict, current: dict, changes: Changes) -> None:
    old, new = previous["meeting"], current["meeting"]
    changed = [name for name in [*MEETING_FACTS, *MEETING_SECTIONS] if old.get(name, new.get(name)) != new.get(name)]
    changes.meeting = [{"field": name, "label": label, "before": old[name] or NONE, "after": new[name] or NONE}
                       for name, label in MEETING_FACTS.items() if name in changed]
    changes.revised_sections = [label for name, label in MEETING_SECTIONS.items() if name in changed]


def renamed_items(old: dict, new: dict) -> dict[str, str]:
    """{old id: new id} of the briefs whose id changed (a file renamed): the same text, or
    failing that the same title, under an id the last edition did not have. The old id may
    hold another brief now (a new file under the old name): one under another title."""
    gone = [i for i in old if i not in new or new[i]["title"] != old[i]["title"]]
    came = [i for i in new if i not in old]
    renamed = {}
    for same in (lambda a, b: old[a].get("body") == new[b]["body"], lambda a, b: old[a]["title"] == new[b]["title"]):
        for before in gone:
            after = next((i for i in came if i not in renamed.values() and same(before, i)), None)
            if before not in renamed and after is not None:
                renamed[before] = after
    return renamed


def compare_items(previous: dict, current: dict, renamed: dict[str, str], changes: Changes) -> None:
    old, new = previous["items"], current["items"]
    now = {renamed.get(i, i): record for i, record in old.items()}  # the last edition's, by today's ids
    changes.new_items = [new[i]["title"] for i in new if i not in now]
    changes.removed_items = [old[i]["title"] for i in old if renamed.get(i, i) not in new]
    changes.renamed_items = [{"title": new[after]["title"], "before": before, "after": after}
                             for before, after in renamed.items()]
    both = [i for i in new if i in now]
    changes.retitled_items = [{"before": now[i]["title"], "after": new[i]["title"]}
                              for i in both if now[i]["title"] != new[i]["title"]]
    changes.changed_items = [new[i]["title"] for i in both if text_changed(now[i], new[i], i in renamed.values())]
    order = [renamed.get(i, i) for i in previous["order"] if renamed.get(i, i) in new]
    if order != [i for i in current["order"] if i in now]:
        changes.agenda_order = [new[i]["title"] for i in current["order"]]


def text_changed(old: dict, new: dict, renamed: bool) -> bool:
    """A brief's text changed; for one renamed, whether anything but its id did."""
    return old.get("body") != new["body"] if renamed else old["sha"] != new["sha"]


def compare_incidents(previous: dict, current: dict, renamed: dict[str, str], changes: Changes) -> None:
    old, new = previous["incidents"], current["incidents"]
    titles = {i: record["title"] for i, record in current["items"].items()}
    shown_now = briefs_showing(current["shown"], titles)
    # the briefs of the last edition by today's ids and titles, when they are still on the agenda
    shown_then = briefs_showing({renamed.get(i, i): ids for i, ids in previous["shown"].items()},
                                {**{renamed.get(i, i): r["title"] for i, r in previous["items"].items()}, **titles})
    renumbered = renumbered_incidents(old, new)
    for key, row in new.items():
        if key in renumbered.values():
            continue
        if key not in old:
            changes.new_incidents.append({**as_shown(key, row), "items": shown_now.get(key, []),
                                          "classification": row.get("facts", UNKNOWN_INCIDENT)["level"]})
        else:
            revised = revised_incident(key, old[key], row, shown_then.get(key, []), shown_now.get(key, []), titles)
            if revised:
                changes.revised_incidents.append(revised)
    changes.removed_incidents = [{**as_shown(key, row), "items": shown_then.get(key, []),
                                  "classification": row.get("facts", {}).get("level")}
                                 for key, row in old.items() if key not in new and key not in renumbered]
    changes.renumbered_incidents = [{**as_shown(after, new[after]), "before": before, "after": after,
                                     "items": shown_now.get(after, []), "classification": new[after]["facts"]["level"]}
                                    for before, after in renumbered.items()]
    for entries in (changes.new_incidents, changes.revised_incidents, changes.removed_incidents,
                    changes.renumbered_incidents):
        entries.sort(key=by_item([r["title"] for r in current["items"].values()]))
    changes.respelled = respelled_incidents(old, new)


def renumbered_incidents(old: dict, new: dict) -> dict[str, str]:
    """{old id: new id} of the incidents whose id alone changed (a source's reference adopted,
    a typo put right): every fact the same, so one line says so, not a removal and a new one."""
    def same(before, after):  # by the facts the last edition kept (an earlier briefgen kept fewer)
        return all(new[after]["facts"].get(name) == value for name, value in old[before]["facts"].items())

    gone = [key for key in old if key not in new and old[key].get("facts")]
    came = [key for key in new if key not in old]
    renumbered: dict[str, str] = {}
    for before in gone:
        after = next((key for key in came if key not in renumbered.values() and same(before, key)), None)
        if after is not None:
            renumbered[before] = after
    return renumbered


def by_item(agenda: list[str]):
    """Sort key: the first brief that shows an incident, in agenda order (those no brief of
    the agenda shows last), then its date and id, as the briefs' tables order them."""
    def key(entry):
        place = min((agenda.index(title) for title in entry["items"] if title in agenda), default=len(agenda))
        return place, entry["date"], entry["id"]
    return key


def respelled_incidents(old: dict, new: dict) -> list[dict]:
    """Each country or type the book now spells otherwise ('balloon', then 'Balloon'), once
    however many rows it names, with the levels of the rows that show it."""
    found: dict[tuple, dict] = {}
    for key in (key for key in new if key in old and old[key].get("shown_as")):
        then, now = old[key]["shown_as"], new[key]["shown_as"]
        same = {"country": old[key].get("facts", {}).get("place") == new[key]["facts"]["place"],
                "type": old[key].get("facts", {}).get("type") == new[key]["facts"]["type"]}
        for what in ("country", "type"):
            if same[what] and then.get(what, now[what]) != now[what]:
                entry = found.setdefault((what, then[what], now[what]), {
                    "what": what, "label": SPELT[what], "before": then[what], "after": now[what], "levels": []})
                entry["levels"] += [old[key]["facts"].get("level"), new[key]["facts"]["level"]]
    return list(found.values())


def briefs_showing(shown: dict, titles: dict) -> dict[str, list[str]]:
    """{incident id: titles of the briefs that show it}, in agenda order."""
    found: dict[str, list[str]] = {}
    for item, ids in shown.items():
        for key in ids:
            found.setdefault(key, []).append(titles.get(item, item))
    return found


def as_shown(key: str, row: dict) -> dict:
    """An incident as the book's tables name it (its first spelling of the country and type)."""
    spelt = row.get("shown_as", {})
    return {"id": key, "date": row["date"], "country": spelt.get("country", row["country"]),
            "type": spelt.get("type", row["type"])}


def revised_incident(key: str, old: dict, new: dict, then: list[str], now: list[str], titles: dict) -> dict | None:
    """An incident of both editions whose facts, level or briefs changed; None if none did."""
    before, after = old.get("facts", {}), new.get("facts", UNKNOWN_INCIDENT)
    revised = [label for name, label in INCIDENT_FACTS.items() if before.get(name, after.get(name)) != after.get(name)]
    level_then = before.get("level", after["level"])
    joined = [title for title in now if title not in then]
    left = [title for title in then if title not in now and title in titles.values()]  # a removed brief says so itself
    if not (revised or joined or left or level_then != after["level"]):
        return None
    return {**as_shown(key, new), "revised": revised, "reclassified": reclassified(level_then, after["level"]),
            "says": incident_says(revised, level_then, after["level"]), "items": now, "joined": joined,
            "left": left, "classification": after["level"], "previous_classification": level_then}


def reclassified(before: str, after: str) -> dict | None:
    return {"before": before, "after": after} if before != after else None


def incident_says(revised: list[str], level_then: str, level_now: str) -> str:
    """' revised (date, count) and reclassified (PUBLIC → NATO RESTRICTED)', or part of it."""
    said = [f"revised ({', '.join(revised)})"] if revised else []
    if level_then != level_now:
        said.append(f"reclassified ({level_then} → {level_now})")
    return " and ".join(said)


def compare_figures(previous: dict, current: dict, changes: Changes) -> None:
    old, new = previous["figures"], current["figures"]
    names = {**previous.get("allies", {}), **current.get("allies", {})}  # each ally as this edition names it
    facts_then, facts_now = previous["figure_facts"], current["figure_facts"]
    for key, after in new.items():
        if key in old:
            now = facts_now.get(key, UNKNOWN_FIGURE)
            then = facts_then.get(key, now)
            if (old[key], then["estimate"], then["level"]) != (after, now["estimate"], now["level"]):
                ally, year = split_figure_key(key)
                changes.changed_figures.append({
                    "ally": names.get(ally, ally), "year": year, "before": old[key], "after": after,
                    "before_estimate": then["estimate"], "after_estimate": now["estimate"],
                    "says": figure_says(old[key], then, after, now), "classification": now["level"],
                    "previous_classification": then["level"]})
    changes.new_figures = by_year([key for key in new if key not in old], names, facts_now)
    changes.removed_figures = by_year([key for key in old if key not in new], names, facts_then)
    changes.respelled += renamed_allies(previous, current)


def renamed_allies(previous: dict, current: dict) -> list[dict]:
    """Each ally the book now names otherwise ('Turkey', then 'Türkiye'), with the levels of
    its figures then and now: the tables and counts name it so."""
    then, now = previous.get("allies", {}), current.get("allies", {})
    levels = [(key.rsplit("|", 1)[0], facts.get("level"))
              for facts_of in (previous["figure_facts"], current["figure_facts"]) for key, facts in facts_of.items()]
    return [{"what": "ally", "label": SPELT["ally"], "before": then[iso], "after": now[iso],
             "levels": [level for ally, level in levels if ally == iso] or [None]}
            for iso in now if iso in then and then[iso] != now[iso]]


def split_figure_key(key: str) -> tuple[str, int]:
    ally, year = key.rsplit("|", 1)  # a name may hold a '|'; a year cannot
    return ally, int(year)


def figure_says(before: str, then: dict, after: str, now: dict) -> str:
    """'4.48% → 4.50% of GDP', '4.48% (NATO estimate) → 4.48% of GDP' (made final), and a
    reclassification, as the page words them."""
    said = []
    if (before, then["estimate"]) != (after, now["estimate"]):
        flipped = then["estimate"] != now["estimate"]  # said only when it changed: most figures are estimates
        said.append(f"{figure_words(before, flipped and then['estimate'])} → "
                    f"{figure_words(after, flipped and now['estimate'])} of GDP")
    if then["level"] != now["level"]:
        said.append(f"reclassified ({then['level']} → {now['level']})")
    return ", ".join(said)


def figure_words(value: str, estimate: bool) -> str:
    return f"{value}%{' (NATO estimate)' if estimate else ''}"


def by_year(keys: list[str], names: dict, facts: dict) -> list[dict]:
    """Figures come and go a year at a time (NATO's next edition): one entry a year, its
    allies in the data's order, with the levels of its figures."""
    years: dict[int, dict] = {}
    for key in keys:
        ally, year = split_figure_key(key)
        entry = years.setdefault(year, {"year": year, "allies": [], "levels": []})
        entry["allies"].append(names.get(ally, ally))
        entry["levels"].append(facts.get(key, {}).get("level"))
    return [years[year] for year in sorted(years)]


# --- marks ---------------------------------------------------------------------

def marked(changes: Changes, scheme, ceiling) -> Changes:
    """Give each line naming a data row the mark of its row (a revised one the higher of
    its levels then and now), and leave out what the book may not hold: a row of the last
    edition above this edition's ceiling (a lowered ceiling). A row now within the ceiling
    that was above it is listed as it is now, at its level now. A level the last edition
    did not record is taken as the ceiling."""
    def level_of(names):
        return scheme.highest([scheme.get(name) or ceiling for name in names])

    def keep(entries, levels_of):
        kept = []
        for entry in entries:
            level = level_of(levels_of(entry))
            if level.rank > ceiling.rank and "previous_classification" in entry:
                level = level_of([entry["classification"]])
                as_now(entry)
            if level.rank <= ceiling.rank:
                entry["classification"], entry["mark"] = level.name, level.mark
                kept.append(entry)
        return kept

    def its_level(entry):
        return [entry["classification"]]

    def both_levels(entry):
        return [entry["classification"], entry["previous_classification"]]

    def its_rows(entry):
        return entry.pop("levels")

    changes.new_incidents = keep(changes.new_incidents, its_level)
    changes.removed_incidents = keep(changes.removed_incidents, its_level)
    changes.revised_incidents = keep(changes.revised_incidents, both_levels)
    changes.renumbered_incidents = keep(changes.renumbered_incidents, its_level)
    changes.changed_figures = keep(changes.changed_figures, both_levels)
    changes.new_figures = keep(changes.new_figures, its_rows)
    changes.removed_figures = keep(changes.removed_figures, its_rows)
    changes.respelled = keep(changes.respelled, its_rows)
    return changes


def as_now(entry: dict) -> None:
    """A revised figure whose last value was above this book's ceiling: its value then is
    not the book's to give."""
    if "before_estimate" in entry:
        entry["before"] = None
        entry["says"] = f"{figure_words(entry['after'], entry['after_estimate'])} of GDP, " + \
            f"reclassified ({entry['previous_classification']} → {entry['classification']})"


# --- the page, brief by brief ---------------------------------------------------

# A summed-up run of lines: what it counts, and how it names the briefs of rows no brief shows now.
RUN_WORDS = {"new_incident": "new incidents", "revised_incident": "incidents", "removed_incident": "incidents removed"}
IN = {"new_incident": "in", "removed_incident": "were in"}


def page_sections(changes: Changes, agenda: list[str], with_spending: list[str], scheme) -> list[dict]:
    """The page's lines as a reader looks for them: the meeting's first, then each brief's
    in agenda order (an incident under every brief that shows or showed it, a figure under
    every brief with a spending view), then the data's (spellings, and rows no brief shows).
    ``agenda``: the briefs' titles in order; ``with_spending``: those showing figures."""
    new_briefs = set(changes.new_items)
    briefs: dict[str, list[dict]] = {title: [] for title in agenda}  # two briefs of one title: one heading
    data: list[dict] = []

    def place(kind, entry, titles, here=lambda title: {}):
        titles = [title for title in dict.fromkeys(titles) if title in briefs]
        for title in titles:
            line = {"kind": kind, "entry": entry, **here(title)}
            if line.get("moved") != "now in" or title not in new_briefs:  # a new brief's rows are all new to it
                briefs[title].append(line)
        if not titles:
            data.append({"kind": kind, "entry": entry, "elsewhere": True})

    for title in briefs:
        briefs[title] += brief_lines(changes, title)
    for entry in sorted(changes.new_incidents, key=by_date):  # a brief's rows as its table orders them
        place("new_incident", entry, entry["items"])
    for entry in sorted(changes.revised_incidents, key=by_date):
        place("revised_incident", entry, revised_in(entry), lambda title: {"moved": moved(entry, title)})
    for entry in sorted(changes.renumbered_incidents, key=by_date):
        place("renumbered_incident", entry, entry["items"])
    for entry in sorted(changes.removed_incidents, key=by_date):
        place("removed_incident", entry, entry["items"])
    for kind, entries in (("changed_figure", changes.changed_figures),
                          ("new_figures", year_runs(changes.new_figures)),
                          ("removed_figures", year_runs(changes.removed_figures))):
        for entry in entries:
            place(kind, entry, with_spending)
    data[:0] = [{"kind": "respelled", "entry": entry} for entry in changes.respelled]
    sections = [{"title": "The meeting", "brief": False, "lines": meeting_lines(changes)},
                *({"title": title, "brief": True, "lines": lines} for title, lines in briefs.items()),
                {"title": "The data", "brief": False, "lines": data}]
    return [{**section, "lines": folded(section["lines"], scheme)} for section in sections if section["lines"]]


def year_runs(entries: list[dict]) -> list[dict]:
    """Years in a row with the same allies under the same mark, as one line ('2014–2018'):
    a view widened to years before holds every ally in each, and would list them year by year."""
    runs: list[dict] = []
    for entry in entries:
        last = runs[-1] if runs else None
        if (last and entry["year"] == last["to_year"] + 1 and entry["allies"] == last["allies"]
                and entry["classification"] == last["classification"]):
            last["to_year"] = entry["year"]
        else:
            runs.append({**entry, "to_year": entry["year"]})
    return runs


def by_date(entry: dict) -> tuple:
    return entry["date"], entry["id"]


def meeting_lines(changes: Changes) -> list[dict]:
    return [*({"kind": "meeting_fact", "entry": entry} for entry in changes.meeting),
            *({"kind": "section_revised", "entry": label} for label in changes.revised_sections),
            *([{"kind": "agenda_order", "entry": changes.agenda_order}] if changes.agenda_order else []),
            *({"kind": "brief_removed", "entry": title} for title in changes.removed_items)]


def brief_lines(changes: Changes, title: str) -> list[dict]:
    """What the page says of a brief itself: new, its file renamed, retitled, its text revised."""
    return [*([{"kind": "brief_new"}] if title in changes.new_items else []),
            *({"kind": "brief_renamed", "entry": r} for r in changes.renamed_items if r["title"] == title),
            *({"kind": "brief_retitled", "entry": r} for r in changes.retitled_items if r["after"] == title),
            *([{"kind": "brief_revised"}] if title in changes.changed_items else [])]


def revised_in(entry: dict) -> list[str]:
    """The briefs a revised incident's line belongs to: those it joined or left, and, if its
    facts or level changed, every brief that shows it."""
    facts_changed = entry["revised"] or entry["reclassified"]
    return [*(entry["items"] if facts_changed else entry["joined"]), *entry["left"]]


def moved(entry: dict, title: str) -> str | None:
    return "now in" if title in entry["joined"] else "no longer in" if title in entry["left"] else None


def folded(lines: list[dict], scheme) -> list[dict]:
    """``lines`` less those past the first LISTED of a run (new incidents, removed ones, those
    that only moved the same way in or out of the same briefs), each run's rest summed up in
    one line after it, under the highest mark of the lines it stands for."""
    keys = [run_of(line) for line in lines]
    runs: dict[tuple, list[dict]] = {}
    for line, key in zip(lines, keys):
        if key is not None:
            runs.setdefault(key, []).append(line)
    rest = {key: members[LISTED:] for key, members in runs.items() if len(members) > LISTED + 1}
    left_out = {id(line) for members in rest.values() for line in members}
    kept = []
    for line, key in zip(lines, keys):
        if id(line) not in left_out:
            kept.append(line)
        if key in rest and line is runs[key][-1]:
            kept.append(more_line(rest[key], key, scheme))
    return kept


def run_of(line: dict) -> tuple | None:
    """The run a line is summed up with, None for one always listed: a revised incident
    whose facts changed, a figure, a brief's own change."""
    entry, kind = line.get("entry"), line["kind"]
    if kind == "revised_incident" and (entry["revised"] or entry["reclassified"]):
        return None
    if kind not in ("new_incident", "revised_incident", "removed_incident"):
        return None
    if not line.get("elsewhere"):
        return (kind, line.get("moved"))
    briefs = ((("now in", tuple(entry["joined"])), ("no longer in", tuple(entry["left"])))
              if kind == "revised_incident" else ((IN[kind], tuple(entry["items"])),))
    return (kind, briefs)



def more_line(members: list[dict], key: tuple, scheme) -> dict:
    kind, where = key
    level = scheme.highest([scheme.get(line["entry"]["classification"]) for line in members])
    briefs = [[label, list(titles)] for label, titles in where if titles] if isinstance(where, tuple) else []
    says = f"And {format_count(len(members))} more {RUN_WORDS[kind]}" + (f" {where} this brief" if isinstance(where, str) else "")
    return {"kind": "more", "says": says, "classification": level.name, "mark": level.mark, "briefs": briefs}


def levels_listed(changes: Changes, scheme) -> list:
    """The levels of the lines a changes page shows: the book is marked with the highest."""
    entries = [*changes.new_incidents, *changes.removed_incidents, *changes.revised_incidents,
               *changes.renumbered_incidents, *changes.changed_figures, *changes.new_figures,
               *changes.removed_figures, *changes.respelled]
    return [scheme.get(entry["classification"]) for entry in entries]


def to_json(changes: Changes, classification: str) -> str:
    """changes.json, marked with the book's level: it names the book's restricted rows too."""
    return json.dumps({**changes.listed(), "classification": classification}, indent=2, sort_keys=True) + "\n"
