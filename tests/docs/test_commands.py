"""The docs tell the truth: every command in a fenced `sh` block of README.md, docs/*.md
and deploy/runbook.md runs as written, or is listed below as not runnable, with why.

The system is started the README's way (`samspil run --migrate`, what `make run` runs
after installing) in a child process, in a working directory of its own (so `var/` is
fresh), on a fresh RabbitMQ vhost and on free ports: the development addresses the docs
use (127.0.0.1:8000 for the gateway, 8101-8105 for the services' health, 8900 for the
sign-in provider) are rewritten to the ports of this system, and nothing else is. Each
document runs in one bash session, in order, as a reader would type it into a terminal
with the repository's tools on PATH but not the venv's: variables set by one command
(`TOKEN=$(...)`) are there for the next. `curl` is run with `--fail-with-body`, so an HTTP
error is a failure unless the comment right above the command says it is refused; when
the doc shows the output (a JSON comment right below the command), the output must be it.

    .venv/bin/pytest tests/docs -s      # prints each document's count of commands run
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests import infra as infra_mod
from tests.docs.commands import Command, extract, judge, run_session
from tests.support.net import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "deploy" / "runbook.md"]
SESSION_SECONDS = 300  # one document's session; the whole test stays within minutes

# Commands that cannot run here, by their first words.
NOT_RUNNABLE_PREFIXES = {
    "docker ": "needs a container engine; tests/unit/test_deploy_files.py validates "
               "deploy/compose.yaml with docker-compose and the entrypoint with sh",
    "kubectl ": "needs a Kubernetes cluster; tests/unit/test_deploy_files.py renders "
                "deploy/k8s and validates every document against the API schemas",
    "OIDC_ISSUER=https://login.balk.dk/samspil ": "starts the compose stack (a container "
                                                  "engine); validated by test_deploy_files",
}
# Commands that cannot run here as written, with the reason (the key is the command on
# one line, whitespace collapsed).
NOT_RUNNABLE = {
    "make run": "this is how the system under test is started (`samspil run --migrate`, "
                "after `make install`)",
    "make test": "the suite this test is part of",
    ".venv/bin/samspil run intake --config deploy/config/intake.yaml": "a server that runs until "
        "stopped; tests/docs/test_startup.py starts it exactly so and checks /ready",
    ".venv/bin/nameko run --config deploy/config/intake.yaml services.intake.service":
        "a server that runs until stopped (nameko's own runner: the same service, "
        "without samspil's checks)",
    ".venv/bin/samspil demo": "plays for minutes with pauses to read along; tests/e2e/test_demo.py "
                    "plays it",
    "samspil demo --fast": "plays for minutes; tests/e2e/test_demo.py plays it",
    "SAMSPIL_BROWSER_TESTS=1 SAMSPIL_SCREENSHOTS=1 .venv/bin/pytest -p no:cacheprovider "
    "tests/browser/test_screenshots.py": "the browser suite runs the same test in `make "
        "test`; with SAMSPIL_SCREENSHOTS=1 it rewrites docs/screenshots, which a test run "
        "must not do to the checkout",
    ".venv/bin/pytest tests/reliability -s -q": "the reliability suite itself, which "
        "`make test` runs",
    ".venv/bin/python bench/scale.py --n 1000": "a benchmark: minutes of load, numbers "
        "measured, never asserted (`make bench`)",
    ".venv/bin/python bench/worklists.py --rows 20000 --repeat 50": "a benchmark: numbers "
        "measured, never asserted (`make bench`)",
    ".venv/bin/python bench/slot_search.py": "a benchmark: numbers measured, never "
        "asserted (`make bench`); tests/unit/coordination/test_scheduling_reference.py "
        "holds the search to its reference",
    ".venv/bin/python bench/intake_statistics.py --n 200000": "a benchmark: minutes of "
        "loading, numbers measured, never asserted (`make bench`); "
        "tests/integration/intake/test_statistics_sql.py compares the reports",
    "pg_dump --format=custom --no-owner --file=coordination-$(date +%F).dump "
    "\"$COORDINATION_DATABASE_URL\"": "production databases are PostgreSQL; "
        "tests/reliability/test_backup_restore.py dumps and restores each service's",
    ".venv/bin/python deploy/rabbitmq/definitions.py apply --api http://127.0.0.1:15672 "
    "--admin-user samspil-admin --admin-password-file deploy/secrets/rabbitmq_admin_password "
    "--passwords deploy/secrets": "needs the broker's administrator of a compose or "
        "Kubernetes install; tests/reliability/test_scale_out.py applies the definitions "
        "to a test vhost and runs every service as its own user",
}


def not_runnable(command: Command) -> str | None:
    if command.key in NOT_RUNNABLE:
        return NOT_RUNNABLE[command.key]
    if "<" in command.key and ">" in command.key and "$(" not in command.key \
            and "<<" not in command.key:
        return "a usage line with placeholders, not a command as written"
    for prefix, reason in NOT_RUNNABLE_PREFIXES.items():
        if command.key.startswith(prefix):
            return reason
    return None


@dataclass
class System:
    workdir: Path
    env: dict[str, str]
    rewrite: dict[str, str]


def _workdir(tmp_path: Path) -> Path:
    """A checkout-like directory: the code and docs linked, deploy/ copied (commands may
    write there, e.g. deploy/secrets), var/ empty."""
    work = tmp_path / "repo"
    work.mkdir()
    for name in (".venv", "services", "contracts", "docs", "bench", "tests", "README.md",
                 "Makefile", "pyproject.toml", "constraints.txt"):
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    shutil.copytree(ROOT / "deploy", work / "deploy", symlinks=True,
                    ignore=shutil.ignore_patterns("node_modules", "secrets"))
    (work / "deploy" / "secrets").mkdir()
    modules = ROOT / "deploy" / "oidc-dev" / "node_modules"
    if modules.exists():
        (work / "deploy" / "oidc-dev" / "node_modules").symlink_to(modules)
    return work


def _reader_path() -> str:
    """PATH as a newcomer's terminal has it after `make run`: without the venv."""
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if not p.rstrip("/").endswith(".venv/bin"))


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    infra = infra_mod.from_environment()
    problems = infra_mod.check(infra)
    if problems:
        pytest.fail("the docs test needs RabbitMQ and PostgreSQL:\n- " + "\n- ".join(problems),
                    pytrace=False)
    vhost, amqp_uri = infra_mod.create_vhost(infra)
    work = _workdir(tmp_path_factory.mktemp("docs"))
    gateway, oidc = free_port(), free_port()
    health = {s: free_port() for s in ("intake", "coordination", "housing", "notifications",
                                       "partners")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SAMSPIL_", "PYTEST_")) or k == "SAMSPIL_TEST_DOCKER"}
    env.update({
        "PATH": _reader_path(), "AMQP_URI": amqp_uri,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{gateway}",
        "OIDC_ISSUER": f"http://127.0.0.1:{oidc}",
        "OIDC_REDIRECT_URI": f"http://127.0.0.1:{gateway}/auth/callback",
        "SMTP_PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
        **{f"{s.upper()}_HEALTH_ADDRESS": f"127.0.0.1:{p}" for s, p in health.items()},
    })
    rewrite = {"127.0.0.1:8000": f"127.0.0.1:{gateway}",
               "127.0.0.1:8900": f"127.0.0.1:{oidc}",
               **{f"127.0.0.1:{8101 + i}": f"127.0.0.1:{health[s]}" for i, s in enumerate(
                   ("intake", "coordination", "housing", "notifications", "partners"))}}
    log = work / "samspil-run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(ROOT / ".venv" / "bin" / "samspil"), "run", "--migrate"]
                                if (ROOT / ".venv" / "bin" / "samspil").exists() else
                                [sys.executable, "-m", "services.cli", "run", "--migrate"],
                                cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"samspil run --migrate exited {proc.returncode}:\n"
                                 f"{log.read_text()[-3000:]}")
        try:
            return all(requests.get(f"http://127.0.0.1:{port}/ready", timeout=3).ok
                       for port in [gateway, *health.values()])
        except requests.RequestException:
            return False

    try:
        wait_for(ready, timeout=120, interval=0.5, what="the system started as the README says")
        yield System(work, env, rewrite)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        infra_mod.delete_vhost(infra, vhost)


