"""A RabbitMQ cluster losing a node, then a queue's leader, under traffic (issue 12,
point 4).

Three private RabbitMQ nodes on loopback form a cluster (tests/support/rabbit_cluster.py)
with the production policies of deploy/rabbitmq/definitions.json (event queues: quorum,
delivery-limit 20, at-least-once dead-lettering, overflow reject-publish) and its
exchanges, queues and bindings, declared through the second node as `definitions.py
apply` declares them before any service starts (so the event queues' leaders are
there). The system runs the README's way (`samspil run --migrate`, every service and
the gateway in one process) with QUEUE_TYPE=quorum and AMQP_URI naming all three nodes,
the first first: its connections, and the classic queues they declare (nameko's RPC
request and reply queues, retry delays), are on the first node.

While HTTP traffic registers inquiries (each with a marker in its wish):

1. the first node (the clients' node) is killed with SIGKILL;
2. once no quorum queue depends on it any more, the leader of coordination's queue for
   intake.inquiry_registered is killed.

Each stays down until the system works without it (requests answered 201, coordination
taking events, the queue led by another node) or DOWN_WAIT has passed, and is then
started again; it rejoins by itself.

Afterwards (tests/reliability/checker.py counts): no inquiry answered 201 is missing in
intake's database or on coordination's timeline, none is there twice, nothing is there
that was not sent; the process never exited and never answered 500; every queue
(replies, retries, dead letters included) is empty, nothing was dead-lettered, and the
production policy governs the queue. Each service's /ready stays 200 while a node is
down. Whether RPC fails over is printed: it does only when the RPC queues are quorum
queues (then it is asserted too); nameko declares them classic, homed on one node."""


from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import amqp
import pytest
import requests

from tests.reliability.checker import check
from tests.reliability.checker import marker as new_marker
from tests.support.rabbit import PrivateRabbit
from tests.support.rabbit_cluster import PrivateCluster
from tests.support.samspil_run import SamspilRun
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
DEFINITIONS = ROOT / "deploy" / "rabbitmq" / "definitions.json"
QUEUE = "evt-intake-intake.inquiry_registered--coordination.on_intake_inquiry_registered"
BEFORE, AFTER = 20, 20
DOWN_AT_LEAST = 25  # requests sent while a node is down, at least
DOWN_WAIT = 40.0  # how long a node stays down at most if traffic does not flow (a bound)


def _apply_definitions(cluster: PrivateCluster, via: PrivateRabbit) -> list[dict[str, Any]]:
    """The production policies, exchanges, queues and bindings on vhost "/" (users and
    permissions are test_broker_permissions.py's), declared through `via`."""
    doc = json.loads(DEFINITIONS.read_text(encoding="utf-8"))
    for policy in doc["policies"]:
        cluster.set_policy(policy["name"], policy["pattern"], policy["definition"],
                           priority=policy["priority"], apply_to=policy["apply-to"])
    conn = amqp.Connection(f"127.0.0.1:{via.port}", connect_timeout=10)
    conn.connect()
    try:
        channel = conn.channel()
        for ex in doc["exchanges"]:
            channel.exchange_declare(ex["name"], ex["type"], durable=ex["durable"],
                                     auto_delete=ex["auto_delete"])
        for q in doc["queues"]:
            channel.queue_declare(q["name"], durable=q["durable"],
                                  auto_delete=q["auto_delete"], arguments=q["arguments"])
        for b in doc["bindings"]:
            channel.queue_bind(b["destination"], b["source"], b["routing_key"])
    finally:
        conn.close()
    return list(doc["policies"])


