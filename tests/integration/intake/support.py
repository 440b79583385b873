"""Helpers for intake's worklist tests: a running intake whose data the test writes
through the real use cases (as the RPCs would), and a reader that pages through a
list over RPC while items are added between the pages."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from contracts.actor import Actor
from contracts.vocabulary import Channel, CourseKind, InquirerKind, PartnerKind, Topic
from services.common.db import Store
from services.common.localtime import start_of_local_day
from services.intake import handlers
from services.intake.models import PartnerRow, PathwayAccessRow, PathwayMemberRow, metadata
from services.intake.protection import CprProtection
from services.intake.settings import IntakeContext, IntakeSettings
from tests.integration.intake.conftest import Intake
from tests.support.waiting import wait_for

UTC = dt.UTC
D = dt.date
# Friday 1 June 2018, 10:00 in Copenhagen.
NOW = dt.datetime(2018, 6, 1, 8, 0, tzinfo=UTC)
TODAY = D(2018, 6, 1)
IN_THE_GROUP = D(1995, 3, 1)  # 23 on TODAY
FRONTEN = {"kind": "staff", "id": "fronten-anne", "roles": ["fronten"]}
OTHER_FRONTEN = {"kind": "staff", "id": "fronten-karl", "roles": ["fronten"]}
PANEL = {"kind": "staff", "id": "udvalg-bo", "roles": ["review_panel"]}
SOCIAL_VEJLEDNING = {"kind": "staff", "id": "sv-lise", "roles": ["social_vejledning"]}
# The same people as the use cases get them (the RPC loads the dicts into these).
ANNE, KARL = Actor(**FRONTEN), Actor(**OTHER_FRONTEN)
BO, LISE = Actor(**PANEL), Actor(**SOCIAL_VEJLEDNING)
ACCESS_LOG = metadata.tables["access_log"]


def cpr_for(birth: dt.date, serial: int) -> str:
    seventh = 4 if birth.year >= 2000 else 1  # the century digit (CPR-kontoret's table)
    return f"{birth:%d%m%y}{seventh}{serial:03d}"


@dataclass
class World:
    """intake's data, written through the use cases on the test's own connection."""

    intake: Intake
    store: Store
    ctx: IntakeContext
    serials: Iterator[int] = field(default_factory=lambda: itertools.count(100))

    @classmethod
    def of(cls, intake: Intake, keys: dict[str, str]) -> World:
        ctx = IntakeContext(IntakeSettings(), CprProtection.from_config(keys))
        return cls(intake, intake.store(), ctx)

    def run(self, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.store.unit_of_work() as uow:
            return use_case(uow, *args, **kwargs)

    def citizen(self, birth: dt.date = IN_THE_GROUP) -> str:
        serial = next(self.serials)
        return str(self.run(
            handlers.register_citizen, self.ctx, actor=ANNE,
            cpr=cpr_for(birth, serial), name=f"Borger {serial}", email=None, phone=None,
            preferred_channel="letter",
        )["citizen_ref"])

    def inquiry(
        self, citizen_ref: str | None, at: dt.datetime, *, channel: Channel = Channel.WALK_IN,
        inquirer_kind: InquirerKind = InquirerKind.CITIZEN,
    ) -> str:
        return str(self.run(
            handlers.register_inquiry, channel=channel, inquirer_kind=inquirer_kind,
            topics=[Topic.EVERYDAY_STRUCTURE], wish="Mine egne ord.",
            citizen_ref=uuid.UUID(citizen_ref) if citizen_ref else None, registered_at=at,
            registered_by=ANNE,
        )["inquiry_id"])

    def course(
        self,
        start: dt.date,
        planned_end: dt.date,
        follow_ups: list[dt.date],
        *,
        bridging_to: list[PartnerKind] | None = None,
        citizen_ref: str | None = None,
        kind: CourseKind = CourseKind.INDIVIDUAL_82B,
        by: Actor = ANNE,
        imported: bool = False,
    ) -> str:
        """A course for a (new) citizen from an inquiry registered on its first day."""
        ref = citizen_ref or self.citizen()
        inquiry = self.inquiry(ref, min(start_of_local_day(start) + dt.timedelta(hours=1),
                                        self.intake.clock.now()))
        view = self.run(
            handlers.start_course, self.ctx, actor=by, inquiry_id=uuid.UUID(inquiry),
            kind=kind, plan={"goals": ["Mit eget mål."], "follow_up_dates": follow_ups},
            start_date=start, planned_end=planned_end, bridging_to=bridging_to or [],
            imported=imported,
        )
        return str(view["course_id"])

    def sweep(self) -> int:
        return handlers.sweep_course_deadlines(self.store, self.intake.clock.now())

    def searches(self, list_name: str) -> int:
        """Access-log entries of page reads of one list."""
        return int(self.intake.rows(
            select(func.count()).select_from(ACCESS_LOG).where(
                ACCESS_LOG.c.action == "search", ACCESS_LOG.c.what == "worklist",
                ACCESS_LOG.c.criterion == list_name,
            )
        )[0][0])

    def close(self) -> None:
        self.store.engine.dispose()


def page_through(
    fetch: Callable[..., dict[str, Any]], *, limit: int,
    between: Callable[[int], None] = lambda n: None,
) -> list[dict[str, Any]]:
    """Every page of a list, following next_cursor; `between(n)` runs after page n for
    the first two pages (items added while the list is being read)."""
    pages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = fetch(cursor=cursor, limit=limit)
        pages.append(page)
        assert len(page["items"]) <= limit
        if page["next_cursor"] is None:
            return pages
        if len(pages) <= 2:
            between(len(pages))
        cursor = page["next_cursor"]


def items_of(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page["items"]]


def assert_read_once(
    pages: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any], expected: list[Any]
) -> list[dict[str, Any]]:
    """At least three pages; every expected item exactly once, in the expected order,
    and nothing else."""
    assert len(pages) >= 3, [len(p["items"]) for p in pages]
    items = items_of(pages)
    seen = [key(item) for item in items]
    assert len(seen) == len(set(seen)), "an item was shown twice"
    assert seen == expected, (seen, expected)
    return items


# --- other services' events, published as their outbox relays would ------------------------


def partner_known(
    intake: Intake, partner_id: str, *, name: str | None = None, category: str = "employment",
    accepts: tuple[str, ...] = ("bridging_employment",), active: bool = True,
    changed_at: dt.datetime | None = None,
) -> None:
    """partners.partner_registered, and wait until intake's directory shows it."""
    at = changed_at or intake.clock.now()
    intake.publish("partners.partner_registered", {
        "partner_id": partner_id, "name": name or partner_id.title(), "category": category,
        "accepts": list(accepts), "active": active, "changed_at": at,
    })
    wait_for(lambda: intake.rows(select(PartnerRow.partner_id).where(
        PartnerRow.partner_id == partner_id, PartnerRow.active.is_(active),
        PartnerRow.changed_at == at)), what=f"partner {partner_id} in intake's directory")


