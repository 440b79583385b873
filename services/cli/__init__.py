"""samspil: the operator's command line.

    samspil run [SERVICE ...] [--config FILE] [--migrate]   run services (all by default)
    samspil migrate [SERVICE ...] [--config FILE]          migrate databases to head
    samspil dead-letters list|show|replay ...              inspect and replay dead letters
    samspil contracts check|write                          AsyncAPI and JSON Schema files
    samspil tokens create|list|revoke                      machine and partner tokens
    samspil staff add|list                                 the staff directory
    samspil statistics --from DAY --to DAY [--json]         Fronten's report for a period
    samspil deliveries list|retry ...                       the notifications ledger
    samspil export asyncapi|openapi [--out FILE]            the API documents
    samspil partners create-association|token ...          housing partners and their tokens
    samspil demo [--fast]                                   play the seed stories

Exit codes: 0 ok, 1 failure, 2 usage, configuration error or invalid input,
3 broker unreachable or a service not running, 4 not found. docs/cli.md has them all.
"""

# eventlet must patch the standard library before nameko, kombu or psycopg2 load.
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated", category=Warning)
# nameko's CLI module imports pkg_resources (setuptools < 82 is pinned for it).
warnings.filterwarnings("ignore", message=r"pkg_resources is deprecated", category=UserWarning)
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import logging.config  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402

from services.cli.remote import (  # noqa: E402
    EXIT_FAIL,
    EXIT_NO_BROKER,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
)
from services.common.logs import redact_url as redact  # noqa: E402

__all__ = [
    "EXIT_FAIL",
    "EXIT_NOT_FOUND",
    "EXIT_NO_BROKER",
    "EXIT_OK",
    "EXIT_USAGE",
    "ROOT",
    "SERVICES",
    "load_config",
    "main",
]

# Service name -> "module:Class". Services not built yet are simply not listed.
SERVICES: dict[str, str] = {
    "intake": "services.intake.service:IntakeService",
    "coordination": "services.coordination.service:CoordinationService",
    "gateway": "services.gateway.service:GatewayService",
    "housing": "services.housing.service:HousingService",
    "notifications": "services.notifications.service:NotificationsService",
    "partners": "services.partners.service:PartnersService",
}
ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CONFIG = ROOT / "deploy" / "config" / "all.yaml"


def load_config(path: str | Path | None) -> dict[str, Any]:
    """YAML with nameko's `${VAR:default}` environment substitution."""
    from nameko.cli.main import setup_yaml_parser

    setup_yaml_parser()
    try:
        with open(path or DEFAULT_CONFIG) as handle:
            config = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise CommandFailed(EXIT_USAGE, f"cannot read the config {path or DEFAULT_CONFIG}: "
                                        f"{exc.strerror}") from None
    if not isinstance(config, dict):
        raise SystemExit(f"{path}: the config must be a mapping")
    return config


def service_class(name: str) -> type:
    try:
        module_name, cls_name = SERVICES[name].split(":")
    except KeyError:
        raise SystemExit(
            f"unknown service {name!r}; known: {', '.join(sorted(SERVICES))}"
        ) from None
    return getattr(importlib.import_module(module_name), cls_name)