class Traffic:
    """Registers inquiries over HTTP one after another, each with its own marker."""

    def __init__(self, base: str, headers: dict[str, str], citizen: str) -> None:
        self.base, self.headers, self.citizen = base, headers, citizen
        self.outcomes: dict[str, int | str] = {}
        self.log: list[tuple[float, int | str]] = []  # (sent at, outcome), in order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def send(self) -> int | str:
        # Letters only: a run of digits in free text can look like a CPR number (a 400).
        marker = new_marker()
        sent_at = time.monotonic()
        try:
            outcome: int | str = requests.post(
                f"{self.base}/api/inquiries", headers=self.headers, timeout=30, json={
                    "channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
                    "wish": f"Hjælp til regninger ({marker})", "citizen_ref": self.citizen,
                }).status_code
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        self.outcomes[marker] = outcome
        self.log.append((sent_at, outcome))
        return outcome

    def start(self) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self.send()
                time.sleep(0.05)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def since(self, t: float) -> list[int | str]:
        return [outcome for sent_at, outcome in list(self.log) if sent_at >= t]

    def first_201_since(self, t: float) -> float | None:
        return next((sent_at for sent_at, outcome in list(self.log)
                     if sent_at >= t and outcome == 201), None)


@dataclasses.dataclass
class Phase:
    what: str
    node: int  # 1, 2 or 3
    down: float  # seconds from the SIGKILL to the restart
    sent: int  # requests sent while it was down
    refused: int  # of which not answered 201
    taken: int  # inquiries coordination put on its timeline while it was down
    recovery: float  # seconds from the SIGKILL to the first request answered 201
    failed_over: bool  # that 201 came while the node was still down
    ready: dict[str, int | str]  # /ready of each service and the gateway while down

    def line(self) -> str:
        ready = ", ".join(f"{k} {v}" for k, v in self.ready.items())
        how = ("while it was down" if self.failed_over
               else "only after its return: no failover")
        return (f"killed node {self.node} ({self.what}) for {self.down:.0f} s: "
                f"{self.sent} requests, {self.refused} refused, {self.taken} events "
                f"taken by coordination; first 201 "
                f"{self.recovery:.1f} s after the kill, {how}; /ready while down: {ready}")


