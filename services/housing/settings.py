"""The ladder's settings from the service config (every step and deadline a setting).

Config (deploy/config/housing.yaml)::

    HOUSING_LADDER:
      outreach_days: 14                 # "straks" (retssikkerhedsloven § 5 a)
      expected_processing_days: 28      # aktivloven § 81 a processing time
      rent: {on_time_working_days: 3}
    HOUSING_SWEEP_SECONDS: 30           # how often the @timer sweep looks for due deadlines

Missing keys keep the legal defaults of `LadderSettings`; unknown keys fail at start-up.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.housing.ladder import LadderSettings
from services.housing.rent import RentSettings

DEFAULT_SWEEP_SECONDS = 30.0


def _build(cls: type[Any], values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    for name, value in values.items():
        if cls is RentSettings and name == "max_amount_dkk":
            value = Decimal(str(value))
        kwargs[name] = value
    return cls(**kwargs)


def ladder_settings(config: dict[str, Any]) -> LadderSettings:
    """LadderSettings from `HOUSING_LADDER` (a mapping; absent: the legal defaults)."""
    values = dict(config.get("HOUSING_LADDER") or {})
    rent = values.pop("rent", None)
    if rent is not None:
        values["rent"] = _build(RentSettings, dict(rent), "HOUSING_LADDER.rent")
    settings: LadderSettings = _build(LadderSettings, values, "HOUSING_LADDER")
    return settings


class Settings(DependencyProvider):
    """Injects the service's LadderSettings, read once at start-up."""

    def setup(self) -> None:
        self.settings = ladder_settings(self.container.config)

    def get_dependency(self, worker_ctx: Any) -> LadderSettings:
        return self.settings


class SweepTimer(Timer):
    """nameko's timer with its interval read from config (`HOUSING_SWEEP_SECONDS`), so
    that tests sweep often and production does not hammer the database."""

    def setup(self) -> None:
        self.interval = float(
            self.container.config.get("HOUSING_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS
        )


sweep_timer = SweepTimer.decorator
