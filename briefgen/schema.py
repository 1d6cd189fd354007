"""JSON Schema for meeting and item files, made from the typed model.

Editors that read a ``# yaml-language-server: $schema=...`` line (VS Code's YAML
extension, and others using yaml-language-server) then complete keys and mark mistakes
as you type. The schema is the model's own (pydantic), adjusted where the YAML accepts
a shorthand that the model coerces: a portion may be a plain string, ``background`` a
single portion. Unknown keys are marked too (briefgen warns about them). It is written
as draft-07, which every such editor reads.

The files in ``schemas/`` are this module's output; a test keeps them up to date.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from .model import Item, Meeting

KINDS: dict[str, type[BaseModel]] = {"meeting": Meeting, "item": Item}
SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
DRAFT = "http://json-schema.org/draft-07/schema#"


def schema_file(kind: str) -> Path:
    """Where the shipped schema of ``kind`` is."""
    return SCHEMAS / f"{kind}.schema.json"


def json_schema(kind: str) -> dict:
    """The JSON Schema of a ``kind`` file ("meeting" or "item")."""
    schema = KINDS[kind].model_json_schema(ref_template="#/definitions/{model}")
    definitions = schema.pop("$defs", {})
    if "Portion" in definitions:
        definitions["Portion"] = portion_schema(definitions["Portion"])
    if kind == "item":
        schema["properties"]["background"] = one_or_many(schema["properties"]["background"])
    closed = close_objects({**schema, "definitions": definitions})
    return {"$schema": DRAFT, "$id": f"{kind}.schema.json", **closed}


def portion_schema(mapping: dict) -> dict:
    """A portion: markdown text, or a mapping {text, classification}."""
    text = {"type": "string", "description": "Markdown text; takes its item's (or the meeting's) classification."}
    return {"title": "Portion", "description": mapping.get("description", ""), "anyOf": [text, mapping]}


def one_or_many(array: dict) -> dict:
    """A list of portions that also accepts one portion alone."""
    one = dict(array["items"])
    return {"description": array.get("description", ""), "anyOf": [one, {"type": "array", "items": one}]}


def close_objects(node):
    """Every object schema refuses keys it does not list, so an editor marks typos."""
    if isinstance(node, dict):
        node = {key: close_objects(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [close_objects(value) for value in node]
    return node


def schema_text(kind: str) -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"
