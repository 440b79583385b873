"""The access log: every read, search, change and disclosure of a citizen's data.

Written in the same unit of work as the use case, so a refused command logs nothing
and a committed one cannot lose its entry. Purposes that the service writes itself
are in Danish: the citizen reads them when asking who looked them up and why.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.db import UnitOfWork
from services.intake.models import AccessLogEntry


class Action(StrEnum):
    READ = "read"
    SEARCH = "search"
    CHANGE = "change"
    DISCLOSURE = "disclosure"  # citizen data (beyond the bare citizen_ref) left intake


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: Action,
    what: str,
    purpose: str,
    citizen_ref: uuid.UUID | str | None = None,
    criterion: str | None = None,
) -> None:
    uow.session.add(
        AccessLogEntry(
            at=uow.clock.now(),
            actor=actor,
            action=str(action),
            what=what,
            citizen_ref=uuid.UUID(str(citizen_ref)) if citizen_ref else None,
            criterion=criterion,
            purpose=purpose,
        )
    )


def lookups_of(session: Session, citizen_ref: uuid.UUID) -> list[dict[str, Any]]:
    """Dates and purposes of everything done with the citizen's data, oldest first."""
    rows = session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.citizen_ref == citizen_ref)
        .order_by(AccessLogEntry.at, AccessLogEntry.id)
    ).all()
    return [
        {"at": r.at.isoformat(), "action": r.action, "what": r.what, "purpose": r.purpose}
        for r in rows
    ]
