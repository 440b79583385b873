"""The whole system started the README's way, for tests that break what is under it.

`samspil run --migrate` (every service and the gateway in one process, no supervisor) in
a throwaway work directory: the repository's code and virtualenv linked in, a copy of
`deploy/` (its config is the one used: a test may edit it), SQLite databases in its
`var/`. The broker,
the databases and every port come from the test.

    system = SamspilRun(tmp_path, {"AMQP_URI": node.amqp_uri}).start()
    headers = system.staff_headers("fronten")
    citizen = system.register_citizen(headers)
    ...
    system.alive()                      # raises with the log's tail if the process exited
    system.query("intake", "select count(*) from inquiries")
    system.stop()
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import requests

from tests.support.net import free_port
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SAMSPIL = str(ROOT / ".venv" / "bin" / "samspil")
SERVICES = ("intake", "coordination", "housing", "notifications", "partners")


def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "repo"
    work.mkdir()
    for name in (".venv", "services", "contracts", "pyproject.toml"):
        (work / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "deploy", work / "deploy", symlinks=True,
                    ignore=shutil.ignore_patterns("node_modules", "secrets"))
    return work


class SamspilRun:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.work = workdir(tmp_path)
        self.gateway_port = free_port()
        self.health = {s: free_port() for s in SERVICES}
        # The broker and the databases are the test's, never the caller's environment's.
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("SAMSPIL_", "PYTEST_", "AMQP_"))
                    and not k.endswith("_DATABASE_URL")}
        self.env.update({
            "WEB_SERVER_ADDRESS": f"127.0.0.1:{self.gateway_port}",
            "OIDC_ISSUER": f"http://127.0.0.1:{free_port()}",
            "SMTP_PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
            # The copy's config (the default path would resolve through the `services`
            # link to the repository's own deploy/).
            "SAMSPIL_CONFIG": str(self.work / "deploy" / "config" / "all.yaml"),
            **{f"{s.upper()}_HEALTH_ADDRESS": f"127.0.0.1:{p}" for s, p in self.health.items()},
        })
        self.env.update(env)
        self.log = self.work / "samspil-run.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def start(self, timeout: float = 180.0, what: str = "the system started") -> SamspilRun:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([SAMSPIL, "run", "--migrate"], cwd=self.work,
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self.ready, timeout=timeout, interval=0.5, what=what)
        return self

    def alive(self) -> None:
        """Raise, with the log's tail, if the process has exited."""
        if self.proc is None or self.proc.poll() is not None:
            code = None if self.proc is None else self.proc.returncode
            raise AssertionError(f"samspil run exited {code}:\n"
                                 f"{self.log.read_text(errors='replace')[-4000:]}")

    def ready(self) -> bool:
        self.alive()
        try:
            return requests.get(f"{self.base}/ready", timeout=5).ok
        except requests.RequestException:
            return False

    def readiness(self) -> dict[str, int | str]:
        """Each service's /ready status code (or why there was none), and the gateway's."""
        found: dict[str, int | str] = {}
        urls = [*((s, f"http://127.0.0.1:{p}/ready") for s, p in self.health.items()),
                ("gateway", f"{self.base}/ready")]
        for name, url in urls:
            try:
                found[name] = requests.get(url, timeout=15).status_code
            except requests.RequestException as exc:
                found[name] = type(exc).__name__
        return found

    def samspil(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """A `samspil` command in the same work directory and environment."""
        return subprocess.run([SAMSPIL, *args], cwd=self.work, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=True)

    def staff_headers(self, role: str = "fronten", name: str = "anne") -> dict[str, str]:
        token = self.samspil("tokens", "create", "--name", name, "--role", role).stdout.strip()
        return {"Authorization": f"Bearer {token}"}

    def register_citizen(self, headers: dict[str, str]) -> str:
        created = requests.post(f"{self.base}/api/citizens", headers=headers, timeout=30,
                                json={"cpr": "241190-1234", "name": "Jonas Eksempel",
                                      "preferred_channel": "letter"})
        assert created.status_code == 201, created.text
        return str(created.json()["citizen_ref"])

    def query(self, db: str, sql: str) -> list[tuple[Any, ...]]:
        """Read a service's SQLite database (for assertions only)."""
        with sqlite3.connect(self.work / "var" / f"{db}.db", timeout=30) as conn:
            return conn.execute(sql).fetchall()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)
