"""Every worklist of coordination, on SQLite and PostgreSQL through the real broker: read
page by page (at least three pages) while items are added between the pages, with no
duplicates, none missed, in the list's urgency order, each item saying why and by when
in Danish; and each page is one SEARCH entry in the access log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.coordination import ordering
from services.coordination.models import HousingAlertRow, metadata
from tests.integration.coordination.conftest import COORDINATOR, T0, Coordination, copenhagen, utc
from tests.integration.coordination.paging import check_read, read_all, rows
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
ME = "staff:m-social"  # the actor's id is the member id in teams
ACTOR = ME  # Mette, the tovholder of most pathways here
ULLA_ACTOR = "staff:m-upoint"
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
ULLA = {"member_id": "m-upoint", "name": "Ulla Ungekonsulent", "email": "ulla@balk.dk",
        "agency": "upoint", "role": "ungekonsulent"}
LARS = {"member_id": "m-school", "name": "Lars Lærer", "email": "lars@skole.dk",
        "agency": "school", "role": "lærer"}


def when(item: dict[str, Any], key: str) -> dt.datetime:
    return dt.datetime.fromisoformat(item["details"][key])


def searches(url: str, list_name: str) -> int:
    log = metadata.tables["access_log"]
    return len(rows(url, log, log.c.action == "search", log.c.criterion == list_name))


# --- coordinators --------------------------------------------------------------------------------


def test_awaiting_tovholder_under_30s_first_then_the_longest_waiting(coordination):
    c, seen = coordination, coordination.observer
    initial: set[str] = set()
    with c.rpc() as n:
        rpc = n.coordination
        for i, under_30 in enumerate([False, True, None, True, False, True, False]):
            c.at(T0 + dt.timedelta(minutes=i))
            initial.add(rpc.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()),
                                         under_30=under_30)["pathway_id"])
        # Fronten referred a citizen three days ago; the pathway opens now.
        referred = uuid.uuid4()
        c.publish("intake.pathway_referral", {
            "inquiry_id": uuid.uuid4(), "citizen_ref": referred, "topics": ["housing"],
            "under_30": False, "referred_at": T0 - dt.timedelta(days=3),
            "referred_by": "staff:fronten-anne"})
        from_referral = seen.wait("coordination.pathway_opened",
                                  where=lambda p: p["citizen_ref"] == str(referred))[0]
        assert from_referral["under_30"] is False
        initial.add(from_referral["pathway_id"])
        # Not awaiting: one with its tovholder, one closed.
        rpc.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()), tovholder=METTE)
        closed = rpc.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()))["pathway_id"]
        rpc.close_pathway(actor=COORDINATOR, pathway_id=closed, reason="Borgeren er flyttet.")

        added: list[str] = []

        def add(page: int) -> None:
            c.at(T0 + dt.timedelta(hours=page))
            added.append(rpc.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()),
                                          under_30=page == 1)["pathway_id"])

        items, pages = read_all(lambda **kw: rpc.awaiting_tovholder(actor=COORDINATOR, **kw),
                                limit=3, add_between=add)
        ids = check_read(items, pages, initial, key=lambda i: ordering.awaiting_key(
            i["details"]["under_30"], when(i, "waiting_since"), uuid.UUID(i["subject_id"])))
        assert closed not in ids
        assert added[1] in ids  # added behind the cursor's position: still read this time
        under = [i["details"]["under_30"] for i in items]
        assert under[:under.count(True)] == [True] * under.count(True)

        by_id = {i["subject_id"]: i for i in items}
        waiting = by_id[from_referral["pathway_id"]]
        assert waiting["reason"] == ("Borgeren venter på en tovholder i 3 dage "
                                     "(siden 26. februar 2021).")
        assert waiting["reason_code"] == "awaiting_tovholder"
        assert waiting["details"]["waiting_days"] == 3
        assert waiting["details"]["from_referral"] is True
        assert waiting["due_on"] == "2021-03-12"  # 14 days after the referral
        assert waiting["citizen_ref"] == str(referred)
        first = items[0]
        assert first["reason_code"] == "under_30_awaiting_tovholder"
        assert first["reason"].startswith("Borger under 30 år venter på en tovholder")

        # Appointing a tovholder takes the pathway off the list.
        rpc.add_member(actor=COORDINATOR, pathway_id=first["subject_id"], **METTE)
        rpc.appoint_tovholder(actor=COORDINATOR, pathway_id=first["subject_id"],
                              member_id="m-social")
        again = rpc.awaiting_tovholder(actor=COORDINATOR, limit=200)["items"]
        assert first["subject_id"] not in {i["subject_id"] for i in again}
        assert len(again) == len(items) - 1

        only_under_30 = rpc.awaiting_tovholder(actor=COORDINATOR, under_30=True)["items"]
        assert only_under_30 and all(i["details"]["under_30"] for i in only_under_30)
        assert searches(c.url, "coordination.awaiting_tovholder") == pages + 2


def test_a_foreign_cursor_is_refused_naming_the_cursor(coordination):
    from nameko.exceptions import RemoteError

    with coordination.rpc() as n:
        rpc = n.coordination
        for _ in range(3):
            rpc.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()))
        cursor = rpc.awaiting_tovholder(actor=COORDINATOR, limit=1)["next_cursor"]
        assert cursor
        with pytest.raises(RemoteError) as error:
            rpc.my_pathways(actor=ME, cursor=cursor)
    assert error.value.exc_type == "InvalidInput"
    assert '"field": "cursor"' in error.value.value


# --- a tovholder or team member ----------------------------------------------------------------


def _led_by(c: Coordination, rpc: Any, lead: dict[str, Any],
            *members: dict[str, Any]) -> tuple[str, str]:
    """A pathway led by `lead`, with `members` added by the lead; the citizen consented
    to the agencies other than social services (plan and meetings)."""
    citizen = str(uuid.uuid4())
    agencies = sorted({m["agency"] for m in (lead, *members)} - {"social_services"})
    if agencies:
        c.consent(citizen, *agencies)
    pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=citizen, tovholder=lead)["pathway_id"]
    for member in members:
        rpc.add_member(actor=f"staff:{lead['member_id']}", pathway_id=pathway_id, **member)
    return pathway_id, citizen


def test_my_pathways_those_i_lead_first(coordination):
    c = coordination
    with c.rpc() as n:
        rpc = n.coordination
        lead, member = [], []
        for i in range(4):
            c.at(T0 + dt.timedelta(minutes=i))
            lead.append(_led_by(c, rpc, METTE)[0])
        for i in range(3):
            c.at(T0 + dt.timedelta(minutes=10 + i))
            member.append(_led_by(c, rpc, ULLA, METTE)[0])
        not_mine = _led_by(c, rpc, ULLA, LARS)[0]
        closed = _led_by(c, rpc, METTE)[0]
        rpc.close_pathway(actor=ACTOR, pathway_id=closed, reason="Målene er nået.")
        rpc.draft_plan(actor=ACTOR, pathway_id=lead[0], goals=[{
            "text": "Jeg vil gerne komme i skole igen.",
            "actions": [{"text": "Mette ringer til skolen.", "owner_id": "m-social",
                         "due_on": "2021-03-05"}]}])

        added: list[str] = []

        def add(page: int) -> None:
            c.at(T0 + dt.timedelta(hours=page))
            added.append(_led_by(c, rpc, METTE)[0] if page == 1
                         else _led_by(c, rpc, ULLA, METTE)[0])

        items, pages = read_all(lambda **kw: rpc.my_pathways(actor=ME, **kw), limit=3,
                                add_between=add)
        ids = check_read(items, pages, set(lead + member), key=lambda i: ordering.my_pathway_key(
            i["details"]["my_role"] == "tovholder", when(i, "opened_at"),
            uuid.UUID(i["subject_id"])))
        assert not {not_mine, closed} & set(ids)
        assert added[1] in ids
        assert ids[:4] == lead
        by_id = {i["subject_id"]: i for i in items}
        assert by_id[lead[0]]["reason"] == ("Du er tovholder for forløbet. Den nyeste "
                                            "handleplan mangler borgerens godkendelse.")
        assert by_id[lead[0]]["due_on"] == "2021-03-05"  # the first open action
        assert by_id[member[0]]["reason"] == ("Du er med i teamet som socialrådgiver. "
                                              "Forløbet har ingen handleplan endnu.")
        assert by_id[member[0]]["details"]["tovholder_id"] == "m-upoint"

        as_member = rpc.my_pathways(actor=ME, role="member", limit=200)["items"]
        assert {i["subject_id"] for i in as_member} == {*member, added[1]}

        # Without a citizen, find_pathway answers the caller's own pathways.
        own = rpc.find_pathway(actor=ME)
        assert [p["pathway_id"] for p in own] == [i["subject_id"] for i in
                                                   rpc.my_pathways(actor=ME, limit=200)["items"]]
        assert own[0]["my_role"] == "tovholder"
        assert rpc.find_pathway(actor="staff:nobody") == []
        # The pages, the role filter, the full read and the two find_pathway calls.
        assert searches(c.url, "coordination.my_pathways") == pages + 4


def test_my_next_meetings_the_soonest_first(coordination):
    c = coordination
    with c.rpc() as n:
        rpc = n.coordination
        pathways = [_led_by(c, rpc, METTE, LARS)[0] for _ in range(3)]
        times = [(MON, 10), (MON, 13), (MON + dt.timedelta(days=1), 10),
                 (MON + dt.timedelta(days=1), 13), (MON + dt.timedelta(days=2), 10),
                 (MON + dt.timedelta(days=3), 10), (MON + dt.timedelta(days=4), 10)]
        initial = set()
        for index, (day, hour) in enumerate(times):
            invitees = [{"participant_id": "m-school"}] if index == 2 else []
            initial.add(rpc.schedule_meeting(
                actor=ACTOR, pathway_id=pathways[index % 3], starts_at=utc(copenhagen(day, hour)),
                ends_at=utc(copenhagen(day, hour + 1)), participants=invitees)["meeting_id"])
        # Not mine: Ulla's meeting without me; a cancelled one of mine.
        theirs = _led_by(c, rpc, ULLA)[0]
        rpc.schedule_meeting(actor=ULLA_ACTOR, pathway_id=theirs,
                             starts_at=utc(copenhagen(MON, 9)),
                             ends_at=utc(copenhagen(MON, 10)))
        cancelled = rpc.schedule_meeting(
            actor=ACTOR, pathway_id=pathways[0], starts_at=utc(copenhagen(MON, 8)),
            ends_at=utc(copenhagen(MON, 9)))["meeting_id"]
        rpc.cancel_meeting(actor=ACTOR, meeting_id=cancelled, reason="Vincent er syg.")

        added: list[str] = []

        def add(page: int) -> None:
            day = MON + dt.timedelta(days=7) if page == 1 else MON
            added.append(rpc.schedule_meeting(
                actor=ACTOR, pathway_id=pathways[0], starts_at=utc(copenhagen(day, 14)),
                ends_at=utc(copenhagen(day, 15)))["meeting_id"])

        items, pages = read_all(lambda **kw: rpc.my_meetings(actor=ME, **kw), limit=3,
                                add_between=add)
        ids = check_read(items, pages, initial, key=lambda i: ordering.meeting_key(
            when(i, "starts_at"), uuid.UUID(i["subject_id"])))
        assert cancelled not in ids
        assert added[0] in ids  # next Monday: read after the cursor
        assert items[0]["reason"] == ("Møde mandag 1. marts 2021 kl. 10.00 i Fronten, "
                                      "Parkvej 10. Du er tovholder og leder mødet.")
        assert items[0]["due_at"] == utc(copenhagen(MON, 10))
        assert [p["name"] for p in items[0]["details"]["participants"]] == [
            "Mette Socialrådgiver", "Borgeren"]

        until_tuesday = rpc.my_meetings(actor=ME, until="2021-03-02", limit=200)["items"]
        assert len(until_tuesday) == 5  # Monday 10, 13, 14 (added) and Tuesday 10, 13
        lars = rpc.my_meetings(actor="staff:m-school")["items"]
        assert len(lars) == 1
        assert lars[0]["reason"].endswith("Du er inviteret.")
        assert lars[0]["details"]["my_role"] == "participant"

        # From the start of today: Monday's meetings are gone on Wednesday.
        c.at(copenhagen(MON + dt.timedelta(days=2), 7))
        later = rpc.my_meetings(actor=ME, limit=200)["items"]
        wednesday = MON + dt.timedelta(days=2)
        assert min(when(i, "starts_at") for i in later) == copenhagen(wednesday, 10)


def test_a_new_tovholder_sees_the_meetings_planned_before_the_handover(coordination):
    c = coordination
    with coordination.rpc() as n:
        rpc = n.coordination
        pathway_id = _led_by(c, rpc, METTE, ULLA)[0]
        meeting = rpc.schedule_meeting(actor=ACTOR, pathway_id=pathway_id,
                                       starts_at=utc(copenhagen(MON, 10)),
                                       ends_at=utc(copenhagen(MON, 11)))["meeting_id"]
        assert rpc.my_meetings(actor="staff:m-upoint")["items"] == []
        rpc.hand_over_tovholder(actor=ACTOR, pathway_id=pathway_id, new_tovholder_id="m-upoint",
                                reason="Mette går på barsel.")
        ulla = rpc.my_meetings(actor="staff:m-upoint")["items"]
        mette = rpc.my_meetings(actor=ME)["items"]
    assert [(i["subject_id"], i["details"]["my_role"]) for i in ulla] == [(meeting, "tovholder")]
    assert [(i["subject_id"], i["details"]["my_role"]) for i in mette] == [
        (meeting, "participant")]  # still invited


def test_my_actions_due_or_overdue_mine_or_on_pathways_i_lead(coordination):
    c = coordination

    def action(action_id: str, owner: str, days: int) -> dict[str, str]:
        return {"action_id": action_id, "text": f"Skridt {action_id}", "owner_id": owner,
                "due_on": (MON + dt.timedelta(days=days)).isoformat()}

    def goals(*actions: dict[str, str]) -> list[dict[str, Any]]:
        return [{"goal_id": "g-1", "text": "Jeg vil gerne komme i skole igen.",
                 "actions": list(actions)}]

    with c.rpc() as n:
        rpc = n.coordination
        a = _led_by(c, rpc, METTE, ULLA, LARS)[0]
        b = _led_by(c, rpc, ULLA, METTE)[0]
        c_ = _led_by(c, rpc, METTE, ULLA, LARS)[0]
        a_actions = [action("a1", "m-upoint", -5), action("a2", "m-social", -2),
                     action("a3", "m-school", 0), action("a4", "m-social", 7),
                     action("a5", "m-upoint", -1)]
        rpc.draft_plan(actor=ACTOR, pathway_id=a, goals=goals(*a_actions))
        rpc.set_action_status(actor=ACTOR, pathway_id=a, action_id="a5", status="done")
        rpc.draft_plan(actor=ULLA_ACTOR, pathway_id=b, goals=goals(
            action("b1", "m-social", -3), action("b2", "m-upoint", -4)))
        c_actions = [action("c1", "m-social", -10), action("c2", "m-school", -6),
                     action("c3", "m-upoint", 0)]
        rpc.draft_plan(actor=ACTOR, pathway_id=c_, goals=goals(*c_actions))
        initial = {"a1", "a2", "a3", "b1", "c1", "c2", "c3"}

        def add(page: int) -> None:
            if page == 1:  # due today: after the cursor
                rpc.revise_plan(actor=ACTOR, pathway_id=a,
                                goals=goals(*a_actions, action("a6", "m-social", 0)))
            else:  # long overdue: behind the cursor, seen on the next read
                rpc.revise_plan(actor=ACTOR, pathway_id=c_,
                                goals=goals(*c_actions, action("c4", "m-school", -20)))

        items, pages = read_all(lambda **kw: rpc.my_actions(actor=ME, **kw), limit=3,
                                add_between=add)
        ids = check_read(items, pages, initial, key=lambda i: i["due_on"])
        assert not {"a4", "a5", "b2"} & set(ids)
        assert "a6" in ids
        first = items[0]
        assert (first["subject_id"], first["kind"], first["days_left"], first["overdue"]) == (
            "c1", "action_overdue", -10, True)
        a1 = next(i for i in items if i["subject_id"] == "a1")
        assert a1["reason"] == ("Handlingen er overskredet med 5 dage (frist 24. februar "
                                "2021). Du er tovholder for forløbet.")
        assert a1["details"]["owner_name"] == "Ulla Ungekonsulent"
        assert a1["details"]["my_role"] == "tovholder"
        b1 = next(i for i in items if i["subject_id"] == "b1")
        assert b1["reason"].endswith("Du er ansvarlig for den.")
        a3 = next(i for i in items if i["subject_id"] == "a3")
        assert (a3["kind"], a3["reason"]) == (
            "action_due", "Handlingen skal være gjort i dag. Du er tovholder for forløbet.")

        overdue = rpc.my_actions(actor=ME, overdue_only=True, limit=200)["items"]
        assert {i["subject_id"] for i in overdue} == {"c4", "c1", "c2", "a1", "b1", "a2"}
        # Done is off the list.
        rpc.set_action_status(actor=ACTOR, pathway_id=c_, action_id="c1", status="done")
        assert "c1" not in {i["subject_id"] for i in
                            rpc.my_actions(actor=ME, limit=200)["items"]}


def _case(citizen: str, case_id: uuid.UUID, at: dt.datetime, deadline_days: int,
          **extra: Any) -> dict[str, Any]:
    return {"case_id": case_id, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
            "citizen_ref": uuid.UUID(citizen), "level": "reported",
            "next_deadline": at + dt.timedelta(days=deadline_days),
            "asks": [{"addressee": "tovholder", "request": "for_information"}],
            "occurred_at": at, **extra}


def _opened(citizen: str, case_id: uuid.UUID, at: dt.datetime, days: int) -> dict[str, Any]:
    return _case(citizen, case_id, at, days, source="association", citizen_match_pending=False)


def test_my_housing_alerts_late_help_first(coordination):
    c = coordination
    url = c.url
    with c.rpc() as n:
        rpc = n.coordination
        mine = [_led_by(c, rpc, METTE)[1] for _ in range(4)]
        theirs = _led_by(c, rpc, ULLA)[1]
        no_pathway = str(uuid.uuid4())
    cases = {name: uuid.uuid4() for name in ("c1", "c2a", "c2b", "c3", "c4", "c3closed",
                                             "theirs", "none")}
    c.publish("housing.case_opened", _opened(mine[0], cases["c1"], T0, 10))
    c.publish("housing.case_opened", _opened(mine[1], cases["c2a"], T0, 5))
    c.publish("housing.case_opened", _opened(mine[1], cases["c2b"], T0, 2))
    c.publish("housing.case_opened", _opened(mine[2], cases["c3"], T0, 20))
    c.publish("housing.warning_flagged", _case(
        mine[3], cases["c4"], T0, 30, flag="processing_exceeds_pakrav_deadline",
        pakrav_deadline=dt.date(2021, 3, 13)))
    c.publish("housing.action_overdue", _case(mine[0], cases["c1"], T0 + dt.timedelta(hours=1),
                                              10, deadline_kind="outreach"))
    c.publish("housing.case_opened", _opened(mine[2], cases["c3closed"], T0, 1))
    c.publish("housing.case_closed", {"case_id": cases["c3closed"],
                                      "association_id": "kab-ballerup", "tenancy_ref": None,
                                      "citizen_ref": uuid.UUID(mine[2]),
                                      "closure": "tenancy_kept",
                                      "closed_at": T0 + dt.timedelta(hours=2)})
    c.publish("housing.case_opened", _opened(theirs, cases["theirs"], T0, 1))
    c.publish("housing.case_opened", _opened(no_pathway, cases["none"], T0, 1))

    def settled() -> bool:
        found = {r.case_id: r for r in rows(url, HousingAlertRow)}
        return (len(found) == 8 and found[cases["c3closed"]].closed_at is not None
                and found[cases["c1"]].overdue_kind == "outreach")

    wait_for(settled, what="eight housing alerts, one closed, one overdue")

    def add(page: int) -> None:
        case_id = uuid.uuid4()
        c.publish("housing.case_opened",
                  _opened(mine[3], case_id, T0, 60 if page == 1 else 1))
        wait_for(lambda: rows(url, HousingAlertRow, HousingAlertRow.case_id == case_id),
                 what="the added case")

    with c.rpc() as n:
        rpc = n.coordination
        items, pages = read_all(lambda **kw: rpc.my_housing_alerts(actor=ME, **kw), limit=2,
                                add_between=add)
        initial = {str(cases[k]) for k in ("c1", "c2a", "c2b", "c3", "c4")}
        ids = check_read(items, pages, initial, key=lambda i: (
            i["details"]["priority"], i["due_at"] or "9999"))
        assert not {str(cases[k]) for k in ("c3closed", "theirs", "none")} & set(ids)
        assert ids[:2] == [str(cases["c4"]), str(cases["c1"])]
        late = items[0]
        assert (late["kind"], late["reason_code"], late["due_on"]) == (
            "housing_warning", "processing_exceeds_pakrav_deadline", "2021-03-13")
        assert late["reason"] == ("Hjælp efter § 81 a kan først komme efter påkravsfristen "
                                  "13. marts 2021. Kontakt borgeren og lav en plan nu.")
        overdue = items[1]
        assert overdue["kind"] == "housing_deadline_overdue"
        assert overdue["reason"].startswith(
            "Fristen for kontakten til borgeren i huslejesagen er overskredet.")
        assert items[2]["details"]["requests_text"] == ["Til orientering"]
        urgent = rpc.my_housing_alerts(actor=ME, urgent_only=True)["items"]
        assert [i["subject_id"] for i in urgent] == ids[:2]
        # Ulla leads the pathway of "theirs": it is on her list, not on Mette's.
        assert [i["subject_id"] for i in rpc.my_housing_alerts(actor="staff:m-upoint")[
            "items"]] == [str(cases["theirs"])]
