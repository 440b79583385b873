"""Clocks: the only place a service asks what time it is.

`SystemClock` in production; `FixedClock` in unit tests; `FileClock` lets a test move
the time of services running in other processes (and survives their restarts) by
writing an ISO timestamp to a file. Chosen by the `CLOCK` config key:
``system`` (default) or ``file:/path/to/clock``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from nameko.extensions import DependencyProvider


class ClockLike(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A settable clock for tests: `set()` and `advance()` move it."""

    def __init__(self, at: dt.datetime | None = None) -> None:
        self._now = at or dt.datetime(2018, 4, 3, 8, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("clock time must be timezone-aware")
        self._now = at

    def advance(self, delta: dt.timedelta) -> None:
        self._now += delta


class FileClock:
    """Reads the time from a file on every call; falls back to the system clock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def now(self) -> dt.datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            return dt.datetime.now(dt.UTC)
        at = dt.datetime.fromisoformat(text)
        return at if at.tzinfo else at.replace(tzinfo=dt.UTC)

    def set(self, at: dt.datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(at.astimezone(dt.UTC).isoformat())
        tmp.replace(self.path)  # atomic: a reader never sees half a timestamp


def clock_from_config(config: dict[str, Any]) -> ClockLike:
    spec = str(config.get("CLOCK") or "system")
    if spec == "system":
        return SystemClock()
    if spec.startswith("file:"):
        return FileClock(spec[len("file:") :])
    raise ValueError(f"CLOCK must be 'system' or 'file:<path>', not {spec!r}")


class Clock(DependencyProvider):
    """Injects the configured clock: `self.clock.now()` in entrypoints and sweeps."""

    def setup(self) -> None:
        self.clock = clock_from_config(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> ClockLike:
        return self.clock
