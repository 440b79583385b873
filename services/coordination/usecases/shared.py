"""What coordination's use cases share: the plan deadline's kind, the access log's
purposes, the local day, ISO times, timeline entries, CHANGE log entries, and loading a
pathway for a change.

The helpers keep their leading underscore: they serve the use-case modules of this
package, not callers outside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.common import access
from services.common.access import Action
from services.common.db import UnitOfWork
from services.coordination import repository
from services.coordination.models import PathwayRow, TimelineRow
from services.coordination.needtoknow import Change
from services.coordination.pathways import Pathway
from services.coordination.scheduling import to_copenhagen
from services.coordination.visibility import changeable_pathway

ACTIONS_DEADLINE = "plan.actions"
# What the citizen reads in the access log about each kind of change (Danish).
PURPOSES = {
    "pathway": "Oprette eller afslutte det sammenhængende forløb",
    "team": "Ændre teamet omkring borgeren",
    "network": "Tilføje en person fra borgerens netværk",
    "tovholder": "Udpege eller skifte tovholder",
    "preferences": "Registrere borgerens ønsker til møder",
    "meeting": "Planlægge og holde møder i forløbet",
    "plan": "Skrive og følge handleplanen",
    "offer_referral": "Henvise borgeren til et andet tilbud",
    "handoff": "Følge op på en overdragelse til en samarbejdspartner",
    "calendar": "Registrere hvornår borgeren ikke kan mødes",
}


def _today(at: dt.datetime) -> dt.date:
    return to_copenhagen(at).date()


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def _timeline(
    uow: UnitOfWork,
    pathway_id: uuid.UUID | str,
    kind: str,
    at: dt.datetime,
    actor: str | None,
    **details: Any,
) -> None:
    uow.session.add(
        TimelineRow(
            pathway_id=uuid.UUID(str(pathway_id)),
            occurred_at=at,
            kind=kind,
            actor=actor,
            details=details,
        )
    )


def _log_change(uow: UnitOfWork, actor: str, what: str, row: PathwayRow,
                subject_id: Any = None) -> None:
    """One CHANGE entry in the access log, in the change's own transaction."""
    access.record(uow, actor=actor, action=Action.CHANGE, what=what,
                  citizen_ref=row.citizen_ref, subject_id=subject_id or row.id,
                  purpose=PURPOSES[what])


def _load(uow: UnitOfWork, actor: str, pathway_id: uuid.UUID,
          change: Change) -> tuple[PathwayRow, Pathway]:
    """The pathway, locked, for a change `actor` may make (need-to-know: NotFound when
    they may not see it, `actor`/`not_allowed` when they may not change it)."""
    row, _ = changeable_pathway(uow, actor, pathway_id, change)
    return row, repository.load_pathway(uow.session, row)
