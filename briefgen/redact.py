"""Stage 4, redact: each edition gets its own copy of the meeting, cut to its ceiling.

This runs before merge and before any template: a fact sheet's figures are computed
from public rows only, and a template cannot print what it never receives.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from pydantic import BaseModel

from .classification import Level
from .datasets import Dataset
from .model import Marked
from .validate import ValidMeeting

Allowed = Callable[[Level], bool]


def public_only(level: Level) -> bool:
    return level.public


def up_to(ceiling: Level) -> Allowed:
    return lambda level: level.rank <= ceiling.rank


def redact(valid: ValidMeeting, allowed: Allowed) -> ValidMeeting:
    """A copy of ``valid`` holding only the portions and rows whose level is allowed."""
    return dataclasses.replace(
        valid,
        meeting=redact_model(valid.meeting, allowed),
        items=[redact_model(item, allowed) for item in valid.items],
        datasets={name: redact_dataset(data, allowed) for name, data in valid.datasets.items()},
    )


def redact_model(model: BaseModel, allowed: Allowed) -> BaseModel:
    """Drop every marked value (single or in a list) whose level is not allowed, at any depth."""
    update = {}
    for name, value in model:
        if isinstance(value, list):
            update[name] = [_redact_value(v, allowed) for v in value if _keeps(v, allowed)]
        elif not _keeps(value, allowed):
            update[name] = None
        elif isinstance(value, BaseModel):
            update[name] = redact_model(value, allowed)
    return model.model_copy(update=update)


def _keeps(value, allowed: Allowed) -> bool:
    return not isinstance(value, Marked) or allowed(value.level)


def _redact_value(value, allowed: Allowed):
    return redact_model(value, allowed) if isinstance(value, BaseModel) else value


def redact_dataset(dataset: Dataset, allowed: Allowed) -> Dataset:
    return dataclasses.replace(dataset, rows=[row for row in dataset.rows if allowed(row._level)])
