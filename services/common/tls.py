"""Production's rule for the wire: a broker or database that is not on this machine is
reached over TLS, with its certificate verified and its host name checked.

- RabbitMQ: `AMQP_URI` amqps://... (or AMQP_SSL set), and `AMQP_SSL` a mapping of
  py-amqp's ssl options that names `server_hostname` (null: the URI's host) and does
  not switch verification off (`cert_reqs: 0`). py-amqp checks the host name only when
  `server_hostname` is given; `amqps://` alone verifies the chain but not the name.
- PostgreSQL: `sslmode=verify-full` in the URL (or PGSSLMODE), with `sslrootcert`
  naming the CA.

Loopback addresses and unix sockets need neither (nothing crosses a network).
deploy/runbook.md ("TLS") says how to give the CA and the certificates.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

RUNBOOK = "deploy/runbook.md, \"TLS\""


def is_local(host: str | None) -> bool:
    """A loopback address, localhost, or no host at all (a unix socket)."""
    if not host or host.startswith("/"):
        return True
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def broker_refusal(config: Mapping[str, Any]) -> str | None:
    """Why this broker connection may not be used in production, or None."""
    ssl = config.get("AMQP_SSL")
    for uri in str(config.get("AMQP_URI", "")).split(";"):
        parts = urlsplit(uri.strip())
        if is_local(parts.hostname):
            continue
        where = f"RabbitMQ at {parts.hostname}"
        if parts.scheme != "amqps" and not ssl:
            return (f"production refuses plain AMQP to {where}: use amqps:// and AMQP_SSL "
                    f"with the CA ({RUNBOOK})")
        if not isinstance(ssl, Mapping):
            return (f"production refuses TLS to {where} without a host name check: set "
                    "AMQP_SSL to a mapping with ca_certs and server_hostname "
                    f"({RUNBOOK})")
        context = ssl.get("context")
        if isinstance(context, Mapping):
            checked = bool(context.get("check_hostname"))
        else:
            checked = "server_hostname" in ssl
        if not checked:
            return (f"production refuses TLS to {where} without a host name check: add "
                    f"server_hostname to AMQP_SSL ({RUNBOOK})")
        if str(ssl.get("cert_reqs", "")).strip() in ("0", "CERT_NONE"):
            return (f"production refuses TLS to {where} with certificate verification off "
                    f"(AMQP_SSL cert_reqs: 0): use cert_reqs: 2 ({RUNBOOK})")
    return None


def database_refusal(config: Mapping[str, Any]) -> str | None:
    """Why one of these PostgreSQL URLs may not be used in production, or None."""
    from sqlalchemy.engine import make_url

    urls = dict(config.get("DATABASES") or {})
    if config.get("DATABASE_URL"):
        urls.setdefault("(DATABASE_URL)", config["DATABASE_URL"])
    for service, raw in sorted(urls.items()):
        if not raw:
            continue
        url = make_url(str(raw))
        if url.get_backend_name() != "postgresql":
            continue
        host = url.query.get("host") or url.host
        if isinstance(host, tuple):
            host = host[0] if host else None
        if is_local(host):
            continue
        sslmode = url.query.get("sslmode") or os.environ.get("PGSSLMODE")
        if isinstance(sslmode, tuple):
            sslmode = sslmode[-1] if sslmode else None
        if sslmode != "verify-full":
            return (f"production refuses the {service} database at {host} without "
                    "sslmode=verify-full: end its URL with "
                    f"?sslmode=verify-full&sslrootcert=<the CA file> ({RUNBOOK})")
    return None


def insecure_transport(config: Mapping[str, Any]) -> str | None:
    """The first reason production may not start with these broker and database
    settings (one line), or None."""
    return broker_refusal(config) or database_refusal(config)
