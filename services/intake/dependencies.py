"""intake's nameko dependency providers and its configurable sweep timer."""

from __future__ import annotations

from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import Timer

from services.intake.protection import CprProtection
from services.intake.settings import DEFAULT_SWEEP_SECONDS, IntakeContext, IntakeSettings


class Context(DependencyProvider):
    """Gives each worker the IntakeContext: settings and CPR keys from the config.

    Bad keys stop the service at start; missing keys only refuse the CPR operations
    (the walking skeleton and statistics need no keys)."""

    def setup(self) -> None:
        config = self.container.config
        self.context = IntakeContext(
            settings=IntakeSettings.from_config(config),
            cpr_protection=CprProtection.from_config(config),
        )

    def get_dependency(self, worker_ctx: Any) -> IntakeContext:
        return self.context


class SweepTimer(Timer):
    """nameko's Timer with its interval read from the config key INTAKE_SWEEP_SECONDS."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(interval=DEFAULT_SWEEP_SECONDS, **kwargs)

    def setup(self) -> None:
        super().setup()
        self.interval = IntakeSettings.from_config(self.container.config).sweep_seconds


sweep_timer = SweepTimer.decorator
