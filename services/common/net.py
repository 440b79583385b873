"""The one SSRF guard for outgoing HTTP to addresses someone else chose: partners'
webhooks (notifications) and participants' calendar feeds (coordination).

A destination is admitted only if every address its name resolves to is on the public
internet (`ipaddress.ip_address(...).is_global`): that refuses 10/8, 172.16/12,
192.168/16, 100.64/10 (carrier-grade NAT), 127/8, ::1, 169.254/16, fe80::/10, fc00::/7,
0/8, multicast, reserved, documentation ranges and IPv4-mapped forms of all of them.
IPv6 forms of IPv4 addresses (mapped, 6to4, NAT64) are judged by the IPv4 address.
Loopback is admitted too only where the caller says so (`allow_loopback`: the
WEBHOOK_ALLOW_LOOPBACK and CALENDAR_FEED_ALLOW_LOOPBACK settings of the tests); no other
non-public range ever is.

The name is resolved ONCE, and the TCP connection goes to the address that was checked,
while the Host header, TLS SNI and the certificate check still use the name. A resolver
that answers with a public address for the check and a private one a moment later (DNS
rebinding) is therefore never asked the second time. Environment proxies are not used
(a proxy would resolve the name again), and redirects are never followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses the name resolves to, as text.
Resolver = Callable[[str, int], Sequence[str]]


class UnsafeDestination(ValueError):
    """The destination resolves to an address outgoing requests must never reach."""


class Unresolvable(OSError):
    """The name does not resolve (now): temporary, as a DNS failure may be."""


def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's answer (getaddrinfo), each address once, in its order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve ({exc})") from None
    found: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in found:
            found.append(address)
    return found


# Not public, though this Python's `is_global` may still say so (its tables vary by
# version): IETF protocol assignments, NAT64 prefixes (they reach IPv4 through a
# translator: the embedded address decides, see below), and Teredo.
_NOT_PUBLIC = tuple(ipaddress.ip_network(n) for n in (
    "192.0.0.0/24", "64:ff9b:1::/48", "2001::/32",
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def admissible(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """Whether a request may be sent to `address`: `is_global`, and not multicast (which
    `is_global` admits), nor in a range this Python may not know as non-public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False  # a zoned (interface-local) address is never public
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return admissible(embedded, allow_loopback=allow_loopback and
                              address.ipv4_mapped is not None)
    if allow_loopback and address.is_loopback:
        return True
    if address.is_multicast or any(address in n for n in _NOT_PUBLIC
                                   if n.version == address.version):
        return False
    return address.is_global


def checked_address(
    host: str, port: int, *, allow_loopback: bool = False, resolver: Resolver | None = None
) -> str:
    """Resolve `host` once and return the address to connect to, or raise.

    Every address of the answer must be admissible (one private address among public
    ones is refused: it is how rebinding attacks hedge). An IP literal is not resolved.
    Raises UnsafeDestination (permanent) or Unresolvable (temporary)."""
    name = host.strip("[]").rstrip(".")
    if not name:
        raise UnsafeDestination("the URL has no host")
    try:
        answers: Sequence[str] = [str(ipaddress.ip_address(name))]
    except ValueError:
        answers = (resolver or system_resolver)(name, port)
    if not answers:
        raise Unresolvable(f"{name} resolves to no address")
    addresses = []
    for text in answers:
        try:
            address = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            raise UnsafeDestination(f"{name} resolves to {text!r}, not an address") from None
        if not admissible(address, allow_loopback=allow_loopback):
            raise UnsafeDestination(f"{name} resolves to a non-public address ({address})")
        addresses.append(address)
    first = addresses[0]
    if isinstance(first, ipaddress.IPv6Address) and first.ipv4_mapped is not None:
        return str(first.ipv4_mapped)  # connect over IPv4
    return str(first)


# -- connecting to the checked address ------------------------------------------------------


_Connection = TypeVar("_Connection", bound=HTTPConnection)


def _pinned(connection_cls: type[_Connection], address: str) -> type[_Connection]:
    class Pinned(connection_cls):  # type: ignore[misc,valid-type]
        """Opens its socket to `address`; the Host header, SNI and certificate check
        keep using the name (urllib3 reads the name from `_dns_host` everywhere else)."""

        def _new_conn(self) -> socket.socket:
            name: str = self.__dict__["_dns_host"]
            self._dns_host = address
            try:
                return super()._new_conn()
            finally:
                self._dns_host = name

    return Pinned


class PinnedAdapter(HTTPAdapter):
    """A requests transport that connects to one checked address, for one host only."""

    def __init__(self, host: str, address: str) -> None:
        self.host = host.lower()
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        address = self.address

        class PinnedHTTPPool(HTTPConnectionPool):
            ConnectionCls = _pinned(HTTPConnection, address)

        class PinnedHTTPSPool(HTTPSConnectionPool):
            ConnectionCls = _pinned(HTTPSConnection, address)

        self.poolmanager.pool_classes_by_scheme = {
            "http": PinnedHTTPPool, "https": PinnedHTTPSPool}

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        if (urlsplit(request.url or "").hostname or "").lower() != self.host:
            raise UnsafeDestination("this connection was checked for another host")
        return super().send(request, *args, **kwargs)


@contextmanager
def guarded_session(
    url: str, *, allow_loopback: bool = False, resolver: Resolver | None = None
) -> Iterator[requests.Session]:
    """A requests session for `url`'s host whose connections go to the address checked
    now (resolved once, before anything is sent). Raises UnsafeDestination or
    Unresolvable before yielding. Use it for one request (or a few to the same host):
    the check is not repeated."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise UnsafeDestination("only http and https are fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(host, port, allow_loopback=allow_loopback, resolver=resolver)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: it would resolve again
    adapter = PinnedAdapter(host, address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    try:
        yield session
    finally:
        session.close()


def post(
    url: str, *, data: bytes, headers: dict[str, str], timeout: float,
    allow_loopback: bool = False, resolver: Resolver | None = None,
) -> requests.Response:
    """POST `data` to `url` through the guard; redirects are not followed."""
    with guarded_session(url, allow_loopback=allow_loopback, resolver=resolver) as session:
        return session.post(url, data=data, headers=headers, timeout=timeout,
                            allow_redirects=False)