@dataclass
class Pathways:
    """coordination's membership events for one citizen's pathway, each waited for."""

    intake: Intake
    citizen_ref: str
    pathway_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def _publish(self, type_: str, **payload: Any) -> None:
        self.intake.publish(f"coordination.{type_}", {
            "pathway_id": self.pathway_id, "citizen_ref": self.citizen_ref, **payload})

    def _member_row(self, member_id: str) -> list[Any]:
        return self.intake.rows(select(PathwayMemberRow).where(
            PathwayMemberRow.pathway_id == uuid.UUID(self.pathway_id),
            PathwayMemberRow.member_id == member_id))

    def _pathway_row(self) -> Any:
        rows = self.intake.rows(select(PathwayAccessRow).where(
            PathwayAccessRow.pathway_id == uuid.UUID(self.pathway_id)))
        return rows[0] if rows else None

    def opened(self, tovholder_id: str | None = None) -> None:
        self._publish("pathway_opened", tovholder_id=tovholder_id,
                      opened_at=self.intake.clock.now(), under_30=True)
        wait_for(self._pathway_row, what="the pathway in intake")

    def handed_over(self, new_id: str, agency: str = "social_services",
                    old_id: str | None = None) -> None:
        at = self.intake.clock.now()
        self._publish("tovholder_handed_over", old_tovholder_id=old_id, new_tovholder_id=new_id,
                      new_tovholder_name=new_id.title(), new_tovholder_agency=agency,
                      new_tovholder_email=None, handed_over_at=at)
        wait_for(lambda: (row := self._pathway_row()) is not None
                 and row.tovholder_id == new_id, what=f"{new_id} as tovholder in intake")

    def member(self, member_id: str, agency: str) -> None:
        self._publish("member_added", member_id=member_id, agency=agency, role="rådgiver",
                      added_at=self.intake.clock.now(), name=member_id.title(), email=None)
        wait_for(lambda: any(r.agency == agency for r in self._member_row(member_id)),
                 what=f"{member_id} in the team in intake")

    def member_left(self, member_id: str, last_day: dt.date) -> None:
        self._publish("membership_ended", member_id=member_id, last_day=last_day,
                      ended_at=self.intake.clock.now())
        wait_for(lambda: any(r.last_day == last_day for r in self._member_row(member_id)),
                 what=f"{member_id}'s last day in intake")

    def closed(self) -> None:
        self._publish("pathway_closed", closed_at=self.intake.clock.now())
        wait_for(lambda: (row := self._pathway_row()) is not None
                 and row.closed_at is not None, what="the pathway closed in intake")
