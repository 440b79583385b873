"""Courses registered after the fact, and messages a course cannot take back; over RPC,
on a real broker and both databases.

- Import mode: an old course neither resolves its inquiry on the import day nor fires
  every past clock at once (no bridging to a partner, no pile of reminders), while the
  same course registered live does.
- The issue's example: agreements broken since March, entered on 30 June 2026, the
  morning the jobcenter was told about bridging. The course is not ended as of 30
  March: the ending is proposed on 30 June, cannot be dated before the bridging
  message, and when a person confirms it the jobcenter gets a cancellation.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import select

from contracts.vocabulary import PartnerKind
from services.common.localtime import start_of_local_day
from services.intake import handlers
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import ACCESS_LOG, ANNE, FRONTEN, World

pytestmark = pytest.mark.integration

D = dt.date
UTC = dt.UTC
PLAN = {"goals": ["Jeg vil have styr på min post."],
        "follow_up_dates": ["2018-04-23", "2018-05-14", "2018-06-15"]}


def make_world(amqp_uri, db_url, tmp_path, runner_factory, keys, at) -> World:
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, keys, at,
                         INTAKE_SWEEP_SECONDS=3600)
    return World.of(intake, keys)


@pytest.fixture
def june_2018(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys) -> Iterator[World]:
    world = make_world(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys,
                       dt.datetime(2018, 6, 15, 8, 0, tzinfo=UTC))
    world.intake.run()
    yield world
    world.close()


def test_import_mode_settles_an_old_course_without_messages_or_reminders(
    june_2018: World, tap: EventTap
):
    world = june_2018
    ref = world.citizen()
    registered = dt.datetime(2018, 4, 3, 8, 30, tzinfo=UTC)
    with world.intake.rpc() as cluster:
        def start(imported: bool, **dates: str) -> dict:
            inquiry = cluster.intake.register_inquiry(
                actor=FRONTEN, channel="walk_in", inquirer_kind="citizen",
                topics=["economy"], wish="Hjælp til breve.", citizen_ref=ref,
                registered_at=registered.isoformat())["inquiry_id"]
            return cluster.intake.start_course(
                actor=FRONTEN, inquiry_id=inquiry, kind="individual_82b", plan=PLAN,
                bridging_to=["employment"], imported=imported,
                **({"start_date": "2018-04-09", "planned_end": "2018-07-09"} | dates))

        imported = start(True)
        live = start(False)

        # Imported: only today's follow-up; the clocks before today were handled before
        # Samspil, and the jobcenter hears nothing about a bridging due on 9 May.
        assert imported["imported"] is True and imported["status"] == "active"
        assert imported["notices"] == [
            {"kind": "follow_up_due", "due_on": "2018-06-15", "done_on": None}]
        assert imported["last_message_on"] is None
        assert [d["kind"] for d in imported["deadlines"]] == ["planned_end", "max_length"]
        # Live: every past clock fires now (that is what a running course wants).
        assert [n["due_on"] for n in live["notices"] if n["kind"] == "follow_up_due"] == [
            "2018-04-23", "2018-05-14", "2018-06-15"]
        assert live["last_message_on"] == "2018-06-15"

        # History past its maximum length: ended on the day the law ends it.
        old = cluster.intake.start_course(
            actor=FRONTEN, kind="individual_82b", imported=True, start_date="2017-01-10",
            planned_end="2017-07-10", bridging_to=["education"],
            plan={"goals": ["Mit mål."], "follow_up_dates": ["2017-02-01"]},
            inquiry_id=cluster.intake.register_inquiry(
                actor=FRONTEN, channel="phone", inquirer_kind="citizen", topics=["economy"],
                wish="Gammel sag.", citizen_ref=ref,
                registered_at="2017-01-05T09:00:00+00:00")["inquiry_id"])
        assert (old["status"], old["end_reason"], old["ended_on"]) == (
            "ended", "max_length_reached", "2017-07-10")
        assert old["notices"] == []

        bridging = {i["subject_id"]: i for i in cluster.intake.worklist_bridging(
            actor=FRONTEN)["items"]}
        assert bridging[imported["course_id"]]["details"]["handled_before_samspil"] == [
            "employment"]
        assert bridging[imported["course_id"]]["reason_code"] == "bridging_in_progress"
        assert bridging[live["course_id"]]["details"]["told"] == ["employment"]

    live_bridging = tap.wait("intake.bridging_due",
                             lambda e: e["payload"]["course_id"] == live["course_id"])
    assert live_bridging["payload"]["due_on"] == "2018-05-09"
    resolutions = {e["payload"]["inquiry_id"]: e["payload"]["resolved_at"]
                   for e in tap.of_type("intake.inquiry_resolved")}
    # Imported: resolved when the course started (00:00 on 9 April in Copenhagen), not
    # on the import day. Live: resolved now.
    assert resolutions[imported["inquiry_id"]] == "2018-04-08T22:00:00+00:00"
    assert resolutions[live["inquiry_id"]] == "2018-06-15T08:00:00+00:00"
    assert resolutions[old["inquiry_id"]] == start_of_local_day(D(2017, 1, 10)).isoformat()
    ended = tap.wait("intake.course_ended", lambda e: e["payload"]["course_id"] == old["course_id"])
    assert ended["payload"]["ended_on"] == "2017-07-10"
    assert not [e for e in tap.of_type("intake.bridging_due")
                if e["payload"]["course_id"] in (imported["course_id"], old["course_id"])]
    purposes = [r.purpose for r in world.intake.rows(
        select(ACCESS_LOG.c.purpose).where(ACCESS_LOG.c.subject_id == imported["course_id"]))]
    assert purposes == ["indlæsning af historisk forløb"]


def test_a_late_broken_agreement_is_proposed_the_day_it_is_entered_never_back_dated(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    march = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    world = make_world(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, march)
    try:
        course_id = world.course(D(2026, 3, 2), D(2026, 8, 31), [D(2026, 8, 31)],
                                 bridging_to=[PartnerKind.EMPLOYMENT])
        world.run(handlers.record_attendance, actor=ANNE,
                  course_id=uuid.UUID(course_id), on=D(2026, 3, 2), kept=True)
        # 30 June, 08:00 in Copenhagen: the sweep tells the jobcenter about bridging.
        world.intake.clock.set(dt.datetime(2026, 6, 30, 6, 0, tzinfo=UTC))
        world.sweep()
        world.intake.run()
        tap.wait("intake.bridging_due")
        with world.intake.rpc() as cluster:
            # Later that morning: a broken agreement from 9 March is typed in.
            cluster.intake.record_attendance(actor=FRONTEN, course_id=course_id,
                                             on="2026-03-09", kept=False)
            world.sweep()
            proposed = tap.wait("intake.course_ending_proposed")
            assert (proposed["payload"]["proposed_on"], proposed["payload"]["last_kept_on"]) == (
                "2026-06-30", "2026-03-02")
            view = cluster.intake.get_course(actor=FRONTEN, course_id=course_id,
                                             purpose="4-ugers-reglen")
            assert (view["status"], view["ending_proposed"], view["ended_on"]) == (
                "active", True, None)
            # Nobody can date the end before the message the jobcenter already has.
            with pytest.raises(RemoteError) as err:
                cluster.intake.end_course(actor=FRONTEN, course_id=course_id,
                                          reason="citizen_withdrew", on="2026-03-30")
            assert {e["field"]: e["rule"] for e in json.loads(err.value.value)["errors"]} == {
                "ended_on": "course.end_before_messages"}
            items = cluster.intake.worklist_ending_proposed(actor=FRONTEN)["items"]
            assert [i["subject_id"] for i in items] == [course_id]
            ended = cluster.intake.confirm_course_ending(actor=FRONTEN, course_id=course_id)
        assert (ended["end_reason"], ended["ended_on"]) == ("broken_agreements", "2026-06-30")
        cancelled = tap.wait("intake.bridging_cancelled")
        assert cancelled["payload"] | {"citizen_ref": None} == {
            "course_id": course_id, "citizen_ref": None, "partner_kind": "employment",
            "due_on": "2026-06-30", "cancelled_on": "2026-06-30",
            "reason": "course_ended_early",
        }
        assert [e["payload"]["ended_on"] for e in tap.of_type("intake.course_ended")] == [
            "2026-06-30"]
    finally:
        world.close()
