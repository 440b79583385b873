"""The Course aggregate survives storage with every piece of its state, on SQLite and
PostgreSQL, and its deadline rows follow it: one open row per kind, moved or cancelled
when the course changes."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from contracts.vocabulary import CourseKind, PartnerKind
from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.localtime import start_of_local_day
from services.common.migrate import upgrade
from services.intake import courses
from services.intake.handlers import sync_course_deadlines
from services.intake.models import CourseRow, EndingProposalRow, metadata
from services.intake.repository import Responsible, load_course, new_course_row, save_course

pytestmark = pytest.mark.integration

D = dt.date
NOW = dt.datetime(2018, 6, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(db_url):
    upgrade("intake", db_url)
    engine = make_engine(db_url)
    yield Store(engine, metadata, "intake", FixedClock(NOW))
    engine.dispose()


def open_deadlines(store: Store, course_id) -> dict[str, dt.datetime]:
    table = metadata.tables["deadlines"]
    with store.read() as session:
        rows = session.execute(
            select(table.c.kind, table.c.due_at).where(
                table.c.subject_id == str(course_id),
                table.c.fired_at.is_(None), table.c.cancelled_at.is_(None),
            )
        ).all()
    return {r.kind: r.due_at for r in rows}


def test_a_course_with_all_its_state_loads_back_equal(store):
    settings = courses.CourseSettings(individual_max_months=5, review_lead_days=14)
    course = courses.Course.start(
        CourseKind.INDIVIDUAL_82B, str(uuid.uuid4()), D(2018, 4, 9), D(2018, 8, 9),
        courses.validate_plan(["Mine ord, med æøå."], [D(2018, 5, 7), D(2018, 6, 4)]),
        bridging_to=[PartnerKind.EDUCATION], settings=settings,
    )
    course.record_attendance(D(2018, 4, 16), True)
    course.record_attendance(D(2018, 4, 23), False)
    course.apply_due(D(2018, 5, 7))
    course.refer_to_85(D(2018, 5, 8))
    course.record_referral_outcome("refused", D(2018, 5, 20))
    course.request_review(D(2018, 5, 21))
    course.decide_review("continue", D(2018, 5, 22), new_planned_end=D(2018, 9, 1))
    course.request_review(D(2018, 5, 23))
    course.plan_bridging([PartnerKind.HEALTH, PartnerKind.EMPLOYMENT])
    # The 4-week rule: one proposal rejected (back on track), a second one open.
    course.apply_due(D(2018, 5, 14))
    course.back_on_track(D(2018, 5, 15))
    course.record_attendance(D(2018, 5, 16), False)
    course.apply_due(D(2018, 6, 12))
    course.note_messages_sent(D(2018, 6, 12))
    assert [p.decision for p in course.ending_proposals] == [
        courses.EndingDecision.BACK_ON_TRACK, None]
    course.events.clear()

    with store.unit_of_work() as uow:
        row = new_course_row(course, inquiry_id=None, started_by="staff:a", now=NOW,
                             responsible=Responsible("a", "A"))
        save_course(uow.session, row, course, actor="staff:a", now=NOW)
        uow.commit()
        course_id = row.id
    with store.read() as session:
        _, loaded = load_course(session, course_id)
    assert loaded == course
    assert loaded.fired == course.fired and "follow_up:2018-05-07" in loaded.fired
    assert loaded.settings == settings
    assert loaded.last_message_on == D(2018, 6, 12)
    assert loaded.open_ending_proposal == courses.EndingProposal(
        proposed_on=D(2018, 6, 12), rule_met_on=D(2018, 6, 12), last_kept_on=D(2018, 4, 16))
    with store.read() as session:
        stored = session.get(CourseRow, course_id)
        assert stored is not None
        # Stored for the worklists' sort keys, from the dates and the course's settings.
        assert (stored.bridging_due_on, stored.review_due_on) == (D(2018, 7, 1), D(2018, 8, 18))

    # More attendance and a second referral are appended to what was stored.
    with store.unit_of_work() as uow:
        row, again = load_course(uow.session, course_id, lock=True)
        again.record_attendance(D(2018, 5, 28), True)
        again.refer_to_85(D(2018, 5, 29))
        save_course(uow.session, row, again, actor="staff:b", now=NOW)
        uow.commit()
    with store.read() as session:
        _, last = load_course(session, course_id)
    assert [a.on for a in last.attendance] == [
        D(2018, 4, 16), D(2018, 4, 23), D(2018, 5, 16), D(2018, 5, 28)
    ]
    assert [(r.referred_on, r.outcome) for r in last.referrals_85] == [
        (D(2018, 5, 8), courses.ReferralOutcome.REFUSED), (D(2018, 5, 29), None)
    ]

    # Confirming the open proposal is stored with who decided it.
    with store.unit_of_work() as uow:
        row, again = load_course(uow.session, course_id, lock=True)
        again.confirm_ending(D(2018, 6, 13))
        save_course(uow.session, row, again, actor="staff:c", now=NOW)
        uow.commit()
    with store.read() as session:
        _, final = load_course(session, course_id)
        decided = session.scalars(
            select(EndingProposalRow.decided_by).order_by(EndingProposalRow.id)
        ).all()
    assert (final.status, final.end_reason, final.ended_on) == (
        courses.CourseStatus.ENDED, courses.EndReason.BROKEN_AGREEMENTS, D(2018, 6, 13))
    assert decided == ["staff:a", "staff:c"]


def test_deadline_rows_follow_the_course(store):
    course = courses.Course.start(
        CourseKind.INDIVIDUAL_82B, str(uuid.uuid4()), D(2018, 4, 9), D(2018, 7, 9),
        courses.validate_plan(["Mål"], [D(2018, 5, 7), D(2018, 6, 4)]),
    )
    with store.unit_of_work() as uow:
        row = new_course_row(course, inquiry_id=None, started_by="staff:a", now=NOW,
                             responsible=Responsible("a", "A"))
        save_course(uow.session, row, course, actor="staff:a", now=NOW)
        sync_course_deadlines(uow, row.id, course)
        uow.commit()
        course_id = row.id
    first = open_deadlines(store, course_id)
    assert first["course.follow_up"] == start_of_local_day(D(2018, 5, 7))  # only the next one
    assert "course.broken_agreements" not in first

    table = metadata.tables["deadlines"]
    with store.unit_of_work() as uow:  # unchanged course: no new rows
        sync_course_deadlines(uow, course_id, course)
        uow.commit()
    with store.read() as session:
        count = len(session.execute(select(table.c.id)).all())
    assert count == len(first)

    course.record_attendance(D(2018, 4, 20), False)
    course.request_review(D(2018, 4, 21))
    with store.unit_of_work() as uow:
        sync_course_deadlines(uow, course_id, course)
        uow.commit()
    second = open_deadlines(store, course_id)
    assert second["course.broken_agreements"] == start_of_local_day(D(2018, 5, 7))
    assert "course.review_due" not in second  # requested: no reminder any more

    course.end(D(2018, 4, 22), "citizen_withdrew")
    with store.unit_of_work() as uow:
        sync_course_deadlines(uow, course_id, course)
        uow.commit()
    assert open_deadlines(store, course_id) == {}
