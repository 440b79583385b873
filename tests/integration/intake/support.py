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

from contracts.vocabulary import Channel, CourseKind, InquirerKind, PartnerKind, Topic
from services.common.db import Store
from services.common.localtime import start_of_local_day
from services.intake import handlers
from services.intake.models import metadata
from services.intake.protection import CprProtection
from services.intake.settings import IntakeContext, IntakeSettings
from tests.integration.intake.conftest import Intake

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
            handlers.register_citizen, self.ctx, actor="staff:fronten-anne",
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
            registered_by="staff:fronten-anne",
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
        by: str = "staff:fronten-anne",
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
