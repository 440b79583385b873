"""Inquiries (henvendelser): the first contact with Fronten. Pure rules, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from contracts.vocabulary import Channel, InquirerKind, Topic
from services.common.errors import DomainError


@dataclass(frozen=True)
class NewInquiry:
    id: uuid.UUID
    registered_at: dt.datetime
    channel: Channel
    inquirer_kind: InquirerKind
    topics: tuple[Topic, ...]
    wish: str
    citizen_ref: uuid.UUID | None

    @property
    def anonymous(self) -> bool:
        """Anonymous advice (anonym rådgivning): no identity is recorded."""
        return self.citizen_ref is None


def register_inquiry(
    *,
    channel: Channel,
    inquirer_kind: InquirerKind,
    topics: list[Topic],
    wish: str,
    citizen_ref: uuid.UUID | None,
    registered_at: dt.datetime,
    now: dt.datetime,
) -> NewInquiry:
    """Register a contact. `wish` is the citizen's own words for what should change;
    Fronten asks no prior assessment (ingen visitation), so little else is required."""
    if not wish.strip():
        raise DomainError("wish", "inquiry.wish_missing", "Write what the citizen wants to change.")
    if registered_at > now + dt.timedelta(minutes=5):
        raise DomainError(
            "registered_at", "inquiry.in_future", "An inquiry cannot be registered in the future."
        )
    unique_topics = tuple(dict.fromkeys(topics))
    return NewInquiry(
        id=uuid.uuid4(),
        registered_at=registered_at,
        channel=channel,
        inquirer_kind=inquirer_kind,
        topics=unique_topics,
        wish=wish.strip(),
        citizen_ref=citizen_ref,
    )
