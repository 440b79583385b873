"""/ready reports an outbox relay that stopped going round (services.common.health)."""

from __future__ import annotations

import time

from services.common.outbox import RELAY_STUCK_SECONDS, OutboxRelayRunner


def test_a_relay_that_stops_going_round_is_stuck_after_its_longest_round():
    class Relay:
        last_round: float | None = None

    runner = OutboxRelayRunner()
    runner.relay, runner.poll, runner._running = Relay(), 1.0, True  # type: ignore[assignment]
    assert runner.stuck_for() is None  # not started a round yet
    runner.relay.last_round = time.monotonic()
    assert runner.stuck_for() is None
    runner.relay.last_round = time.monotonic() - RELAY_STUCK_SECONDS - 30
    late = runner.stuck_for()
    assert late is not None and 29 < late < 60
    runner._running = False  # stopping: not stuck, just done
    assert runner.stuck_for() is None
