"""Worklists: paginated read models, sorted by urgency, with opaque keyset cursors.

A worklist query orders its rows by a *sort key*: a tuple of columns that ends with a
unique column (the row id), e.g. ``(due_at, id)`` or ``(under_30 DESC, referred_at,
id)``. A page is the first `limit` rows after the cursor; the cursor is the last
row's key, sealed as an opaque string. Because the next page starts strictly after
that key, a list read page by page while rows are added shows each row that existed
when the reading started exactly once: no duplicates, none missed (rows added behind
the reader are, by design, seen on the next read from the top).

    page = worklist.paginate(
        session, select(CourseRow).where(...),
        order=[worklist.asc(CourseRow.follow_up_due), worklist.asc(CourseRow.id)],
        cursor=args["cursor"], limit=args["limit"],
    )
    return page.render(lambda row: item(...))

A sort key column must never be NULL (use `coalesce` in the expression) and must not
change while an item is on the list, or the item may move across the cursor.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, literal, or_, tuple_
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from services.common.errors import DomainError
from services.common.localtime import local_day

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_VERSION = 1


@dataclass(frozen=True)
class SortColumn:
    expression: ColumnElement[Any]
    descending: bool = False


def asc(expression: Any) -> SortColumn:
    return SortColumn(expression, descending=False)


def desc(expression: Any) -> SortColumn:
    return SortColumn(expression, descending=True)


class InvalidCursor(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "cursor", "cursor",
            "The cursor is not one this list gave out; start again without a cursor.",
        )


# -- the cursor: the last row's sort key, typed, sealed as base64url JSON -------------------


def _tag(value: Any) -> list[Any]:
    if isinstance(value, dt.datetime):
        return ["dt", value.astimezone(dt.UTC).isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["i", value]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"a sort key cannot hold {type(value).__name__}")


def _untag(tagged: Any) -> Any:
    kind, value = tagged
    if kind == "dt":
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed
    if kind == "d":
        return dt.date.fromisoformat(value)
    if kind == "u":
        return uuid.UUID(value)
    if kind == "b" and isinstance(value, bool):
        return value
    if kind == "i" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "s" and isinstance(value, str):
        return value
    raise ValueError(f"bad cursor value {kind!r}")


def encode_cursor(key: Sequence[Any], list_name: str) -> str:
    raw = json.dumps({"v": _VERSION, "l": list_name, "k": [_tag(v) for v in key]},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, list_name: str, width: int) -> tuple[Any, ...]:
    """The sort key in `cursor`; InvalidCursor (a 400 naming `cursor`) if it is not a
    cursor of this list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if data.get("v") != _VERSION or data.get("l") != list_name:
            raise ValueError("another list's cursor")
        key = tuple(_untag(v) for v in data["k"])
    except (ValueError, TypeError, KeyError, AttributeError, binascii.Error,
            UnicodeDecodeError, RecursionError):
        raise InvalidCursor() from None
    if len(key) != width:
        raise InvalidCursor()
    return key


# -- the query ------------------------------------------------------------------------------


def _check_types(order: Sequence[SortColumn], key: Sequence[Any]) -> None:
    """A cursor's values must have the types of the columns they are compared with (a
    hand-made cursor must be a 400, not a database error)."""
    for column, value in zip(order, key, strict=True):
        try:
            expected = column.expression.type.python_type
        except NotImplementedError:
            continue
        if expected is dt.date and isinstance(value, dt.datetime):
            raise InvalidCursor()
        if expected is float and isinstance(value, int):
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise InvalidCursor()



def after(order: Sequence[SortColumn], key: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `key` in `order`. When every column runs the same way this is
    one row-value comparison, `(a, b) > (:a, :b)`, which PostgreSQL answers from an
    index range; mixed directions are spelled out column by column."""
    directions = {c.descending for c in order}
    if len(order) > 1 and len(directions) == 1:
        row = tuple_(*[c.expression for c in order])
        bound = tuple_(*[literal(v, type_=c.expression.type) for c, v in zip(order, key,
                                                                            strict=True)])
        return row < bound if directions == {True} else row > bound
    clauses = []
    for i, column in enumerate(order):
        equal_before = [order[j].expression == key[j] for j in range(i)]
        beyond = (column.expression < key[i]) if column.descending else (
            column.expression > key[i])
        clauses.append(and_(*equal_before, beyond))
    return or_(*clauses) if clauses else false()


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None

    def render(self, item: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """The wire form of a page: {items, next_cursor}."""
        return {"items": [item(r) for r in self.rows], "next_cursor": self.next_cursor}


def paginate(
    session: Session,
    query: Select[Any],
    *,
    order: Sequence[SortColumn],
    list_name: str,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    key_of: Callable[[Any], Sequence[Any]] | None = None,
) -> Page:
    """One page of `query` in `order`, starting after `cursor`.

    `key_of(row)` gives a row's sort key; by default the query's first columns are
    taken to be the sort key in order (select them first, e.g. with
    `select(key1, key2, Row)`)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    if cursor:
        key = decode_cursor(cursor, list_name, len(order))
        _check_types(order, key)
        query = query.where(after(order, key))
    query = query.order_by(
        *[c.expression.desc() if c.descending else c.expression.asc() for c in order]
    ).limit(limit + 1)
    try:
        rows = list(session.execute(query).all())
    except (DBAPIError, StatementError):
        if not cursor:
            raise
        session.rollback()  # a cursor the database could not compare: not ours
        raise InvalidCursor() from None
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        last_key = key_of(last) if key_of else tuple(last[: len(order)])
        next_cursor = encode_cursor(last_key, list_name)
    return Page(rows, next_cursor)


# -- what an item says --------------------------------------------------------------------


def days_left(due: dt.date | None, today: dt.date) -> int | None:
    """Whole days from today to the due day (negative when overdue)."""
    return None if due is None else (due - today).days


def item(
    *,
    kind: str,
    subject_type: str,
    subject_id: Any,
    reason_code: str,
    reason: str,
    due_on: dt.date | None = None,
    due_at: dt.datetime | None = None,
    today: dt.date,
    citizen_ref: Any = None,
    **details: Any,
) -> dict[str, Any]:
    """One worklist item: what it is, why it is here (a code and a Danish sentence),
    and by when. `details` are the list's own fields."""
    due_day = due_on or (local_day(due_at) if due_at else None)
    left = days_left(due_day, today)
    return {
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "citizen_ref": str(citizen_ref) if citizen_ref is not None else None,
        "reason_code": reason_code,
        "reason": reason,
        "due_on": due_day.isoformat() if due_day else None,
        "due_at": due_at.astimezone(dt.UTC).isoformat() if due_at else None,
        "days_left": left,
        "overdue": left is not None and left < 0,
        "details": details,
    }
