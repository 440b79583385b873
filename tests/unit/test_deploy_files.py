"""The deploy files agree with the code, and with the tools that will read them:

- every service the CLI runs has a config file that loads, with its own database;
- production refuses the development keys those files carry as defaults;
- deploy/compose.yaml runs one container per service with a /ready healthcheck, its
  own broker user and secrets from files, and Debian's `docker-compose config` accepts it;
- deploy/rabbitmq/definitions.json is current with the contracts;
- deploy/k8s renders (the same renderer as `kubectl kustomize` for the fields used) and
  every document is valid against the Kubernetes API schemas (kubernetes-validate).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.cli import SERVICES, load_config, production_refusal

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# The Kubernetes version the manifests are checked against (the oldest we support).
KUBERNETES_VERSION = "1.30.0"
COMPOSE_ENV = {"OIDC_ISSUER": "https://login.example.dk",
               "OIDC_REDIRECT_URI": "https://samspil.example.dk/auth/callback",
               "SMTP_HOST": "smtp.example.dk"}


def load_script(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


# -- config files ------------------------------------------------------------------------


def test_every_service_has_a_config_that_loads_with_its_own_database():
    for service in SERVICES:
        config = load_config(DEPLOY / "config" / f"{service}.yaml")
        assert config["AMQP_URI"].startswith("amqp://")
        assert service in config["DATABASES"]
        assert config["SAMSPIL_ENV"] == "development", service
    combined = load_config(DEPLOY / "config" / "all.yaml")
    assert set(SERVICES) <= set(combined["DATABASES"])


def test_production_refuses_the_development_keys(monkeypatch):
    for name in ("CPR_HASH_KEY", "CPR_ENCRYPTION_KEY", "OIDC_CLIENT_SECRET",
                 "WEBHOOK_SECRET_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SAMSPIL_ENV", "production")
    refusals = {}
    for service in SERVICES:
        path = DEPLOY / "config" / f"{service}.yaml"
        refusals[service] = production_refusal(load_config(path), path)
    assert "CPR_HASH_KEY" in str(refusals["intake"])
    assert "OIDC_CLIENT_SECRET" in str(refusals["gateway"])
    assert "WEBHOOK_SECRET_ENCRYPTION_KEY" in str(refusals["notifications"])
    assert {s for s, r in refusals.items() if r} == {"intake", "gateway", "notifications"}
    all_yaml = DEPLOY / "config" / "all.yaml"
    assert "DEV_OIDC_PROVIDER" in str(production_refusal(load_config(all_yaml), all_yaml))

    # From secrets (the environment), production starts.
    monkeypatch.setenv("CPR_HASH_KEY", "k" * 48)
    monkeypatch.setenv("CPR_ENCRYPTION_KEY", "FUK9dGNy-fake-but-not-the-default-key-0000000=")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", "from-a-secret-store")
    monkeypatch.setenv("WEBHOOK_SECRET_ENCRYPTION_KEY",
                       "bm90LXRoZS1kZWZhdWx0LWtleS0wMDAwMDAwMDAwMDA=")
    for service in SERVICES:
        path = DEPLOY / "config" / f"{service}.yaml"
        assert production_refusal(load_config(path), path) is None, service
    monkeypatch.setenv("SAMSPIL_ENV", "development")
    monkeypatch.delenv("CPR_HASH_KEY")
    intake = DEPLOY / "config" / "intake.yaml"
    assert production_refusal(load_config(intake), intake) is None


# -- compose -----------------------------------------------------------------------------


def test_compose_runs_each_service_in_its_own_container(compose):
    services = compose["services"]
    assert set(SERVICES) <= set(services)
    images = {spec.get("image") for name, spec in services.items()
              if name not in ("rabbitmq", "postgres")}
    assert len(images) == 1, f"one image for every Samspil container, not {images}"
    for name in SERVICES:
        spec = services[name]
        assert spec["command"] == ["--config", f"deploy/config/{name}.yaml", "run", name]
        env = spec["environment"]
        assert env["SAMSPIL_ENV"] == "production" and env["QUEUE_TYPE"] == "quorum"
        assert env["AMQP_USER"] == f"samspil-{name}"
        check = " ".join(spec["healthcheck"]["test"])
        port = "8000" if name == "gateway" else "8100"
        assert f"127.0.0.1:{port}/ready" in check, name
        secrets = {s if isinstance(s, str) else s["target"] for s in spec["secrets"]}
        assert {"AMQP_PASSWORD", f"{name.upper()}_DATABASE_URL"} <= secrets, name
        # No secret value in the compose file itself.
        for key, value in env.items():
            assert not any(word in key for word in ("PASSWORD", "SECRET", "KEY")), key
            assert "://" not in str(value) or "@" not in str(value), key
    def names(service: str) -> set[str]:
        return {s for s in services[service]["secrets"] if isinstance(s, str)}

    assert {"CPR_HASH_KEY", "CPR_ENCRYPTION_KEY"} <= names("intake")
    assert "OIDC_CLIENT_SECRET" in names("gateway")
    assert "WEBHOOK_SECRET_ENCRYPTION_KEY" in names("notifications")
    assert "WEBHOOK_SECRET_ENCRYPTION_KEY" in names("migrate")
    used = {s if isinstance(s, str) else s["source"]
            for spec in services.values() for s in spec.get("secrets", [])}
    assert used == set(compose["secrets"]), "every secret declared is used, and vice versa"
    init = (DEPLOY / "postgres-init.sql").read_text()
    for service in SERVICES:
        assert f"CREATE DATABASE {service};" in init


def test_docker_compose_accepts_the_compose_file():
    """Debian's docker-compose (deploy/ensure-tools.sh installs it) parses and validates
    the file against its compose schema, with the addresses an operator must give."""
    tools = subprocess.run(["sh", str(DEPLOY / "ensure-tools.sh")], capture_output=True,
                           text=True, timeout=600)
    assert tools.returncode == 0, tools.stderr
    command = ["docker-compose", "-f", str(DEPLOY / "compose.yaml"), "config", "-q"]
    env = {k: v for k, v in os.environ.items() if k not in COMPOSE_ENV}
    checked = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env={**env, **COMPOSE_ENV})
    assert checked.returncode == 0, checked.stderr
    # Without the municipality's identity provider the file refuses, naming it.
    refused = subprocess.run(command, capture_output=True, text=True, timeout=120,
                             env={**env, **{k: v for k, v in COMPOSE_ENV.items()
                                            if k != "OIDC_ISSUER"}})
    assert refused.returncode != 0 and "OIDC_ISSUER" in refused.stderr


def test_the_entrypoint_turns_secret_files_into_settings(tmp_path):
    """deploy/docker-entrypoint.sh, run with a fake `samspil` that prints what it got."""
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    (secrets / "CPR_HASH_KEY").write_text("from-a-file\n")
    (secrets / "not-a-name").write_text("ignored")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "samspil"
    fake.write_text('#!/bin/sh\necho "$CPR_HASH_KEY|$AMQP_URI|$*"\n')
    fake.chmod(0o755)
    script = (DEPLOY / "docker-entrypoint.sh").read_text().replace("/run/secrets", str(secrets))
    entry = tmp_path / "entrypoint.sh"
    entry.write_text(script)
    out = subprocess.run(["sh", str(entry), "run", "intake"], capture_output=True, text=True,
                         env={"PATH": f"{bin_dir}:/usr/bin:/bin", "AMQP_USER": "samspil-intake",
                              "AMQP_PASSWORD": "pw"}, timeout=30, check=True)
    assert out.stdout.strip() == (
        "from-a-file|amqp://samspil-intake:pw@rabbitmq:5672/samspil|run intake")


# -- RabbitMQ definitions ----------------------------------------------------------------


def test_broker_definitions_let_each_service_reach_what_it_consumes_and_no_more():
    """Checked against contracts/asyncapi.yaml: each consumer may read the events
    exchanges it consumes from (a new source needs `definitions.py write`), and nothing of
    the others'. `definitions.py check` is the exact comparison for a release."""
    import re

    definitions = load_script(DEPLOY / "rabbitmq" / "definitions.py")
    doc = json.loads((DEPLOY / "rabbitmq" / "definitions.json").read_text())
    perms = {p["user"]: p for p in doc["permissions"]}
    asyncapi = yaml.safe_load((ROOT / "contracts" / "asyncapi.yaml").read_text())
    stale = "run `python deploy/rabbitmq/definitions.py write`"
    for service, sources in definitions.consumed_sources(asyncapi).items():
        read = perms[f"samspil-{service}"]["read"]
        for source in sources:
            assert re.fullmatch(read, f"{source}.events"), f"{service} reads {source}: {stale}"
        for other in set(SERVICES) - sources - {service}:
            assert not re.fullmatch(read, f"{other}.events"), f"{service} reads {other}"
    users = {u["name"] for u in doc["users"]}
    assert {f"samspil-{s}" for s in SERVICES} <= users
    assert all(u["password_hash"] == "" for u in doc["users"]), "no password in git"
    intake = perms["samspil-intake"]
    assert re.fullmatch(intake["read"], "evt-coordination-coordination.x--intake.on_x")
    assert not re.fullmatch(intake["read"], "evt-intake-intake.x--coordination.on_x")
    assert not re.fullmatch(intake["read"], "coordination.dead-letters")
    assert not re.fullmatch(intake["write"], "coordination.events")
    assert re.fullmatch(intake["write"], "intake.events")
    policies = {p["name"]: p["definition"] for p in doc["policies"]}
    assert policies["samspil-coordination-events"]["dead-letter-strategy"] == "at-least-once"
    assert policies["samspil-coordination-events"]["delivery-limit"] > 0


