"""Delivery status and retry policy: pure, with the clock and the randomness passed in.

    pending ──> sent | retrying | failed | blocked
    retrying ─> sent | retrying | failed | blocked
    failed ───> pending   (an operator replays it)
    blocked ──> pending   (a consent or legal basis added now covers it)

`sent` is final. `blocked` means the consent gate said no (at the first attempt or
at a retry, since a consent can be withdrawn in between): such a delivery is never
retried, because retrying would send what the citizen refused. It is looked at
again only when a consent or a legal basis is added (issue 16, point 5): if the gate
now says yes, it is released and sent, in the order it was planned.

Temporary failures (the receiver may be fine later) are retried with exponential
backoff and jitter for `give_up_after` (3 days) from the first failure of the round,
so that a partner down for a day or two still gets everything; permanent ones fail at
once, because the same request will be refused the same way and retrying only hides
the fault. A delivery that gives up is `failed`, and an operator may replay it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from services.common.errors import Conflict

MAX_ERROR_LENGTH = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    BLOCKED = "blocked"


class FailureKind(StrEnum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


TRANSITIONS: dict[DeliveryStatus, frozenset[DeliveryStatus]] = {
    DeliveryStatus.PENDING: frozenset(
        {
            DeliveryStatus.SENT,
            DeliveryStatus.RETRYING,
            DeliveryStatus.FAILED,
            DeliveryStatus.BLOCKED,
        }
    ),
    DeliveryStatus.RETRYING: frozenset(
        {
            DeliveryStatus.SENT,
            DeliveryStatus.RETRYING,
            DeliveryStatus.FAILED,
            DeliveryStatus.BLOCKED,
        }
    ),
    DeliveryStatus.FAILED: frozenset({DeliveryStatus.PENDING}),
    DeliveryStatus.SENT: frozenset(),
    DeliveryStatus.BLOCKED: frozenset({DeliveryStatus.PENDING}),
}


# -- classifying failures ---------------------------------------------------------


def classify_http_status(status: int) -> FailureKind:
    """Failure kind of a webhook response that was not 2xx.

    5xx, 408 (request timeout) and 429 (too many requests) are temporary. Other 4xx
    are permanent, and so are 3xx: we never follow a redirect with a signed body.
    """
    if 200 <= status < 300:
        raise ValueError(f"HTTP {status} is a success, not a failure")
    if 500 <= status < 600 or status in (408, 429):
        return FailureKind.TEMPORARY
    if 300 <= status < 500:
        return FailureKind.PERMANENT
    raise ValueError(f"not an HTTP status code: {status}")


def classify_smtp_code(code: int) -> FailureKind:
    """Failure kind of an SMTP reply code: 4xx temporary, 5xx permanent (RFC 5321)."""
    if 400 <= code < 500:
        return FailureKind.TEMPORARY
    if 500 <= code < 600:
        return FailureKind.PERMANENT
    raise ValueError(f"SMTP {code} is not a failure reply")


def classify_exception(exc: BaseException) -> FailureKind:
    """Failure kind of an exception raised while sending.

    Read by duck typing, so that this module needs neither smtplib nor requests:
    an SMTP error with a reply code (``smtp_code``, or per recipient in
    ``recipients``) goes by its code, an HTTP error with a response by its status.
    Then ValueError and TypeError (requests' InvalidURL is one) are permanent, and
    other OSErrors (timeouts, refused or reset connections, TLS) are temporary.
    Anything else is a fault in our own code or data: retrying will not mend it, so it
    is permanent and shows up for an operator.
    """
    smtp_code = getattr(exc, "smtp_code", None)
    if isinstance(smtp_code, int) and 400 <= smtp_code < 600:
        return classify_smtp_code(smtp_code)
    recipients = getattr(exc, "recipients", None)  # smtplib.SMTPRecipientsRefused
    if isinstance(recipients, dict) and recipients:
        codes = [reply[0] for reply in recipients.values() if isinstance(reply, tuple) and reply]
        if codes and all(isinstance(c, int) and 500 <= c < 600 for c in codes):
            return FailureKind.PERMANENT
        return FailureKind.TEMPORARY
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int) and not 200 <= status < 300:
        return classify_http_status(status)
    if isinstance(exc, ValueError | TypeError):
        return FailureKind.PERMANENT
    # TimeoutError and ConnectionError (refused, reset) are OSErrors too.
    if isinstance(exc, OSError):
        return FailureKind.TEMPORARY
    return FailureKind.PERMANENT


# -- backoff ----------------------------------------------------------------------


class Rng(Protocol):
    """What the policy needs from a random source; random.Random fits."""

    def random(self) -> float: ...


GIVE_UP_AFTER = dt.timedelta(hours=72)


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with jitter; every number is a setting.

    With the defaults the waits are about 30 s, 1 min, 2 min, ... up to 1 h, and a
    delivery keeps trying for 3 days (`give_up_after`) from its first failure: the
    last retry is at that moment, then it is `failed`. `max_attempts`, when set, ends
    it sooner (tests use it; None: only time decides).
    """

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    max_attempts: int | None = None
    multiplier: float = 2.0
    give_up_after: dt.timedelta | None = GIVE_UP_AFTER

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if (self.max_attempts is not None and self.max_attempts < 1) or self.multiplier < 1:
            raise ValueError("need max_attempts >= 1 and multiplier >= 1")
        if self.give_up_after is not None and self.give_up_after <= dt.timedelta(0):
            raise ValueError("need give_up_after > 0")

    def delay(self, attempts: int, rng: Rng) -> dt.timedelta:
        """Wait after the `attempts`-th failed attempt (1 for the first failure).

        "Equal jitter": half the exponential step is fixed and half is random, so
        retries of many deliveries to one partner spread out, yet none comes back
        almost at once as it can with full jitter.
        """
        if attempts < 1:
            raise ValueError("attempts counts failed attempts and starts at 1")
        # Cap the exponent before computing, so a large attempt count cannot overflow.
        exponent = min(attempts - 1, 64)
        step = min(self.cap_seconds, self.base_seconds * self.multiplier**exponent)
        return dt.timedelta(seconds=step / 2 + rng.random() * step / 2)

    def next_attempt_at(self, attempts: int, now: dt.datetime, rng: Rng,
                        failing_since: dt.datetime | None = None) -> dt.datetime | None:
        """When to try again after `attempts` failed attempts, or None to give up.

        `failing_since` is when the round's first attempt failed: no retry is later
        than `give_up_after` from it (the last one is at that moment), and none is made
        once it has passed."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return None
        retry_at = now + self.delay(attempts, rng)
        if failing_since is not None and self.give_up_after is not None:
            deadline = failing_since + self.give_up_after
            if now >= deadline:
                return None
            retry_at = min(retry_at, deadline)
        return retry_at


# -- the delivery record ----------------------------------------------------------


@dataclass
class Delivery:
    """The state of one notification to one recipient over one channel.

    Mutable on purpose: the service maps it to a row and saves it after each step.
    """

    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: dt.datetime | None = None
    failure_kind: FailureKind | None = None
    last_attempt_at: dt.datetime | None = None
    # When the first attempt of this round failed (None until one fails, and again
    # after a success, a release or a replay): the give-up time counts from it.
    failing_since: dt.datetime | None = None

    def is_due(self, now: dt.datetime) -> bool:
        """Should a sweep attempt this delivery now?"""
        if self.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
            return False
        return self.next_attempt_at is None or self.next_attempt_at <= now

    def record_success(self, now: dt.datetime) -> None:
        """The recipient accepted the notification."""
        self._move(DeliveryStatus.SENT)
        self.attempts += 1
        self.next_attempt_at = None
        self.last_attempt_at = now
        self.failing_since = None

    def record_failure(
        self,
        kind: FailureKind,
        error: str,
        now: dt.datetime,
        *,
        policy: BackoffPolicy,
        rng: Rng,
    ) -> None:
        """An attempt failed: schedule a retry, or end in `failed`.

        Permanent failures end at once; temporary ones end when the policy gives up
        (`give_up_after` from the round's first failure, or its max_attempts).
        """
        kind = FailureKind(kind)
        attempts = self.attempts + 1
        if self.failing_since is None:
            self.failing_since = now
        retry_at = policy.next_attempt_at(attempts, now, rng, self.failing_since)
        if kind is FailureKind.TEMPORARY and retry_at is not None:
            self._move(DeliveryStatus.RETRYING)
            self.next_attempt_at = retry_at
        else:
            self._move(DeliveryStatus.FAILED)
            self.next_attempt_at = None
        self.attempts = attempts
        self.failure_kind = kind
        self.last_attempt_at = now
        self.last_error = scrub_error(error)

    def record_blocked(self, reason: str, now: dt.datetime) -> None:
        """The consent gate refused: nothing was sent and nothing will be retried.

        `reason` is the gate's stable reason (e.g. ``consent_withdrawn``); `now` is when
        the gate was asked, which is what a citizen's access request will want to see.
        """
        self._move(DeliveryStatus.BLOCKED)
        self.last_attempt_at = now
        self.next_attempt_at = None
        self.failure_kind = None
        self.last_error = scrub_error(reason)

    def release(self, now: dt.datetime) -> None:
        """The gate now allows a blocked delivery (a consent or legal basis was added):
        a fresh round of attempts, due now."""
        if self.status is not DeliveryStatus.BLOCKED:
            raise Conflict("status", "delivery.not_blocked",
                           f"Only a blocked delivery is released; this one is {self.status}.")
        self._move(DeliveryStatus.PENDING)
        self.attempts = 0
        self.next_attempt_at = now
        self.failure_kind = None
        self.last_error = None
        self.failing_since = None

    def replay(self, now: dt.datetime) -> None:
        """An operator sends a failed delivery again: a fresh round of attempts. A
        blocked one is not the operator's to send: only a consent or basis releases it."""
        if self.status is not DeliveryStatus.FAILED:
            raise Conflict("status", "delivery.invalid_transition",
                           f"A delivery cannot go from {self.status} to pending.")
        self._move(DeliveryStatus.PENDING)
        self.attempts = 0
        self.next_attempt_at = now
        self.failure_kind = None
        self.failing_since = None

    def _move(self, target: DeliveryStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise Conflict(
                "status",
                "delivery.invalid_transition",
                f"A delivery cannot go from {self.status} to {target}.",
            )
        self.status = target


_EMAIL = re.compile(r"[^\s<>@,;:\"]+@[^\s<>@,;:\"]+")
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}[- ]?\d{4}(?!\d)")


def scrub_error(error: str) -> str:
    """An error text fit to store: no e-mail addresses or CPR-like numbers, and short.

    SMTP replies often echo the recipient's address ("550 <x@y.dk> unknown"), and the
    delivery table is read by operators who do not need it.
    """
    text = _EMAIL.sub("<address>", error)
    text = _CPR_LIKE.sub("<number>", text)
    return text[:MAX_ERROR_LENGTH]
