"""A loopback TCP fault proxy: services connect to it instead of the broker or the
database, and a test makes the connection fail in the ways networks fail.

    proxy = FaultProxy("127.0.0.1", 5432).start()
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
    proxy.reset()      # every open connection gets a TCP RST; new ones are reset at once
    proxy.blackhole()  # connections stay open, and nothing gets through either way
    proxy.latency(0.2) # every chunk waits 200 ms each way
    proxy.heal()       # back to passing everything through

Only 127.0.0.1 is ever listened on or connected to. The counters say what it did."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

PASS, RESET, BLACKHOLE = "pass", "reset", "blackhole"


def _rst(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class Counters:
    accepted: int = 0
    refused: int = 0
    resets: int = 0
    bytes_forwarded: int = 0
    bytes_dropped: int = 0


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    mode: str = PASS
    delay: float = 0.0
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        if self.upstream_host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = int(self._listener.getsockname()[1])
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._closed = False

    # -- faults ------------------------------------------------------------------------

    def reset(self) -> None:
        """Reset every open connection, and every new one until `heal`."""
        self.mode = RESET
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            _rst(client)
            _rst(upstream)
            self.counters.resets += 1

    def blackhole(self) -> None:
        self.mode = BLACKHOLE

    def latency(self, seconds: float) -> None:
        self.delay = seconds

    def heal(self) -> None:
        self.mode = PASS
        self.delay = 0.0

    # -- running -----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        self.reset()

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == RESET:
                self.counters.refused += 1
                _rst(client)
                continue
            try:
                upstream = socket.create_connection((self.upstream_host, self.upstream_port),
                                                    timeout=5)
                upstream.settimeout(None)
            except OSError:
                self.counters.refused += 1
                _rst(client)
                continue
            self.counters.accepted += 1
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                break
            if not data:
                break
            if self.mode == BLACKHOLE:
                self.counters.bytes_dropped += len(data)
                continue
            if self.delay:
                time.sleep(self.delay)
            try:
                target.sendall(data)
            except OSError:
                break
            self.counters.bytes_forwarded += len(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
