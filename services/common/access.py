"""The access log: every read, search, change and disclosure of a citizen's data.

Owned by the kit, kept by every service that holds citizen data (intake,
coordination, housing, notifications) in its own `access_log` table, written in the
same unit of work as the read or change: a refused command logs nothing and a
committed one cannot lose its entry. Purposes the services write themselves are in
Danish: the citizen reads them when asking who looked at their data and why.

One question, across all services: `entries_of_citizen(session, citizen_ref)` in
each service (its `access_report` RPC), merged by the gateway.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import MetaData, insert, select
from sqlalchemy.orm import Session

from services.common.db import UnitOfWork


class Action(StrEnum):
    READ = "read"
    SEARCH = "search"
    CHANGE = "change"
    DISCLOSURE = "disclosure"  # citizen data (beyond the bare citizen_ref) left the service
    REFUSED = "refused"  # someone asked for it and was refused (answered as not found)


# What the citizen reads for each action.
ACTION_TEXT = {
    Action.READ: "læst",
    Action.SEARCH: "søgt",
    Action.CHANGE: "ændret",
    Action.DISCLOSURE: "videregivet",
    Action.REFUSED: "forsøgt læst, men afvist",
}
_ACTION_TEXT_BY_CODE = {str(k): v for k, v in ACTION_TEXT.items()}


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: Action,
    what: str,
    purpose: str | None = None,
    citizen_ref: uuid.UUID | str | None = None,
    subject_id: Any = None,
    criterion: str | None = None,
) -> None:
    """Log one access. `actor` is the caller (an `Actor` or its label); `purpose` falls
    back to the purpose the caller gave, then to `what`."""
    roles = getattr(actor, "roles", None)
    given = getattr(actor, "purpose", None)
    uow.session.execute(
        insert(uow.metadata.tables["access_log"]).values(
            at=uow.clock.now(),
            actor=str(actor)[:160],
            roles=",".join(sorted(str(r) for r in roles)) if roles else None,
            action=str(action),
            what=what[:32],
            subject_id=str(subject_id)[:64] if subject_id is not None else None,
            citizen_ref=uuid.UUID(str(citizen_ref)) if citizen_ref else None,
            criterion=criterion,
            purpose=(purpose or given or what)[:200],
        )
    )


def entries_of_citizen(session: Session, metadata: MetaData, citizen_ref: uuid.UUID | str,
                       service: str) -> list[dict[str, Any]]:
    """Everything done with the citizen's data in this service, oldest first: who,
    when, what and why."""
    table = metadata.tables["access_log"]
    rows = session.execute(
        select(table)
        .where(table.c.citizen_ref == uuid.UUID(str(citizen_ref)))
        .order_by(table.c.at, table.c.id)
    ).all()
    return [
        {
            "at": _iso(r.at),
            "service": service,
            "actor": r.actor,
            "roles": r.roles.split(",") if r.roles else [],
            "action": r.action,
            "action_text": _ACTION_TEXT_BY_CODE.get(r.action, r.action),
            "what": r.what,
            "subject_id": r.subject_id,
            "purpose": r.purpose,
        }
        for r in rows
    ]


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()
