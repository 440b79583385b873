"""The pagination proof of issue 15: a worklist read page by page while other items
are being added shows every item that existed when the reading started exactly once.

The list is the housing officers' worklist, read with its real query
(`services.housing.handlers.case_worklist`: the stored sort key, the keyset cursor of
`services.common.worklist`, the access log) on a real database, SQLite and PostgreSQL.
10,000 open cases (and closed ones, which the list must leave out) are inserted in
bulk; then a second writer (a green thread) keeps adding cases whose places fall all
over the list, before and after the reader's position, while the reader pages through.
The reader waits for the writer's next batch before each page, so the two really
interleave: every page is read with new rows committed since the previous one.
"""

from __future__ import annotations

import random
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import insert

from contracts.actor import Actor
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.housing import handlers
from services.housing.models import ArrearsCaseRow, metadata
from services.housing.settings import ladder_settings
from tests.integration.housing.support import T0, synthetic_case_row
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

SETTINGS = ladder_settings({})
INITIAL = 10_000
CLOSED = 1_000
PAGE = 200  # the largest page a client may ask for
BATCH = 50  # cases the writer adds per transaction
OFFICER = Actor("staff", "pagination-proof", roles=["housing_officer"])


def insert_rows(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.unit_of_work() as uow:
        uow.session.execute(insert(ArrearsCaseRow.__table__), rows)
        uow.commit()


class Writer(threading.Thread):
    """Adds BATCH new open cases per transaction, at most AHEAD batches ahead of the
    pages the reader has read (so the reader, who gains PAGE places per page, always
    gets to the end), until told to stop."""

    AHEAD = 2

    def __init__(self, store: Store, seed: int) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.rng = random.Random(seed)
        self.added: list[uuid.UUID] = []
        self.batches = 0
        self.pages_read = 0
        self.stop = threading.Event()
        self.turn = threading.Condition()
        self.error: BaseException | None = None

    def page_read(self) -> None:
        with self.turn:
            self.pages_read += 1
            self.turn.notify_all()

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with self.turn:
                    while self.batches > self.pages_read + self.AHEAD - 1:
                        if self.stop.is_set():
                            return
                        self.turn.wait(0.05)
                rows = [synthetic_case_row(self.rng, T0) for _ in range(BATCH)]
                insert_rows(self.store, rows)
                self.added += [row["id"] for row in rows]
                self.batches += 1
        except BaseException as exc:  # reported by the reader's assertions
            self.error = exc


def test_paging_while_items_are_added_shows_each_existing_item_exactly_once(db_url, backend):
    upgrade("housing", db_url)
    engine = make_engine(db_url)
    store = Store(engine, metadata, "housing", FixedClock(T0))
    rng = random.Random(15)
    initial = [synthetic_case_row(rng, T0) for _ in range(INITIAL)]
    closed = [synthetic_case_row(rng, T0, closed=True) for _ in range(CLOSED)]
    for start in range(0, INITIAL, 2000):
        insert_rows(store, initial[start:start + 2000])
    insert_rows(store, closed)
    initial_ids = {row["id"] for row in initial}

    writer = Writer(store, seed=2018)
    writer.start()
    seen: list[uuid.UUID] = []
    pages = 0
    cursor: str | None = None
    try:
        while True:
            # Before each page, the writer has committed one more batch (and may be
            # writing the next one while the page is read).
            wait_for(lambda read=pages: writer.batches > read or writer.error is not None,
                     timeout=60.0, what="the writer's next batch")
            assert writer.error is None, writer.error
            with store.unit_of_work() as uow:
                page = handlers.case_worklist(uow, SETTINGS, actor=OFFICER,
                                              cursor=cursor, limit=PAGE)
            pages += 1
            writer.page_read()
            seen += [uuid.UUID(item["subject_id"]) for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    added = set(writer.added)
    try:
        duplicates = len(seen) - len(set(seen))
        missed = initial_ids - set(seen)
        new_seen = set(seen) & added
        print(f"\n[{backend}] existing at start: {len(initial_ids)}, pages: {pages}, "
              f"items seen: {len(seen)}, duplicates: {duplicates}, missed: {len(missed)}, "
              f"added while reading: {len(added)} in {writer.batches} batches, "
              f"of which seen: {len(new_seen)}, closed (never listed): {CLOSED}")
        assert duplicates == 0
        assert missed == set()
        # Nothing else turned up: no closed case, nothing invented.
        assert set(seen) <= initial_ids | added
        # The proof is only one if the writer really wrote during the reading, into
        # places both behind and ahead of the reader.
        assert writer.batches >= pages
        assert 0 < len(new_seen) < len(added)
        # One search in the access log per page.
        with engine.connect() as conn:
            log = metadata.tables["access_log"]
            searches = conn.execute(
                log.select().where(log.c.actor == str(OFFICER))).all()
        assert len(searches) == pages
    finally:
        engine.dispose()