def broker_problem(amqp_uri: str) -> str | None:
    """None if RabbitMQ answers; otherwise what is wrong and what to do."""
    from kombu import Connection

    try:
        with Connection(amqp_uri, connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return (
            f"No RabbitMQ answers at {redact(amqp_uri)} ({exc}).\n"
            "What to do:\n"
            "  - on this machine: start it with `rabbitmq-server -detached`\n"
            "    (and `rabbitmq-plugins enable rabbitmq_management` for the web console);\n"
            "  - elsewhere: set AMQP_URI, e.g. AMQP_URI=amqp://user:pass@host:5672/samspil."
        )
    return None


def configure_logging(config: dict[str, Any], verbose: bool = False) -> None:
    from services.common.logs import logging_config

    if "LOGGING" in config:
        logging.config.dictConfig(config["LOGGING"])
    else:
        logging.config.dictConfig(logging_config("DEBUG" if verbose else "INFO"))


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    names = args.services or sorted(SERVICES)
    classes = [service_class(n) for n in names]
    problem = broker_problem(config["AMQP_URI"])
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_BROKER
    if args.migrate:
        migrate(config, names)
    configure_logging(config, args.verbose)
    from nameko.cli.run import run

    from services.cli.devtools import companions

    with companions(config):
        print(f"samspil: running {', '.join(names)} on {redact(config['AMQP_URI'])}",
              flush=True)
        run(classes, config)
    return EXIT_OK


def migrate(config: dict[str, Any], names: list[str]) -> None:
    from services.common.db import database_url
    from services.common.migrate import upgrade

    for name in names:
        url = database_url(config, name)
        upgrade(name, url)
        print(f"samspil: {name} database is at head ({redact(url)})", flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    migrate(config, args.services or sorted(SERVICES))
    return EXIT_OK


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from services.common.deadletters import DeadLetters, find_dead_letter
    from services.common.errors import NotFound

    config = load_config(args.config)
    problem = broker_problem(config["AMQP_URI"])
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_BROKER
    services = [args.service] if args.service else [*sorted(SERVICES), "unrouted"]
    queue_type = config.get("QUEUE_TYPE")
    try:
        if args.action == "list":
            rows = []
            for service in services:
                letters = DeadLetters(config["AMQP_URI"], service, queue_type=queue_type)
                rows += [letter.summary() for letter in letters.list(limit=args.limit)]
            if args.json:
                print(json.dumps(rows, indent=2, ensure_ascii=False))
            elif not rows:
                print("no dead letters")
            else:
                for row in rows:
                    print(f"{row['id']}  {row['service']:<13} {row['type'] or '-':<36} "
                          f"attempts={row['attempts']}  {row['failed_at']}  {row['error'][:80]}")
            return EXIT_OK
        if args.action == "show":
            _, letter = find_dead_letter(config["AMQP_URI"], services, args.id,
                                         queue_type=queue_type)
            print(json.dumps({**letter.summary(), "original_queue": letter.original_queue,
                              "body": letter.body, "headers": letter.headers},
                             indent=2, ensure_ascii=False, default=str))
            return EXIT_OK
        if args.action == "replay":
            if not args.id and not args.all:
                print("name a dead letter id, or --all", file=sys.stderr)
                return EXIT_USAGE
            if args.all:
                replayed = [letter for service in services for letter in DeadLetters(
                    config["AMQP_URI"], service, queue_type=queue_type).replay()]
            else:
                letters, letter = find_dead_letter(config["AMQP_URI"], services, args.id,
                                                   queue_type=queue_type)
                replayed = letters.replay(letter.id)
            for letter in replayed:
                print(f"replayed {letter.id} to {letter.original_queue}")
            print(f"{len(replayed)} dead letter(s) replayed")
            return EXIT_OK
    except NotFound:
        print(f"no dead letter with id {args.id}", file=sys.stderr)
        return EXIT_NOT_FOUND
    return EXIT_USAGE


def cmd_contracts(args: argparse.Namespace) -> int:
    import contracts.generate as generate
    from services import catalogue

    consumers = catalogue.consumers()
    if args.action == "write":
        for path in generate.write_all(consumers):
            print(f"wrote {path}")
        return EXIT_OK
    problems = generate.check_all(consumers)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_FAIL
    print("contracts: generated files are current and released versions are compatible")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samspil", description="Samspil: run and operate the services."
    )
    parser.add_argument("--config", default=os.environ.get("SAMSPIL_CONFIG"),
                        help=f"YAML config (default: $SAMSPIL_CONFIG or {DEFAULT_CONFIG})")
    sub = parser.add_subparsers(dest="command", required=True)

    run_p = sub.add_parser("run", help="run services in one process (all by default)")
    run_p.add_argument("services", nargs="*", help=f"any of: {', '.join(sorted(SERVICES))}")
    run_p.add_argument("--migrate", action="store_true", help="migrate databases first")
    run_p.add_argument("-v", "--verbose", action="store_true")
    run_p.set_defaults(func=cmd_run)

    mig_p = sub.add_parser("migrate", help="migrate service databases to the newest schema")
    mig_p.add_argument("services", nargs="*")
    mig_p.set_defaults(func=cmd_migrate)

    dl_p = sub.add_parser("dead-letters", help="list, show and replay dead letters")
    dl_p.add_argument("action", choices=["list", "show", "replay"])
    dl_p.add_argument("id", nargs="?", help="dead letter id (show, replay)")
    dl_p.add_argument("--service", choices=[*sorted(SERVICES), "unrouted"],
                      help="a service's dead letters, or 'unrouted': events no queue took")
    dl_p.add_argument("--all", action="store_true", help="replay every dead letter")
    dl_p.add_argument("--limit", type=int, default=100)
    dl_p.add_argument("--json", action="store_true", help="machine-readable output")
    dl_p.set_defaults(func=cmd_dead_letters)

    from services.cli import identity

    identity.add_parsers(sub)

    c_p = sub.add_parser("contracts", help="check or regenerate AsyncAPI and JSON Schemas")
    c_p.add_argument("action", choices=["check", "write"])
    c_p.set_defaults(func=cmd_contracts)

    from services.cli import demo, operate

    timeout = float(os.environ.get("SAMSPIL_RPC_TIMEOUT", "30"))
    operate.add_parsers(sub, timeout)
    demo.add_parser(sub, timeout)
    return parser


def main(argv: list[str] | None = None) -> int:
    from services.cli.operate import check_partners_args

    args = build_parser().parse_args(argv)
    if args.command == "dead-letters" and args.action == "show" and not args.id:
        print("show needs a dead letter id", file=sys.stderr)
        return EXIT_USAGE
    try:
        check_partners_args(args)
        return int(args.func(args))
    except CommandFailed as failed:
        print(f"samspil {args.command}: {failed.message}", file=sys.stderr)
        return failed.code
    except KeyboardInterrupt:
        print(f"samspil {args.command}: interrupted", file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:  # e.g. `samspil export asyncapi | head`: the reader left
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL
