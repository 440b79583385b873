"""RabbitMQ definitions for Samspil: one broker user per service, each allowed only its
own queues and exchanges, and the policies that make event queues safe quorum queues.

    python deploy/rabbitmq/definitions.py write    # definitions.json from the contracts
    python deploy/rabbitmq/definitions.py check    # exit 1 when definitions.json is stale
    python deploy/rabbitmq/definitions.py apply --api http://rabbitmq:15672 \\
        --admin-user admin --admin-password-file /run/secrets/rabbitmq_admin_password \\
        --passwords /run/secrets

`definitions.json` is a standard RabbitMQ definitions document (vhosts, users,
permissions, policies) built from contracts/asyncapi.yaml: a service may read the
events exchanges of the services whose events it consumes, and nothing else of
theirs. Its users carry no password hash (a password never sits in the repository);
`apply` puts the whole document into a running broker through the management API and
gives each user the password in `<passwords>/broker_<service>` (compose and Kubernetes
mount the secrets there). `apply` is idempotent: run it after every upgrade.

Names follow the kit (services/common): events go to the topic exchange
`<service>.events`; a consumer's queue is `evt-<source>-<type>--<service>.<method>`;
RPC is nameko's `nameko-rpc` exchange, `rpc-<service>` and `rpc.reply-<service>-<id>`;
retries wait in `<service>.retry.<ms>` and come back through `<service>.retry`; failures
go through the exchange `<service>.dead-letters` to the queue of that name; events no
queue takes are parked in `samspil.unrouted` (exchange and queue). No user may write to
the default exchange, through which any queue could be reached by name.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ASYNCAPI = ROOT / "contracts" / "asyncapi.yaml"
DEFINITIONS = HERE / "definitions.json"

VHOST = "samspil"
USER_PREFIX = "samspil-"
SERVICES = ("intake", "coordination", "housing", "notifications", "partners", "gateway")
OPERATOR = "operator"  # `samspil dead-letters ...` and other operator commands
# A message redelivered this often without an ack (a handler that kills its process,
# say) is dead-lettered by the broker itself; the kit's own bounded retries come first.
DELIVERY_LIMIT = 20
# Every service uses these shared kit entities.
KIT = ("nameko-rpc", r"samspil\.unrouted")


def consumed_sources(asyncapi: dict[str, Any]) -> dict[str, set[str]]:
    """Service -> the services whose events it consumes (AsyncAPI receive operations,
    keyed `<event type>.receive.<consumer>`)."""
    sources: dict[str, set[str]] = {service: set() for service in SERVICES}
    for key, operation in (asyncapi.get("operations") or {}).items():
        if operation.get("action") != "receive" or ".receive." not in key:
            continue
        event_type, consumer = key.rsplit(".receive.", 1)
        sources.setdefault(consumer, set()).add(event_type.split(".", 1)[0])
    return sources


def _alternatives(names: list[str]) -> str:
    return "^(" + "|".join(names) + ")$"


def permissions_for(service: str, sources: set[str]) -> dict[str, str]:
    """configure / write / read regexes for one service's user."""
    own = [
        # Everything named `<service>.`: its events exchange (the outbox relay), its
        # retry exchange and delay queues, its dead letters, and its own entities
        # (e.g. partners.answers).
        rf"{service}\..+",
        rf"evt-[a-z0-9_]+-[a-z0-9_.]+--{service}\..+",  # its consumer queues
        rf"rpc-{service}",                           # its RPC queue
        rf"rpc\.reply-{service}-.+",                 # replies to its RPC calls
    ]
    if service == "notifications":
        # Partner queues: the exchange samspil.partners and one queue partner.<id> each.
        own += [r"samspil\.partners", r"partner\..+"]
    if service == "gateway":
        # Operators list and replay every service's dead letters over HTTP.
        own += [r"[a-z_]+\.dead-letters"]
    theirs = [rf"{source}\.events" for source in sorted(sources - {service})]
    write_extra = []
    if service == "gateway":
        # A replay goes back where it came from: a consumer's queue through its
        # service's retry exchange, a parked event to its events exchange.
        write_extra += [r"[a-z_]+\.retry", r"[a-z_]+\.events"]
    return {
        "configure": _alternatives(own + theirs + list(KIT)),
        "write": _alternatives(own + list(KIT) + write_extra),
        "read": _alternatives(own + theirs + list(KIT)),
    }


def policies_for(service: str) -> list[dict[str, Any]]:
    """Event queues: a delivery limit, and at-least-once dead-lettering to the service's
    own dead-letter queue (RabbitMQ applies both to quorum queues only)."""
    return [{
        "vhost": VHOST,
        "name": f"samspil-{service}-events",
        "pattern": rf"^evt-[a-z0-9_]+-[a-z0-9_.]+--{service}\.",
        "apply-to": "queues",  # `quorum_queues` needs RabbitMQ 3.12; this works on 3.10+
        "priority": 10,
        "definition": {
            "delivery-limit": DELIVERY_LIMIT,
            "dead-letter-exchange": f"{service}.dead-letters",
            "dead-letter-routing-key": f"{service}.dead-letters",
            "dead-letter-strategy": "at-least-once",
            "overflow": "reject-publish",  # at-least-once dead-lettering requires it
        },
    }]


