"""What `make run` starts beside the services on a developer's machine, so that a
newcomer can sign in and read the mail Samspil sends:

- the development OpenID provider (deploy/oidc-dev, Node.js) with the demo staff, when
  `DEV_OIDC_PROVIDER` is true (never in production: the gateway refuses it there);
- a mail catcher (aiosmtpd) on `SMTP_HOST:SMTP_PORT` that writes every mail to
  `var/mail/` as an .eml file, when `DEV_MAIL_CATCHER` is true.

Both stop when `samspil run` stops. A port that is already taken stops `samspil run`
with one line naming it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from services.cli.remote import EXIT_USAGE, CommandFailed

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = ROOT / "deploy" / "oidc-dev" / "server.mjs"


def truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CommandFailed(EXIT_USAGE, f"{what} stopped at start (exit {proc.returncode})")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise CommandFailed(EXIT_USAGE, f"{what} did not start listening on {host}:{port}")


def _start_provider(config: dict[str, Any], log_dir: Path) -> subprocess.Popen[bytes]:
    oidc = config.get("OIDC") or {}
    issuer = str(oidc.get("issuer") or "http://127.0.0.1:8900")
    parts = urlsplit(issuer)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if port_taken(host, port):
        raise CommandFailed(EXIT_USAGE, f"port {port} is taken: the development OpenID "
                                        f"provider ({issuer}) cannot start")
    node = shutil.which("node")
    if node is None or not (PROVIDER.parent / "node_modules").exists():
        raise CommandFailed(EXIT_USAGE, "the development OpenID provider needs Node.js and "
                                        "`make install` (npm ci in deploy/oidc-dev)")
    env = dict(os.environ, OIDC_DEV_ISSUER=issuer, NODE_NO_WARNINGS="1",
               OIDC_DEV_CLIENT_ID=str(oidc.get("client_id") or "samspil-web"),
               OIDC_DEV_CLIENT_SECRET=str(oidc.get("client_secret") or ""),
               OIDC_DEV_REDIRECT_URIS=str(oidc.get("redirect_uri") or ""),
               OIDC_DEV_AUDIENCE=str(oidc.get("audience") or "urn:samspil:api"))
    log = (log_dir / "oidc-dev.log").open("ab")
    proc = subprocess.Popen([node, str(PROVIDER)], env=env, stdout=log, stderr=log)
    _wait_listening(host, port, proc, "the development OpenID provider")
    print(f"samspil: development sign-in at {issuer} (demo users in "
          "deploy/oidc-dev/users.json, password: demo)", flush=True)
    return proc


def _start_mail_catcher(config: dict[str, Any], mail_dir: Path) -> subprocess.Popen[bytes]:
    host = str(config.get("SMTP_HOST") or "127.0.0.1")
    port = int(config.get("SMTP_PORT") or 1025)
    if port_taken(host, port):
        raise CommandFailed(EXIT_USAGE, f"port {port} is taken: the mail catcher cannot start "
                                        "(set SMTP_PORT, or DEV_MAIL_CATCHER=false to use "
                                        "that server)")
    proc = subprocess.Popen([sys.executable, "-m", "services.cli.mailcatcher", "--host", host,
                             "--port", str(port), "--dir", str(mail_dir)])
    _wait_listening(host, port, proc, "the mail catcher")
    print(f"samspil: mail is caught on {host}:{port} and written to {mail_dir}/", flush=True)
    return proc


@contextlib.contextmanager
def companions(config: dict[str, Any], var: Path = Path("var")) -> Iterator[None]:
    """Start what the config asks for; stop it all when the block ends."""
    started: list[subprocess.Popen[bytes]] = []
    var.mkdir(parents=True, exist_ok=True)
    try:
        if truthy(config.get("DEV_OIDC_PROVIDER", False)):
            started.append(_start_provider(config, var))
        if truthy(config.get("DEV_MAIL_CATCHER", False)):
            started.append(_start_mail_catcher(config, var / "mail"))
        yield
    finally:
        for proc in started:
            proc.terminate()
        for proc in started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
