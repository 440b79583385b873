"""Loopback ports for the servers tests start (gateway, SMTP, webhooks, health).

`free_port()` hands out a port that is free now and that nothing else is likely to take
before the test's server binds it. Binding to port 0 would give one from the kernel's
ephemeral range (ip_local_port_range, 32768-60999 here), which every outgoing
connection draws from too: on a busy machine (CI runs four test processes at once,
each with hundreds of connections to RabbitMQ and PostgreSQL) a client connection
could take the port between the test choosing it and the server binding it. So the
port comes from below that range, from a slice of it chosen by the process id (so the
test processes running at once draw from different slices), and never twice from one
process."""

from __future__ import annotations

import os
import random
import socket

LOW, HIGH = 20000, 32000  # below the ephemeral range
SLICES = 8
_given: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port on 127.0.0.1 that is free right now, outside the ephemeral range."""
    width = (HIGH - LOW) // SLICES
    start = LOW + (os.getpid() % SLICES) * width
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(start, start + width)
        if port not in _given and _bindable(port):
            _given.add(port)
            return port
    # Every try in this slice was taken (not expected): fall back to the kernel's choice.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
