"""Seed 001 through the real use cases and the statistics RPC, on both databases:
204 inquiries and 65 § 82 b courses with no § 85 referral between 1 April and
31 July 2018 give Fronten's own report back."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest

from contracts.actor import Actor
from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, Topic
from services.common.clock import FixedClock
from services.common.localtime import start_of_local_day
from services.intake import handlers
from services.intake.protection import CprProtection
from services.intake.settings import IntakeContext, IntakeSettings
from services.intake.statistics import CourseRecord, InquiryRecord, report
from tests.integration.intake.conftest import make_intake

pytestmark = pytest.mark.integration

PERIOD = (dt.date(2018, 4, 1), dt.date(2018, 7, 31))
NOW = dt.datetime(2018, 8, 1, 10, 0, tzinfo=dt.UTC)
STAFF = Actor("staff", "fronten-test", roles=["fronten"])
SEED_LINES = [
    "Statistik over Frontens arbejde i perioden 01.04.2018-31.07.2018:",
    "Antal samlede henvendelser = 204",
    "Antal iværksatte SEL § 82b forløb = 65",
    "Af de 65 iværksatte SEL § 82b forløb er ingen borgere henvist videre til udredning "
    "med henblik på at blive indstillet til en SEL § 85 ydelse.",
]
BIRTH_YEARS = [2001, 1999, 1995, 1990, 1988, 1985, 1978, 1970, 1965, 1955,
               2000, 1997, 1993, 1983, 1975, 1968, 1960, 1958, 1952, 1992]


def cpr_for(birth: dt.date, serial: int) -> str:
    seventh = 4 if birth.year >= 2000 else 1  # the century digit (CPR-kontoret's table)
    return f"{birth:%d%m%y}{seventh}{serial:03d}"


def seed(store, ctx) -> tuple[list[InquiryRecord], list[CourseRecord]]:
    """Register citizens, inquiries, resolutions and courses through the use cases;
    return what the report should count, as the pure statistics records."""
    births = [dt.date(year, 1 + n % 12, 1 + n % 28) for n, year in enumerate(BIRTH_YEARS)]
    refs = []
    for n, birth in enumerate(births):
        with store.unit_of_work() as uow:
            refs.append(handlers.register_citizen(
                uow, ctx, actor=STAFF, cpr=cpr_for(birth, n), name=f"Borger {n}",
                email=None, phone=None, preferred_channel="letter",
            )["citizen_ref"])
    channels, kinds = itertools.cycle(Channel), itertools.cycle(InquirerKind)
    other_outcomes = itertools.cycle([Outcome.ADVICE_ONLY, Outcome.REFERRAL_OTHER, None])
    records: list[InquiryRecord] = []
    course_records: list[CourseRecord] = []
    courses_82b = 0

    def register(at: dt.datetime, n: int) -> tuple[uuid.UUID, dict]:
        citizen = None if n % 4 == 0 else n % len(refs)
        fields = dict(
            channel=next(channels), inquirer_kind=next(kinds),
            topics=[Topic.HOUSING, Topic.RENT_ARREARS] if n % 5 == 0 else [Topic.LONELINESS],
            citizen_ref=None if citizen is None else uuid.UUID(refs[citizen]),
        )
        with store.unit_of_work() as uow:
            inquiry = handlers.register_inquiry(
                uow, wish="Mine egne ord.", registered_at=at, registered_by=STAFF, **fields,
            )["inquiry_id"]
        inquiry = uuid.UUID(inquiry)
        return inquiry, {**fields, "birth": None if citizen is None else births[citizen]}

    # Just outside the period in Copenhagen: 23:30 on 31 March and 00:30 on 1 August.
    for n, at in enumerate([dt.datetime(2018, 3, 31, 21, 30, tzinfo=dt.UTC),
                            dt.datetime(2018, 7, 31, 22, 30, tzinfo=dt.UTC)]):
        register(at, n + 1)
    for n in range(204):
        day = PERIOD[0] + dt.timedelta(days=n % 122)  # 1 April .. 31 July, both included
        # Half an hour into the Copenhagen day: still the day before in UTC.
        at = start_of_local_day(day) + dt.timedelta(minutes=30 + n)
        inquiry, fields = register(at, n)
        outcome: Outcome | None
        if fields["citizen_ref"] is not None and courses_82b < 65:
            kind = CourseKind.INDIVIDUAL_82B
            courses_82b += 1
        elif fields["citizen_ref"] is not None and n == 201:
            kind = CourseKind.SFT  # active, but not a § 82 b course
        else:
            kind = None
        if kind is not None:
            with store.unit_of_work() as uow:
                handlers.start_course(
                    uow, ctx, actor=STAFF, inquiry_id=inquiry, kind=kind, start_date=day,
                    planned_end=None if kind is CourseKind.SFT else day + dt.timedelta(days=150),
                    plan={"goals": ["Mit eget mål."],
                          "follow_up_dates": [day + dt.timedelta(days=14)]},
                    bridging_to=[],
                )
            outcome = (Outcome.INDIVIDUAL_COURSE_82B if kind is CourseKind.INDIVIDUAL_82B
                       else Outcome.SOCIAL_SKILLS_TRAINING)
            course_records.append(CourseRecord(kind, day, None, False, None))
        else:
            outcome = next(other_outcomes)
            if outcome is not None:
                with store.unit_of_work() as uow:
                    handlers.resolve_inquiry(
                        uow, ctx, actor=STAFF, inquiry_id=inquiry, outcome=outcome,
                        conversations=1 + n % 3, resolved_at=None,
                    )
        records.append(InquiryRecord(
            day, fields["channel"], fields["inquirer_kind"], frozenset(fields["topics"]),
            outcome, fields["birth"],
        ))
    assert courses_82b == 65
    return records, course_records


def test_seeded_2018_gives_seed_001_back_through_the_rpc(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys
):
    # A long sweep interval: this test is about counting, not about the clocks.
    intake = make_intake(
        amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW, INTAKE_SWEEP_SECONDS=3600
    )
    store = intake.store()
    store.clock = FixedClock(NOW)
    ctx = IntakeContext(IntakeSettings(), CprProtection.from_config(cpr_keys))
    records, course_records = seed(store, ctx)
    store.engine.dispose()

    intake.run()
    with intake.rpc() as cluster:
        result = cluster.intake.statistics(
            actor="staff:fronten-leder", period_start="2018-04-01", period_end="2018-07-31"
        )
        later = cluster.intake.statistics(
            actor="staff:fronten-leder", period_start="2018-08-01", period_end="2018-08-31"
        )

    assert result["total_inquiries"] == 204
    assert result["courses_82b_started"] == 65
    assert result["courses_82b_referred_85"] == 0
    assert result["active_courses"] == 66
    assert result["active_courses_by_kind"] == {"group_82a": 0, "sft": 1, "individual_82b": 65}
    lines = result["text"].splitlines()
    for line in SEED_LINES:
        assert line in lines
    # Every breakdown is exactly what the pure report makes of what was seeded.
    assert result == handlers.report_view(report(*PERIOD, records, course_records))
    assert sum(result["by_under_30"].values()) == 204
    assert result["by_topic"]["rent_arrears"] == 41
    # The inquiry registered at 00:30 on 1 August (Copenhagen) belongs to August.
    assert later["total_inquiries"] == 1
    assert later["courses_82b_started"] == 0
