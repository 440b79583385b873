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
        raise CommandFailed(
            EXIT_USAGE, f"unknown service {name!r}; known: {', '.join(sorted(SERVICES))}"
        ) from None
    return getattr(importlib.import_module(module_name), cls_name)


def broker_problem(config: dict[str, Any]) -> str | None:
    """None if RabbitMQ answers and lets this user in; otherwise what is wrong and what
    to do (a refused login or a missing vhost is not an unreachable broker)."""
    from amqp.exceptions import AccessRefused, NotAllowed

    from services.common.amqp import Broker

    amqp_uri = config["AMQP_URI"]
    try:
        with Broker.from_config(config).connection(connect_timeout=5) as conn:
            conn.ensure_connection(max_retries=1)
    except AccessRefused:
        return (
            f"RabbitMQ at {redact(amqp_uri)} refused the user name or password.\n"
            "What to do: check AMQP_URI; each service has its own broker user "
            "(deploy/rabbitmq/definitions.json, deploy/runbook.md)."
        )
    except NotAllowed:
        return (
            f"RabbitMQ at {redact(amqp_uri)} does not let this user into that vhost.\n"
            "What to do: check the vhost in AMQP_URI and the user's permissions "
            "(deploy/rabbitmq/definitions.json)."
        )
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


# Secrets whose `${NAME:default}` default in a config file is public: production
# refuses to start on them (set them from a secret store; deploy/runbook.md).
PRODUCTION_SECRETS = ("CPR_HASH_KEY", "CPR_ENCRYPTION_KEY", "OIDC_CLIENT_SECRET",
                      "WEBHOOK_SECRET_ENCRYPTION_KEY")
DEVELOPMENT_ONLY = ("DEV_OIDC_PROVIDER", "DEV_MAIL_CATCHER")


def production_refusal(config: dict[str, Any], config_path: Path) -> str | None:
    """Why production may not start with this config (None: it may): a secret still at
    the public default written in the config file, a development companion on, or a
    remote broker or database reached without verified TLS (services.common.tls)."""
    import re

    from services.cli.devtools import truthy

    if str(config.get("SAMSPIL_ENV", "development")).lower() != "production":
        return None
    for name in DEVELOPMENT_ONLY:
        if truthy(config.get(name, False)):
            return f"production refuses {name}=true (development only): set {name}=false"
    text = config_path.read_text(encoding="utf-8")
    for name, default in re.findall(r"\$\{([A-Z_]+):([^}]*)\}", text):
        if name in PRODUCTION_SECRETS and default and os.environ.get(name, default) == default:
            return (f"production refuses the development {name} (the public default in "
                    f"{config_path.name}): set it from a secret (deploy/runbook.md)")
    from services.common.tls import insecure_transport

    return insecure_transport(config)  # a remote broker or database without verified TLS


def listen_addresses(config: dict[str, Any], names: list[str]) -> dict[str, tuple[str, int]]:
    """What each service will listen on: the gateway's WEB_SERVER_ADDRESS, the others'
    /health and /ready (HEALTH_ADDRESSES.<service> or HEALTH_ADDRESS)."""
    found: dict[str, tuple[str, int]] = {}
    for name in names:
        if name == "gateway":
            where, address = "WEB_SERVER_ADDRESS", config.get("WEB_SERVER_ADDRESS", "0.0.0.0:8000")
        elif (config.get("HEALTH_ADDRESSES") or {}).get(name):
            where, address = f"HEALTH_ADDRESSES.{name}", config["HEALTH_ADDRESSES"][name]
        elif config.get("HEALTH_ADDRESS"):
            where, address = "HEALTH_ADDRESS", config["HEALTH_ADDRESS"]
        else:
            continue
        host, _, port = str(address).rpartition(":")
        found[f"{name} ({where})"] = (host or "127.0.0.1", int(port))
    return found


def port_problem(config: dict[str, Any], names: list[str]) -> str | None:
    """One line naming a port that is taken (another Samspil already runs?) or asked
    for twice; None when every port is free. Checked before anything starts, so that a
    second `make run` stops instead of sharing the ports with the first."""
    from services.cli.devtools import port_taken

    seen: dict[int, str] = {}
    for who, (host, port) in listen_addresses(config, names).items():
        if port in seen:
            return f"port {port} is asked for twice: by {seen[port]} and by {who}"
        seen[port] = who
        if port_taken(host, port):
            return (f"port {port} is taken: {who} cannot listen on {host}:{port} (is Samspil "
                    "already running? stop it, or choose another address)")
    return None


