"""Delivery status, failure classification and backoff."""

from __future__ import annotations

import datetime as dt
import random
import smtplib

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict
from services.notifications.retry import (
    BackoffPolicy,
    Delivery,
    DeliveryStatus,
    FailureKind,
    classify_exception,
    classify_http_status,
    classify_smtp_code,
    scrub_error,
)

NOW = dt.datetime(2025, 10, 27, 9, 0, tzinfo=dt.UTC)
POLICY = BackoffPolicy(base_seconds=30, cap_seconds=3600, max_attempts=5)
TEMPORARY, PERMANENT = FailureKind.TEMPORARY, FailureKind.PERMANENT


class FixedRng:
    """A random source that always returns the same value."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


# -- classification ---------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_http_temporary(status: int) -> None:
    assert classify_http_status(status) is TEMPORARY


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422, 301, 302])
def test_http_permanent(status: int) -> None:
    assert classify_http_status(status) is PERMANENT


@pytest.mark.parametrize("status", [200, 204, 100, 99, 600])
def test_http_success_or_nonsense_is_not_a_failure(status: int) -> None:
    with pytest.raises(ValueError):
        classify_http_status(status)


@pytest.mark.parametrize(
    "code, kind",
    [
        (421, TEMPORARY),
        (451, TEMPORARY),
        (452, TEMPORARY),
        (550, PERMANENT),
        (553, PERMANENT),
        (554, PERMANENT),
    ],
)
def test_smtp_codes(code: int, kind: FailureKind) -> None:
    assert classify_smtp_code(code) is kind


def test_smtp_success_is_not_a_failure() -> None:
    with pytest.raises(ValueError):
        classify_smtp_code(250)


def _http_error(status: int) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    return requests.HTTPError(response=response)


@pytest.mark.parametrize(
    "exc, kind",
    [
        (TimeoutError(), TEMPORARY),
        (ConnectionRefusedError(), TEMPORARY),
        (ConnectionResetError(), TEMPORARY),
        (smtplib.SMTPServerDisconnected(), TEMPORARY),
        (smtplib.SMTPResponseException(451, b"try later"), TEMPORARY),
        (smtplib.SMTPResponseException(550, b"no such user"), PERMANENT),
        (smtplib.SMTPRecipientsRefused({"a@b.dk": (550, b"unknown")}), PERMANENT),
        (smtplib.SMTPRecipientsRefused({"a@b.dk": (450, b"busy")}), TEMPORARY),
        (requests.ConnectionError(), TEMPORARY),
        (requests.Timeout(), TEMPORARY),
        (requests.exceptions.InvalidURL(), PERMANENT),
        (_http_error(503), TEMPORARY),
        (_http_error(429), TEMPORARY),
        (_http_error(404), PERMANENT),
        (KeyError("bug"), PERMANENT),
    ],
)
def test_exceptions(exc: BaseException, kind: FailureKind) -> None:
    assert classify_exception(exc) is kind


# -- backoff ------------------------------------------------------------------------


def test_delay_doubles_from_base_and_stops_at_cap() -> None:
    low, high = FixedRng(0.0), FixedRng(1.0)

    assert [POLICY.delay(n, low).total_seconds() for n in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert [POLICY.delay(n, high).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert POLICY.delay(50, high) == dt.timedelta(hours=1)
    assert POLICY.delay(10_000, low) == dt.timedelta(minutes=30)


def test_next_attempt_is_deterministic_given_the_rng() -> None:
    first = [POLICY.next_attempt_at(n, NOW, random.Random(7)) for n in range(1, 5)]
    again = [POLICY.next_attempt_at(n, NOW, random.Random(7)) for n in range(1, 5)]

    assert first == again
    assert all(t is not None and t > NOW for t in first)


def test_no_next_attempt_after_max_attempts() -> None:
    assert POLICY.next_attempt_at(4, NOW, FixedRng(0.5)) is not None
    assert POLICY.next_attempt_at(5, NOW, FixedRng(0.5)) is None


@given(attempts=st.integers(min_value=1, max_value=500), r=st.floats(0.0, 1.0))
def test_delay_is_between_half_a_step_and_the_cap(attempts: int, r: float) -> None:
    step = min(POLICY.cap_seconds, POLICY.base_seconds * 2 ** min(attempts - 1, 64))
    backoff = POLICY.delay(attempts, FixedRng(r)).total_seconds()  # computed, not measured

    assert step / 2 - 1e-6 <= backoff <= min(step, POLICY.cap_seconds) + 1e-6


@pytest.mark.parametrize(
    "settings",
    [
        {"base_seconds": 0},
        {"base_seconds": 60, "cap_seconds": 30},
        {"max_attempts": 0},
        {"multiplier": 0.5},
    ],
)
def test_nonsense_policies_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(**settings)  # type: ignore[arg-type]


def test_delay_counts_from_the_first_failure() -> None:
    with pytest.raises(ValueError):
        POLICY.delay(0, FixedRng(0.5))


# -- the delivery record ------------------------------------------------------------


def fail(
    delivery: Delivery, kind: FailureKind, error: str = "boom", now: dt.datetime = NOW
) -> None:
    delivery.record_failure(kind, error, now, policy=POLICY, rng=FixedRng(0.0))


def test_success_on_the_first_attempt() -> None:
    delivery = Delivery()
    assert delivery.is_due(NOW)

    delivery.record_success(NOW)

    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.SENT,
        1,
        None,
    )
    assert delivery.last_attempt_at == NOW
    assert not delivery.is_due(NOW + dt.timedelta(days=1))


def test_temporary_failure_schedules_a_retry_then_succeeds() -> None:
    delivery = Delivery()

    fail(delivery, TEMPORARY, "HTTP 503")

    assert delivery.status is DeliveryStatus.RETRYING
    assert delivery.attempts == 1
    assert delivery.next_attempt_at == NOW + dt.timedelta(seconds=15)
    assert delivery.last_error == "HTTP 503"
    assert not delivery.is_due(NOW + dt.timedelta(seconds=14))
    assert delivery.is_due(NOW + dt.timedelta(seconds=15))

    delivery.record_success(NOW + dt.timedelta(seconds=15))
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def test_permanent_failure_is_not_retried() -> None:
    delivery = Delivery()

    fail(delivery, PERMANENT, "HTTP 410 Gone")

    assert delivery.status is DeliveryStatus.FAILED
    assert (delivery.attempts, delivery.next_attempt_at) == (1, None)
    assert delivery.failure_kind is PERMANENT
    assert not delivery.is_due(NOW + dt.timedelta(days=365))


def test_permanent_failure_during_retries_ends_them() -> None:
    delivery = Delivery()
    fail(delivery, TEMPORARY)

    fail(delivery, PERMANENT)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)


def test_max_attempts_ends_in_failed() -> None:
    delivery = Delivery()
    now = NOW
    statuses = []
    for _ in range(POLICY.max_attempts):
        assert delivery.is_due(now)
        fail(delivery, TEMPORARY, "timeout", now)
        statuses.append(delivery.status)
        now = delivery.next_attempt_at or now

    assert statuses == [DeliveryStatus.RETRYING] * 4 + [DeliveryStatus.FAILED]
    assert delivery.attempts == POLICY.max_attempts
    assert delivery.next_attempt_at is None


def test_max_attempts_of_one_means_no_retry() -> None:
    delivery = Delivery()
    delivery.record_failure(
        TEMPORARY, "timeout", NOW, policy=BackoffPolicy(max_attempts=1), rng=FixedRng(0.5)
    )

    assert delivery.status is DeliveryStatus.FAILED


@pytest.mark.parametrize("retried_first", [False, True])
def test_blocked_by_the_gate_is_final(retried_first: bool) -> None:
    delivery = Delivery()
    if retried_first:  # consent withdrawn between a failed attempt and its retry
        fail(delivery, TEMPORARY)

    delivery.record_blocked("consent_withdrawn", NOW)

    assert delivery.status is DeliveryStatus.BLOCKED
    assert delivery.last_error == "consent_withdrawn"
    assert delivery.next_attempt_at is None
    assert not delivery.is_due(NOW + dt.timedelta(days=1))
    with pytest.raises(Conflict):
        fail(delivery, TEMPORARY)
    with pytest.raises(Conflict):
        delivery.record_success(NOW)


def test_sent_is_final() -> None:
    delivery = Delivery()
    delivery.record_success(NOW)

    for step in (
        lambda: fail(delivery, TEMPORARY),
        lambda: delivery.record_blocked("no_consent", NOW),
        lambda: delivery.record_success(NOW),
        lambda: delivery.replay(NOW),
    ):
        with pytest.raises(Conflict) as error:
            step()
        assert error.value.rule == "delivery.invalid_transition"
    assert delivery.status is DeliveryStatus.SENT


def test_an_operator_can_replay_a_failed_delivery() -> None:
    delivery = Delivery()
    fail(delivery, PERMANENT, "HTTP 404")
    later = NOW + dt.timedelta(days=2)

    delivery.replay(later)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert delivery.is_due(later)
    assert delivery.last_error == "HTTP 404"  # kept for the record until the next try


def test_stored_errors_hold_no_addresses_or_cpr_and_are_short() -> None:
    error = "550 5.1.1 <borger@example.dk>: unknown user 010190-1234 " + "x" * 1000

    stored = scrub_error(error)

    assert "borger@example.dk" not in stored
    assert "010190-1234" not in stored
    assert stored.startswith("550 5.1.1 <<address>>: unknown user <number>")
    assert len(stored) == 500


def test_record_failure_scrubs_the_error() -> None:
    delivery = Delivery()

    fail(delivery, PERMANENT, "550 <a.b@c.dk> rejected")

    assert delivery.last_error == "550 <<address>> rejected"
