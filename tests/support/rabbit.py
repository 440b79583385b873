"""A private RabbitMQ node for tests that stop, kill or restart the broker.

It has its own node name, AMQP and distribution ports, data and log directories, and
no plugins, so killing it never touches the shared broker on 5672.

    node = PrivateRabbit(tmp_path / "rabbit").start()
    node.amqp_uri            # amqp://guest:guest@127.0.0.1:<port>/
    node.kill()              # SIGKILL, as a crash
    node.start()             # the same node, with its data: durable queues are back
    node.stop()              # at the end of the test

`conf` adds lines to the node's rabbitmq.conf and `env` to its environment (a cluster
gives its nodes a private HOME, for their shared Erlang cookie); `ctl(...)` runs
rabbitmqctl against the node, `launch()` and `wait_started()` start several nodes at
once (tests/support/rabbit_cluster.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

import amqp

from tests.support.net import free_port

# The server script itself: /usr/sbin's wrapper would switch to the rabbitmq user, who
# cannot write this test's directories. It runs as whoever runs the tests (Erlang's
# cookie in their home).
_LIB_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQ_SERVER = str(_LIB_SERVER) if _LIB_SERVER.exists() else (
    shutil.which("rabbitmq-server") or "/usr/sbin/rabbitmq-server")
START_SECONDS = 180.0  # a loaded 2-core machine can take a minute and more
# The CLI next to the server (the /usr/sbin wrappers switch to the rabbitmq user).
_LIB_BIN = _LIB_SERVER.parent
RABBITMQCTL = str(_LIB_BIN / "rabbitmqctl") if _LIB_BIN.exists() else (
    shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl")
CTL_SECONDS = 120.0


class PrivateRabbit:
    def __init__(self, base: Path, *, conf: Iterable[str] = (),
                 env: Mapping[str, str] | None = None) -> None:
        self.base = base
        self.extra_env = dict(env or {})
        self.name = f"samspil-test-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        base.mkdir(parents=True, exist_ok=True)
        (base / "enabled_plugins").write_text("[].\n")
        # guest may connect over loopback only (the default); heartbeats are the client's.
        lines = ["loopback_users.guest = true", *conf]
        (base / "rabbitmq.conf").write_text("\n".join(lines) + "\n")

    @property
    def amqp_uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.base / "advanced.config"),
        })
        env.update(self.extra_env)
        return env

    def ctl(self, *args: str, timeout: float = CTL_SECONDS,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """`rabbitmqctl -n <this node> <args>`, with the node's environment."""
        return subprocess.run([RABBITMQCTL, "-n", self.name, *args], env=self._env(),
                              capture_output=True, text=True, timeout=timeout,
                              check=check)

    def answers(self) -> bool:
        try:
            conn = amqp.Connection(f"127.0.0.1:{self.port}", connect_timeout=2)
            conn.connect()
            conn.close()
            return True
        except Exception:
            return False

    def start(self) -> PrivateRabbit:
        self.launch()
        return self.wait_started()

    def launch(self) -> None:
        """Start the node's process and return at once (see `wait_started`)."""
        with open(self.base / "server.out", "ab") as log:
            # Its own directory as the working one: a crash dump (MnesiaCore.*) lands there.
            self.proc = subprocess.Popen([RABBITMQ_SERVER], env=self._env(), stdout=log,
                                         cwd=self.base,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def wait_started(self) -> PrivateRabbit:
        """Wait until the node launched answers AMQP."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + START_SECONDS
        while not self.answers():
            if self.proc.poll() is not None:
                raise RuntimeError(f"private RabbitMQ {self.name} exited: see "
                                   f"{self.base / 'server.out'}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"private RabbitMQ {self.name} did not start in "
                                   f"{START_SECONDS:.0f} s")
            time.sleep(0.3)
        return self

    def _beam_pid(self) -> int | None:
        try:
            return int((self.base / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self) -> None:
        """SIGKILL the whole node (the Erlang VM and its helpers), as a crash would."""
        pid = self._beam_pid()
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        # The node's name stays registered with epmd until its socket closes.
        deadline = time.monotonic() + 30
        while self.answers() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)

    def stop(self) -> None:
        self.kill()
