"""Operator commands that talk to the running services over RPC, or print generated
documents: statistics, deliveries, export, partners, subscriptions."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from services.cli.remote import (
    EXIT_OK,
    EXIT_USAGE,
    CommandFailed,
    connect,
)

PARTNER_STATUS_EVENT = "housing.partner_status"


def _config(args: argparse.Namespace) -> dict[str, Any]:
    from services.cli import load_config

    return load_config(args.config)


def iso_date(text: str) -> dt.date:
    """argparse type: an ISO date (2018-04-01)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


# -- statistics ---------------------------------------------------------------------------


def cmd_statistics(args: argparse.Namespace) -> int:
    config = _config(args)
    kwargs: dict[str, Any] = {"period_start": args.period_from.isoformat(),
                              "period_end": args.period_to.isoformat()}
    if args.as_of:
        kwargs["as_of"] = args.as_of.isoformat()
    with connect(config, timeout=args.timeout) as remote:
        report = remote.call("intake", "statistics", **kwargs)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(report["text"].rstrip())
    return EXIT_OK


# -- deliveries ---------------------------------------------------------------------------


def format_delivery(row: dict[str, Any]) -> str:
    error = (row.get("last_error") or "").replace("\n", " ")[:60]
    return (f"{row['delivery_id']:>6}  {row['status']:<8} {row['channel']:<13} "
            f"{row['event_type']:<36} {row['recipient']:<40} attempts={row['attempts']}"
            + (f"  {error}" if error else ""))


def cmd_deliveries(args: argparse.Namespace) -> int:
    config = _config(args)
    with connect(config, timeout=args.timeout) as remote:
        if args.action == "retry":
            if args.id is None:
                raise CommandFailed(EXIT_USAGE, "retry needs a delivery id")
            row = remote.call("notifications", "retry_delivery", delivery_id=args.id)
            if args.json:
                print(json.dumps(row, indent=2, ensure_ascii=False))
            else:
                print(f"delivery {row['delivery_id']} is {row['status']} again: it will be "
                      "sent on the next sweep")
            return EXIT_OK
        if args.id is not None:
            raise CommandFailed(EXIT_USAGE, "list takes no id; filter with --status, "
                                            "--channel, --event-type")
        rows = remote.call("notifications", "list_deliveries", status=args.status,
                           channel=args.channel, event_type=args.event_type,
                           recipient_kind=args.recipient_kind, limit=args.limit)
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    elif not rows:
        print("no deliveries")
    else:
        print(f"{'id':>6}  {'status':<8} {'channel':<13} {'event type':<36} "
              f"{'recipient':<40} attempts")
        for row in rows:
            print(format_delivery(row))
    return EXIT_OK


# -- export -------------------------------------------------------------------------------


def render_document(kind: str) -> str:
    if kind == "asyncapi":
        import contracts.generate as generate
        from services import catalogue

        return generate.render_asyncapi(catalogue.consumers())
    from services.gateway.openapi import document

    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def cmd_export(args: argparse.Namespace) -> int:
    text = render_document(args.document)
    if not args.out:
        sys.stdout.write(text)
        return EXIT_OK
    out = Path(args.out)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandFailed(EXIT_USAGE, f"cannot write {out}: {exc.strerror}") from None
    print(f"wrote {out} ({args.document}, {len(text.encode('utf-8'))} bytes)")
    return EXIT_OK


# -- partners -----------------------------------------------------------------------------


