"""Closed-loop hand-offs through the real broker, on SQLite and PostgreSQL (issue 16):
the tovholder refers the citizen to an offer from the partner directory
(coordination.offer_referral_requested, the ask stays here); partners' answers and
escalations of hand-offs of citizens with an open pathway land on the timeline, and
the declined and the unanswered ones on the tovholder's list of hand-offs needing
attention, in any order of arrival, until answered or acknowledged."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from nameko.exceptions import RemoteError

from services.coordination import ordering
from services.coordination.models import CitizenActivity, HandoffRow, PartnerRow
from tests.integration.coordination.conftest import T0, Coordination, staff, utc
from tests.integration.coordination.paging import check_read, read_all, rows
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

METTE = staff("m-social", "tovholder")
ULLA = staff("m-upoint", "tovholder")
LARS = staff("m-school", "tovholder")
BO = staff("m-bo", "tovholder")
SPEC = {
    "m-social": {"member_id": "m-social", "name": "Mette Socialrådgiver",
                 "email": "mette@balk.dk", "phone": "+45 44 77 34 43",
                 "agency": "social_services", "role": "socialrådgiver"},
    "m-upoint": {"member_id": "m-upoint", "name": "Ulla Ungekonsulent",
                 "email": "ulla@balk.dk", "agency": "social_services", "role": "ungekonsulent"},
    "m-school": {"member_id": "m-school", "name": "Lars Lærer", "email": "lars@skole.dk",
                 "agency": "school", "role": "lærer"},
    "m-bo": {"member_id": "m-bo", "name": "Bo Bostøtte", "email": "bo@balk.dk",
             "agency": "social_services", "role": "bostøtte"},
}


def refusal(call: Any) -> tuple[str, list[dict[str, str]]]:
    with pytest.raises(RemoteError) as error:
        call()
    return error.value.exc_type, json.loads(error.value.value)["errors"]


def directory(c: Coordination) -> None:
    """The partner directory as the partners service announces it."""
    for partner_id, name, accepts, active in [
        ("ungdomsklubben", "Ungdomsklubben Ballerup", ["offer_referral"], True),
        ("frivillig-mentor", "Frivillige Mentorer", ["offer_referral"], True),
        ("jobcenter-ballerup", "Jobcenter Ballerup", ["bridging_employment"], True),
        ("gammel-klub", "Den Gamle Klub", ["offer_referral"], False),
    ]:
        c.publish("partners.partner_registered", {
            "partner_id": partner_id, "name": name,
            "category": "employment" if partner_id.startswith("job") else "volunteer",
            "accepts": accepts, "active": active, "changed_at": T0})


def led_by_mette(c: Coordination, *members: str) -> tuple[str, uuid.UUID]:
    citizen = uuid.uuid4()
    agencies = sorted({SPEC[m]["agency"] for m in members} - {"social_services"})
    if agencies:
        c.consent(citizen, *agencies, kinds=("meeting_schedule", "bridging_status"))
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=METTE, citizen_ref=str(citizen),
                                                 tovholder=SPEC["m-social"])["pathway_id"]
        for member in members:
            n.coordination.add_member(actor=METTE, pathway_id=pathway_id, **SPEC[member])
    return pathway_id, citizen


def updated(citizen: uuid.UUID, handoff_id: uuid.UUID, state: str, at: dt.datetime, *,
            kind: str = "bridging_education", partner_id: str = "uu-ballerup",
            subject_type: str = "course", subject_id: uuid.UUID | None = None,
            previous: str = "requested", reason: str | None = None,
            outcome: str | None = None) -> dict[str, Any]:
    return {"handoff_id": handoff_id, "kind": kind, "partner_id": partner_id,
            "subject_type": subject_type, "subject_id": subject_id or uuid.uuid4(),
            "citizen_ref": citizen, "state": state, "previous_state": previous,
            "reason": reason, "outcome": outcome, "hold_until": None,
            "answered_by": f"partner:{partner_id}", "at": at,
            "title": f"Overdragelse: {state}"}


def escalated(citizen: uuid.UUID, handoff_id: uuid.UUID, at: dt.datetime, *,
              kind: str = "bridging_education", partner_id: str = "uu-ballerup",
              subject_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {"handoff_id": handoff_id, "kind": kind, "partner_id": partner_id,
            "subject_type": "course", "subject_id": subject_id or uuid.uuid4(),
            "citizen_ref": citizen, "requested_at": at - dt.timedelta(days=7),
            "answer_by": (at - dt.timedelta(days=1)).date(), "escalated_at": at,
            "responsible_email": "anne@balk.dk", "mailbox": "fronten"}


def handoff(url: str, handoff_id: uuid.UUID) -> Any:
    found = rows(url, HandoffRow, HandoffRow.handoff_id == handoff_id)
    return found[0] if found else None


def test_the_tovholder_refers_the_citizen_to_an_offer_from_the_directory(coordination):
    c, seen = coordination, coordination.observer
    directory(c)
    pathway_id, citizen = led_by_mette(c, "m-school", "m-bo")
    wait_for(lambda: len(rows(c.url, PartnerRow)) == 4, what="the directory in coordination")
    before = c.counts()
    with c.rpc() as n:
        rpc = n.coordination
        # Only an active partner that takes offer referrals; the error lists them.
        for partner_id in ("jobcenter-ballerup", "gammel-klub", "ukendt"):
            exc_type, errors = refusal(lambda p=partner_id: rpc.refer_to_offer(
                actor=METTE, pathway_id=pathway_id, partner_id=p, ask="Kan han komme med?"))
            assert (exc_type, errors) == ("InvalidInput", [{
                "field": "partner_id", "rule": "partner.unknown",
                "message": f"no active partner {partner_id} in the directory takes offer "
                           "referrals; allowed: frivillig-mentor, ungdomsklubben"}])
        # The tovholder's: a team member may not; an outsider gets a missing pathway.
        assert refusal(lambda: rpc.refer_to_offer(
            actor=BO, pathway_id=pathway_id, partner_id="ungdomsklubben", ask="Plads?"))[1][0][
            "rule"] == "not_allowed"
        assert refusal(lambda: rpc.refer_to_offer(
            actor=ULLA, pathway_id=pathway_id, partner_id="ungdomsklubben", ask="Plads?"))[0] \
            == "NotFoundError"
        assert refusal(lambda: rpc.refer_to_offer(
            actor=METTE, pathway_id=pathway_id, partner_id="ungdomsklubben", ask="   "))[1] == [{
                "field": "ask", "rule": "offer_referral.ask_missing",
                "message": "say what is asked of the offer"}]
        assert c.counts() == before

        referral = rpc.refer_to_offer(actor=METTE, pathway_id=pathway_id,
                                      partner_id="ungdomsklubben",
                                      ask="Kan Vincent komme med på onsdagsholdet?")
        again = refusal(lambda: rpc.refer_to_offer(
            actor=METTE, pathway_id=pathway_id, partner_id="ungdomsklubben", ask="Igen?"))
        view = rpc.get_pathway(actor=METTE, pathway_id=pathway_id)
        lars = rpc.get_pathway(actor=LARS, pathway_id=pathway_id)
        lars_kinds = {e["kind"] for e in rpc.timeline(actor=LARS,
                                                      pathway_id=pathway_id)["entries"]}

    requested = seen.wait("coordination.offer_referral_requested")
    assert requested == [{
        "pathway_id": pathway_id, "citizen_ref": str(citizen), "partner_id": "ungdomsklubben",
        "requested_at": utc(T0),
        "responsible": {"staff_id": "m-social", "name": "Mette Socialrådgiver",
                        "email": "mette@balk.dk", "phone": "+45 44 77 34 43"}}]
    assert "ask" not in requested[0]  # what is asked stays in coordination
    assert again[1][0]["rule"] == "offer_referral.open"
    assert view["offer_referrals"] == [{
        "referral_id": referral["referral_id"], "partner_id": "ungdomsklubben",
        "partner_name": "Ungdomsklubben Ballerup",
        "ask": "Kan Vincent komme med på onsdagsholdet?", "requested_at": utc(T0),
        "requested_by": "staff:m-social", "handoff_id": None, "handoff_state": None,
        "handoff_title": None}]
    # The school's consent does not cover the action plan: no referrals for Lars.
    assert lars["offer_referrals"] == [] and "offer_referrals" in lars["withheld"]
    assert "offer_referral_requested" not in lars_kinds

    # partners made the hand-off; the club declines: on the pathway and Mette's list, and
    # a new referral to the club is possible.
    handoff_id = uuid.uuid4()
    c.publish("partners.handoff_updated", updated(
        citizen, handoff_id, "declined", T0 + dt.timedelta(days=2), kind="offer_referral",
        partner_id="ungdomsklubben", subject_type="pathway",
        subject_id=uuid.UUID(pathway_id), reason="Holdet er fuldt til sommer."))
    wait_for(lambda: handoff(c.url, handoff_id), what="the declined hand-off")
    with c.rpc() as n:
        rpc = n.coordination
        shown = rpc.get_pathway(actor=METTE, pathway_id=pathway_id)["offer_referrals"][0]
        listed = rpc.my_handoffs(actor=METTE)["items"]
        rpc.refer_to_offer(actor=METTE, pathway_id=pathway_id, partner_id="ungdomsklubben",
                           ask="Er der plads på et andet hold?")
    assert (shown["handoff_id"], shown["handoff_state"]) == (str(handoff_id), "declined")
    assert [(i["subject_id"], i["reason_code"]) for i in listed] == [
        (str(handoff_id), "handoff_declined")]
    assert listed[0]["reason"] == (
        "Ungdomsklubben Ballerup har afvist henvisningen til tilbuddet. Begrundelse: "
        "Holdet er fuldt til sommer. Aftal det videre med borgeren.")
    assert listed[0]["details"]["pathway_id"] == pathway_id


def test_handoffs_needing_attention_page_by_page_in_any_order_of_arrival(coordination):
    c = coordination
    mine = [led_by_mette(c)[1] for _ in range(3)]
    with c.rpc() as n:  # Ulla's citizen
        other = uuid.uuid4()
        n.coordination.open_pathway(actor=ULLA, citizen_ref=str(other),
                                    tovholder=SPEC["m-upoint"])
    no_pathway = uuid.uuid4()
    ids = {name: uuid.uuid4() for name in ("esc1", "dec1", "esc2", "answered", "theirs",
                                           "lonely", "accepted_late", "dec2")}
    day = dt.timedelta(days=1)
    # Escalations that arrive before the hand-off's first update, and the other way round.
    c.publish("partners.handoff_escalated", escalated(mine[0], ids["esc1"], T0 + 1 * day))
    c.publish("partners.handoff_updated", updated(mine[0], ids["esc1"], "received",
                                                  T0 - day))
    c.publish("partners.handoff_updated", updated(mine[1], ids["dec1"], "declined",
                                                  T0 + 2 * day, reason="Ingen pladser."))
    c.publish("partners.handoff_updated", updated(mine[1], ids["esc2"], "requested",
                                                  T0 - 2 * day))
    c.publish("partners.handoff_escalated", escalated(mine[1], ids["esc2"], T0 + 3 * day))
    # Answered after the escalation: off the list, whichever event comes first.
    c.publish("partners.handoff_updated", updated(mine[2], ids["answered"], "accepted",
                                                  T0 + 5 * day))
    c.publish("partners.handoff_escalated", escalated(mine[2], ids["answered"], T0 + 4 * day))
    c.publish("partners.handoff_escalated", escalated(mine[2], ids["accepted_late"],
                                                      T0 + 4 * day))
    c.publish("partners.handoff_updated", updated(mine[2], ids["dec2"], "declined",
                                                  T0 + 6 * day, kind="hold_termination",
                                                  partner_id="kab-ballerup",
                                                  reason="Lejen er ikke betalt."))
    c.publish("partners.handoff_updated", updated(other, ids["theirs"], "declined",
                                                  T0 + 1 * day))
    c.publish("partners.handoff_updated", updated(no_pathway, ids["lonely"], "declined",
                                                  T0 + 1 * day))
    marker = uuid.uuid4()  # behind the others on the updates' queue
    c.publish("partners.handoff_updated", updated(mine[0], marker, "received", T0))

    def settled() -> bool:
        found = {r.handoff_id: r for r in rows(c.url, HandoffRow)}
        escalations = [found.get(ids[k]) for k in ("answered", "esc1", "esc2",
                                                    "accepted_late")]
        return marker in found and all(e is not None and e.escalated_at is not None
                                       for e in escalations)

    wait_for(settled, what="the hand-off events folded")
    assert handoff(c.url, ids["lonely"]) is None  # no open pathway: not coordination's
    assert ids["lonely"] not in {r.details.get("handoff_id") for r in rows(c.url,
                                                                           CitizenActivity)}
    c.publish("partners.handoff_updated", updated(mine[2], ids["accepted_late"], "accepted",
                                                  T0 + 5 * day))
    wait_for(lambda: handoff(c.url, ids["accepted_late"]).state == "accepted",
             what="the late acceptance")

    def add(page: int) -> None:
        new_id = uuid.uuid4()
        # Page 1: escalated later than all (read after the cursor); page 2: declined
        # earlier than all (behind the cursor: seen on the next read).
        if page == 1:
            c.publish("partners.handoff_escalated", escalated(mine[0], new_id, T0 + 9 * day))
        else:
            c.publish("partners.handoff_updated", updated(mine[0], new_id, "declined",
                                                          T0 - 9 * day))
        wait_for(lambda: getattr(handoff(c.url, new_id), "attention", None),
                 what="the added hand-off")
        added.append(str(new_id))

    added: list[str] = []
    with c.rpc() as n:
        rpc = n.coordination
        items, pages = read_all(lambda **kw: rpc.my_handoffs(actor=METTE, **kw), limit=1,
                                add_between=add)
        initial = {str(ids[k]) for k in ("esc1", "dec1", "esc2", "dec2")}
        order = check_read(items, pages, initial, key=lambda i: ordering.handoff_key(
            dt.datetime.fromisoformat(i["details"]["attention_since"]),
            uuid.UUID(i["subject_id"])))
        assert not {str(ids[k]) for k in ("answered", "accepted_late", "theirs")} & set(order)
        assert added[0] in order
        by_id = {i["subject_id"]: i for i in items}
        esc = by_id[str(ids["esc1"])]
        assert (esc["kind"], esc["due_on"]) == ("handoff_escalated", "2021-03-01")
        assert esc["reason"] == ("uu-ballerup har ikke svaret på brobygningen til uddannelse; "
                                 "svarfristen var 1. marts 2021. Følg op hos uu-ballerup.")
        hold = by_id[str(ids["dec2"])]
        assert hold["reason"].startswith("kab-ballerup har afvist anmodningen om at vente med "
                                         "at ophæve lejemålet. Begrundelse: Lejen er ikke")
        only_declined = rpc.my_handoffs(actor=METTE, attention="declined", limit=50)["items"]
        assert {i["subject_id"] for i in only_declined} == {
            str(ids["dec1"]), str(ids["dec2"]), added[1]}
        assert [i["subject_id"] for i in rpc.my_handoffs(actor=ULLA)["items"]] == [
            str(ids["theirs"])]
        # The timeline shows the answers and the escalation to the tovholder.
        pathway_id = by_id[str(ids["esc1"])]["details"]["pathway_id"]
        kinds = [(e["kind"], e["details"].get("state")) for e in rpc.timeline(
            actor=METTE, pathway_id=pathway_id)["entries"] if e["kind"].startswith("handoff")]
        assert ("handoff_escalated", None) in kinds and ("handoff_updated", "received") in kinds


def test_the_tovholder_acknowledges_a_handoff_until_a_new_reason_comes(coordination):
    c = coordination
    pathway_id, citizen = led_by_mette(c, "m-school")
    other_pathway, other_citizen = led_by_mette(c)
    handoff_id, theirs = uuid.uuid4(), uuid.uuid4()
    c.publish("partners.handoff_escalated", escalated(citizen, handoff_id, T0))
    c.publish("partners.handoff_updated", updated(other_citizen, theirs, "declined", T0))
    wait_for(lambda: handoff(c.url, handoff_id) and handoff(c.url, theirs),
             what="the escalation")
    with c.rpc() as n:
        rpc = n.coordination
        # Another pathway's hand-off is not found on this one; a member may not acknowledge.
        assert refusal(lambda: rpc.acknowledge_handoff(
            actor=METTE, pathway_id=pathway_id, handoff_id=str(theirs))) == (
            "NotFoundError", [{"field": "handoff_id", "rule": "not_found",
                               "message": f"no hand-off {theirs} on this pathway"}])
        assert refusal(lambda: rpc.acknowledge_handoff(
            actor=LARS, pathway_id=pathway_id, handoff_id=str(handoff_id)))[1][0]["rule"] == \
            "not_allowed"
        rpc.acknowledge_handoff(actor=METTE, pathway_id=pathway_id,
                                handoff_id=str(handoff_id), note="Jeg har ringet til UU.")
        assert str(handoff_id) not in {i["subject_id"] for i in
                                       rpc.my_handoffs(actor=METTE)["items"]}
        assert refusal(lambda: rpc.acknowledge_handoff(
            actor=METTE, pathway_id=pathway_id, handoff_id=str(handoff_id)))[1][0]["rule"] == \
            "handoff.no_attention_needed"
        lars_kinds = [e["kind"] for e in rpc.timeline(actor=LARS,
                                                      pathway_id=pathway_id)["entries"]]
    # Then UU declines: back on the list.
    c.publish("partners.handoff_updated", updated(citizen, handoff_id, "declined",
                                                  T0 + dt.timedelta(hours=1),
                                                  reason="Ingen pladser."))
    wait_for(lambda: handoff(c.url, handoff_id).state == "declined", what="the decline")
    with c.rpc() as n:
        items = n.coordination.my_handoffs(actor=METTE)["items"]
        entries = n.coordination.timeline(actor=METTE, pathway_id=pathway_id)["entries"]
    # Back on the list (beside the other pathway's declined hand-off, also Mette's).
    assert sorted((i["subject_id"], i["kind"]) for i in items) == sorted([
        (str(handoff_id), "handoff_declined"), (str(theirs), "handoff_declined")])
    acknowledged = [e for e in entries if e["kind"] == "handoff_acknowledged"]
    assert acknowledged[0]["details"]["note"] == "Jeg har ringet til UU."
    assert acknowledged[0]["actor"] == "staff:m-social"
    # The school's consent covers bridging: Lars sees the bridging hand-off on the timeline.
    assert "handoff_escalated" in lars_kinds and "handoff_acknowledged" in lars_kinds
    assert other_pathway != pathway_id
