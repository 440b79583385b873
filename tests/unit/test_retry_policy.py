"""The retry ladder of a failing handler, and the wait while the database is down."""

from __future__ import annotations

import random

from services.common.messaging import RetryPolicy, jittered


def test_the_default_ladder_grows_to_thirty_minutes_with_jitter():
    policy = RetryPolicy.from_config({})
    assert policy.max_attempts == 7
    for attempts, step_s in enumerate((1, 5, 25, 125, 625, 1800, 1800), start=1):
        for _ in range(50):
            delay = policy.delay_for(attempts)
            assert step_s * 1000 * 0.75 <= delay <= min(step_s * 1000 * 1.3, 1_800_000)


def test_listed_delays_are_used_exactly():
    policy = RetryPolicy.from_config({"RETRY_DELAYS_MS": [100, 200], "MAX_ATTEMPTS": 3})
    assert [policy.delay_for(n) for n in (1, 2, 3)] == [100, 200, 200]
    assert policy.max_attempts == 3


def test_jitter_spreads_over_a_few_delay_queues_only():
    rng = random.Random(7)
    for step in (1_000, 5_000, 60_000, 1_800_000):
        drawn = {jittered(step, rng) for _ in range(500)}
        assert 2 <= len(drawn) <= 4, (step, drawn)


def test_waiting_for_the_database_is_capped_and_configurable():
    policy = RetryPolicy.from_config({"OUTAGE_BASE_MS": 200, "OUTAGE_MAX_DELAY_MS": 2000})
    for _ in range(200):  # jitter is random: many draws, every one within the bounds
        assert all(policy.outage_delay(w) <= 2000 for w in range(20))
        default = RetryPolicy.from_config({})
        assert 700 <= default.outage_delay(0) <= 1300
        assert 45_000 <= default.outage_delay(30) <= 60_000
