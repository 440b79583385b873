"""The deploy files agree with the code: every service the CLI runs has a config file,
every config file loads, and the compose file runs each service with its own config."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.cli import SERVICES, load_config

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_every_service_has_a_config_that_loads_with_its_own_database():
    for service in SERVICES:
        config = load_config(DEPLOY / "config" / f"{service}.yaml")
        assert config["AMQP_URI"].startswith("amqp://")
        assert service in config["DATABASES"]
    combined = load_config(DEPLOY / "config" / "all.yaml")
    assert set(SERVICES) <= set(combined["DATABASES"])


def test_compose_runs_each_service_with_its_own_config():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, spec in compose["services"].items():
        command = spec.get("command")
        if name in SERVICES:
            assert command == ["--config", f"deploy/config/{name}.yaml", "run", name]
    init = (DEPLOY / "postgres-init.sql").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE {service};" in init