def test_a_cluster_loses_a_node_then_the_leader_under_traffic(tmp_path):
    started = time.monotonic()
    cluster = PrivateCluster(tmp_path / "cluster").start()
    first, second, _ = cluster.nodes
    system: SamspilRun | None = None
    traffic: Traffic | None = None
    try:
        policies = _apply_definitions(cluster, via=second)
        system = SamspilRun(tmp_path, {"AMQP_URI": cluster.amqp_uri, "QUEUE_TYPE": "quorum"})
        health = system.health
        base = system.base
        system.start()
        headers = system.staff_headers("fronten")
        citizen = system.register_citizen(headers)
        traffic = Traffic(base, headers, citizen)
        for _ in range(BEFORE):
            assert traffic.send() == 201
        leader_before = cluster.leader_of(QUEUE)

        traffic.start()
        phases: list[Phase] = []

        def on_timeline() -> int:
            return int(system.query("coordination", "select count(*) from citizen_activity "
                                                    "where kind = 'inquiry_registered'")[0][0])

        def fault(node: PrivateRabbit, what: str) -> None:
            """SIGKILL `node` under traffic; start it again once the system works without
            it (at least DOWN_AT_LEAST requests sent, one answered 201, coordination has
            taken an event, the queue has another leader), or DOWN_WAIT has passed."""
            system.alive()
            before = on_timeline()
            killed = time.monotonic()
            cluster.kill(node)  # returns once the node no longer answers

            def works_without_it() -> bool:
                return (len(traffic.since(killed)) >= DOWN_AT_LEAST
                        and traffic.first_201_since(killed) is not None
                        and on_timeline() > before
                        and cluster.leader_now(QUEUE) not in (None, node))

            wait_for(lambda: works_without_it() or time.monotonic() - killed > DOWN_WAIT,
                     timeout=DOWN_WAIT + 120, interval=0.5, what=f"traffic with {what} down")
            system.alive()
            ready = system.readiness()
            flowed = traffic.first_201_since(killed)
            during = traffic.since(killed)
            taken = on_timeline() - before
            down = time.monotonic() - killed
            cluster.restart(node)
            returned = time.monotonic()
            back: float = flowed if flowed is not None else wait_for(  # no failover
                lambda: traffic.first_201_since(returned) or 0.0, timeout=180,
                interval=0.2, what=f"a 201 after {what}'s return")
            phases.append(Phase(what, cluster.nodes.index(node) + 1, down, len(during),
                                sum(1 for o in during if o != 201), taken, back - killed,
                                flowed is not None, ready))
            system.alive()

        wait_for(lambda: len(traffic.log) >= BEFORE + 5, timeout=60,
                 what="traffic before the first kill")
        fault(first, "the clients' node")
        leader = cluster.leader_of(QUEUE)
        cluster.wait_quorum_safe(leader)
        fault(leader, f"{QUEUE}'s leader")
        leader_after = cluster.leader_of(QUEUE)
        traffic.stop()
        system.alive()
        for _ in range(AFTER):
            assert traffic.send() == 201
        system.alive()

        # Every event leaves intake's outbox; coordination puts each on the timeline.
        wait_for(lambda: system.query("intake", "select count(*) from outbox where "
                                               "sent_at is null")[0][0] == 0,
                 timeout=180, what="intake's outbox drained")
        inquiries = system.query("intake", "select id, wish from inquiries")
        marker_of = {uuid.UUID(str(i)).hex: wish.rsplit("(", 1)[-1].rstrip(")")
                     for i, wish in inquiries}

        def timeline() -> list[str]:
            rows = system.query("coordination", "select details from citizen_activity "
                                                "where kind = 'inquiry_registered'")
            ids = [uuid.UUID(json.loads(d)["inquiry_id"]).hex for (d,) in rows]
            return [marker_of.get(i, f"?{i}") for i in ids]

        wait_for(lambda: len(timeline()) >= len(inquiries), timeout=180, interval=0.5,
                 what="coordination's timeline has every inquiry")

        # Every queue empties (replies, retries and dead letters included).
        def queues() -> list[dict[str, Any]]:
            return cluster.queues()

        def drained() -> list[dict[str, Any]]:
            found = queues()
            return found if found and all(q["messages"] == 0 for q in found) else []

        try:
            final = wait_for(drained, timeout=120, interval=1, what="every queue empty")
        except AssertionError:
            final = queues()
        dead_letters = sum(q["messages"] for q in final
                           if q["name"].endswith(".dead-letters")
                           or q["name"] == "samspil.unrouted")
        verdict = check(traffic.outcomes,
                        {"intake": list(marker_of.values()), "coordination": timeline()},
                        dead_letters=dead_letters, recovery=[p.recovery for p in phases])
        quorum = {q["name"] for q in final if q["type"] == "quorum"}
        rpc_quorum = all(f"rpc-{s}" in quorum for s in health)
        print(f"\ncluster of 3 [sqlite, quorum, {len(policies)} policies]: {len(quorum)} quorum "
              f"and {len(final) - len(quorum)} classic queues (RPC queues "
              f"{'quorum' if rpc_quorum else 'classic'}); {QUEUE} leader: node "
              f"{cluster.nodes.index(leader_before) + 1}, then "
              f"{cluster.nodes.index(leader_after) + 1}")
        for phase in phases:
            print("  " + phase.line())
        print(verdict.line() + f"; {time.monotonic() - started:.0f} s in all")
        assert verdict.safe, verdict.line()
        not_empty = {q["name"]: q["messages"] for q in final if q["messages"]}
        assert not not_empty, f"queues not empty: {not_empty}"
        assert dead_letters == 0
        # The production policy governs the queue (delivery limit, at-least-once).
        expected = max((p for p in policies if re.search(p["pattern"], QUEUE)),
                       key=lambda p: p["priority"])["name"]
        policy = next(q["policy"] for q in final if q["name"] == QUEUE)
        assert policy == expected, policy
        # Never a 500, never a dropped connection: a 503 (or a 504) while it fails over.
        assert set(verdict.refused) <= {"503", "504"}, verdict.refused
        for phase in phases:
            # Each service's /ready reaches the broker through the other nodes.
            assert all(phase.ready[s] == 200 for s in health), phase.line()
            if rpc_quorum:
                # With RPC queues on every node, the API never waits for the dead one.
                assert phase.failed_over and phase.ready["gateway"] == 200, phase.line()
    finally:
        if traffic is not None:
            traffic.stop()
        if system is not None:
            system.stop()
        cluster.stop()