# -- Kubernetes --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kustomize() -> ModuleType:
    return load_script(DEPLOY / "k8s" / "kustomize.py")


@pytest.mark.parametrize("target", ["base", "overlays/production"])
def test_kubernetes_manifests_are_valid(kustomize, target):
    documents = kustomize.render(DEPLOY / "k8s" / target)
    for doc in documents:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    kinds = Counter(doc["kind"] for doc in documents)
    print(f"\nk8s {target}: {len(documents)} documents valid for Kubernetes "
          f"{KUBERNETES_VERSION}: {dict(sorted(kinds.items()))}")
    assert kinds["Deployment"] == kinds["Service"] == kinds["PodDisruptionBudget"] == len(
        SERVICES)
    assert kinds["NetworkPolicy"] >= 1 and kinds["Job"] == 2


def test_every_deployment_is_probed_limited_and_given_secrets_by_reference(kustomize):
    documents = kustomize.render(DEPLOY / "k8s" / "overlays" / "production")
    deployments = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Deployment"}
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        assert deployment["metadata"]["namespace"] == "samspil"
        assert deployment["spec"]["replicas"] == 2
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"].startswith("registry.") and ":" in container["image"]
        assert container["args"] == ["--config", f"deploy/config/{name}.yaml", "run", name]
        # The gateway's /ready includes every service behind it (see deploy/k8s/base).
        ready = "/health" if name == "gateway" else "/ready"
        assert container["readinessProbe"]["httpGet"]["path"] == ready
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        env = {e["name"]: e for e in container["env"]}
        for secret in ("AMQP_PASSWORD", f"{name.upper()}_DATABASE_URL"):
            assert "secretKeyRef" in env[secret]["valueFrom"], (name, secret)
        assert env["AMQP_USER"]["value"] == f"samspil-{name}"
    intake_env = {e["name"] for e in deployments["intake"]["spec"]["template"]["spec"][
        "containers"][0]["env"]}
    assert {"CPR_HASH_KEY", "CPR_ENCRYPTION_KEY"} <= intake_env
    notifications_env = {e["name"] for e in deployments["notifications"]["spec"]["template"][
        "spec"]["containers"][0]["env"]}
    assert "WEBHOOK_SECRET_ENCRYPTION_KEY" in notifications_env
    settings = next(d for d in documents if d["kind"] == "ConfigMap")
    assert settings["data"]["SAMSPIL_ENV"] == "production"
    assert settings["data"]["OIDC_ISSUER"].startswith("https://")
    assert not any("PASSWORD" in k or "SECRET" in k for k in settings["data"])


def test_the_renderer_refuses_what_it_does_not_understand(kustomize, tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(kustomize.KustomizeError, match="configMapGenerator"):
        kustomize.render(tmp_path)