PRELUDE = "curl() { command curl --fail-with-body \"$@\"; }"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_command_in_the_doc_runs_as_written(system: System, doc: Path):
    commands = extract(doc, ROOT)
    runnable = [c for c in commands if not_runnable(c) is None]
    outcomes = run_session(runnable, cwd=system.workdir, env=system.env, prelude=PRELUDE,
                           rewrite=system.rewrite, timeout=SESSION_SECONDS)
    failures = []
    for outcome in outcomes:
        for problem in judge(outcome):
            failures.append(f"{outcome.command.doc}:{outcome.command.line}: "
                            f"{outcome.command.key[:160]}\n    -> {problem}\n    "
                            + outcome.output.strip()[-600:].replace("\n", "\n    "))
    print(f"\n{doc.relative_to(ROOT)}: {len(commands)} commands, {len(runnable)} run, "
          f"{len(commands) - len(runnable)} not runnable (listed), "
          f"{len(failures)} not as written")
    assert not failures, "\n".join(failures)


def test_the_not_runnable_list_names_only_commands_the_docs_have():
    keys = {command.key for doc in DOCS for command in extract(doc, ROOT)}
    stale = sorted(set(NOT_RUNNABLE) - keys)
    assert not stale, f"listed but in no doc any more: {stale}"