def topology(asyncapi: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                list[dict[str, Any]]]:
    """Every events exchange, consumer queue (quorum, as the consumers declare them with
    QUEUE_TYPE=quorum) and binding, from the AsyncAPI receive operations: created before
    any service starts, so an event published before its consumer's first start waits
    in the consumer's queue instead of being lost."""
    exchanges: dict[str, dict[str, Any]] = {}
    queues: dict[str, dict[str, Any]] = {}
    bindings: list[dict[str, Any]] = []
    channels = asyncapi.get("channels") or {}
    for operation in (asyncapi.get("operations") or {}).values():
        if operation.get("action") != "receive" or not operation.get("x-samspil-queue"):
            continue
        channel = channels[operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        exchange = channel["bindings"]["amqp"]["exchange"]["name"]
        queue = operation["x-samspil-queue"]
        exchanges[exchange] = {"name": exchange, "vhost": VHOST, "type": "topic",
                               "durable": True, "auto_delete": False, "internal": False,
                               "arguments": {}}
        queues[queue] = {"name": queue, "vhost": VHOST, "durable": True,
                         "auto_delete": False, "arguments": {"x-queue-type": "quorum"}}
        bindings.append({"source": exchange, "vhost": VHOST, "destination": queue,
                         "destination_type": "queue", "routing_key": channel["address"],
                         "arguments": {}})
        # The consumer's service: its retry exchange (retries come back by queue name)
        # and its dead-letter exchange and queue, where the broker dead-letters too.
        service = queue.rsplit("--", 1)[1].split(".", 1)[0]
        dead_letters = f"{service}.dead-letters"
        for name, kind in ((f"{service}.retry", "direct"), (dead_letters, "fanout")):
            exchanges[name] = {"name": name, "vhost": VHOST, "type": kind, "durable": True,
                               "auto_delete": False, "internal": False, "arguments": {}}
        queues[dead_letters] = {"name": dead_letters, "vhost": VHOST, "durable": True,
                                "auto_delete": False, "arguments": {"x-queue-type": "quorum"}}
        bindings.append({"source": f"{service}.retry", "vhost": VHOST, "destination": queue,
                         "destination_type": "queue", "routing_key": queue, "arguments": {}})
        dead_letter_binding = {"source": dead_letters, "vhost": VHOST,
                               "destination": dead_letters, "destination_type": "queue",
                               "routing_key": dead_letters, "arguments": {}}
        if dead_letter_binding not in bindings:
            bindings.append(dead_letter_binding)
    bindings.sort(key=lambda b: (b["destination"], b["routing_key"]))
    return sorted(exchanges.values(), key=lambda e: e["name"]), \
        sorted(queues.values(), key=lambda q: q["name"]), bindings


def build(asyncapi: dict[str, Any]) -> dict[str, Any]:
    sources = consumed_sources(asyncapi)
    exchanges, queues, bindings = topology(asyncapi)
    users = [*SERVICES, OPERATOR]
    permissions = [
        {"user": USER_PREFIX + service, "vhost": VHOST,
         **permissions_for(service, sources[service])}
        for service in SERVICES
    ]
    permissions.append({"user": USER_PREFIX + OPERATOR, "vhost": VHOST,
                        "configure": ".*", "write": ".*", "read": ".*"})
    return {
        "rabbitmq_version": "3.10.0",
        "vhosts": [{"name": VHOST, "description": "Samspil"}],
        "users": [
            {"name": USER_PREFIX + name, "password_hash": "",
             "hashing_algorithm": "rabbit_password_hashing_sha256",
             "tags": ["management"] if name == OPERATOR else []}
            for name in users
        ],
        "permissions": permissions,
        "policies": [policy for service in SERVICES if service != "gateway"
                     for policy in policies_for(service)],
        "queues": queues, "exchanges": exchanges, "bindings": bindings, "parameters": [],
        "global_parameters": [], "topic_permissions": [],
    }


def render(definitions: dict[str, Any]) -> str:
    return json.dumps(definitions, indent=2, ensure_ascii=False) + "\n"


def current() -> str:
    return render(build(yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))))


# -- apply: the document into a running broker ------------------------------------------


def renamed(definitions: dict[str, Any], vhost: str, user_prefix: str) -> dict[str, Any]:
    """The same definitions for another vhost and user prefix (tests, second tenants)."""
    text = json.dumps(definitions)
    doc = json.loads(text)
    for vh in doc["vhosts"]:
        vh["name"] = vhost
    for section in ("permissions", "policies", "queues", "exchanges", "bindings"):
        for item in doc[section]:
            item["vhost"] = vhost
    for section, key in (("users", "name"), ("permissions", "user")):
        for item in doc[section]:
            item[key] = user_prefix + item[key].removeprefix(USER_PREFIX)
    return doc