def parse_department(text: str) -> dict[str, Any]:
    """`NUMBER:NAME[:TENANCY,...]` -> register_association's department."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        raise argparse.ArgumentTypeError(
            f"a department is NUMBER:NAME[:TENANCY,...], e.g. 12:Grantoften:12-0304-2 "
            f"(got {text!r})")
    tenancies = [t.strip() for t in parts[2].split(",") if t.strip()] if len(parts) > 2 else []
    return {"number": parts[0].strip(), "name": parts[1].strip(), "tenancy_refs": tenancies}


def cmd_partners(args: argparse.Namespace) -> int:
    if args.action == "token":
        from services.cli.identity import cmd_tokens

        return cmd_tokens(argparse.Namespace(
            config=args.config, action="create", name=args.name or args.id, role="partner",
            partner=args.id, days=90, id=None, json=False))
    config = _config(args)
    if args.secret and not args.webhook:
        raise CommandFailed(EXIT_USAGE, "--secret belongs to --webhook")
    delivery = "webhook" if args.webhook else "partner_queue" if args.queue else None
    register: dict[str, Any] = {"association_id": args.id, "name": args.name, "cvr": args.cvr,
                                "departments": args.department or []}
    if delivery:
        register["delivery"] = delivery
    with connect(config, timeout=args.timeout) as remote:
        made = remote.call("housing", "register_association", **register)
        print(f"housing association {made['association_id']} ({made['name']}) registered: "
              f"{made['departments']} afdeling(er), {made['tenancies']} lejemål")
        if delivery:
            subscription = remote.call(
                "notifications", "add_subscription", partner_id=args.id, partner_kind="housing",
                channel=delivery, event_types=[PARTNER_STATUS_EVENT], url=args.webhook,
                secret=args.secret)
            where = args.webhook or f"the queue partner.{args.id}"
            print(f"subscribed to {PARTNER_STATUS_EVENT} by {delivery} ({where})")
            secret = subscription.get("secret")
            if secret and not args.secret:
                print(f"webhook secret (shown once; give it to the partner): {secret}")
        if args.legal_basis:
            remote.call("notifications", "add_legal_basis", recipient=args.id,
                        information_kind="housing_case_status",
                        purpose="forebyggelse af udsættelse", reference=args.legal_basis)
            print(f"legal basis recorded for housing case statuses: {args.legal_basis}")
        elif delivery:
            print("note: statuses leave only under a recorded legal basis "
                  "(--legal-basis REFERENCE) or the citizen's consent", file=sys.stderr)
    return EXIT_OK


# -- subscriptions --------------------------------------------------------------------------


def format_subscription(row: dict[str, Any]) -> str:
    where = row.get("url") or f"queue partner.{row['partner_id']}"
    line = f"{row['subscription_id']:>6}  {row['partner_id']:<24} {row['channel']:<13} {where}"
    if row.get("previous_secret_expires_at"):
        line += f"  (previous secret signs until {row['previous_secret_expires_at']})"
    return line


def cmd_subscriptions(args: argparse.Namespace) -> int:
    config = _config(args)
    if args.action != "list" and args.id is None:
        raise CommandFailed(EXIT_USAGE, f"{args.action} needs a subscription id")
    with connect(config, timeout=args.timeout) as remote:
        if args.action == "list":
            rows = remote.call("notifications", "list_subscriptions", partner_id=args.partner)
            if args.json:
                print(json.dumps(rows, indent=2, ensure_ascii=False))
            for row in [] if args.json else rows:
                print(format_subscription(row))
            return EXIT_OK
        if args.action == "rotate-secret":
            row = remote.call("notifications", "rotate_subscription_secret",
                              subscription_id=args.id, secret=args.secret,
                              overlap_hours=args.overlap_hours)
            until = row.get("previous_secret_expires_at")
            print(f"subscription {args.id}: new secret in use"
                  + (f"; the previous one also signs until {until}" if until
                     else "; the previous one is retired"))
            if row.get("secret"):
                print(f"webhook secret (shown once; give it to the partner): {row['secret']}")
        else:
            remote.call("notifications", "retire_previous_secret", subscription_id=args.id)
            print(f"subscription {args.id}: the previous secret is retired")
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------


def add_parsers(sub: Any, timeout_default: float) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--timeout", type=float, default=timeout_default, metavar="SECONDS",
                        help="how long to wait for a service's answer "
                             f"(default {timeout_default:g})")

    st_p = sub.add_parser(
        "statistics", parents=[common],
        help="Fronten's report for a period (intake's statistics)",
        description="Fronten's report for a period, both days included: inquiries, § 82 b "
                    "courses started and of those referred to § 85, active courses, and the "
                    "breakdowns (channel, who, age band, under 30, topic, outcome). Prints the "
                    "Danish report; --json gives every figure.",
        epilog="example: samspil statistics --from 2018-04-01 --to 2018-07-31")
    st_p.add_argument("--from", dest="period_from", type=iso_date, required=True,
                      metavar="YYYY-MM-DD", help="first day of the period")
    st_p.add_argument("--to", dest="period_to", type=iso_date, required=True,
                      metavar="YYYY-MM-DD", help="last day of the period")
    st_p.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD",
                      help="count active courses on this day (default: the last day)")
    st_p.add_argument("--json", action="store_true", help="machine-readable output")
    st_p.set_defaults(func=cmd_statistics)

    from contracts.notifications import CHANNELS, DELIVERY_STATUSES, RECIPIENT_KINDS

    dv_p = sub.add_parser(
        "deliveries", parents=[common],
        help="list the delivery ledger or retry a failed delivery (notifications)",
        description="The notifications ledger: one row per event, recipient and channel. "
                    "`list` shows the newest first; `retry ID` sends a failed delivery again.",
        epilog="examples: samspil deliveries list --status failed --channel webhook\n"
               "          samspil deliveries retry 42",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    dv_p.add_argument("action", choices=["list", "retry"])
    dv_p.add_argument("id", nargs="?", type=int, help="delivery id (retry)")
    dv_p.add_argument("--status", choices=DELIVERY_STATUSES)
    dv_p.add_argument("--channel", choices=CHANNELS)
    dv_p.add_argument("--recipient-kind", choices=RECIPIENT_KINDS)
    dv_p.add_argument("--event-type", metavar="TYPE", help="e.g. housing.partner_status")
    dv_p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    dv_p.add_argument("--json", action="store_true", help="machine-readable output")
    dv_p.set_defaults(func=cmd_deliveries)

    ex_p = sub.add_parser(
        "export", help="print or write the AsyncAPI or OpenAPI document",
        description="asyncapi: every event, generated from contracts/ (the content of "
                    "contracts/asyncapi.yaml). openapi: the gateway's HTTP API (OpenAPI 3.1, "
                    "JSON). Printed on stdout, or written to --out.",
        epilog="example: samspil export openapi --out openapi.json")
    ex_p.add_argument("document", choices=["asyncapi", "openapi"])
    ex_p.add_argument("--out", metavar="FILE", help="write here instead of printing")
    ex_p.set_defaults(func=cmd_export)

    pa_p = sub.add_parser(
        "partners", parents=[common],
        help="register a housing association as a partner; make a partner's API token",
        description="create-association: register (or update) a housing association with "
                    "its afdelinger and tenancies in housing and, given --webhook or --queue, "
                    "subscribe it to housing.partner_status in notifications. token: an API "
                    "token for the gateway with role partner for this partner id.",
        epilog="examples:\n"
               "  samspil partners create-association --id kab-ballerup --name 'KAB Ballerup' \\\n"
               "      --department 12:Grantoften:12-0304-2,12-0304-3 \\\n"
               "      --webhook https://kab.example/samspil --legal-basis 'retssikkerhedsloven"
               " § 5 a'\n"
               "  samspil partners token --id kab-ballerup",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    pa_p.add_argument("action", choices=["create-association", "token"])
    pa_p.add_argument("--id", required=True, help="partner id, e.g. kab-ballerup")
    pa_p.add_argument("--name", help="the association's name (create-association); "
                                     "who the token is for (token, default: the id)")
    pa_p.add_argument("--cvr", help="CVR number")
    pa_p.add_argument("--department", action="append", type=parse_department,
                      metavar="NUMBER:NAME[:TENANCY,...]", help="an afdeling (repeatable)")
    channel = pa_p.add_mutually_exclusive_group()
    channel.add_argument("--webhook", metavar="URL", help="deliver statuses to this https URL")
    channel.add_argument("--queue", action="store_true",
                         help="deliver statuses to the partner's own queue partner.<id>")
    pa_p.add_argument("--secret", help="the webhook's HMAC secret (default: generated, shown once)")
    pa_p.add_argument("--legal-basis", metavar="REFERENCE",
                      help="record the legal basis for sending housing case statuses, e.g. "
                           "'retssikkerhedsloven § 5 a'")
    pa_p.set_defaults(func=cmd_partners)

    su_p = sub.add_parser(
        "subscriptions", parents=[common],
        help="list partner subscriptions; rotate a webhook's secret (notifications)",
        description="list: the active partner subscriptions (never their secrets). "
                    "rotate-secret ID: a new webhook secret (generated and shown once unless "
                    "--secret is given); the old one keeps signing beside it for the overlap "
                    "(--overlap-hours, default WEBHOOK_SECRET_OVERLAP_HOURS: 168), then is "
                    "retired. retire-previous-secret ID: end the overlap now.",
        epilog="examples:\n"
               "  samspil subscriptions list --partner kab-ballerup\n"
               "  samspil subscriptions rotate-secret 3 --overlap-hours 72\n"
               "  samspil subscriptions retire-previous-secret 3",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    su_p.add_argument("action", choices=["list", "rotate-secret", "retire-previous-secret"])
    su_p.add_argument("id", nargs="?", type=int, help="subscription id (rotate, retire)")
    su_p.add_argument("--partner", metavar="ID", help="only this partner's (list)")
    su_p.add_argument("--secret", help="the new secret (default: generated, shown once)")
    su_p.add_argument("--overlap-hours", type=int, metavar="HOURS",
                      help="how long the old secret still signs (0: retire it at once)")
    su_p.add_argument("--json", action="store_true", help="machine-readable output (list)")
    su_p.set_defaults(func=cmd_subscriptions)


def check_partners_args(args: argparse.Namespace) -> None:
    if args.command == "partners" and args.action == "create-association" and not args.name:
        raise CommandFailed(EXIT_USAGE, "create-association needs --name")
