"""Helpers shared by housing's integration tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from typing import Any

from kombu import Connection, Queue
from sqlalchemy import Engine, text

from contracts import registry
from contracts.envelope import Envelope
from services.common.amqp import event_exchange
from services.housing import handlers
from services.housing.ladder import (
    DEFAULT_LADDER_SETTINGS,
    ArrearsCase,
    ArrearsReport,
    Closure,
    HelpParagraph,
    LadderSettings,
    ReportSource,
)

T0 = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)  # a Wednesday

ASSOCIATION = {
    "association_id": "bf-ballerup",
    "name": "Ballerup Boligforening",
    "cvr": "12345678",
    "delivery": "webhook",
    "departments": [
        {"number": "1", "name": "Søndergården", "tenancy_refs": ["T-1-1", "T-1-2", "T-1-3"]},
    ],
}
OTHER_ASSOCIATION = {
    "association_id": "bf-other",
    "name": "Anden Boligforening",
    "cvr": None,
    "delivery": "partner_queue",
    "departments": [{"number": "7", "name": "Vest", "tenancy_refs": ["T-7-1"]}],
}


def coordination_event(type_: str, payload: dict[str, Any], at: dt.datetime) -> Envelope:
    """A coordination event as it goes on the wire (`.to_wire()` to publish it)."""
    return registry.build(
        type_, payload, producer="coordination",
        correlation_id=str(payload["pathway_id"]), occurred_at=at,
    )


def as_delivered(envelope: Envelope) -> Envelope:
    """The event as an inbox handler receives it: payload loaded into Python values."""
    return dataclasses.replace(envelope, payload=registry.load_payload(envelope))


def pathway_opened(citizen_ref: uuid.UUID, tovholder_id: str | None, at: dt.datetime = T0,
                   pathway_id: uuid.UUID | None = None) -> Envelope:
    return coordination_event("coordination.pathway_opened", {
        "pathway_id": pathway_id or uuid.uuid4(), "citizen_ref": citizen_ref,
        "tovholder_id": tovholder_id, "opened_at": at,
    }, at)


def count(engine: Engine, table: str, where: str = "") -> int:
    with engine.connect() as conn:
        query = f"select count(*) from {table} {where}"  # noqa: S608 - test-fixed names
        return int(conn.execute(text(query)).scalar_one())


def outbox_messages(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("select body from outbox order by id")).all()
    return [json.loads(r.body) for r in rows]


def all_text(engine: Engine) -> str:
    """Every stored value of every housing table, as one string (for leak checks)."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in ("arrears_cases", "outbox", "deadlines", "associations", "departments",
                      "tenancies", "pathway_tovholders", "inbox"):
            for row in conn.execute(text(f"select * from {table}")).all():  # noqa: S608
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


class Listener:
    """A test queue bound to every housing.* event: what left housing, in order."""

    def __init__(self, amqp_uri: str, name: str = "test.housing-listener") -> None:
        self.conn = Connection(amqp_uri)
        self.queue = Queue(name, exchange=event_exchange("housing"), routing_key="housing.#",
                           durable=True, auto_delete=False)
        self.bound = self.queue(self.conn.default_channel)
        self.bound.declare()
        self.seen: list[dict[str, Any]] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append(json.loads(message.body))

    def find(self, type_: str, **payload: Any) -> list[dict[str, Any]]:
        return [
            m for m in self.drain()
            if m["type"] == type_ and all(m["payload"].get(k) == v for k, v in payload.items())
        ]

    def close(self) -> None:
        self.conn.release()


# ------------------------------------------------------------ many cases, for lists

SYNTHETIC_ASSOCIATIONS = ("bf-ballerup", "bf-other", "kab-ballerup")


def synthetic_case_row(
    rng: random.Random,
    now: dt.datetime,
    *,
    settings: LadderSettings = DEFAULT_LADDER_SETTINGS,
    closed: bool = False,
) -> dict[str, Any]:
    """One arrears_cases row built by the real ladder: a case reported in the last 60
    days with a påkrav deadline from a week ago to three months ahead, taken a few
    steps up or down the ladder, its due deadlines fired at `now`; closed if asked.
    Stored with `handlers.case_columns`, as the service stores it (sort key included).
    For lists and benchmarks that need thousands of realistic cases fast."""
    tz = settings.tz
    reported = (now - dt.timedelta(minutes=rng.randrange(60 * 24 * 60))).astimezone(tz)
    sent = reported.date() - dt.timedelta(days=rng.randrange(10))
    deadline = max(sent + dt.timedelta(days=rng.randrange(7, 30)),
                   now.astimezone(tz).date() + dt.timedelta(days=rng.randrange(-7, 90)))
    case_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    case = ArrearsCase.open(
        case_id=str(case_id),
        report=ArrearsReport(
            source=ReportSource.ASSOCIATION,
            association_id=rng.choice(SYNTHETIC_ASSOCIATIONS),
            tenancy_ref=f"S-{case_id.hex[:16]}",
            citizen_ref=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            amount_dkk=Decimal(rng.randrange(2000, 60000)),
            months_behind=rng.randrange(1, 6),
            pakrav_sent_on=sent,
            pakrav_deadline=deadline,
        ),
        now=reported,
        has_tovholder=False,
        settings=settings,
    )
    step = reported + dt.timedelta(hours=rng.randrange(1, 72))
    if step < now:
        roll = rng.random()
        if roll < 0.3:
            case.establish_contact(step)
        elif roll < 0.45:
            case.agree_payment_plan(step)
        elif roll < 0.55:
            case.apply_for_help(step, HelpParagraph.AKTIVLOVEN_81A)
        elif roll < 0.65:
            case.register_termination(step)
        elif roll < 0.7:
            case.set_eviction_date(step, step.date() + dt.timedelta(days=rng.randrange(5, 40)))
    case.escalate_if_due(now)
    if closed:
        case.close(max(now, case.reported_at), Closure.TENANCY_ENDED)
    case.pull_events()
    return {
        "id": case_id,
        "source": case.source.value,
        "reported_at": case.reported_at,
        "version": 1,
        "updated_at": now,
        "updated_by": "staff:synthetic",
        **handlers.case_columns(case),
    }


def handoff_updated(case_id: str | uuid.UUID, state: str, *, at: dt.datetime,
                    partner_id: str = "bf-ballerup", previous_state: str = "requested",
                    kind: str = "hold_termination", reason: str | None = None,
                    outcome: str | None = None, hold_until: dt.date | None = None,
                    citizen_ref: uuid.UUID | None = None,
                    handoff_id: uuid.UUID | None = None) -> Envelope:
    """partners.handoff_updated as the partners service publishes it (the contract's
    strict check included): an association's answer on the case's hold hand-off."""
    payload = {
        "handoff_id": handoff_id or uuid.uuid5(uuid.NAMESPACE_URL, f"handoff:{case_id}"),
        "kind": kind, "partner_id": partner_id, "subject_type": "case",
        "subject_id": uuid.UUID(str(case_id)), "citizen_ref": citizen_ref,
        "state": state, "previous_state": previous_state, "reason": reason,
        "outcome": outcome, "hold_until": hold_until,
        "answered_by": f"partner:{partner_id}", "at": at,
        "title": "Anmodning om at vente med ophævelse",
    }
    return registry.build("partners.handoff_updated", payload, producer="partners",
                          correlation_id=str(case_id), occurred_at=at)
