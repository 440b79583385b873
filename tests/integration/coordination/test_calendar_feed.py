"""Busy times imported from a participant's published iCalendar feed, fetched over
HTTP from a real server on loopback; bad feeds are refused by field and rule."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.coordination.conftest import T0
from tests.integration.coordination.test_seed_003_story import ICS

pytestmark = pytest.mark.integration


class FeedHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/skema.ics":
            body = ICS.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def feed_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def window() -> dict[str, str]:
    return {"window_start": T0.isoformat(),
            "window_end": (T0 + dt.timedelta(weeks=8)).isoformat()}


def test_a_published_feed_is_fetched_and_imported(coordination, feed_server):
    with ClusterRpcProxy(coordination.config) as rpc:
        from_feed = rpc.coordination.import_calendar(
            actor="staff:m-school", participant_id="m-school",
            feed_url=f"{feed_server}/skema.ics", **window())
        from_text = rpc.coordination.import_calendar(
            actor="staff:m-school-2", participant_id="m-school-2", calendar=ICS, **window())
    assert from_feed["participant_id"] == "m-school"
    assert {k: v for k, v in from_feed.items() if k != "participant_id"} == \
        {k: v for k, v in from_text.items() if k != "participant_id"}


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ({"feed_url": "{server}/missing.ics"}, "calendar.feed_unreachable"),
        ({"feed_url": "http://calendar.example.com/x.ics"}, "calendar.feed_https_required"),
        # private and link-local addresses are refused before anything is sent
        ({"feed_url": "https://10.1.2.3/x.ics"}, "calendar.feed_not_allowed"),
        ({"feed_url": "https://169.254.169.254/latest"}, "calendar.feed_not_allowed"),
        ({"feed_url": "{server}/skema.ics", "calendar": ICS}, "schema"),
        ({}, "schema"),
    ],
)
def test_bad_feeds_are_refused_naming_the_field(coordination, feed_server, source, rule):
    args = {k: v.format(server=feed_server) for k, v in source.items()}
    with ClusterRpcProxy(coordination.config) as rpc, pytest.raises(RemoteError) as err:
        rpc.coordination.import_calendar(actor="staff:m-school", participant_id="m-school",
                                         **args, **window())
    assert err.value.exc_type == "InvalidInput"
    problem = json.loads(err.value.value)["errors"][0]
    assert problem["rule"] == rule
    assert problem["field"] in {"feed_url", "calendar"}
