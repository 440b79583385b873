"""A staff member's published Outlook calendar with a recurring team meeting, fetched
over HTTP from a real server on loopback: the busy times coordination stores are
exactly the series' occurrences, with its EXDATE, its moved occurrence and its "this
and following" edit (RECURRENCE-ID;RANGE=THISANDFUTURE). When Outlook republishes the
feed with that edit, the import replaces the old times with the moved ones."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from services.common.db import make_engine
from services.coordination.models import BusyBlockRow
from services.coordination.scheduling import COPENHAGEN
from tests.integration.coordination.conftest import utc
from tests.unit.coordination.test_icalfeed_recurrence import EXPECTED, FEED, LUNCH, SERIES, WINDOW

pytestmark = pytest.mark.integration

FULL = FEED.read_bytes()
EDIT_START = FULL.index(b"BEGIN:VEVENT\r\nUID:" + SERIES.encode() + b"\r\nSEQUENCE:2")
EDIT_END = FULL.index(b"END:VEVENT\r\n", EDIT_START) + len(b"END:VEVENT\r\n")
# The same feed as published before the "this and following" edit was made.
BEFORE_EDIT = FULL[:EDIT_START] + FULL[EDIT_END:]
FEEDS = {"/lars.ics": FULL, "/lars-before.ics": BEFORE_EDIT}


class FeedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = FEEDS.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def stored(url: str, participant_id: str) -> list[tuple[str, str, str | None]]:
    """The participant's imported busy times as stored, Copenhagen wall clock."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(BusyBlockRow.starts_at, BusyBlockRow.ends_at, BusyBlockRow.ref)
                .where(BusyBlockRow.participant_id == participant_id,
                       BusyBlockRow.source == "ical")
                .order_by(BusyBlockRow.starts_at)
            ).all()
    finally:
        engine.dispose()
    return [
        (f"{start.astimezone(COPENHAGEN):%Y-%m-%d %H:%M}",
         f"{end.astimezone(COPENHAGEN):%Y-%m-%d %H:%M}", ref)
        for start, end, ref in rows
    ]


def import_feed(coordination, url: str) -> dict:
    with ClusterRpcProxy(coordination.config) as rpc:
        return rpc.coordination.import_calendar(
            actor="staff:m-school", participant_id="m-school", feed_url=url,
            window_start=utc(WINDOW["window_start"]), window_end=utc(WINDOW["window_end"]))


def test_a_this_and_following_edit_moves_the_stored_busy_times(coordination, feed_server):
    before = import_feed(coordination, f"{feed_server}/lars-before.ics")

    # Before the edit the team meeting is on Mondays 09:00-10:00 to the end.
    moved_monday = [span for span in EXPECTED if span[0] >= "2021-04-12"]
    assert before["imported"] == len(EXPECTED)
    assert stored(coordination.url, "m-school") == [
        span for span in EXPECTED if span[0] < "2021-04-12"
    ] + [(f"{start[:10]} 09:00", f"{start[:10]} 10:00", SERIES) for start, _, _ in moved_monday]

    after = import_feed(coordination, f"{feed_server}/lars.ics")

    # From 12 April on it is 10:30-12:00, and the old 09:00-10:00 times are gone.
    assert after == {"participant_id": "m-school", "imported": len(EXPECTED),
                     "ignored": [{"uid": LUNCH, "reason": "transparent"}]}
    assert stored(coordination.url, "m-school") == EXPECTED
