"""Dead-letter tooling that never breaks (issue 12, point 8): whatever sits in a
dead-letter queue (a gzip header on a body that is not gzip, a real gzip body, JSON
200,000 levels deep, bytes that are not UTF-8, headers of the wrong type, no headers at
all, no id), every letter can be listed, paged through, shown and replayed, or is shown
as opaque; `samspil dead-letters replay --all` finishes and reports each letter.

The letters are put into intake's dead-letter queue on a fresh vhost with py-amqp, as
a broken producer or a broken consumer would leave them."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import amqp
import pytest

from services.common.deadletters import DeadLetters
from services.common.messaging import HEADER_PREFIX
from tests.conftest import service_config
from tests.support.processes import write_config

pytestmark = pytest.mark.reliability

SERVICE = "intake"
DLQ = f"{SERVICE}.dead-letters"
TARGET = "tooling-test.target"  # the consumer queue the letters came from


def _letter(name: str, body: bytes, *, headers: dict | None = None, **props) -> dict:
    base = {HEADER_PREFIX + "dead-letter-id": name,
            HEADER_PREFIX + "original-queue": TARGET,
            HEADER_PREFIX + "error": f"error of {name}",
            "x-samspil-attempts": 3}
    return {"name": name, "body": body,
            "headers": base if headers is None else headers, "props": props}


DEEP = b"[" * 200_000 + b"]" * 200_000
LETTERS = [
    _letter("plain", json.dumps({"type": "intake.inquiry_registered", "n": 1}).encode()),
    _letter("gzip-header-not-gzip", b'{"n": 2}',
            headers={HEADER_PREFIX + "dead-letter-id": "gzip-header-not-gzip",
                     HEADER_PREFIX + "original-queue": TARGET,
                     "compression": "application/x-gzip"}),
    _letter("real-gzip", gzip.compress(b'{"n": 3}'),
            headers={HEADER_PREFIX + "dead-letter-id": "real-gzip",
                     HEADER_PREFIX + "original-queue": TARGET,
                     "compression": "application/x-gzip"}),
    _letter("deep-json", DEEP),
    _letter("not-utf8", b"\xff\xfe\x00binary\x80", content_encoding="binary"),
    _letter("wrong-header-types",
            b'{"n": 6}',
            headers={HEADER_PREFIX + "dead-letter-id": "wrong-header-types",
                     HEADER_PREFIX + "original-queue": TARGET,
                     "x-samspil-attempts": "many", HEADER_PREFIX + "error": 42,
                     HEADER_PREFIX + "failed-at": {"nested": [1, 2]}}),
    # No headers at all: it names no way back, so replay leaves it and says so.
    _letter("no-headers", b'{"n": 7}', headers={}, message_id="no-headers"),
]
REPLAYABLE = [letter["name"] for letter in LETTERS if letter["name"] != "no-headers"]


@pytest.fixture
def broker(amqp_uri: str):
    host = amqp_uri.split("@", 1)[1].split("/", 1)[0]
    vhost = amqp_uri.rsplit("/", 1)[1]
    conn = amqp.Connection(host=host, userid="guest", password="guest", virtual_host=vhost)
    conn.connect()
    channel = conn.channel()
    channel.queue_declare(DLQ, durable=True, auto_delete=False)
    channel.queue_declare(TARGET, durable=True, auto_delete=False)
    # As the kit binds a consumer queue: replays come back through intake.retry.
    channel.exchange_declare("intake.retry", "direct", durable=True, auto_delete=False)
    channel.queue_bind(TARGET, "intake.retry", TARGET)
    for letter in LETTERS:
        channel.basic_publish(
            amqp.Message(letter["body"], application_headers=letter["headers"],
                         delivery_mode=2, **letter["props"]),
            exchange="", routing_key=DLQ)
    yield channel
    conn.close()


def _depth(channel, queue: str) -> int:
    return channel.queue_declare(queue, passive=True).message_count


def test_every_letter_is_listed_paged_and_shown_or_opaque(broker, amqp_uri):
    letters = DeadLetters(amqp_uri, SERVICE)
    listed = letters.list()
    by_id = {letter.id: letter for letter in listed}
    print(f"\nlisted {len(listed)} of {len(LETTERS)}; opaque "
          f"{sorted(i for i, letter in by_id.items() if letter.opaque)}")
    assert [letter.id for letter in listed] == [letter["name"] for letter in LETTERS]
    assert by_id["plain"].body == {"type": "intake.inquiry_registered", "n": 1}
    assert not by_id["plain"].opaque and by_id["plain"].attempts == 3
    for name in ("gzip-header-not-gzip", "real-gzip", "deep-json", "not-utf8"):
        assert by_id[name].opaque, name
        assert by_id[name].body["bytes"] == len(next(
            letter["body"] for letter in LETTERS if letter["name"] == name))
        json.dumps(by_id[name].summary() | {"body": by_id[name].body})  # printable
    odd = by_id["wrong-header-types"]
    assert (odd.attempts, odd.error) == (0, "42") and odd.body == {"n": 6}
    assert by_id["no-headers"].consumer == "" and by_id["no-headers"].body == {"n": 7}

    # Pages: the queue's order, nothing taken; listing twice changes nothing.
    page = letters.list(limit=2, offset=2)
    assert [letter.id for letter in page] == ["real-gzip", "deep-json"]
    assert _depth(broker, DLQ) == len(LETTERS)
    for name in ("deep-json", "not-utf8", "no-headers"):
        assert letters.show(name).id == name
    assert _depth(broker, DLQ) == len(LETTERS)


def test_replay_all_goes_on_past_a_bad_letter_and_reports_each(broker, amqp_uri, tmp_path):
    config = write_config(tmp_path / "samspil.yaml", service_config(amqp_uri, {}))
    listed = subprocess.run(
        [sys.executable, "-m", "services.cli", "--config", str(config), "dead-letters",
         "list", "--service", SERVICE, "--json"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == len(LETTERS)
    shown = subprocess.run(
        [sys.executable, "-m", "services.cli", "--config", str(config), "dead-letters",
         "show", "deep-json"], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).parents[2])
    assert shown.returncode == 0 and json.loads(shown.stdout)["opaque"] is True

    replay = subprocess.run(
        [sys.executable, "-m", "services.cli", "--config", str(config), "dead-letters",
         "replay", "--all", "--service", SERVICE],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    print("\n" + replay.stdout)
    # One letter names no way back: the run still finishes, reports it, and fails.
    assert replay.returncode == 1, replay.stderr
    for name in REPLAYABLE:
        assert f"replayed {name} to " in replay.stdout
    assert "not replayed no-headers (left in its queue)" in replay.stdout
    assert f"{len(REPLAYABLE)} dead letter(s) replayed, 1 not replayed" in replay.stdout

    # Each replayed letter is back in its queue with the bytes it had; the other stayed.
    assert _depth(broker, DLQ) == 1
    assert _depth(broker, TARGET) == len(REPLAYABLE)
    back = {}
    while (message := broker.basic_get(TARGET, no_ack=True)) is not None:
        body = message.body if isinstance(message.body, bytes) else message.body.encode()
        back[message.application_headers[HEADER_PREFIX + "replayed-from"]] = body
    originals = {letter["name"]: letter["body"] for letter in LETTERS}
    assert back == {name: originals[name] for name in REPLAYABLE}
    print(f"sent {len(LETTERS)}, replayed {len(back)}, left {_depth(broker, DLQ)}, "
          f"lost 0, duplicated {len(REPLAYABLE) - len(back)}")
