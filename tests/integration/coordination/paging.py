"""Reading a worklist page by page while items are added, and looking at rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select

from services.common.db import make_engine


def read_all(fetch: Callable[..., dict[str, Any]], *, limit: int,
             add_between: Callable[[int], None]) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list, read `limit` at a time with the cursor; `add_between(n)`
    runs after page n (1 and 2), so items are added while the list is being read.
    Returns the items in the order read and the number of pages."""
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        page = fetch(cursor=cursor, limit=limit)
        pages += 1
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        if pages <= 2:
            add_between(pages)
        assert pages < 100, "the cursor does not move on"


def check_read(items: Sequence[dict[str, Any]], pages: int, initial: set[str],
               key: Callable[[dict[str, Any]], Any]) -> list[str]:
    """No duplicates, none of the initial items missed, at least three pages, and the
    items in the list's urgency order. Returns the subject ids in order."""
    ids = [i["subject_id"] for i in items]
    assert len(ids) == len(set(ids)), f"duplicates: {ids}"
    assert initial <= set(ids), f"missed: {initial - set(ids)}"
    assert pages >= 3, pages
    keys = [key(i) for i in items]
    assert keys == sorted(keys), "not in urgency order"
    return ids


def rows(url: str, table: Any, *where: Any) -> list[Any]:
    """The rows of a table (a model class or a Table) matching `where`, in the order of
    their primary key (the order they were written in, for the integer ones)."""
    key = getattr(table, "__table__", table).primary_key.columns
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table).where(*where).order_by(*key)).all())
    finally:
        engine.dispose()
