"""Each of intake's worklists over RPC, on a real broker and both databases: read page by
page (at least three pages) while items are added between the pages, every item
shown exactly once in urgency order; each page read logged as one search; and the
decision that belongs to each list takes its item off.

The test writes the data through the real use cases on its own connection (as the
RPCs would) and reads the lists through the running service. The sweep timer is
slowed down: where a clock must fire, the test sweeps itself."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import select

from contracts.vocabulary import Channel, CourseKind, InquirerKind, Outcome, PartnerKind
from services.intake import handlers
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import (
    ACCESS_LOG,
    ANNE,
    BO,
    FRONTEN,
    KARL,
    NOW,
    OTHER_FRONTEN,
    PANEL,
    SOCIAL_VEJLEDNING,
    TODAY,
    World,
    assert_read_once,
    items_of,
    page_through,
)

pytestmark = pytest.mark.integration

D = dt.date
UTC = dt.UTC


@pytest.fixture
def world(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys) -> Iterator[World]:
    intake = make_intake(
        amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW, INTAKE_SWEEP_SECONDS=3600
    )
    made = World.of(intake, cpr_keys)
    intake.run()
    yield made
    made.close()


def problems(err: pytest.ExceptionInfo[RemoteError]) -> dict[str, str]:
    return {e["field"]: e["rule"] for e in json.loads(err.value.value)["errors"]}


def hex_id(value: str) -> str:
    # Both databases order UUIDs as their hex digits (SQLite: CHAR(32); PostgreSQL: bytes).
    return uuid.UUID(value).hex


# --- Fronten: open inquiries -------------------------------------------------------------------


def test_open_inquiries_oldest_first_page_by_page_and_a_resolution_takes_one_off(world):
    young, old = world.citizen(D(1995, 3, 1)), world.citizen(D(1901, 1, 1))
    days_ago = lambda n, hour=9: NOW - dt.timedelta(days=n) + dt.timedelta(hours=hour - 10)  # noqa: E731
    seeded = [
        world.inquiry(young, days_ago(10), channel=Channel.WALK_IN),
        world.inquiry(None, days_ago(9), channel=Channel.PHONE,
                      inquirer_kind=InquirerKind.RELATIVE),
        world.inquiry(old, days_ago(8), channel=Channel.MAIL),
        world.inquiry(None, days_ago(7), channel=Channel.PHONE,
                      inquirer_kind=InquirerKind.PROFESSIONAL),
        world.inquiry(young, days_ago(3), channel=Channel.DIGITAL_FORM),
    ]
    for resolved in (world.inquiry(young, days_ago(12)), world.inquiry(None, days_ago(2))):
        world.run(handlers.resolve_inquiry, world.ctx, actor=ANNE,
                  inquiry_id=uuid.UUID(resolved), outcome=Outcome.ADVICE_ONLY,
                  conversations=1, resolved_at=None)
    added: list[str] = []
    behind: list[str] = []

    def between(page: int) -> None:
        if page == 1:
            added.append(world.inquiry(young, NOW - dt.timedelta(minutes=1)))
            # Registered back-dated: it sorts before the reader, who has passed its place.
            behind.append(world.inquiry(None, days_ago(30)))
        if page == 2:
            added.append(world.inquiry(None, NOW, channel=Channel.PHONE))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_open_inquiries(actor=FRONTEN, **kw)

        searches = world.searches("intake.open_inquiries")
        pages = page_through(fetch, limit=2, between=between)
        items = assert_read_once(pages, lambda i: i["subject_id"], seeded + added)
        assert world.searches("intake.open_inquiries") == searches + len(pages)

        first, anonymous, elderly = items[0], items[1], items[2]
        assert first["reason_code"] == "inquiry_open"
        assert first["reason"] == ("Henvendelse fra borgeren selv (personligt fremmøde) den "
                                   "22. maj 2018 har endnu ikke fået et udfald. Den har ventet "
                                   "10 dage.")
        assert (first["due_on"], first["days_left"], first["overdue"]) == ("2018-05-22", -10, True)
        assert first["citizen_ref"] == young and first["details"]["in_target_group"] is True
        assert anonymous["citizen_ref"] is None and anonymous["details"]["anonymous"] is True
        assert anonymous["reason"].startswith("Anonym henvendelse fra en pårørende (telefon)")
        assert elderly["details"]["in_target_group"] is False  # 117 years old

        # A fresh read starts from the top: the back-dated one is first now.
        phone = fetch(limit=50, channel="phone")["items"]
        assert [i["subject_id"] for i in phone] == [seeded[1], seeded[3], added[1]]
        cluster.intake.resolve_inquiry(actor=FRONTEN, inquiry_id=seeded[1],
                                       outcome="referral_other")
        again = [i["subject_id"] for i in items_of(page_through(fetch, limit=200))]
        assert again == [behind[0], seeded[0], *seeded[2:], *added]


# --- Fronten: follow-ups -------------------------------------------------------------------------


def test_follow_ups_page_by_page_and_recording_one_takes_it_off(world):
    far = D(2018, 9, 1)  # bridging and the review come long after today
    c1 = world.course(D(2018, 4, 2), far, [D(2018, 4, 16), D(2018, 5, 14), D(2018, 7, 2)])
    c2 = world.course(D(2018, 4, 3), far, [D(2018, 4, 17), TODAY])
    c3 = world.course(D(2018, 4, 4), far, [D(2018, 4, 18)], kind=CourseKind.GROUP_82A,
                      by=KARL)
    world.course(D(2018, 4, 5), far, [D(2018, 6, 4)])  # not due yet
    added: list[str] = []

    def between(page: int) -> None:
        start = D(2018, 5, 28) if page == 1 else D(2018, 5, 30)
        added.append(world.course(start, far, [TODAY]))

    with world.intake.rpc() as cluster:
        def fetch(actor: dict[str, Any] = FRONTEN, **kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_follow_ups(actor=actor, **kw)

        pages = page_through(fetch, limit=2, between=between)
        expected = [(c1, "2018-04-16"), (c2, "2018-04-17"), (c3, "2018-04-18"),
                    (c1, "2018-05-14"), (c2, "2018-06-01"), (added[0], "2018-06-01"),
                    (added[1], "2018-06-01")]
        items = assert_read_once(
            pages, lambda i: (i["subject_id"], i["details"]["follow_up_on"]), expected
        )
        assert [i["reason_code"] for i in items] == ["follow_up_overdue"] * 4 + [
            "follow_up_due"] * 3
        assert items[0]["reason"] == ("Opfølgningen aftalt til 16. april 2018 (individuelt "
                                      "forløb (§ 82 b)) er ikke registreret som holdt.")
        assert items[4]["reason"].endswith("er aftalt til i dag, 1. juni 2018.")
        assert world.searches("intake.follow_ups") == len(pages)

        mine = fetch(actor=OTHER_FRONTEN, mine=True)["items"]
        assert [i["subject_id"] for i in mine] == [c3]
        assert [i["subject_id"] for i in fetch(kind="group_82a")["items"]] == [c3]

        held = cluster.intake.record_follow_up(actor=FRONTEN, course_id=c1,
                                               follow_up_on="2018-04-16")
        assert {"kind": "follow_up_due", "due_on": "2018-04-16",
                "done_on": "2018-06-01"} in held["notices"]
        for day, rule in (("2018-04-16", "follow_up.already_recorded"),
                          ("2018-07-02", "follow_up.not_due")):
            with pytest.raises(RemoteError) as err:
                cluster.intake.record_follow_up(actor=FRONTEN, course_id=c1, follow_up_on=day)
            assert problems(err) == {"follow_up_on": rule}
        # A course that ends takes its follow-ups with it.
        cluster.intake.end_course(actor=FRONTEN, course_id=c2, reason="citizen_withdrew")
        left = [(i["subject_id"], i["details"]["follow_up_on"]) for i in fetch(limit=50)["items"]]
        assert left == [(c3, "2018-04-18"), (c1, "2018-05-14"), (added[0], "2018-06-01"),
                        (added[1], "2018-06-01")]
    changes = world.intake.rows(
        select(ACCESS_LOG.c.purpose).where(ACCESS_LOG.c.action == "change",
                                           ACCESS_LOG.c.subject_id == c1)
    )
    assert [r.purpose for r in changes] == ["opfølgning i forløb"]


# --- Fronten: bridging ---------------------------------------------------------------------------


def test_bridging_page_by_page_and_an_early_end_cancels_the_partners_bridging(
    world, tap: EventTap
):
    employment, both = [PartnerKind.EMPLOYMENT], [PartnerKind.EDUCATION, PartnerKind.HEALTH]
    # Bridging due 1, 5, 10, 15 and 20 May (two months before the end); follow-ups later.
    b1 = world.course(D(2018, 3, 1), D(2018, 7, 1), [D(2018, 6, 20)], bridging_to=employment)
    b2 = world.course(D(2018, 3, 5), D(2018, 7, 5), [D(2018, 6, 20)])
    b3 = world.course(D(2018, 3, 10), D(2018, 7, 10), [D(2018, 6, 20)], bridging_to=both)
    b4 = world.course(D(2018, 3, 15), D(2018, 7, 15), [D(2018, 6, 20)])
    b5 = world.course(D(2018, 3, 20), D(2018, 7, 20), [D(2018, 6, 20)], bridging_to=employment)
    world.course(D(2018, 4, 1), D(2018, 9, 1), [D(2018, 6, 20)])  # bridging on 1 July
    added: list[str] = []

    def between(page: int) -> None:  # bridging due today
        added.append(world.course(D(2018, 4, page), D(2018, 8, 1), [D(2018, 6, 20)],
                                  bridging_to=employment))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_bridging(actor=FRONTEN, **kw)

        pages = page_through(fetch, limit=2, between=between)
        expected = [b1, b2, b3, b4, b5, *sorted(added, key=hex_id)]
        items = assert_read_once(pages, lambda i: i["subject_id"], expected)
        by_id = {i["subject_id"]: i for i in items}
        assert by_id[b1]["reason_code"] == "bridging_in_progress"
        assert by_id[b1]["details"]["told"] == ["employment"]
        assert by_id[b1]["reason"] == (
            "Brobygning til beskæftigelse (jobcenteret) er i gang siden 1. maj 2018 og skal "
            "være på plads, før forløbet slutter 1. juli 2018.")
        assert (by_id[b1]["due_on"], by_id[b1]["days_left"]) == ("2018-07-01", 30)
        assert by_id[b2]["reason_code"] == "bridging_partner_missing"
        assert (by_id[b2]["due_on"], by_id[b2]["overdue"]) == ("2018-05-05", True)
        assert by_id[b3]["details"]["told"] == ["education", "health"]
        assert [i["subject_id"] for i in fetch(partner_missing=True)["items"]] == [b2, b4]

        # Choosing a partner tells it at the next sweep and takes b2 off "missing".
        cluster.intake.plan_bridging(actor=FRONTEN, course_id=b2, partner_kinds=["health"])
        world.sweep()
        assert [i["subject_id"] for i in fetch(partner_missing=True)["items"]] == [b4]
        tap.wait("intake.bridging_due", lambda e: e["payload"]["course_id"] == b2)

        # The citizen stops before the planned end: the jobcenter's bridging is cancelled.
        ended = cluster.intake.end_course(actor=FRONTEN, course_id=b1, reason="citizen_withdrew")
        assert (ended["status"], ended["ended_on"]) == ("ended", "2018-06-01")
        assert b1 not in [i["subject_id"] for i in fetch(limit=50)["items"]]
    cancelled = tap.wait("intake.bridging_cancelled", lambda e: e["payload"]["course_id"] == b1)
    assert cancelled["payload"] == {
        "course_id": b1, "citizen_ref": ended["citizen_ref"], "partner_kind": "employment",
        "due_on": "2018-05-01", "cancelled_on": "2018-06-01", "reason": "course_ended_early",
    }


# --- the review panel's agenda -------------------------------------------------------------------


def test_review_agenda_page_by_page_and_the_panels_decision_takes_a_course_off(
    world, tap: EventTap
):
    def requested(start: dt.date, end: dt.date, on: dt.date) -> str:
        course = world.course(start, end, [D(2018, 6, 15)])
        world.run(handlers.request_review, actor=ANNE,
                  course_id=uuid.UUID(course), on=on)
        return course

    r1 = requested(D(2018, 3, 1), D(2018, 6, 20), D(2018, 5, 20))
    r2 = requested(D(2018, 3, 2), D(2018, 6, 25), D(2018, 5, 25))
    r3 = requested(D(2018, 3, 3), D(2018, 7, 2), D(2018, 5, 28))
    r4 = requested(D(2018, 3, 4), D(2018, 7, 10), D(2018, 5, 30))
    r5 = requested(D(2018, 2, 1), D(2018, 7, 31), TODAY)  # asked early
    due = world.course(D(2018, 3, 5), D(2018, 6, 22), [D(2018, 6, 15)])  # review due 25 May
    world.course(D(2018, 3, 6), D(2018, 8, 1), [D(2018, 6, 15)])  # review due 4 July
    added: list[str] = []

    def between(page: int) -> None:
        end = D(2018, 8, 15) if page == 1 else D(2018, 8, 20)
        added.append(requested(D(2018, 3, 6 + page), end, TODAY))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_review_agenda(actor=PANEL, **kw)

        pages = page_through(fetch, limit=2, between=between)
        items = assert_read_once(pages, lambda i: i["subject_id"],
                                 [r1, r2, r3, r4, r5, *added])
        assert items[0]["reason_code"] == "review_requested"
        assert items[0]["reason"] == (
            "Forløbet (individuelt forløb (§ 82 b)) slutter planmæssigt 20. juni 2018. Fronten "
            "bad om udvalgets behandling 20. maj 2018; udvalget skal tage stilling inden "
            "slutdatoen.")
        assert (items[0]["due_on"], items[0]["days_left"]) == ("2018-06-20", 19)
        assert world.searches("intake.review_agenda") == len(pages)

        with_due = [i for i in fetch(limit=3, include_not_requested=True)["items"]]
        assert [i["subject_id"] for i in with_due] == [r1, due, r2]
        assert (with_due[1]["reason_code"], with_due[1]["due_on"]) == (
            "review_not_requested", "2018-05-25")

        cluster.intake.decide_review(actor=PANEL, course_id=r1, decision="end")
        cluster.intake.decide_review(actor=PANEL, course_id=r2, decision="continue",
                                     new_planned_end="2018-08-25")
        cluster.intake.decide_review(actor=PANEL, course_id=r3, decision="refer_85")
        left = [i["subject_id"] for i in fetch(limit=50)["items"]]
        assert left == [r4, r5, *added]
    referral = tap.wait("intake.referral_85_made", lambda e: e["payload"]["course_id"] == r3)
    assert referral["payload"]["referred_on"] == "2018-06-01"


# --- Fronten: past the planned end ---------------------------------------------------------------


def test_end_overdue_page_by_page_until_ended_or_extended(world):
    e1 = world.course(D(2018, 1, 8), D(2018, 5, 1), [D(2018, 2, 1)])
    e2 = world.course(D(2018, 1, 9), D(2018, 5, 2), [D(2018, 2, 1)])
    world.run(handlers.request_review, actor=ANNE, course_id=uuid.UUID(e2),
              on=D(2018, 4, 20))
    e3 = world.course(D(2018, 1, 10), D(2018, 5, 3), [D(2018, 2, 1)])
    world.run(handlers.request_review, actor=ANNE, course_id=uuid.UUID(e3),
              on=D(2018, 4, 20))
    world.run(handlers.decide_review, actor=BO, course_id=uuid.UUID(e3),
              decision="end", on=D(2018, 4, 25), new_planned_end=None)
    e4 = world.course(D(2018, 1, 11), D(2018, 5, 31), [D(2018, 2, 1)])
    e5 = world.course(D(2018, 1, 12), TODAY, [D(2018, 2, 1)])
    world.course(D(2018, 1, 13), D(2018, 6, 2), [D(2018, 2, 1)])  # ends tomorrow
    added: list[str] = []

    def between(page: int) -> None:
        added.append(world.course(D(2018, 2, page), TODAY, [D(2018, 3, 1)]))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_end_overdue(actor=FRONTEN, **kw)

        pages = page_through(fetch, limit=2, between=between)
        items = assert_read_once(pages, lambda i: i["subject_id"],
                                 [e1, e2, e3, e4, *sorted([e5, *added], key=hex_id)])
        codes = {i["subject_id"]: i["reason_code"] for i in items}
        assert (codes[e1], codes[e2], codes[e3]) == (
            "end_overdue_no_review", "end_overdue_review_pending", "end_approved_not_ended")
        first = items[0]
        assert first["reason"] == (
            "Forløbet (individuelt forløb (§ 82 b)) skulle slutte 1. maj 2018, men det er ikke "
            "sendt til det tværgående udvalg. Det skal være afsluttet senest 8. juli 2018.")
        assert (first["due_on"], first["days_left"], first["details"]["max_end"]) == (
            "2018-05-01", -31, "2018-07-08")

        cluster.intake.end_course(actor=FRONTEN, course_id=e3, reason="planned_end")
        cluster.intake.extend_course(actor=FRONTEN, course_id=e1, planned_end="2018-07-08")
        cluster.intake.decide_review(actor=PANEL, course_id=e2, decision="continue",
                                     new_planned_end="2018-07-09")
        left = [i["subject_id"] for i in fetch(limit=50)["items"]]
        assert left == [e4, *sorted([e5, *added], key=hex_id)]


# --- Fronten: the 4-week rule's proposals --------------------------------------------------------


def test_ending_proposals_page_by_page_and_each_decision_takes_one_off(world, tap: EventTap):
    def broken(start: dt.date, end: dt.date | None = None, **kw: Any) -> str:
        course = world.course(start, end or D(2018, 9, 1), [D(2018, 6, 20)], **kw)
        for day, kept in ((start, True), (start + dt.timedelta(days=3), False)):
            world.run(handlers.record_attendance, actor=ANNE,
                      course_id=uuid.UUID(course), on=day, kept=kept)
        return course

    # The rule is met 28 days after each start (before today); a sweep proposes them.
    p1 = broken(D(2018, 4, 2))
    p2 = broken(D(2018, 3, 1), D(2018, 7, 20), bridging_to=[PartnerKind.EMPLOYMENT])
    p3 = broken(D(2018, 4, 3))
    p4 = broken(D(2018, 4, 4), by=KARL)
    p5 = broken(D(2018, 4, 5))
    world.sweep()
    added: list[str] = []

    def between(page: int) -> None:
        added.append(broken(D(2018, 4, 5 + page)))
        world.sweep()

    with world.intake.rpc() as cluster:
        def fetch(actor: dict[str, Any] = FRONTEN, **kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_ending_proposed(actor=actor, **kw)

        pages = page_through(fetch, limit=2, between=between)
        # Swept in the order the rule was met: p2 (29 March) first.
        items = assert_read_once(pages, lambda i: i["subject_id"],
                                 [p2, p1, p3, p4, p5, *added])
        assert items[1]["reason"] == (
            "Borgeren har ikke overholdt aftaler i 4 uger siden den sidst overholdte aftale "
            "2. april 2018. Afslutning blev foreslået 1. juni 2018: bekræft afslutningen, eller "
            "registrér at borgeren er på rette spor igen.")
        assert (items[1]["due_on"], items[1]["details"]["last_kept_on"]) == (
            "2018-06-01", "2018-04-02")
        assert [i["subject_id"] for i in fetch(actor=OTHER_FRONTEN, mine=True)["items"]] == [p4]

        # Confirmed: ends today, not on the day the dates met the rule; the partner told
        # about bridging gets a cancellation. Back on track: the course goes on.
        world.intake.clock.set(NOW + dt.timedelta(days=4))
        confirmed = cluster.intake.confirm_course_ending(actor=FRONTEN, course_id=p2)
        assert (confirmed["status"], confirmed["end_reason"], confirmed["ended_on"]) == (
            "ended", "broken_agreements", "2018-06-05")
        back = cluster.intake.record_back_on_track(actor=FRONTEN, course_id=p3)
        assert (back["status"], back["ending_proposed"]) == ("active", False)
        assert back["ending_proposals"][0]["decision"] == "back_on_track"
        with pytest.raises(RemoteError) as err:
            cluster.intake.record_back_on_track(actor=FRONTEN, course_id=p3)
        assert problems(err) == {"ending_proposal": "ending.none_proposed"}
        left = [i["subject_id"] for i in fetch(limit=50)["items"]]
        assert left == [p1, p4, p5, *added]

    proposed = tap.wait("intake.course_ending_proposed",
                        lambda e: e["payload"]["course_id"] == p2)
    assert proposed["payload"] == {
        "course_id": p2, "citizen_ref": confirmed["citizen_ref"], "kind": "individual_82b",
        "proposed_on": "2018-06-01", "rule": "four_weeks_broken_agreements",
        "last_kept_on": "2018-03-01",
    }
    ended = tap.wait("intake.course_ended", lambda e: e["payload"]["course_id"] == p2)
    assert (ended["payload"]["reason"], ended["payload"]["ended_on"]) == (
        "broken_agreements", "2018-06-05")
    cancelled = tap.wait("intake.bridging_cancelled", lambda e: e["payload"]["course_id"] == p2)
    assert (cancelled["payload"]["due_on"], cancelled["payload"]["cancelled_on"]) == (
        "2018-05-20", "2018-06-05")
    assert not [e for e in tap.of_type("intake.course_ended")
                if e["payload"]["course_id"] == p3]


# --- Social Vejledning: § 85 referrals -----------------------------------------------------------


def test_referrals_85_for_social_vejledning_page_by_page_until_decided(world, tap: EventTap):
    def referred(start: dt.date, on: dt.date) -> str:
        course = world.course(start, D(2018, 9, 1), [D(2018, 6, 20)])
        world.run(handlers.refer_to_85, actor=ANNE,
                  course_id=uuid.UUID(course), on=on, ctx=world.ctx)
        return course

    s1 = referred(D(2018, 4, 2), D(2018, 5, 2))
    s2 = referred(D(2018, 4, 3), D(2018, 5, 9))
    s3 = referred(D(2018, 4, 4), D(2018, 5, 16))
    s4 = referred(D(2018, 4, 5), D(2018, 5, 23))
    s5 = referred(D(2018, 4, 6), D(2018, 5, 30))
    # The course may end while Social Vejledning decides: the referral stays on the list.
    world.run(handlers.end_course, actor=ANNE, course_id=uuid.UUID(s2),
              reason="citizen_withdrew", on=None)
    added: list[str] = []

    def between(page: int) -> None:
        added.append(referred(D(2018, 4, 6 + page), TODAY))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_referrals_85(actor=SOCIAL_VEJLEDNING, **kw)

        pages = page_through(fetch, limit=2, between=between)
        items = assert_read_once(pages, lambda i: i["subject_id"],
                                 [s1, s2, s3, s4, s5, *added])
        first = items[0]
        assert first["reason"] == (
            "Henvist til udredning efter servicelovens § 85 2. maj 2018 fra Fronten (individuelt "
            "forløb (§ 82 b)). Social Vejledning bedes træffe afgørelse senest 17. maj 2018.")
        # 10 working days: Kristi himmelfartsdag (10 May) is not one.
        assert (first["due_on"], first["overdue"]) == ("2018-05-17", True)
        assert items[1]["details"]["course_status"] == "ended"
        assert items[-1]["due_on"] == "2018-06-18"  # Grundlovsdag (5 June) is not one either
        assert world.searches("intake.referrals_85") == len(pages)

        decided = cluster.intake.record_referral_85_outcome(
            actor=SOCIAL_VEJLEDNING, course_id=s1, outcome="granted")
        assert decided["referrals_85"][0]["outcome"] == "granted"
        cluster.intake.record_referral_85_outcome(
            actor=SOCIAL_VEJLEDNING, course_id=s2, outcome="refused")
        left = [i["subject_id"] for i in fetch(limit=50)["items"]]
        assert left == [s3, s4, s5, *added]
    outcome = tap.wait("intake.referral_85_decided", lambda e: e["payload"]["course_id"] == s1)
    assert outcome["payload"]["outcome"] == "granted"


# --- Fronten: citizens outside the target group --------------------------------------------------


def test_outside_target_group_flags_page_by_page_until_decided(world, tap: EventTap):
    young, old = world.citizen(D(2003, 1, 1)), world.citizen(D(1901, 1, 1))
    minute = iter(range(1, 100))

    def later() -> None:  # each flag a minute after the last: they list in that order
        world.intake.clock.set(NOW + dt.timedelta(minutes=next(minute)))

    def resolved(ref: str, outcome: Outcome) -> str:
        inquiry = world.inquiry(ref, NOW - dt.timedelta(days=1))
        world.run(handlers.resolve_inquiry, world.ctx, actor=ANNE,
                  inquiry_id=uuid.UUID(inquiry), outcome=outcome, conversations=None,
                  resolved_at=None)
        return inquiry

    later()
    c_young = world.course(D(2018, 5, 1), D(2018, 9, 1), [D(2018, 6, 20)], citizen_ref=young)
    later()
    pathway = resolved(old, Outcome.REFERRAL_PATHWAY)
    later()
    c_old = world.course(D(2018, 5, 2), D(2018, 9, 1), [D(2018, 6, 20)], citizen_ref=old)
    later()
    world.run(handlers.refer_to_85, actor=ANNE, course_id=uuid.UUID(c_old),
              on=None, ctx=world.ctx)
    later()
    inquiry_85 = resolved(young, Outcome.REFERRAL_85)
    world.course(D(2018, 5, 3), D(2018, 9, 1), [D(2018, 6, 20)])  # in the group: no flag
    added: list[str] = []

    def between(page: int) -> None:
        later()
        added.append(world.course(D(2018, 5, 3 + page), D(2018, 9, 1), [D(2018, 6, 20)],
                                  citizen_ref=old))

    with world.intake.rpc() as cluster:
        def fetch(**kw: Any) -> dict[str, Any]:
            return cluster.intake.worklist_outside_target_group(actor=FRONTEN, **kw)

        pages = page_through(fetch, limit=2, between=between)
        expected = [("course", c_young), ("pathway_referral", pathway), ("course", c_old),
                    ("referral_85", c_old), ("referral_85", inquiry_85),
                    *(("course", c) for c in added)]
        items = assert_read_once(
            pages, lambda i: (i["details"]["subject"], i["details"]["flagged_subject_id"]),
            expected,
        )
        assert (items[0]["details"]["age"], items[1]["details"]["age"]) == (15, 117)
        assert items[1]["reason"] == (
            "Borgeren er henvist til et sammenhængende borgerforløb, men borgeren var 117 år "
            "1. juni 2018 og dermed uden for målgruppen (16 år til folkepensionsalderen). Tag "
            "stilling til, om det skal fortsætte.")
        assert [i["details"]["flagged_subject_id"]
                for i in fetch(subject="referral_85")["items"]] == [c_old, inquiry_85]

        first, second = items[0]["subject_id"], items[1]["subject_id"]
        decided = cluster.intake.decide_target_group_flag(
            actor=FRONTEN, flag_id=first, decision="accepted")
        assert (decided["decision"], decided["decided_on"]) == ("accepted", "2018-06-01")
        cluster.intake.decide_target_group_flag(actor=FRONTEN, flag_id=second,
                                                decision="declined")
        with pytest.raises(RemoteError) as err:
            cluster.intake.decide_target_group_flag(actor=FRONTEN, flag_id=first,
                                                    decision="declined")
        assert problems(err) == {"flag_id": "flag.already_decided"}
        with pytest.raises(RemoteError) as err:
            cluster.intake.decide_target_group_flag(
                actor=FRONTEN, flag_id="00000000-0000-4000-8000-000000000000",
                decision="accepted")
        assert err.value.exc_type == "NotFoundError"
        assert len(items_of(page_through(fetch, limit=200))) == len(items) - 2
    # Flagged, never refused: the referral of the 117-year-old went to coordination.
    referral = tap.wait("intake.pathway_referral", lambda e: e["payload"]["inquiry_id"] == pathway)
    assert referral["payload"]["under_30"] is False
    decisions = world.intake.rows(
        select(ACCESS_LOG.c.purpose).where(ACCESS_LOG.c.what == "target_group_flag")
    )
    assert [r.purpose for r in decisions] == ["afgørelse om borger uden for målgruppen"] * 2
