"""A private PostgreSQL server for tests that need one of their own (its own settings,
TLS, or the right to stop it), never the shared one on 5432.

    pg = PrivatePostgres(pki).start()     # TLS with the test PKI's server certificate
    pg.url("intake", sslmode="verify-full", sslrootcert=pki.ca)
    pg.create_database("intake")
    pg.stop()                             # and its files are gone

It is initdb'd into a temporary directory of its own (not under pytest's tmp_path, which
the `postgres` user cannot enter), listens on 127.0.0.1:<free port> and on a unix socket
in that directory. With a PKI it has ssl=on and pg_hba.conf allows `hostssl` from
127.0.0.1 only: no plain connection, no unix-socket login. PostgreSQL refuses to run as
root, so when the tests run as root it runs as the `postgres` OS user (runuser), owning
its directory and its private key (mode 0600).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg2

from tests.support.net import free_port
from tests.support.tls import TestPKI, readable_by

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"
START_SECONDS = 180  # a loaded 2-core machine


class PrivatePostgres:
    def __init__(self, pki: TestPKI | None = None, *, max_connections: int = 200) -> None:
        self.pki = pki
        self.max_connections = max_connections
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.base = Path(tempfile.mkdtemp(prefix="samspil-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self._started = False

    # -- running as the server's user --------------------------------------------------

    def _as_server(self, *command: str, timeout: float = START_SECONDS
                   ) -> subprocess.CompletedProcess[str]:
        argv = list(command)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                cwd=self.base)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                               f"{result.stdout}\n{result.stderr}\n{log}")
        return result

    def start(self) -> PrivatePostgres:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if self.pki is not None:
            tls = self.base / "tls"
            tls.mkdir()
            for name, source in (("ca.pem", self.pki.ca), ("server.pem", self.pki.server_cert),
                                 ("server.key", self.pki.server_key)):
                shutil.copyfile(source, tls / name)
            (tls / "server.key").chmod(0o600)
        if os.geteuid() == 0:
            readable_by(self.base, SERVER_USER)
        self._as_server(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                        "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8",
                        "--locale=C.UTF-8")
        pwfile.unlink()
        settings = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.base}'",
            f"max_connections = {self.max_connections}",
            "password_encryption = 'scram-sha-256'",
        ]
        hba = ["# TYPE  DATABASE USER ADDRESS METHOD"]
        if self.pki is not None:
            tls = self.base / "tls"
            settings += [
                "ssl = on",
                f"ssl_cert_file = '{tls / 'server.pem'}'",
                f"ssl_key_file = '{tls / 'server.key'}'",
                f"ssl_ca_file = '{tls / 'ca.pem'}'",
                "ssl_min_protocol_version = 'TLSv1.2'",
            ]
            # TLS from loopback only: no `local` line, no `host` line, no `hostnossl`.
            hba.append("hostssl all all 127.0.0.1/32 scram-sha-256")
        else:
            hba.append("host all all 127.0.0.1/32 scram-sha-256")
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/support/postgres.py\n" + "\n".join(settings) + "\n")
        (self.data / "pg_hba.conf").write_text("\n".join(hba) + "\n")
        if os.geteuid() == 0:
            readable_by(self.data, SERVER_USER)
        self._as_server(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                        "-w", "-t", str(START_SECONDS), "start")
        self._started = True
        return self

    def stop(self) -> None:
        try:
            if self._started:
                with contextlib.suppress(Exception):
                    self._as_server(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m",
                                    "fast", "-w", "-t", "60", "stop")
                self._started = False
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    # -- addresses -----------------------------------------------------------------------

    def url(self, database: str = "postgres", *, host: str | Path = "127.0.0.1",
            **params: str | Path) -> str:
        """`postgresql://postgres:<password>@<host>:<port>/<database>?<params>`, e.g.
        sslmode="verify-full", sslrootcert=pki.ca."""
        query = urlencode({k: str(v) for k, v in params.items()})
        return (f"postgresql://postgres:{quote(self.password, safe='')}@{host}:{self.port}/"
                f"{database}" + (f"?{query}" if query else ""))

    def connect(self, database: str = "postgres", **params: str | Path) -> Any:
        """A psycopg2 connection (autocommit), over TLS verified against the test CA
        when the server has a PKI."""
        if self.pki is not None and not params:
            params = {"sslmode": "verify-full", "sslrootcert": self.pki.ca}
        conn = psycopg2.connect(self.url(database, **params), connect_timeout=10)
        conn.autocommit = True
        return conn

    def create_database(self, name: str) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
