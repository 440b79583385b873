"""intake's use cases: load, apply the domain rules, save, add outbox events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from contracts.vocabulary import Channel, InquirerKind, Topic
from services.common.db import UnitOfWork
from services.intake import inquiries
from services.intake.models import Inquiry


def register_inquiry(
    uow: UnitOfWork,
    *,
    channel: Channel,
    inquirer_kind: InquirerKind,
    topics: list[Topic],
    wish: str,
    citizen_ref: uuid.UUID | None,
    registered_at: dt.datetime | None,
    registered_by: str,
) -> dict[str, Any]:
    now = uow.clock.now()
    new = inquiries.register_inquiry(
        channel=channel,
        inquirer_kind=inquirer_kind,
        topics=topics,
        wish=wish,
        citizen_ref=citizen_ref,
        registered_at=registered_at or now,
        now=now,
    )
    uow.session.add(
        Inquiry(
            id=new.id,
            registered_at=new.registered_at,
            channel=new.channel.value,
            inquirer_kind=new.inquirer_kind.value,
            topics=[t.value for t in new.topics],
            wish=new.wish,
            citizen_ref=new.citizen_ref,
            registered_by=registered_by,
        )
    )
    uow.add_event(
        "intake.inquiry_registered",
        {
            "inquiry_id": new.id,
            "registered_at": new.registered_at,
            "channel": new.channel,
            "inquirer_kind": new.inquirer_kind,
            "topics": list(new.topics),
            "citizen_ref": new.citizen_ref,
        },
        correlation_id=str(new.id),
    )
    uow.commit()
    return {"inquiry_id": str(new.id), "registered_at": new.registered_at.isoformat()}
