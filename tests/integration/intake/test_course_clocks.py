"""A course on its clocks, through the real broker and both databases:
register -> resolve -> course -> bridging on its day -> 4 weeks of broken agreements
propose the ending -> a person confirms it, dated that day, and the partner told about
bridging gets a cancellation; with the service restarted between sweeps. The FileClock
is moved by the test; nothing waits for time to pass."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from services.intake.models import metadata
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import FRONTEN
from tests.support.waiting import wait_for

ANNE_AT_WORK = {"staff_id": "fronten-anne", "name": "Anne Andersen",
                "email": "anne@balk.dk", "phone": "+45 44 77 34 43"}

pytestmark = pytest.mark.integration

UTC = dt.UTC
T0 = dt.datetime(2018, 4, 9, 8, 0, tzinfo=UTC)  # Monday 9 April 2018, 10:00 in Copenhagen


def copenhagen_midnight_utc(day: dt.date) -> dt.datetime:
    # Summer time (CEST, UTC+2) for every day used here.
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=UTC) - dt.timedelta(hours=2)


def outbox_types(intake) -> list[str]:
    table = metadata.tables["outbox"]
    return [r.type for r in intake.rows(select(table.c.type).order_by(table.c.id))]


def open_course_deadlines(intake, course_id: str) -> dict[str, dt.datetime]:
    table = metadata.tables["deadlines"]
    rows = intake.rows(
        select(table.c.kind, table.c.due_at).where(
            table.c.subject_id == course_id,
            table.c.fired_at.is_(None),
            table.c.cancelled_at.is_(None),
        )
    )
    return {r.kind: r.due_at for r in rows}


def notices(cluster, course_id: str) -> list[dict]:
    course = cluster.intake.get_course(
        actor=FRONTEN, course_id=course_id, purpose="opfølgning"
    )
    return course["notices"]


def test_register_resolve_course_bridging_then_the_4_week_rule_proposes_and_a_person_ends_it(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, T0)
    intake.run()
    with intake.rpc() as cluster:
        citizen = cluster.intake.register_citizen(
            actor=FRONTEN, cpr="090295-1234", name="Mikkel Hansen",
            email=None, phone="+45 20 30 40 50", preferred_channel="sms",
        )
        assert citizen["under_30"] is True and citizen["age"] == 23
        ref = citizen["citizen_ref"]
        inquiry = cluster.intake.register_inquiry(
            actor=FRONTEN, channel="walk_in", inquirer_kind="citizen",
            topics=["everyday_structure", "employment"],
            wish="Jeg vil gerne have struktur på min dag og komme i job.", citizen_ref=ref,
        )
        cluster.intake.resolve_inquiry(
            actor=FRONTEN, inquiry_id=inquiry["inquiry_id"],
            outcome="individual_course_82b",
        )
        course = cluster.intake.start_course(
            actor=FRONTEN, inquiry_id=inquiry["inquiry_id"],
            kind="individual_82b", start_date="2018-04-09", planned_end="2018-07-09",
            plan={"goals": ["Jeg vil stå op til tiden hver dag."],
                  "follow_up_dates": ["2018-05-08", "2018-05-28"]},
            bridging_to=["employment"],
            # The known face, from the staff directory: the partner calls her.
            responsible=ANNE_AT_WORK,
        )
        course_id = course["course_id"]
        assert course["responsible"] == ANNE_AT_WORK
        assert course["bridging_due_on"] == "2018-05-09"
        assert course["max_end"] == "2018-10-09"

        started = tap.wait("intake.course_started")
        assert started["payload"] == {
            "course_id": course_id, "citizen_ref": ref, "kind": "individual_82b",
            "start_date": "2018-04-09", "planned_end": "2018-07-09",
        }
        resolved = tap.wait("intake.inquiry_resolved")
        assert resolved["payload"]["outcome"] == "individual_course_82b"
        # Every clock is a stored row, due at the start of its day in Copenhagen.
        assert open_course_deadlines(intake, course_id) == {
            "course.follow_up": copenhagen_midnight_utc(dt.date(2018, 5, 8)),
            "course.bridging_due": copenhagen_midnight_utc(dt.date(2018, 5, 9)),
            "course.review_due": copenhagen_midnight_utc(dt.date(2018, 6, 11)),
            "course.planned_end": copenhagen_midnight_utc(dt.date(2018, 7, 9)),
            "course.max_length": copenhagen_midnight_utc(dt.date(2018, 10, 9)),
        }

        # An agreement kept on 1 May, one broken on 3 May: the 4-week rule is armed.
        intake.clock.set(dt.datetime(2018, 5, 1, 10, 0, tzinfo=UTC))
        cluster.intake.record_attendance(
            actor=FRONTEN, course_id=course_id, on="2018-05-01", kept=True
        )
        intake.clock.set(dt.datetime(2018, 5, 3, 10, 0, tzinfo=UTC))
        cluster.intake.record_attendance(
            actor=FRONTEN, course_id=course_id, on="2018-05-03", kept=False
        )
        assert open_course_deadlines(intake, course_id)["course.broken_agreements"] == (
            copenhagen_midnight_utc(dt.date(2018, 5, 29))
        )

        # 23:59 on 8 May in Copenhagen: the follow-up fires (proof the sweep ran at
        # this time), bridging does not.
        intake.clock.set(copenhagen_midnight_utc(dt.date(2018, 5, 9)) - dt.timedelta(minutes=1))
        wait_for(lambda: {"kind": "follow_up_due", "due_on": "2018-05-08", "done_on": None}
                 in notices(cluster, course_id), what="the 8 May follow-up")
        assert "intake.bridging_due" not in outbox_types(intake)

    # Restart between two sweeps; the clock reaches 9 May while the service is down.
    intake.restart(clock_at=copenhagen_midnight_utc(dt.date(2018, 5, 9)))
    bridging = tap.wait("intake.bridging_due")
    assert bridging["payload"] == {
        "course_id": course_id, "citizen_ref": ref, "partner_kind": "employment",
        "due_on": "2018-05-09", "planned_end": "2018-07-09", "responsible": ANNE_AT_WORK,
    }
    assert bridging["occurred_at"].startswith("2018-05-08T22:00:00")

    with intake.rpc() as cluster:
        # 23:59 on 28 May: 27 days after the last kept agreement, still active.
        intake.clock.set(copenhagen_midnight_utc(dt.date(2018, 5, 29)) - dt.timedelta(minutes=1))
        wait_for(lambda: {"kind": "follow_up_due", "due_on": "2018-05-28", "done_on": None}
                 in notices(cluster, course_id), what="the 28 May follow-up")
        assert "intake.course_ended" not in outbox_types(intake)
        assert cluster.intake.get_course(
            actor=FRONTEN, course_id=course_id, purpose="opfølgning"
        )["status"] == "active"

    # Another restart between two sweeps: the 4-week deadline is not lost. It proposes
    # the ending; nothing ends until a person decides.
    intake.restart(clock_at=copenhagen_midnight_utc(dt.date(2018, 5, 29)))
    proposed = tap.wait("intake.course_ending_proposed")
    assert proposed["payload"] == {
        "course_id": course_id, "citizen_ref": ref, "kind": "individual_82b",
        "proposed_on": "2018-05-29", "rule": "four_weeks_broken_agreements",
        "last_kept_on": "2018-05-01",
    }
    with intake.rpc() as cluster:
        view = cluster.intake.get_course(
            actor=FRONTEN, course_id=course_id, purpose="opfølgning"
        )
        assert (view["status"], view["ending_proposed"]) == ("active", True)
        assert "course.broken_agreements" not in open_course_deadlines(intake, course_id)
        assert "intake.course_ended" not in outbox_types(intake)

        # A week later Fronten confirms: the course ends that day, not on 29 May, and
        # the jobcenter, told about bridging on 9 May, gets its cancellation.
        intake.clock.set(dt.datetime(2018, 6, 5, 9, 0, tzinfo=UTC))
        ended_view = cluster.intake.confirm_course_ending(
            actor=FRONTEN, course_id=course_id
        )
    assert (ended_view["status"], ended_view["end_reason"], ended_view["ended_on"]) == (
        "ended", "broken_agreements", "2018-06-05"
    )
    assert ended_view["ending_proposals"] == [{
        "rule": "four_weeks_broken_agreements", "proposed_on": "2018-05-29",
        "last_kept_on": "2018-05-01", "decision": "confirmed", "decided_on": "2018-06-05",
    }]
    ended = tap.wait("intake.course_ended")
    assert ended["payload"] == {
        "course_id": course_id, "citizen_ref": ref, "kind": "individual_82b",
        "reason": "broken_agreements", "ended_on": "2018-06-05",
    }
    cancelled = tap.wait("intake.bridging_cancelled")
    assert cancelled["payload"] == {
        "course_id": course_id, "citizen_ref": ref, "partner_kind": "employment",
        "due_on": "2018-05-09", "cancelled_on": "2018-06-05", "reason": "course_ended_early",
    }
    assert cancelled["correlation_id"] == course_id
    assert open_course_deadlines(intake, course_id) == {}
    # Each event exactly once, in order, across two restarts.
    assert [e["type"] for e in tap.poll()] == [
        "intake.inquiry_registered",
        "intake.inquiry_resolved",
        "intake.course_started",
        "intake.bridging_due",
        "intake.course_ending_proposed",
        "intake.course_ended",
        "intake.bridging_cancelled",
    ]
