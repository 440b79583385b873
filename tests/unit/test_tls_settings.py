"""TLS in the production config (issue 12, point 10), without a server: the config files
read AMQP_SSL and HEARTBEAT from the environment (off and 60 in development), production
refuses a remote broker or database reached without verified TLS, and the compose file,
the Kubernetes manifests, the image's entrypoint and make-secrets.sh carry amqps and
sslmode=verify-full with the install's CA. tests/reliability/test_tls.py runs the whole
system over TLS."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store

from services.cli import SERVICES, load_config, production_refusal
from services.common.tls import broker_refusal, database_refusal, insecure_transport

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SSL = {"ca_certs": "/etc/samspil/tls/ca.crt", "cert_reqs": 2, "server_hostname": "rabbitmq"}
VERIFIED = "?sslmode=verify-full&sslrootcert=/etc/samspil/tls/ca.crt"


# -- the config files ----------------------------------------------------------------------


def test_the_config_files_take_tls_from_the_environment_and_default_to_none(monkeypatch):
    monkeypatch.delenv("AMQP_SSL", raising=False)
    monkeypatch.delenv("HEARTBEAT", raising=False)
    paths = [DEPLOY / "config" / f"{s}.yaml" for s in SERVICES] + [DEPLOY / "config" / "all.yaml"]
    for path in paths:
        config = load_config(path)
        assert config["AMQP_SSL"] is False and config["HEARTBEAT"] == 60, path.name
    monkeypatch.setenv("AMQP_SSL", "{ca_certs: /etc/samspil/tls/ca.crt, cert_reqs: 2, "
                                   "server_hostname: rabbitmq}")
    monkeypatch.setenv("HEARTBEAT", "20")
    for path in paths:
        config = load_config(path)
        assert config["AMQP_SSL"] == SSL and config["HEARTBEAT"] == 20, path.name


# -- production's refusal ------------------------------------------------------------------


def config(uri: str, ssl: Any = False, **databases: str) -> dict[str, Any]:
    return {"AMQP_URI": uri, "AMQP_SSL": ssl, "DATABASES": databases}


@pytest.mark.parametrize(("settings", "why"), [
    (config("amqp://u:p@rabbitmq:5672/samspil"), "plain AMQP"),
    (config("amqps://u:p@rabbitmq:5671/samspil"), "without a host name check"),
    (config("amqps://u:p@rabbitmq:5671/samspil", {"ca_certs": "/ca.pem"}),
     "add server_hostname"),
    (config("amqps://u:p@rabbitmq:5671/samspil", {**SSL, "cert_reqs": 0}),
     "verification off"),
    (config("amqp://u:p@127.0.0.1:5672/;amqp://u:p@10.0.0.6:5672/"), "10.0.0.6"),
    (config("amqps://u:p@rabbitmq:5671/samspil", SSL,
            intake="postgresql://u:p@db.balk.dk/intake"), "intake database at db.balk.dk"),
    (config("amqps://u:p@rabbitmq:5671/samspil", SSL,
            intake="postgresql://u:p@db.balk.dk/intake?sslmode=require"), "verify-full"),
])
def test_production_refuses_a_remote_broker_or_database_without_verified_tls(settings, why):
    refusal = insecure_transport(settings)
    assert refusal is not None and why in refusal, refusal
    assert "u:p" not in refusal, "no password in the refusal"


@pytest.mark.parametrize("settings", [
    config("amqp://guest:guest@127.0.0.1:5672/", intake="sqlite:///var/intake.db"),
    config("amqp://guest:guest@localhost/", intake="postgresql://u:p@127.0.0.1/intake"),
    config("amqp://u:p@rabbitmq:5672/samspil", SSL),  # TLS on any port, name checked
    config("amqps://u:p@rabbitmq:5671/samspil", SSL, intake=f"postgresql://u:p@db/i{VERIFIED}"),
    config("amqps://u:p@a:5671/;amqps://u:p@b:5671/", {**SSL, "server_hostname": None}),
    config("amqps://u:p@rabbitmq/", {"context": {"cafile": "/ca.pem", "check_hostname": True}}),
    config("amqp://guest:guest@127.0.0.1/", intake="postgresql://u@/intake?host=/run/pg"),
])
def test_loopback_sockets_and_verified_tls_are_accepted(settings):
    assert insecure_transport(settings) is None


def test_pgsslmode_from_the_environment_counts(monkeypatch):
    settings = config("amqp://guest:guest@127.0.0.1/", intake="postgresql://u:p@db/intake")
    assert database_refusal(settings) is not None
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    assert database_refusal(settings) is None
    assert broker_refusal(settings) is None


def test_production_refusal_names_the_plain_broker(monkeypatch):
    for name, value in {"CPR_HASH_KEY": "k" * 48,
                        "CPR_ENCRYPTION_KEY": "FUK9dGNy-fake-but-not-the-default-key-0000000=",
                        "SAMSPIL_ENV": "production",
                        "AMQP_URI": "amqp://samspil-intake:pw@rabbitmq:5672/samspil",
                        "INTAKE_DATABASE_URL": f"postgresql://u:p@postgres/intake{VERIFIED}"
                        }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AMQP_SSL", raising=False)
    path = DEPLOY / "config" / "intake.yaml"
    assert "plain AMQP to RabbitMQ at rabbitmq" in str(production_refusal(load_config(path),
                                                                         path))
    monkeypatch.setenv("AMQP_URI", "amqps://samspil-intake:pw@rabbitmq:5671/samspil")
    monkeypatch.setenv("AMQP_SSL", "{ca_certs: /etc/samspil/tls/ca.crt, cert_reqs: 2, "
                                   "server_hostname: rabbitmq}")
    assert production_refusal(load_config(path), path) is None
    monkeypatch.setenv("SAMSPIL_ENV", "development")
    monkeypatch.setenv("AMQP_URI", "amqp://samspil-intake:pw@rabbitmq:5672/samspil")
    assert production_refusal(load_config(path), path) is None, "development may"


# -- compose, Kubernetes, the entrypoint, make-secrets ---------------------------------------


def test_compose_uses_amqps_and_gives_every_service_the_ca():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for name in SERVICES:
        env = services[name]["environment"]
        assert env["AMQP_SCHEME"] == "amqps" and env["AMQP_PORT"] == "5671", name
        assert yaml.safe_load(env["AMQP_SSL"]) == {**SSL, "ca_certs": "/run/secrets/tls_ca"}
        assert "tls_ca" in services[name]["secrets"], name
    assert "tls_ca" in services["migrate"]["secrets"]
    assert {"tls_ca", "rabbitmq_tls_cert", "rabbitmq_tls_key"} <= set(
        services["rabbitmq"]["secrets"])
    assert {"postgres_tls_cert", "postgres_tls_key"} <= set(services["postgres"]["secrets"])
    conf = (DEPLOY / "rabbitmq" / "tls.conf").read_text()
    assert "listeners.tcp = none" in conf and "listeners.ssl.default = 5671" in conf
    hba = [line.split() for line in (DEPLOY / "postgres" / "pg_hba.conf").read_text()
           .splitlines() if line.strip() and not line.startswith("#")]
    assert {line[0] for line in hba} == {"local", "hostssl"}, "over the network TLS only"


def test_kubernetes_mounts_the_ca_everywhere_and_allows_amqps_only():
    spec = importlib.util.spec_from_file_location("samspil_kustomize",
                                                  DEPLOY / "k8s" / "kustomize.py")
    assert spec and spec.loader
    kustomize = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kustomize)
    documents = kustomize.render(DEPLOY / "k8s" / "overlays" / "production")
    settings = next(d for d in documents if d["kind"] == "ConfigMap")["data"]
    assert settings["AMQP_SCHEME"] == "amqps" and settings["AMQP_PORT"] == "5671"
    assert yaml.safe_load(settings["AMQP_SSL"]) == SSL
    pods = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in documents
            if d["kind"] in ("Deployment", "Job")}
    for name in [*SERVICES, "samspil-migrate"]:
        pod = pods[name]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == "samspil-tls", name
        mounts = {m["name"]: m for m in pod["containers"][0]["volumeMounts"]}
        assert mounts["tls"]["mountPath"] == "/etc/samspil/tls", name
    egress = [port["port"] for d in documents if d["kind"] == "NetworkPolicy"
              and d["metadata"]["name"] == "samspil-default"
              for rule in d["spec"]["egress"] for port in rule["ports"]]
    assert 5671 in egress and 5672 not in egress


def test_the_entrypoint_joins_an_amqps_uri(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "samspil"
    fake.write_text('#!/bin/sh\necho "$AMQP_URI"\n')
    fake.chmod(0o755)
    script = (DEPLOY / "docker-entrypoint.sh").read_text().replace(
        "/run/secrets", str(tmp_path / "none"))
    entry = tmp_path / "entrypoint.sh"
    entry.write_text(script)
    out = subprocess.run(["sh", str(entry), "run"], capture_output=True, text=True, timeout=30,
                         check=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin",
                                          "AMQP_USER": "samspil-intake", "AMQP_PASSWORD": "pw",
                                          "AMQP_SCHEME": "amqps"})
    assert out.stdout.strip() == "amqps://samspil-intake:pw@rabbitmq:5671/samspil"


def test_make_secrets_makes_a_ca_and_certificates_for_the_servers_names(tmp_path):
    made = subprocess.run(["sh", str(DEPLOY / "make-secrets.sh"), str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    store = Store(x509.load_pem_x509_certificates((tmp_path / "tls_ca").read_bytes()))
    for server in ("rabbitmq", "postgres"):
        cert = x509.load_pem_x509_certificate((tmp_path / f"{server}_tls_cert").read_bytes())
        verifier = PolicyBuilder().store(store).build_server_verifier(x509.DNSName(server))
        verifier.verify(cert, [])  # raises unless the CA signed it for that name
        assert (tmp_path / f"{server}_tls_key").stat().st_mode & 0o077 == 0
    url = (tmp_path / "INTAKE_DATABASE_URL").read_text()
    assert url.endswith("@postgres/intake?sslmode=verify-full&sslrootcert=/run/secrets/tls_ca")
    again = subprocess.run(["sh", str(DEPLOY / "make-secrets.sh"), str(tmp_path)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "made" not in again.stdout, "existing files are kept"
