"""`samspil tokens` and `samspil staff`: machine and partner tokens, and the staff
directory, kept in the gateway's database (the same rows `/api/tokens` and `/api/staff`
show).

    samspil tokens create --name kab-system --role partner --partner kab [--days 90]
    samspil tokens list
    samspil tokens revoke ID
    samspil staff add --id mette --name "Mette Hansen" --role tovholder [--agency ...]
    samspil staff list [--role tovholder]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contracts.actor import StaffRole
from contracts.vocabulary import Agency
from services.cli.remote import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CommandFailed


def _operator() -> str:
    user = os.environ.get("SAMSPIL_ACTOR")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # no login name (a container without a passwd entry)
            user = "unknown"
    return f"staff:{user}"


@contextlib.contextmanager
def gateway_session(config_path: str | None) -> Iterator[Session]:
    from services.cli import load_config
    from services.common.db import database_url, make_engine
    from services.common.migrate import NotMigrated, check_at_head

    url = database_url(load_config(config_path), "gateway")
    try:
        check_at_head("gateway", url)
    except NotMigrated as exc:
        raise CommandFailed(EXIT_USAGE, str(exc)) from None
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _check_partner_exists(config_path: str | None, partner_id: str) -> None:
    """A partner token only for a partner in the directory (asked of the partners
    service, which must be running)."""
    from services.cli import load_config
    from services.cli.remote import connect

    with connect(load_config(config_path)) as remote:
        remote.ensure_running("partners")
        try:
            found = remote.call("partners", "get_partner", partner_id=partner_id)
        except CommandFailed as exc:
            if exc.code == EXIT_NOT_FOUND:
                raise CommandFailed(EXIT_USAGE, f"no partner {partner_id!r} in the partners "
                                                "directory: register it first") from None
            raise
    if not found.get("active", True):
        raise CommandFailed(EXIT_USAGE, f"partner {partner_id!r} is deactivated")


def cmd_tokens(args: argparse.Namespace) -> int:
    from services.gateway.auth import Role, create_token, list_tokens, revoke_token, token_view

    now = dt.datetime.now(dt.UTC)
    if args.action == "create":
        if not args.name or not args.role:
            raise CommandFailed(EXIT_USAGE, "create needs --name and --role")
        role = Role(args.role)
        if role is Role.PARTNER and not args.partner:
            raise CommandFailed(EXIT_USAGE, "a partner token needs --partner <partner id>")
        if role is Role.PARTNER:
            _check_partner_exists(args.config, args.partner)
        with gateway_session(args.config) as session:
            token = create_token(session, name=args.name, role=role, partner_id=args.partner,
                                 now=now, expires_at=now + dt.timedelta(days=args.days),
                                 created_by=_operator())
            session.commit()
        print(token)
        whom = f"partner {args.partner}" if role is Role.PARTNER else args.name
        print(f"(a {role.value} token for {whom}, valid {args.days} days; it is shown once "
              "and stored only as a hash)", file=sys.stderr)
        return EXIT_OK
    if args.action == "list":
        with gateway_session(args.config) as session:
            rows = list_tokens(session, now)
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return EXIT_OK
        if not rows:
            print("no tokens")
        for row in rows:
            print(f"{row['token_id']:>5}  {row['state']:<8} {row['role']:<17} "
                  f"{row['partner_id'] or row['name']:<24} expires {row['expires_at'] or '-'}")
        return EXIT_OK
    # revoke
    if args.id is None:
        raise CommandFailed(EXIT_USAGE, "revoke needs a token id (see `samspil tokens list`)")
    with gateway_session(args.config) as session:
        revoked = revoke_token(session, args.id, by=_operator(), now=now)
        if revoked is None:
            raise CommandFailed(EXIT_NOT_FOUND, f"no token with id {args.id}")
        view = token_view(revoked, now)
        session.commit()
    print(f"token {view['token_id']} ({view['role']}, {view['partner_id'] or view['name']}) "
          "is revoked: it is refused from now on")
    return EXIT_OK


def cmd_staff(args: argparse.Namespace) -> int:
    from services.gateway.auth import staff_view, upsert_staff
    from services.gateway.models import StaffMember
    from services.gateway.oidc import StaffClaims

    if args.action == "add":
        if not args.id or not args.name or not args.role:
            raise CommandFailed(EXIT_USAGE, "add needs --id, --name and at least one --role")
        staff = StaffClaims(staff_id=args.id, name=args.name, roles=frozenset(args.role),
                            agency=args.agency, email=args.email, phone=args.phone)
        with gateway_session(args.config) as session:
            row = upsert_staff(session, staff, dt.datetime.now(dt.UTC), source="operator")
            view = staff_view(row)
            session.commit()
        print(json.dumps(view, ensure_ascii=False) if args.json else
              f"{view['staff_id']}: {view['name']} ({', '.join(view['roles'])})")
        return EXIT_OK
    with gateway_session(args.config) as session:
        rows: list[dict[str, Any]] = [
            staff_view(r) for r in session.scalars(select(StaffMember).order_by(
                StaffMember.staff_id))]
    if args.role:
        rows = [r for r in rows if set(args.role) & set(r["roles"])]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no staff")
    for view in rows:
        print(f"{view['staff_id']:<16} {view['name']:<32} {view['agency'] or '-':<18} "
              f"{', '.join(view['roles'])}")
    return EXIT_OK


def add_parsers(sub: Any) -> None:
    roles = [r.value for r in StaffRole]
    t_p = sub.add_parser("tokens", help="machine and partner tokens for the gateway")
    t_p.add_argument("action", choices=["create", "list", "revoke"])
    t_p.add_argument("id", nargs="?", type=int, help="token id (revoke)")
    t_p.add_argument("--name", help="who or what the token is for, e.g. kab-system")
    t_p.add_argument("--role", choices=roles)
    t_p.add_argument("--partner", help="partner id (for --role partner)")
    t_p.add_argument("--days", type=int, default=90, help="days until it expires (90)")
    t_p.add_argument("--json", action="store_true")
    t_p.set_defaults(func=cmd_tokens)

    s_p = sub.add_parser("staff", help="the staff directory")
    s_p.add_argument("action", choices=["add", "list"])
    s_p.add_argument("--id", help="the staff id (the identity provider's user name)")
    s_p.add_argument("--name")
    s_p.add_argument("--role", action="append", choices=roles,
                     help="a role (repeat for several)")
    s_p.add_argument("--agency", choices=[a.value for a in Agency])
    s_p.add_argument("--email")
    s_p.add_argument("--phone")
    s_p.add_argument("--json", action="store_true")
    s_p.set_defaults(func=cmd_staff)
