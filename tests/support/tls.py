"""TLS for tests: a test certificate authority, a server certificate for this machine,
and a private RabbitMQ node that speaks AMQP over TLS only.

    pki = make_pki(tmp_path / "tls")
    pki.ca, pki.server_cert, pki.server_key   # PEM files; the server's names are
                                              # localhost and 127.0.0.1 (SAN DNS and IP)
    pki.other_ca                              # an unrelated CA: trusting it must fail

    node = TlsRabbit(tmp_path / "rabbit", pki).start()
    node.amqps_uri                            # amqps://guest:guest@127.0.0.1:<tls port>/
    node.client_ssl()                         # py-amqp/kombu ssl options trusting pki.ca

Everything is made with the `cryptography` package, fresh for each test, valid for a few
days, and never leaves the test's directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import amqp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.net import free_port
from tests.support.rabbit import PrivateRabbit

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1",)


@dataclass(frozen=True)
class TestPKI:
    directory: Path
    ca: Path           # the test CA's certificate (what clients trust)
    server_cert: Path  # signed by the test CA, for localhost and 127.0.0.1
    server_key: Path   # its private key, unencrypted (mode 0600)
    other_ca: Path     # an unrelated CA's certificate, for the negative checks


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Samspil tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ca(common_name: str, now: dt.datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server(ca_key: rsa.RSAPrivateKey, ca_cert: x509.Certificate,
            now: dt.datetime) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = _key()
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=True, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _write_cert(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.chmod(0o644)
    return path


def make_pki(directory: Path) -> TestPKI:
    """A test CA, a server certificate it signed, and an unrelated CA, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key, ca_cert = _ca("Samspil test CA", now)
    server_key, server_cert = _server(ca_key, ca_cert, now)
    _, other_cert = _ca("Some other CA", now)
    key_path = directory / "server.key"
    key_path.write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    key_path.chmod(0o600)
    return TestPKI(
        directory=directory,
        ca=_write_cert(directory / "ca.pem", ca_cert),
        server_cert=_write_cert(directory / "server.pem", server_cert),
        server_key=key_path,
        other_ca=_write_cert(directory / "other-ca.pem", other_cert),
    )


def client_ssl(ca: Path, server_hostname: str | None = "localhost") -> dict[str, Any]:
    """py-amqp/kombu/nameko `ssl` options (AMQP_SSL): trust `ca` only, require the
    server's certificate, and check that it names `server_hostname`."""
    return {"ca_certs": str(ca), "cert_reqs": int(ssl.CERT_REQUIRED),
            "server_hostname": server_hostname}


class TlsRabbit(PrivateRabbit):
    """A PrivateRabbit whose only AMQP listener is TLS, on 127.0.0.1:`tls_port`, with
    the test PKI's server certificate. With `plain=True` the plain listener stays too."""

    def __init__(self, base: Path, pki: TestPKI, *, plain: bool = False) -> None:
        super().__init__(base)
        self.pki = pki
        self.plain = plain
        self.tls_port = free_port()
        lines = [
            f"listeners.ssl.1 = 127.0.0.1:{self.tls_port}",
            f"ssl_options.cacertfile = {pki.ca}",
            f"ssl_options.certfile = {pki.server_cert}",
            f"ssl_options.keyfile = {pki.server_key}",
            # Clients are asked for a certificate but need none (they log in with a
            # password); a client certificate not signed by the CA is refused.
            "ssl_options.verify = verify_peer",
            "ssl_options.fail_if_no_peer_cert = false",
            "ssl_options.versions.1 = tlsv1.3",
            "ssl_options.versions.2 = tlsv1.2",
        ]
        if not plain:
            lines.insert(0, "listeners.tcp = none")
        with open(base / "rabbitmq.conf", "a", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")

    @property
    def amqps_uri(self) -> str:
        return f"amqps://guest:guest@127.0.0.1:{self.tls_port}/"

    def client_ssl(self, server_hostname: str | None = "localhost") -> dict[str, Any]:
        return client_ssl(self.pki.ca, server_hostname)

    def _env(self) -> dict[str, str]:
        env = super()._env()
        if not self.plain:
            # RABBITMQ_NODE_PORT would open the plain listener whatever the config says.
            env.pop("RABBITMQ_NODE_PORT", None)
            env.pop("RABBITMQ_NODE_IP_ADDRESS", None)
        return env

    def answers(self) -> bool:
        try:
            conn = amqp.Connection(f"127.0.0.1:{self.tls_port}", ssl=self.client_ssl(),
                                   connect_timeout=2)
            conn.connect()
            conn.close()
            return True
        except Exception:
            return False

    def rabbitmqctl(self, *args: str, timeout: float = 120.0) -> str:
        """`rabbitmqctl -n <node> <args>`'s output (the CLI beside the server)."""
        lib = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
        ctl = str(lib) if lib.exists() else (shutil.which("rabbitmqctl") or "rabbitmqctl")
        return subprocess.run([ctl, "-n", self.name, *args], env=self._env(),
                              capture_output=True, text=True, timeout=timeout,
                              check=True).stdout


def readable_by(path: Path, user: str) -> None:
    """chown `path` (and everything under it) to `user`: a server that runs as `user`
    (PostgreSQL refuses root) must own its files, its private key above all."""
    import pwd

    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in (root, *(os.path.join(root, n) for n in dirs + files)):
            os.chown(name, entry.pw_uid, entry.pw_gid)
