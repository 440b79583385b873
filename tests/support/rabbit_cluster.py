"""A private three-node RabbitMQ cluster on loopback, for tests that kill cluster nodes.

Built on PrivateRabbit (tests/support/rabbit.py): each node has its own name, ports and
data; they share an Erlang cookie in a private HOME (never the user's ~/.erlang.cookie)
and find each other through the machine's epmd. The nodes start at once; the second and
third then join the first (`rabbitmqctl stop_app; join_cluster; start_app`).

    cluster = PrivateCluster(tmp_path / "cluster").start()
    cluster.amqp_uri            # the three nodes' URLs separated by ';' (kombu fails over)
    cluster.set_policy(...)     # e.g. the production policies (deploy/rabbitmq)
    cluster.queues()            # name, type, leader, messages, ... of every queue
    node = cluster.leader_of("evt-...")
    cluster.kill(node)          # SIGKILL, as a crash
    cluster.restart(node)       # back with its data; it rejoins by itself
    cluster.stop()

A killed node restarts with its data and rejoins the cluster by itself; its quorum queue
members catch up from the leader (`wait_quorum_safe` waits until losing a node loses no
quorum queue its majority).
"""

from __future__ import annotations

import json
import secrets
import string
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tests.support.net import free_port
from tests.support.rabbit import PrivateRabbit
from tests.support.waiting import wait_for

_LIB_QUEUES = Path("/usr/lib/rabbitmq/bin/rabbitmq-queues")


class PrivateCluster:
    def __init__(self, base: Path, size: int = 3, *, conf: Iterable[str] = ()) -> None:
        self.base = base
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        cookie = home / ".erlang.cookie"
        cookie.write_text("".join(secrets.choice(string.ascii_uppercase) for _ in range(32)))
        cookie.chmod(0o400)
        ctl_port = free_port()  # the CLI's own distribution ports, away from others' CLIs
        env = {"HOME": str(home), "RABBITMQ_CTL_DIST_PORT_MIN": str(ctl_port),
               "RABBITMQ_CTL_DIST_PORT_MAX": str(ctl_port + 10)}
        self.nodes = [PrivateRabbit(base / f"node{i + 1}", conf=conf, env=env)
                      for i in range(size)]

    @property
    def amqp_uri(self) -> str:
        """Every node, separated by ';': kombu (and so nameko) fails over between them."""
        return ";".join(node.amqp_uri for node in self.nodes)

    def node(self, name: str) -> PrivateRabbit:
        return next(n for n in self.nodes if n.name == name)

    def running(self) -> list[PrivateRabbit]:
        return [n for n in self.nodes if n.proc is not None]

    def _any(self) -> PrivateRabbit:
        for node in self.running():
            if node.answers():
                return node
        raise RuntimeError("no node of the private cluster answers")

    # -- forming, killing, restarting -----------------------------------------------

    def start(self) -> PrivateCluster:
        """Start every node at once, then join the others to the first."""
        try:
            for node in self.nodes:
                node.launch()
            for node in self.nodes:
                node.wait_started()
            first = self.nodes[0]
            for node in self.nodes[1:]:
                node.ctl("stop_app")
                node.ctl("join_cluster", first.name)
                node.ctl("start_app")
            wait_for(lambda: set(self.running_members()) == {n.name for n in self.nodes},
                     timeout=120, interval=1, what="every node a running cluster member")
            for node in self.nodes:
                wait_for(node.answers, timeout=120, interval=0.3,
                         what=f"{node.name} answering AMQP in the cluster")
        except BaseException:
            self.stop()
            raise
        return self

    def running_members(self, via: PrivateRabbit | None = None) -> list[str]:
        try:
            out = (via or self._any()).ctl("cluster_status", "--formatter", "json",
                                            timeout=60).stdout
            return list(json.loads(out).get("running_nodes", []))
        except (subprocess.SubprocessError, RuntimeError, ValueError):
            return []

    def kill(self, node: PrivateRabbit) -> None:
        node.kill()

    def restart(self, node: PrivateRabbit) -> None:
        """Start a killed node again; wait until the others count it a running member."""
        node.start()
        others = [n for n in self.nodes if n is not node and n.proc is not None]
        wait_for(lambda: node.name in self.running_members(others[0] if others else node),
                 timeout=120, interval=1, what=f"{node.name} back in the cluster")

    def stop(self) -> None:
        threads = [threading.Thread(target=n.stop) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    # -- policies and queues ----------------------------------------------------------

    def set_policy(self, name: str, pattern: str, definition: dict[str, Any], *,
                   priority: int = 0, apply_to: str = "queues", vhost: str = "/") -> None:
        self._any().ctl("set_policy", "-p", vhost, "--priority", str(priority),
                        "--apply-to", apply_to, name, pattern, json.dumps(definition))

    def queues(self, vhost: str = "/") -> list[dict[str, Any]]:
        """Every queue: name, type, policy, leader (quorum), members, online, messages
        (ready plus unacknowledged), consumers."""
        out = self._any().ctl("list_queues", "-q", "-p", vhost, "--formatter", "json",
                              "name", "type", "policy", "leader", "members", "online",
                              "messages", "consumers", timeout=90).stdout
        return list(json.loads(out or "[]"))

    def leader_of(self, queue: str, vhost: str = "/") -> PrivateRabbit:
        for q in self.queues(vhost):
            if q["name"] == queue:
                return self.node(str(q["leader"]))
        raise KeyError(queue)

    def leader_now(self, queue: str, vhost: str = "/") -> PrivateRabbit | None:
        """The queue's leader, or None while that cannot be told (an election, a node
        starting or stopping, rabbitmqctl timing out)."""
        try:
            return self.leader_of(queue, vhost)
        except (subprocess.SubprocessError, RuntimeError, KeyError, StopIteration,
                ValueError):
            return None

    def quorum_critical(self, node: PrivateRabbit) -> bool:
        """Whether some quorum queue would lose its majority if `node` went down now."""
        cli = str(_LIB_QUEUES) if _LIB_QUEUES.exists() else "rabbitmq-queues"
        done = subprocess.run([cli, "-n", node.name, "check_if_node_is_quorum_critical"],
                              env=node._env(), capture_output=True, text=True, timeout=90,
                              check=False)
        return done.returncode != 0

    def wait_quorum_safe(self, node: PrivateRabbit, timeout: float = 120) -> None:
        """Wait until `node` can go down without a quorum queue losing its majority."""
        wait_for(lambda: not self.quorum_critical(node), timeout=timeout, interval=1,
                 what=f"{node.name} not quorum-critical")

