"""How long a delivery keeps trying (issue 12, point 7): a temporary failure is retried
for `give_up_after` (3 days by default) from the round's first failure, whatever the
number of attempts, so a partner down for 24 hours still gets everything; the last
retry is at that moment. A success, a release or a replay starts a new round."""

from __future__ import annotations

import datetime as dt

import pytest

from services.notifications.retry import (
    GIVE_UP_AFTER,
    BackoffPolicy,
    Delivery,
    DeliveryStatus,
    FailureKind,
)

NOW = dt.datetime(2025, 10, 27, 9, 0, tzinfo=dt.UTC)
TEMPORARY = FailureKind.TEMPORARY
DEFAULT = BackoffPolicy()


class FixedRng:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def fail_until_given_up(delivery: Delivery, policy: BackoffPolicy, rng: FixedRng,
                        start: dt.datetime = NOW) -> list[dt.datetime]:
    """Fail every attempt when it is due; the times of the attempts."""
    now, times = start, []
    while delivery.status is not DeliveryStatus.FAILED:
        assert delivery.is_due(now)
        times.append(now)
        delivery.record_failure(TEMPORARY, "HTTP 503", now, policy=policy, rng=rng)
        now = delivery.next_attempt_at or now
        assert len(times) < 10_000
    return times


def test_the_default_is_three_days_and_no_attempt_limit() -> None:
    assert DEFAULT.give_up_after == GIVE_UP_AFTER == dt.timedelta(hours=72)
    assert DEFAULT.max_attempts is None


@pytest.mark.parametrize("jitter", [0.0, 0.5, 1.0])
def test_a_partner_down_for_a_day_is_still_being_tried(jitter: float) -> None:
    delivery = Delivery()
    now = NOW
    while now < NOW + dt.timedelta(hours=24):
        delivery.record_failure(TEMPORARY, "refused", now, policy=DEFAULT,
                                rng=FixedRng(jitter))
        assert delivery.status is DeliveryStatus.RETRYING
        assert delivery.next_attempt_at is not None
        # At most the cap apart, never past the give-up time.
        assert delivery.next_attempt_at - now <= dt.timedelta(hours=1)
        now = delivery.next_attempt_at
    assert delivery.failing_since == NOW
    assert delivery.attempts > 10  # the old limit gave up after a few hours


@pytest.mark.parametrize("jitter", [0.0, 0.5, 1.0])
def test_it_gives_up_at_the_give_up_time_with_a_last_try_then(jitter: float) -> None:
    delivery = Delivery()

    times = fail_until_given_up(delivery, DEFAULT, FixedRng(jitter))

    assert times[-1] == NOW + dt.timedelta(hours=72)
    assert times[-2] < times[-1]
    assert (delivery.status, delivery.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert delivery.failure_kind is TEMPORARY and delivery.attempts == len(times)


def test_an_attempt_after_the_give_up_time_is_the_last() -> None:
    policy = BackoffPolicy(give_up_after=dt.timedelta(hours=1))
    delivery = Delivery()
    delivery.record_failure(TEMPORARY, "refused", NOW, policy=policy, rng=FixedRng(1.0))
    # The sweep was stopped for a day: the retry due long ago is made, and is the last.
    late = NOW + dt.timedelta(days=1)

    delivery.record_failure(TEMPORARY, "refused", late, policy=policy, rng=FixedRng(1.0))

    assert delivery.status is DeliveryStatus.FAILED


def test_max_attempts_still_ends_it_sooner_when_set() -> None:
    delivery = Delivery()

    times = fail_until_given_up(delivery, BackoffPolicy(max_attempts=3), FixedRng(0.5))

    assert len(times) == 3


def test_success_ends_the_round_and_a_replay_starts_a_new_one() -> None:
    policy = BackoffPolicy(give_up_after=dt.timedelta(hours=2))
    delivery = Delivery()
    fail_until_given_up(delivery, policy, FixedRng(1.0))
    assert delivery.failing_since == NOW
    later = NOW + dt.timedelta(days=5)

    delivery.replay(later)
    assert delivery.failing_since is None
    times = fail_until_given_up(delivery, policy, FixedRng(1.0), start=later)

    assert delivery.failing_since == later
    assert times[-1] == later + dt.timedelta(hours=2)

    fresh = Delivery()
    fresh.record_failure(TEMPORARY, "refused", NOW, policy=policy, rng=FixedRng(1.0))
    fresh.record_success(NOW + dt.timedelta(minutes=1))
    assert fresh.failing_since is None


def test_a_released_delivery_starts_a_new_round() -> None:
    delivery = Delivery()
    delivery.record_failure(TEMPORARY, "refused", NOW, policy=DEFAULT, rng=FixedRng(1.0))
    delivery.record_blocked("consent_withdrawn", NOW + dt.timedelta(minutes=1))

    delivery.release(NOW + dt.timedelta(days=10))

    assert delivery.failing_since is None and delivery.attempts == 0


@pytest.mark.parametrize("settings", [{"give_up_after": dt.timedelta(0)},
                                      {"max_attempts": 0}])
def test_nonsense_give_up_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(**settings)  # type: ignore[arg-type]
