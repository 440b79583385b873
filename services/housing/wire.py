"""From the ladder's domain events to the messages housing publishes. Pure: no I/O.

One domain event can become several messages:

- ``housing.case_escalated`` when the level went up, and ``housing.case_deescalated``
  (the same payload) when it came down, with the next deadline and every ask,
  including the one of the association; for the tovholder/Fronten and coordination.
- ``housing.case_opened``, ``housing.warning_flagged``, ``housing.action_overdue``
  and ``housing.case_closed``: internal, for the municipality.
- ``housing.partner_status`` for every event addressed to the association: built only
  from `partners.partner_statement`, i.e. from the allow-list PARTNER_FIELDS.

The domain's enums have the same values as contracts.vocabulary's; they are converted
here, the one place where the two meet.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from contracts.vocabulary import Addressee, Closure, HousingRequest, LadderLevel, PartnerStatus
from services.housing.ladder import (
    ActionOverdue,
    ArrearsReported,
    CaseClosed,
    CaseFlagged,
    HousingEvent,
    Level,
)
from services.housing.partners import partner_statement

PARTNER_STATUS_KEYS = (
    "association_id",
    "case_ref",
    "tenancy_ref",
    "status",
    "requested",
    "occurred_on",
    "hold_until",
    "eviction_date",
)
_DATE_KEYS = frozenset({"occurred_on", "hold_until", "eviction_date"})


@dataclass(frozen=True)
class Outgoing:
    """One message to publish: its type, payload (native values) and correlation id."""

    type: str
    payload: dict[str, Any]
    correlation_id: str


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _common(event: HousingEvent) -> dict[str, Any]:
    next_deadline = event.next_deadline
    return {
        "case_id": uuid.UUID(event.case_id),
        "association_id": event.association_id,
        "tenancy_ref": event.tenancy_ref,
        "citizen_ref": _uuid(event.citizen_ref),
        "level": LadderLevel(event.level.value),
        "next_deadline": next_deadline.due.astimezone(dt.UTC) if next_deadline else None,
        "asks": [
            {"addressee": Addressee(a.addressee.value), "request": HousingRequest(a.request.value)}
            for a in event.asks
        ],
        "occurred_at": event.occurred_at.astimezone(dt.UTC),
    }


def partner_status_payload(
    event: HousingEvent, *, timezone: str = "Europe/Copenhagen"
) -> dict[str, Any] | None:
    """The housing.partner_status payload for `event`, or None when it is not for the
    association. Only the keys of `partner_statement` (the allow-list) are filled."""
    statement = partner_statement(event, timezone=timezone)
    if statement is None:
        return None
    payload: dict[str, Any] = dict.fromkeys(PARTNER_STATUS_KEYS)
    for key, value in statement.items():
        if key not in payload:
            raise ValueError(f"partner statement key {key!r} is not in the partner contract")
        payload[key] = dt.date.fromisoformat(value) if key in _DATE_KEYS else value
    payload["case_ref"] = uuid.UUID(statement["case_ref"])
    payload["status"] = PartnerStatus(statement["status"])
    return payload


def outgoing_messages(
    events: list[HousingEvent],
    level_before: Level | None,
    *,
    pakrav_deadline: dt.date | None = None,
    timezone: str = "Europe/Copenhagen",
) -> list[Outgoing]:
    """The messages for `events` raised by one command; `level_before` is the case's level
    before it (None when the command opened the case), `pakrav_deadline` the case's
    påkrav deadline after it (warnings carry it)."""
    out: list[Outgoing] = []
    running = level_before
    for event in events:
        common = _common(event)
        correlation = event.case_id
        if isinstance(event, ArrearsReported):
            out.append(Outgoing("housing.case_opened", {
                **common,
                "source": event.source.value,
                "citizen_match_pending": event.citizen_match_pending,
            }, correlation))
        elif isinstance(event, CaseFlagged):
            out.append(Outgoing("housing.warning_flagged", {
                **common, "flag": event.flag.value, "pakrav_deadline": pakrav_deadline,
            }, correlation))
        elif isinstance(event, ActionOverdue):
            out.append(Outgoing("housing.action_overdue", {
                **common, "deadline_kind": event.deadline_kind.value,
            }, correlation))
        elif isinstance(event, CaseClosed):
            out.append(Outgoing("housing.case_closed", {
                "case_id": common["case_id"],
                # The released v1 has no null here: "" means no housing association.
                "association_id": event.association_id or "",
                "tenancy_ref": event.tenancy_ref,
                "citizen_ref": common["citizen_ref"],
                "closure": Closure(event.closure.value),
                "closed_at": common["occurred_at"],
            }, correlation))
        if not isinstance(event, CaseClosed):
            if running is not None and event.level is not running:
                direction = ("housing.case_escalated" if event.level.rank > running.rank
                             else "housing.case_deescalated")
                out.append(Outgoing(direction, {
                    **common,
                    "association_id": event.association_id or "",  # as case_closed v1
                    "previous_level": LadderLevel(running.value),
                    "hold_until": event.hold_until,
                }, correlation))
            running = event.level
        partner = partner_status_payload(event, timezone=timezone)
        if partner is not None:
            out.append(Outgoing("housing.partner_status", partner, correlation))
    return out