def cmd_run(args: argparse.Namespace) -> int:
    from services.common.db import database_url
    from services.common.health import PortTaken
    from services.common.migrate import NotMigrated, check_at_head

    config = load_config(args.config)
    names = args.services or sorted(SERVICES)
    classes = [service_class(n) for n in names]
    refusal = production_refusal(config, Path(args.config or DEFAULT_CONFIG))
    if refusal:
        raise CommandFailed(EXIT_USAGE, refusal)
    problem = broker_problem(config)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_BROKER
    if args.migrate:
        migrate(config, names)
    try:
        for name in names:
            check_at_head(name, database_url(config, name))
    except NotMigrated as exc:
        raise CommandFailed(EXIT_USAGE, str(exc)) from None
    taken = port_problem(config, names)
    if taken:
        raise CommandFailed(EXIT_USAGE, taken)
    configure_logging(config, args.verbose)

    from services.cli.devtools import companions

    with companions(config):
        print(f"samspil: running {', '.join(names)} on {redact(config['AMQP_URI'])}",
              flush=True)
        try:
            run_services(classes, config)
        except (NotMigrated, PortTaken) as exc:  # lost a race with another process
            raise CommandFailed(EXIT_USAGE, str(exc)) from None
    return EXIT_OK


def run_services(classes: list[type], config: dict[str, Any]) -> None:
    """nameko's `run`, except that a service that cannot start is reported once by the
    caller (one line), not as a traceback from every green thread it touched."""
    import errno
    import signal

    import eventlet.debug
    from nameko.runners import ServiceRunner

    runner = ServiceRunner(config)
    for cls in classes:
        runner.add_service(cls)
    # Signal handlers run in the main loop and cannot use eventlet primitives.
    signal.signal(signal.SIGTERM, lambda *_: eventlet.spawn_n(runner.stop))
    eventlet.debug.hub_exceptions(False)
    try:
        runner.start()
    except BaseException:
        runner.kill()
        raise
    finally:
        eventlet.debug.hub_exceptions(True)
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
        except OSError as exc:
            if exc.errno == errno.EINTR:  # the signal handler interrupted the wait
                continue
            raise
        except KeyboardInterrupt:
            try:
                runner.stop()
            except KeyboardInterrupt:
                runner.kill()
        else:
            break


def migrate(config: dict[str, Any], names: list[str]) -> None:
    from services.common.db import database_url
    from services.common.migrate import upgrade

    # A migration has no service config, only the environment: notifications' 0005
    # encrypts the stored webhook secrets under this config's key.
    for setting in ("WEBHOOK_SECRET_ENCRYPTION_KEY", "SAMSPIL_ENV"):
        if config.get(setting):
            os.environ.setdefault(setting, str(config[setting]))
    for name in names:
        url = database_url(config, name)
        upgrade(name, url)
        print(f"samspil: {name} database is at head ({redact(url)})", flush=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    migrate(config, args.services or sorted(SERVICES))
    return EXIT_OK


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from services.common.amqp import Broker
    from services.common.deadletters import DeadLetters, find_dead_letter
    from services.common.errors import NotFound

    config = load_config(args.config)
    broker = Broker.from_config(config)
    problem = broker_problem(config)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_NO_BROKER
    services = [args.service] if args.service else [*sorted(SERVICES), "unrouted"]
    queue_type = config.get("QUEUE_TYPE")
    try:
        if args.action == "list":
            rows = []
            for service in services:
                letters = DeadLetters(broker, service, queue_type=queue_type)
                rows += [letter.summary() for letter in letters.list(limit=args.limit,
                                                                    offset=args.offset)]
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
            _, letter = find_dead_letter(broker, services, args.id,
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
                outcomes = [outcome for service in services for outcome in DeadLetters(
                    broker, service, queue_type=queue_type).replay_each()]
            else:
                letters, letter = find_dead_letter(broker, services, args.id,
                                                   queue_type=queue_type)
                outcomes = letters.replay_each(letter.id)
            for outcome in outcomes:
                if outcome.replayed:
                    print(f"replayed {outcome.letter.id} to {outcome.destination}")
                else:
                    print(f"not replayed {outcome.letter.id} (left in its queue): "
                          f"{outcome.problem}")
            failed = sum(not outcome.replayed for outcome in outcomes)
            print(f"{len(outcomes) - failed} dead letter(s) replayed, {failed} not replayed")
            return EXIT_FAIL if failed else EXIT_OK
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

    run_p = sub.add_parser(
        "run", help="run services in one process (all by default)",
        epilog="examples: samspil run --migrate;  "
               "samspil run intake --config deploy/config/intake.yaml")
    run_p.add_argument("services", nargs="*", help=f"any of: {', '.join(sorted(SERVICES))}")
    # `samspil run intake --config FILE` as well as `samspil --config FILE run intake`
    run_p.add_argument("--config", default=argparse.SUPPRESS,
                       help="YAML config (also accepted before `run`)")
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
    dl_p.add_argument("--limit", type=int, default=100, help="list: at most this many")
    dl_p.add_argument("--offset", type=int, default=0,
                      help="list: skip this many first (page through a long queue)")
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
