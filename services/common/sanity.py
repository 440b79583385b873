"""Checks every boundary applies to input before a service acts on it, whoever calls
(the gateway, the CLI, another service): no NUL characters in text (PostgreSQL cannot
store them and no person writes them), no dates outside the years Samspil works in
(keeps local-day and month arithmetic clear of Python's date limits).

Each returns the first problem as a (field, rule, message) triple, or None."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."
YEARS = (1800, 2999)
DATE_MESSAGE = f"Give a date between the years {YEARS[0]} and {YEARS[1]}."

Problem = tuple[str, str, str]


def _walk(value: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted path, key-or-value) for every key and leaf of a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            yield (where or "_body"), key
            yield from _walk(item, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}.{index}" if where else str(index))
    else:
        yield (where or "_body"), value


def nul_problem(value: Any, where: str = "") -> Problem | None:
    for path, leaf in _walk(value, where):
        if isinstance(leaf, str) and "\x00" in leaf:
            return path, "nul_character", NUL_MESSAGE
    return None


SURROGATE_MESSAGE = "Text may not contain a lone surrogate (an unpaired \\ud800-\\udfff)."


def surrogate_problem(value: Any, where: str = "") -> Problem | None:
    """A lone UTF-16 surrogate (JSON allows "\\ud800") cannot be stored or sent on."""
    for path, leaf in _walk(value, where):
        if isinstance(leaf, str) and any("\ud800" <= ch <= "\udfff" for ch in leaf):
            return path, "lone_surrogate", SURROGATE_MESSAGE
    return None


def date_problem(value: Any, where: str = "") -> Problem | None:
    for path, leaf in _walk(value, where):
        if isinstance(leaf, dt.date) and not YEARS[0] <= leaf.year <= YEARS[1]:
            return path, "date_out_of_range", DATE_MESSAGE
    return None
