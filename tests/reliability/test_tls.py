"""AMQP over TLS and PostgreSQL with sslmode=verify-full (issue 12, point 10), on
loopback with a test CA (tests/support/tls.py).

The system is started the README's way (`samspil run --migrate`, every service and the
gateway in one process) with the production config's TLS settings given through the
environment, as deploy/runbook.md ("TLS") says:

- AMQP_URI=amqps://...@127.0.0.1:<tls port>/ and AMQP_SSL = {ca_certs: <test CA>,
  cert_reqs: CERT_REQUIRED, server_hostname: localhost}, to a private RabbitMQ node whose
  only AMQP listener is TLS (no plain listener at all);
- every service's database URL on a private PostgreSQL with ssl=on whose pg_hba.conf
  allows `hostssl` from 127.0.0.1 only, each URL ending in
  `?sslmode=verify-full&sslrootcert=<test CA>`.

Fronten registers inquiries over HTTP; each inquiry is written once, and its event
crosses the TLS broker into coordination's inbox and timeline once. Then the proof that
the services' connections really are TLS: every client connection PostgreSQL has to the
services' databases shows ssl=true in pg_stat_ssl, and every connection RabbitMQ has
shows ssl=true (`rabbitmqctl list_connections ssl`), with only the TLS listener open.

Refused, each checked: `samspil run` trusting an unrelated CA (the broker's certificate
fails verification: exit 3, no broker), a broker certificate checked against another
host name, a plain amqp:// connection (nothing listens), PostgreSQL trusting the
unrelated CA, PostgreSQL with sslmode=disable (no hostssl line matches), and
PostgreSQL under verify-full with a host name the certificate does not carry.

Prints sent, acknowledged, effects, duplicates, lost, dead letters (and `recovery n/a`:
no fault is injected here)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import amqp
import psycopg2
import pytest
import requests

from tests.reliability.checker import marker as new_marker
from tests.support.postgres import PrivatePostgres
from tests.support.samspil_run import SAMSPIL, SamspilRun
from tests.support.tls import TlsRabbit, client_ssl, make_pki
from tests.support.waiting import wait_for

pytestmark = pytest.mark.reliability

DATABASES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")
N = 30  # inquiries


def _refusal(connect: Callable[[], Any]) -> str:
    """The error a connection attempt ends in (the attempt must fail)."""
    try:
        conn = connect()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    conn.close()
    raise AssertionError("the connection was accepted")


def test_the_system_runs_over_tls_to_its_broker_and_its_databases(tmp_path):
    pki = make_pki(tmp_path / "tls")
    node = TlsRabbit(tmp_path / "rabbit", pki)
    pg = PrivatePostgres(pki)
    system: SamspilRun | None = None
    try:
        node.start()
        pg.start()
        for name in DATABASES:
            pg.create_database(name)

        # -- refused: wrong trust, no TLS, wrong names ---------------------------------
        other_ca = _refusal(lambda: amqp.Connection(
            f"127.0.0.1:{node.tls_port}", ssl=client_ssl(pki.other_ca), connect_timeout=10
        ).connect())
        assert "CERTIFICATE_VERIFY_FAILED" in other_ca, other_ca
        wrong_name = _refusal(lambda: amqp.Connection(
            f"127.0.0.1:{node.tls_port}", ssl=client_ssl(pki.ca, "rabbitmq.invalid"),
            connect_timeout=10).connect())
        assert "Hostname mismatch" in wrong_name, wrong_name
        plain = _refusal(lambda: amqp.Connection(f"127.0.0.1:{node.port}",
                                                 connect_timeout=10).connect())
        assert "ConnectionRefused" in plain, plain
        pg_other_ca = _refusal(lambda: psycopg2.connect(pg.url(
            "intake", sslmode="verify-full", sslrootcert=pki.other_ca), connect_timeout=10))
        assert "certificate verify failed" in pg_other_ca, pg_other_ca
        pg_plain = _refusal(lambda: psycopg2.connect(pg.url("intake", sslmode="disable"),
                                                     connect_timeout=10))
        assert "no pg_hba.conf entry" in pg_plain and "no encryption" in pg_plain, pg_plain
        pg_wrong_name = _refusal(lambda: psycopg2.connect(pg.url(
            "intake", host="db.invalid", hostaddr="127.0.0.1", sslmode="verify-full",
            sslrootcert=pki.ca), connect_timeout=10))
        assert "does not match host name" in pg_wrong_name, pg_wrong_name

        # -- the system, configured for TLS through the environment --------------------
        system = SamspilRun(tmp_path, {
            "AMQP_URI": node.amqps_uri,
            "AMQP_SSL": json.dumps(node.client_ssl("localhost")),
            **{f"{s.upper()}_DATABASE_URL": pg.url(s, sslmode="verify-full",
                                                   sslrootcert=pki.ca)
               for s in DATABASES},
        })
        base = system.base

        # Trusting another CA, the system refuses to start: no broker (exit 3).
        untrusting = subprocess.run(
            [SAMSPIL, "run"], cwd=system.work, capture_output=True, text=True, timeout=180,
            env={**system.env, "AMQP_SSL": json.dumps(client_ssl(pki.other_ca, "localhost"))})
        assert untrusting.returncode == 3, untrusting.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in untrusting.stderr, untrusting.stderr

        system.start(timeout=240, what="the system started over TLS")
        headers = system.staff_headers("fronten")
        citizen = system.register_citizen(headers)

        outcomes: dict[str, int | str] = {}  # marker -> status code or exception name
        for _ in range(N):
            marker = new_marker("m")
            try:
                outcomes[marker] = requests.post(
                    f"{base}/api/inquiries", headers=headers, timeout=30, json={
                        "channel": "phone", "inquirer_kind": "citizen", "topics": ["economy"],
                        "wish": f"Hjælp til regninger ({marker})", "citizen_ref": citizen,
                    }).status_code
            except requests.RequestException as exc:
                outcomes[marker] = type(exc).__name__
        system.alive()

        def query(database: str, sql: str) -> list[tuple]:
            conn = pg.connect(database)  # verify-full against the test CA
            try:
                with conn.cursor() as cur:
                    cur.execute(sql)
                    return cur.fetchall()
            finally:
                conn.close()

        # Each event leaves intake's outbox over TLS and reaches coordination once.
        wait_for(lambda: query("intake", "select count(*) from outbox "
                                         "where sent_at is null")[0][0] == 0,
                 timeout=180, interval=0.5, what="intake's outbox drained")
        events = {str(m) for (m,) in query(
            "intake", "select message_id from outbox where type like '%inquiry_registered'")}
        wait_for(lambda: events <= {str(m) for (m,) in query(
            "coordination", "select message_id from inbox "
                            "where consumer like '%inquiry_registered%'")},
                 timeout=180, interval=0.5, what="coordination's inbox has every inquiry")
        activity = [str(m) for (m,) in query(
            "coordination", "select source_message_id from citizen_activity "
                            "where kind = 'inquiry_registered'")]

        written: dict[str, int] = {}
        for (wish,) in query("intake", "select wish from inquiries"):
            marker = wish.rsplit("(", 1)[-1].rstrip(")")
            written[marker] = written.get(marker, 0) + 1
        acknowledged = [m for m, s in outcomes.items() if s == 201]
        refused = sorted({str(s) for s in outcomes.values() if s != 201})
        effects = len(set(activity) & events)
        duplicates = (sum(n - 1 for n in written.values())
                      + len(activity) - len(set(activity)))
        lost = (sum(1 for m in acknowledged if written.get(m, 0) == 0)
                + len(events - set(activity)))

        # -- the proof that the services' connections are TLS --------------------------
        pg_connections = query("postgres", """
            select a.datname, s.ssl, s.version
              from pg_stat_activity a join pg_stat_ssl s using (pid)
             where a.backend_type = 'client backend'""")
        by_database: dict[str, set[bool]] = {}
        for datname, on, _version in pg_connections:
            by_database.setdefault(datname, set()).add(on)
        broker_connections = [line.split("\t") for line in node.rabbitmqctl(
            "list_connections", "ssl", "ssl_protocol", "user", "-q", "--no-table-headers"
        ).splitlines() if line.strip()]
        status = json.loads(node.rabbitmqctl("status", "--formatter", "json"))
        listeners = sorted({str(entry.get("protocol")) for entry in status["listeners"]})
        dead = 0
        for line in node.rabbitmqctl("list_queues", "name", "messages", "-q",
                                     "--no-table-headers").splitlines():
            name, _, count = line.partition("\t")
            if name.endswith("dead-letters") and count.strip().isdigit():
                dead += int(count)

        print(f"\nsent {len(outcomes)}, acknowledged {len(acknowledged)}, "
              f"not acknowledged {len(outcomes) - len(acknowledged)} {refused}, "
              f"effects {effects}, duplicates {duplicates}, lost {lost}, "
              f"dead letters {dead}, recovery n/a (no fault injected)")
        print(f"TLS: PostgreSQL client connections {len(pg_connections)} "
              f"(ssl {sorted({v for _, on, v in pg_connections if on})}) on "
              f"{sorted(by_database)}; RabbitMQ connections {len(broker_connections)} "
              f"(ssl {sorted({tuple(c[:2]) for c in broker_connections})}), "
              f"listeners {listeners}")
        print(f"refused: amqp other CA [{other_ca[:90]}]; amqp wrong name "
              f"[{wrong_name[:90]}]; plain amqp [{plain[:60]}]; samspil run other CA exit "
              f"{untrusting.returncode}; pg other CA [{pg_other_ca.splitlines()[0][:120]}]; "
              f"pg sslmode=disable [{pg_plain.splitlines()[-1][:120]}]; pg wrong name "
              f"[{pg_wrong_name.splitlines()[0][:120]}]")

        assert duplicates == 0 and lost == 0
        assert len(acknowledged) == N, refused
        assert effects == len(events) == N
        assert dead == 0
        # Every service's database has connections, and every one of them is TLS.
        assert set(DATABASES) <= set(by_database), sorted(by_database)
        assert all(flags == {True} for flags in by_database.values()), by_database
        # Every broker connection is TLS (the services hold several each), and the node
        # has no plain AMQP listener.
        assert len(broker_connections) >= len(DATABASES), broker_connections
        assert all(c[0] == "true" for c in broker_connections), broker_connections
        assert "amqp/ssl" in listeners and "amqp" not in listeners, listeners
    finally:
        if system is not None:
            system.stop()
        node.stop()
        pg.stop()
