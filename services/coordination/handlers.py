"""coordination's use cases."""

from __future__ import annotations

from contracts.envelope import Envelope
from services.common.db import UnitOfWork
from services.coordination.models import CitizenActivity


def record_inquiry(uow: UnitOfWork, event: Envelope) -> None:
    """An inquiry at Fronten goes on the citizen's timeline (anonymous ones cannot)."""
    payload = event.payload
    if payload["citizen_ref"] is None:
        return
    uow.session.add(
        CitizenActivity(
            citizen_ref=payload["citizen_ref"],
            kind="inquiry_registered",
            occurred_at=payload["registered_at"],
            source_message_id=event.message_id,
            details={
                "inquiry_id": str(payload["inquiry_id"]),
                "channel": payload["channel"].value,
                "topics": [t.value for t in payload["topics"]],
            },
        )
    )