def apply(definitions: dict[str, Any], api: str, auth: tuple[str, str],
          passwords: dict[str, str]) -> list[str]:
    """PUT every vhost, user (with its password), permission and policy; return what
    was done. `passwords`: user name -> password (a user without one is refused)."""
    import requests

    def put(path: str, body: dict[str, Any]) -> None:
        response = requests.put(api.rstrip("/") + path, json=body, auth=auth, timeout=30)
        if response.status_code >= 300:
            raise RuntimeError(f"PUT {path}: {response.status_code} {response.text}")

    def post(path: str, body: dict[str, Any]) -> None:  # bindings are created by POST
        response = requests.post(api.rstrip("/") + path, json=body, auth=auth, timeout=30)
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")

    done = []
    for vhost in definitions["vhosts"]:
        put(f"/api/vhosts/{quote(vhost['name'], safe='')}",
            {"description": vhost.get("description", "")})
        done.append(f"vhost {vhost['name']}")
    for user in definitions["users"]:
        password = passwords.get(user["name"])
        if not password:
            raise RuntimeError(f"no password for broker user {user['name']}")
        put(f"/api/users/{quote(user['name'], safe='')}",
            {"password": password, "tags": ",".join(user.get("tags") or [])})
        done.append(f"user {user['name']}")
    for perm in definitions["permissions"]:
        put(f"/api/permissions/{quote(perm['vhost'], safe='')}/{quote(perm['user'], safe='')}",
            {k: perm[k] for k in ("configure", "write", "read")})
        done.append(f"permissions {perm['user']}@{perm['vhost']}")
    for policy in definitions["policies"]:
        put(f"/api/policies/{quote(policy['vhost'], safe='')}/{quote(policy['name'], safe='')}",
            {k: policy[k] for k in ("pattern", "apply-to", "priority", "definition")})
        done.append(f"policy {policy['name']}")
    for exchange in definitions["exchanges"]:
        put(f"/api/exchanges/{quote(exchange['vhost'], safe='')}/"
            f"{quote(exchange['name'], safe='')}",
            {k: exchange[k] for k in ("type", "durable", "auto_delete", "internal",
                                      "arguments")})
        done.append(f"exchange {exchange['name']}")
    for queue in definitions["queues"]:
        put(f"/api/queues/{quote(queue['vhost'], safe='')}/{quote(queue['name'], safe='')}",
            {k: queue[k] for k in ("durable", "auto_delete", "arguments")})
        done.append(f"queue {queue['name']}")
    for binding in definitions["bindings"]:
        vhost = quote(binding["vhost"], safe="")
        response_path = (f"/api/bindings/{vhost}/e/{quote(binding['source'], safe='')}/q/"
                         f"{quote(binding['destination'], safe='')}")
        post(response_path, {"routing_key": binding["routing_key"], "arguments": {}})
        done.append(f"binding {binding['source']} -> {binding['destination']}")
    return done


def passwords_from(directory: Path, definitions: dict[str, Any],
                   user_prefix: str) -> dict[str, str]:
    """`<directory>/broker_<service>` holds each service user's password."""
    found = {}
    for user in definitions["users"]:
        short = user["name"].removeprefix(user_prefix)
        path = directory / f"broker_{short}"
        if path.exists():
            found[user["name"]] = path.read_text(encoding="utf-8").strip()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="definitions.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("write", help="regenerate definitions.json from contracts/asyncapi.yaml")
    sub.add_parser("check", help="exit 1 when definitions.json is stale")
    ap = sub.add_parser("apply", help="put the definitions into a running broker")
    ap.add_argument("--api", required=True, help="management API, e.g. http://rabbitmq:15672")
    ap.add_argument("--admin-user", required=True)
    ap.add_argument("--admin-password-file", type=Path, required=True)
    ap.add_argument("--passwords", type=Path, required=True,
                    help="directory with one file broker_<service> per user")
    ap.add_argument("--vhost", default=VHOST)
    ap.add_argument("--user-prefix", default=USER_PREFIX)
    args = parser.parse_args(argv)
    if args.command == "write":
        DEFINITIONS.write_text(current(), encoding="utf-8")
        print(f"wrote {DEFINITIONS}")
        return 0
    if args.command == "check":
        if DEFINITIONS.read_text(encoding="utf-8") != current():
            print("deploy/rabbitmq/definitions.json is stale: run "
                  "`python deploy/rabbitmq/definitions.py write`", file=sys.stderr)
            return 1
        print("deploy/rabbitmq/definitions.json is current")
        return 0
    definitions = renamed(json.loads(DEFINITIONS.read_text(encoding="utf-8")),
                          args.vhost, args.user_prefix)
    admin_password = args.admin_password_file.read_text(encoding="utf-8").strip()
    passwords = passwords_from(args.passwords, definitions, args.user_prefix)
    try:
        for line in apply(definitions, args.api, (args.admin_user, admin_password), passwords):
            print(f"definitions: {line}")
    except Exception as exc:
        print(f"definitions: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
