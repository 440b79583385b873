"""Services as real OS processes, for tests that kill them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml


def write_config(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


class ServiceProcess:
    """`samspil run <service>` in a child process; restartable; SIGKILL-able."""

    def __init__(
        self,
        service: str,
        config_path: Path,
        log_dir: Path,
        *,
        faults: str = "",
        seed: str = "1",
    ) -> None:
        self.service = service
        self.config_path = config_path
        self.log_dir = log_dir
        self.faults = faults
        self.seed = seed
        self.starts = 0
        self.deaths = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.service}.log"

    def start(self) -> None:
        env = dict(os.environ)
        env.pop("SAMSPIL_FAULTS", None)
        if self.faults:
            env["SAMSPIL_FAULTS"] = self.faults
            # A new seed per start, so each life dies at a different point.
            env["SAMSPIL_FAULT_SEED"] = f"{self.seed}-{self.starts}"
        env["PYTHONUNBUFFERED"] = "1"
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "--config", str(self.config_path),
             "run", self.service],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        self.starts += 1

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def keep_alive(self) -> None:
        """Restart the process if it died (counting the death)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.deaths += 1
            self.start()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
