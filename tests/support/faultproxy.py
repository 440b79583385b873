"""A loopback TCP fault proxy: services connect to it instead of the broker or the
database, and a test makes the connection fail in the ways networks fail.

    proxy = FaultProxy("127.0.0.1", 5432).start()
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
    proxy.reset()      # every open connection gets a TCP RST; new ones are reset at once
    proxy.blackhole()  # connections stay open, and nothing gets through either way
    proxy.latency(0.2) # every byte arrives 200 ms after it was sent, each way
    proxy.heal()       # back to passing everything through, at once

A blackhole is a partition, as a real network has one: no byte and no FIN or RST gets
through either way, and a new connection's handshake gets no answer. Nothing is thrown
away either: what was sent waits, as TCP's retransmissions would, and arrives once the
network heals, unless one end gave up on the connection meanwhile (a heartbeat or a
client-side timeout), in which case that end's close arrives after it. (The kernel
completes the proxy's TCP handshake, so a new connection opens; its first bytes, the
AMQP or PostgreSQL handshake, go unanswered, which only a client-side timeout ends.)

Latency delays every chunk by the same amount without limiting throughput: chunks sent
back to back arrive back to back, each `seconds` late.

Only 127.0.0.1 is ever listened on or connected to. The counters say what it did."""

from __future__ import annotations

import contextlib
import queue
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

try:  # Real threads and sockets even where eventlet has patched them (nameko's pytest
    # plugin does): the proxy must keep forwarding while a test blocks its green thread,
    # and its sockets must stay out of the eventlet hub (a socket closed under a reader
    # green thread leaves its fd registered there, and the next socket to get that
    # number, a green psycopg2 connection's, fails with "second simultaneous read").
    from eventlet.patcher import original

    _queue, _socket = original("queue"), original("socket")
    _threading, _time = original("threading"), original("time")
except ImportError:  # pragma: no cover - eventlet is one of the project's dependencies
    _queue, _socket, _threading, _time = queue, socket, threading, time


PASS, RESET, BLACKHOLE = "pass", "reset", "blackhole"


def _rst(sock: socket.socket) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of an orderly FIN. A thread blocked in
    recv on it holds the socket open past close(), so it is woken first (SHUT_RD sends
    nothing); the RST goes out when the last reference is gone."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class Counters:
    accepted: int = 0
    refused: int = 0
    resets: int = 0
    bytes_forwarded: int = 0
    #: bytes that arrived while the network was blackholed (held, not forwarded then)
    bytes_held: int = 0
    #: connections opened while blackholed (their upstream connection waited for heal)
    held_connections: int = 0


class _Pipe:
    """One client connection and its upstream connection, forwarded both ways; each way
    has a reader (which stops reading while blackholed) and a writer (which sends each
    chunk when its latency has passed and the network is not blackholed)."""

    def __init__(self, proxy: FaultProxy, client: socket.socket,
                 upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self._closed = False

    def start(self) -> None:
        for source, target in ((self.client, self.upstream), (self.upstream, self.client)):
            chunks: queue.Queue[tuple[float, bytes] | None] = _queue.Queue()
            _threading.Thread(target=self._read, args=(source, chunks), daemon=True).start()
            _threading.Thread(target=self._write, args=(target, chunks), daemon=True).start()

    def _read(self, source: socket.socket,
              chunks: queue.Queue[tuple[float, bytes] | None]) -> None:
        proxy = self.proxy
        while True:
            proxy._flowing.wait()  # blackholed: read nothing more (the sender's buffers fill)
            try:
                data = source.recv(65536)
            except Exception:  # OSError; under eventlet also EOFError when reset meanwhile
                data = b""
            if not data:
                chunks.put(None)
                return
            if not proxy._flowing.is_set():
                proxy.counters.bytes_held += len(data)
            chunks.put((_time.monotonic() + proxy.delay, data))

    def _write(self, target: socket.socket,
               chunks: queue.Queue[tuple[float, bytes] | None]) -> None:
        proxy = self.proxy
        while True:
            item = chunks.get()
            if item is None:
                break
            due, data = item
            wait = due - _time.monotonic()
            if wait > 0:
                _time.sleep(wait)
            proxy._flowing.wait()  # blackholed: it waits here, as in a retransmit queue
            if self._closed:
                return
            try:
                target.sendall(data)
            except Exception:  # OSError; under eventlet also IOClosed when reset meanwhile
                break
            proxy.counters.bytes_forwarded += len(data)
        self.shutdown()

    def shutdown(self) -> None:
        """One way ended (EOF or an error): end both, with a FIN (unless being reset)."""
        if self._closed:
            return
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.proxy._forget(self)

    def reset(self) -> None:
        self._closed = True
        _rst(self.client)
        _rst(self.upstream)


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
        self._listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = int(self._listener.getsockname()[1])
        self._pipes: set[_Pipe] = set()
        self._waiting: set[socket.socket] = set()  # accepted while blackholed
        self._lock = _threading.Lock()
        self._closed = False
        self._flowing = _threading.Event()  # set unless blackholed
        self._flowing.set()

    # -- faults ------------------------------------------------------------------------

    def reset(self) -> None:
        """Reset every open connection, and every new one until `heal`."""
        self.mode = RESET
        self._flowing.set()  # held chunks and connections wake up, to find themselves reset
        with self._lock:
            pipes, self._pipes = self._pipes, set()
            waiting, self._waiting = self._waiting, set()
        for pipe in pipes:
            pipe.reset()
            self.counters.resets += 1
        for client in waiting:
            _rst(client)
            self.counters.resets += 1

    def blackhole(self) -> None:
        """Nothing gets through either way until `heal` (or `reset`); nothing is lost."""
        self.mode = BLACKHOLE
        self._flowing.clear()

    def latency(self, seconds: float) -> None:
        """Every chunk read from now on arrives `seconds` late (each way)."""
        self.delay = seconds

    def heal(self) -> None:
        self.mode = PASS
        self.delay = 0.0
        self._flowing.set()

    # -- running -----------------------------------------------------------------------

    def start(self) -> FaultProxy:
        _threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        self.reset()

    def _forget(self, pipe: _Pipe) -> None:
        with self._lock:
            self._pipes.discard(pipe)

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
            if self.mode == BLACKHOLE:
                # Its handshake goes unanswered until the network heals.
                self.counters.held_connections += 1
                with self._lock:
                    self._waiting.add(client)
                _threading.Thread(target=self._connect_when_healed, args=(client,),
                                 daemon=True).start()
                continue
            self._connect(client)

    def _connect_when_healed(self, client: socket.socket) -> None:
        self._flowing.wait()
        with self._lock:
            if client not in self._waiting:
                return  # reset meanwhile
            self._waiting.discard(client)
        if self.mode == RESET or self._closed:
            self.counters.refused += 1
            _rst(client)
            return
        self._connect(client)

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = _socket.create_connection((self.upstream_host, self.upstream_port),
                                                timeout=5)
            upstream.settimeout(None)
        except OSError:
            self.counters.refused += 1
            _rst(client)
            return
        self.counters.accepted += 1
        pipe = _Pipe(self, client, upstream)
        with self._lock:
            if self.mode != RESET:
                self._pipes.add(pipe)
                pipe.start()
                return
        self.counters.refused += 1  # reset while it was being connected
        pipe.reset()
