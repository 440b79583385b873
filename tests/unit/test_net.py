"""The shared SSRF guard (services.common.net): only public addresses, resolved once, and
the connection goes to the address that was checked. The resolver is the one stand-in
(a test cannot make real DNS answer 10.0.0.1 or change its mind); the HTTP and TLS
servers are real, on loopback."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.common import net
from services.common.net import UnsafeDestination

REFUSED = [
    "100.64.0.1",  # carrier-grade NAT (shared address space), the range that got through
    "100.127.255.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",  # noqa: S104 - an address refused, not bound
    "169.254.169.254",  # cloud metadata
    "192.0.0.8",  # IETF protocol assignments
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",  # link-local
    "fc00::1",  # unique local
    "fd12:3456::1",
    "ff02::1",  # multicast
    "2001:db8::1",  # documentation
    "::ffff:10.0.0.1",  # IPv4-mapped private
    "::ffff:127.0.0.1",
    "::ffff:100.64.0.1",
    "64:ff9b:1::a00:1",  # local-use NAT64
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]
PUBLIC = {"8.8.8.8": "8.8.8.8", "1.1.1.1": "1.1.1.1",
          "2606:4700:4700::1111": "2606:4700:4700::1111", "::ffff:8.8.8.8": "8.8.8.8"}


class Resolver:
    """Answers from a script, one answer per call, and counts the calls."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


@pytest.mark.parametrize("address", REFUSED)
def test_every_non_public_range_is_refused(address: str) -> None:
    with pytest.raises(UnsafeDestination):
        net.checked_address("partner.example", 443, resolver=Resolver([address]))
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeDestination):
        net.checked_address(literal, 443)


@pytest.mark.parametrize("address", REFUSED)
def test_the_loopback_allowance_admits_loopback_only(address: str) -> None:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    loopback = (mapped or ip).is_loopback
    resolver = Resolver([address])
    if loopback:
        assert net.checked_address("h.test", 80, allow_loopback=True, resolver=resolver)
    else:
        with pytest.raises(UnsafeDestination):
            net.checked_address("h.test", 80, allow_loopback=True, resolver=resolver)


@pytest.mark.parametrize("address", sorted(PUBLIC))
def test_public_addresses_are_admitted(address: str) -> None:
    checked = net.checked_address("partner.example", 443, resolver=Resolver([address]))
    assert checked == PUBLIC[address]


def test_one_private_address_among_public_ones_refuses_the_name() -> None:
    with pytest.raises(UnsafeDestination):
        net.checked_address("partner.example", 443,
                            resolver=Resolver(["8.8.8.8", "100.64.0.1"]))


def test_no_answer_is_temporary() -> None:
    with pytest.raises(net.Unresolvable):
        net.checked_address("partner.example", 443, resolver=Resolver([]))
    assert issubclass(net.Unresolvable, OSError)  # retried, as a DNS failure may pass


# -- the connection goes to the checked address --------------------------------------------


class Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"host": self.headers.get("Host"), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(receiver) -> None:
    # First answer: loopback (admitted for the test), where the receiver listens. Any
    # later answer would be elsewhere: the resolver is never asked again.
    resolver = Resolver(["127.0.0.1"], ["10.9.9.9"])
    url = f"http://rebind.example:{receiver.port}/hook"

    response = net.post(url, data=b"{}", headers={}, timeout=5, allow_loopback=True,
                        resolver=resolver)

    assert response.status_code == 204
    assert resolver.calls == [("rebind.example", receiver.port)]
    assert receiver.requests == [{"host": f"rebind.example:{receiver.port}", "body": b"{}"}]


def test_a_rebinding_resolver_is_asked_once_and_its_second_answer_never_reached(
    receiver,
) -> None:
    # Checked: a public address. Rebound: loopback, where a server listens. The request
    # goes to the public address (unreachable from here, or not a server of ours), and
    # the loopback server, the rebinding target, never sees it.
    resolver = Resolver(["192.88.99.1"], ["127.0.0.1"])
    url = f"http://rebind.example:{receiver.port}/hook"

    with pytest.raises(requests.RequestException):
        net.post(url, data=b"{}", headers={}, timeout=0.5, resolver=resolver)

    assert len(resolver.calls) == 1
    assert receiver.requests == []


def test_the_session_refuses_a_host_it_did_not_check(receiver) -> None:
    with net.guarded_session(f"http://a.example:{receiver.port}/", allow_loopback=True,
                             resolver=Resolver(["127.0.0.1"])) as session, \
            pytest.raises(UnsafeDestination):
        session.get(f"http://b.example:{receiver.port}/", timeout=5)
    assert receiver.requests == []


def test_no_proxy_from_the_environment(receiver, monkeypatch) -> None:
    # A proxy would resolve the name again: the guard connects itself.
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.0.0.1:3128")
    url = f"http://proxied.example:{receiver.port}/"
    response = net.post(url, data=b"x", headers={}, timeout=5, allow_loopback=True,
                        resolver=Resolver(["127.0.0.1"]))
    assert response.status_code == 204 and len(receiver.requests) == 1


TLS_CLIENT = """
import sys
from services.common import net
import requests

calls = []
def resolver(host, port):
    calls.append(host)
    return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.1"]

try:
    net.post("https://partner.example:%s/hook" % sys.argv[1], data=b"{}", headers={},
             timeout=5, allow_loopback=True, resolver=resolver)
except requests.exceptions.SSLError:
    print("ssl-refused", len(calls))
"""


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_sends_the_name_as_sni_to_the_checked_address(tmp_path) -> None:
    # A TLS server on loopback records the SNI it is offered. The client does not trust
    # its self-signed certificate, so the request fails after the hello: what matters is
    # that the hello reached the checked address and named the host. The client runs in
    # a process of its own, without eventlet's patched ssl (as `nameko run` patches first).
    cert, key = _self_signed(tmp_path, "partner.example")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[str | None] = []

    def record(sock: Any, name: str | None, ctx: Any) -> None:
        seen.append(name)

    context.sni_callback = record
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        done = subprocess.run([sys.executable, "-c", TLS_CLIENT, str(port)],
                              capture_output=True, text=True, timeout=60,
                              cwd=Path(__file__).resolve().parents[2])
        thread.join(timeout=10)
    finally:
        listener.close()

    assert done.stdout.strip() == "ssl-refused 1", done.stderr
    assert seen == ["partner.example"]
