"""Plans people can read (version 1 after version 2, with who agreed, when and how),
network persons who may be contacted (get_participant_contact, a logged disclosure),
and the access log on reads and changes."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError

from services.coordination.models import metadata
from tests.integration.coordination.conftest import T0, copenhagen, utc
from tests.integration.coordination.paging import rows

pytestmark = pytest.mark.integration

MON = dt.date(2021, 3, 1)
ACTOR = "staff:m-social"  # the tovholder (the actor's id is the member id)
ULLA_ACTOR = "staff:m-upoint"
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
ULLA = {"member_id": "m-upoint", "name": "Ulla Ungekonsulent", "email": "ulla@balk.dk",
        "agency": "upoint", "role": "ungekonsulent"}
V1 = [{"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen.",
       "actions": [{"action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
                    "owner_id": "m-upoint", "due_on": "2021-03-15"}]}]
V2 = [*V1, {"goal_id": "g-shy", "text": "Jeg vil være mindre genert.", "voice": "citizen",
            "actions": [{"action_id": "a-club", "text": "Vincent prøver ungdomsklubben.",
                         "owner_id": "m-social", "due_on": "2021-04-01"}]}]


def access_log(url: str) -> list[tuple[str, str, str | None]]:
    log = metadata.tables["access_log"]
    return [(r.action, r.what, r.purpose) for r in rows(url, log)]


def test_version_1_of_the_plan_is_readable_after_version_2(coordination):
    c = coordination
    citizen = uuid.uuid4()
    c.consent(citizen, "upoint")
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        rpc.add_member(actor=ACTOR, pathway_id=pathway_id, **ULLA)
        rpc.draft_plan(actor=ACTOR, pathway_id=pathway_id, goals=V1)
        c.at(T0 + dt.timedelta(hours=2))
        rpc.record_plan_agreement(actor=ACTOR, pathway_id=pathway_id, version=1, how="phone")
        c.at(T0 + dt.timedelta(days=7))
        # Ulla marks her own action; then she takes over and revises the plan.
        rpc.set_action_status(actor=ULLA_ACTOR, pathway_id=pathway_id, action_id="a-bed",
                              status="done")
        rpc.hand_over_tovholder(actor=ACTOR, pathway_id=pathway_id,
                                new_tovholder_id="m-upoint", reason="Mette går på barsel.")
        rpc.revise_plan(actor=ULLA_ACTOR, pathway_id=pathway_id, goals=V2)
        c.at(T0 + dt.timedelta(days=7, hours=1))
        rpc.record_plan_agreement(actor=ULLA_ACTOR, pathway_id=pathway_id, version=2,
                                  how="in_meeting")

        first = rpc.get_plan_version(actor=ACTOR, pathway_id=pathway_id, version=1)
        second = rpc.get_plan_version(actor=ACTOR, pathway_id=pathway_id, version=2)
        listing = rpc.list_plan_versions(actor=ACTOR, pathway_id=pathway_id)
        with pytest.raises(RemoteError) as missing:
            rpc.get_plan_version(actor=ACTOR, pathway_id=pathway_id, version=3)

    assert [g["text"] for g in first["goals"]] == ["Jeg vil gerne komme i skole igen."]
    assert first["goals"][0]["actions"] == [{
        "action_id": "a-bed", "text": "Ulla hjælper Vincent ud af sengen.",
        "owner_id": "m-upoint", "owner_name": "Ulla Ungekonsulent", "due_on": "2021-03-15",
        "status_now": "done"}]
    assert first["agreement"] == {"agreed_by": "citizen",
                                  "agreed_at": utc(T0 + dt.timedelta(hours=2)),
                                  "how": "phone", "how_text": "telefonisk",
                                  "recorded_by": ACTOR}
    assert (first["current"], first["created_by"], first["superseded_at"]) == (
        False, ACTOR, utc(T0 + dt.timedelta(days=7)))
    assert second["current"] is True and second["created_by"] == ULLA_ACTOR
    assert second["agreement"]["how_text"] == "på et møde"
    assert [g["voice_text"] for g in second["goals"]] == ["borgerens egne ord"] * 2
    assert (listing["current_version"], listing["agreed_version"]) == (2, 2)
    assert [(v["version"], v["goals"], v["actions"], v["agreement"]["how"])
            for v in listing["versions"]] == [(1, 1, 1, "phone"), (2, 2, 2, "in_meeting")]
    assert missing.value.exc_type == "NotFoundError"
    assert json.loads(missing.value.value)["errors"][0]["field"] == "version"
    reads = [(a, w) for a, w, _ in access_log(c.url) if a == "read"]
    assert reads == [("read", "plan")] * 3  # the refused read logged nothing


def test_network_contacts_only_with_the_citizens_consent(coordination):
    c, seen = coordination, coordination.observer
    citizen = uuid.uuid4()
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        mother = rpc.add_network_person(actor=ACTOR, pathway_id=pathway_id, name="Hanne",
                                        relation="mor", email="hanne@example.dk",
                                        phone="+45 20 30 40 50", may_contact=True)
        father = rpc.add_network_person(actor=ACTOR, pathway_id=pathway_id, name="Jens",
                                        relation="far", email="jens@example.dk")
        assert (mother["may_contact"], father["may_contact"]) == (True, False)

        # Network persons are meeting participants: the invitation lists the mother.
        rpc.schedule_meeting(actor=ACTOR, pathway_id=pathway_id,
                             starts_at=utc(copenhagen(MON, 10)), ends_at=utc(copenhagen(MON, 11)),
                             participants=[{"participant_id": mother["person_id"]}])
        contact = rpc.get_participant_contact(actor="service:notifications",
                                              pathway_id=pathway_id,
                                              participant_id=mother["person_id"],
                                              purpose="Mødeindkaldelse")
        refusals = {}
        for who in (father["person_id"], "m-social", "n-unknown"):
            with pytest.raises(RemoteError) as error:
                rpc.get_participant_contact(actor="service:notifications", pathway_id=pathway_id,
                                            participant_id=who, purpose="Mødeindkaldelse")
            refusals[who] = error.value
        view = rpc.get_pathway(actor=ACTOR, pathway_id=pathway_id)

    assert contact == {"participant_id": mother["person_id"], "name": "Hanne",
                       "email": "hanne@example.dk", "phone": "+45 20 30 40 50"}
    assert {e.exc_type for e in refusals.values()} == {"NotFoundError"}
    assert "not agreed" in refusals[father["person_id"]].value
    invitation = seen.wait("coordination.meeting_scheduled")[0]
    network = [p for p in invitation["participants"] if p["kind"] == "network"]
    assert network == [{"participant_id": mother["person_id"], "kind": "network",
                        "required": True, "name": "Hanne", "email": None}]
    assert {p["name"]: p["may_contact"] for p in view["network"]} == {"Hanne": True,
                                                                      "Jens": False}
    log = metadata.tables["access_log"]
    disclosures = rows(c.url, log, log.c.action == "disclosure")
    assert [(d.actor, d.what, d.subject_id, d.purpose, str(d.citizen_ref))
            for d in disclosures] == [("service:notifications", "network_contact",
                                       mother["person_id"], "Mødeindkaldelse", str(citizen))]


def test_consent_without_an_address_is_refused_and_changes_nothing(coordination):
    c = coordination
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=ACTOR, citizen_ref=str(uuid.uuid4()),
                                                 tovholder=METTE)["pathway_id"]
    before = c.counts()
    with c.rpc() as n, pytest.raises(RemoteError) as error:
        n.coordination.add_network_person(actor=ACTOR, pathway_id=pathway_id, name="Hanne",
                                          relation="mor", may_contact=True)
    assert error.value.exc_type == "InvalidInput"
    assert json.loads(error.value.value)["errors"] == [{
        "field": "may_contact", "rule": "network.contact_missing",
        "message": "give an e-mail or a phone number for the person the citizen agreed we "
                   "contact"}]
    assert c.counts() == before
    with c.rpc() as n, pytest.raises(RemoteError) as bad_phone:
        n.coordination.add_network_person(actor=ACTOR, pathway_id=pathway_id, name="Hanne",
                                          relation="mor", phone="ring til mig", may_contact=True)
    assert json.loads(bad_phone.value.value)["errors"][0]["field"] == "phone"
    assert c.counts() == before


def test_reads_and_changes_are_in_the_access_log_in_danish(coordination):
    c = coordination
    citizen = uuid.uuid4()
    c.consent(citizen, "upoint")
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        rpc.add_member(actor=ACTOR, pathway_id=pathway_id, **ULLA)
        rpc.hand_over_tovholder(actor=ACTOR, pathway_id=pathway_id, new_tovholder_id="m-upoint",
                                reason="Mette går på barsel.", handover_note="Ring om formiddagen.")
        rpc.get_pathway(actor="staff:m-upoint", pathway_id=pathway_id)
        rpc.timeline(actor="staff:m-upoint", pathway_id=pathway_id)
        rpc.find_pathway(actor=ACTOR, citizen_ref=str(citizen))
        rpc.my_pathways(actor="staff:m-upoint")
    log = metadata.tables["access_log"]
    entries = [(r.actor, r.action, r.what, r.purpose, r.citizen_ref, r.criterion)
               for r in rows(c.url, log)]
    assert entries == [
        (ACTOR, "change", "pathway", "Oprette eller afslutte det sammenhængende forløb",
         citizen, None),
        (ACTOR, "change", "team", "Ændre teamet omkring borgeren", citizen, None),
        (ACTOR, "change", "tovholder", "Udpege eller skifte tovholder", citizen, None),
        ("staff:m-upoint", "read", "pathway", "Se forløbet: team, møder og handleplan",
         citizen, None),
        ("staff:m-upoint", "read", "timeline", "Se forløbets tidslinje", citizen, None),
        (ACTOR, "search", "pathway", "Finde borgerens forløb", citizen, "citizen_ref"),
        ("staff:m-upoint", "search", "pathway", "Arbejdsliste: mine forløb", None,
         "coordination.my_pathways"),
    ]


def _refusal(error: RemoteError) -> dict[str, object]:
    [only] = json.loads(error.value)["errors"]
    return dict(only)


def test_a_revision_based_on_an_old_version_is_refused_and_nothing_is_lost(coordination):
    """Two editors open version 1. The first one's revision becomes version 2; the
    second one's, still based on version 1, is refused naming version 2 (the web form
    then shows version 2), and nothing of it is written. Based on version 2 it is made."""
    c = coordination
    citizen = uuid.uuid4()
    c.consent(citizen, "upoint")
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        rpc.add_member(actor=ACTOR, pathway_id=pathway_id, **ULLA)
        rpc.draft_plan(actor=ACTOR, pathway_id=pathway_id, goals=V1)
        first = rpc.revise_plan(actor=ACTOR, pathway_id=pathway_id, goals=V2, base_version=1)
        before = c.counts()
        published = len(c.observer.drain())
        with pytest.raises(RemoteError) as stale:
            rpc.revise_plan(actor=ACTOR, pathway_id=pathway_id, goals=V1, base_version=1)
        with pytest.raises(RemoteError) as second_draft:
            rpc.draft_plan(actor=ACTOR, pathway_id=pathway_id, goals=V1)
        after = c.counts()
        current = rpc.list_plan_versions(actor=ACTOR, pathway_id=pathway_id)
        third = rpc.revise_plan(actor=ACTOR, pathway_id=pathway_id, goals=V1, base_version=2)
        unchecked = rpc.revise_plan(actor=ACTOR, pathway_id=pathway_id, goals=V2)

    assert first["version"] == 2
    assert stale.value.exc_type == "InvalidInput"
    refusal = _refusal(stale.value)
    assert (refusal["field"], refusal["rule"], refusal["current_version"]) == (
        "base_version", "plan.version_conflict", 2)
    assert "version 2" in str(refusal["message"])
    drafted = _refusal(second_draft.value)
    assert (drafted["field"], drafted["rule"], drafted["current_version"]) == (
        "pathway_id", "plan.exists", 2)
    assert after == before  # the refused revision and draft wrote nothing
    assert len(c.observer.drain()) == published  # and published nothing
    assert (current["current_version"], len(current["versions"])) == (2, 2)
    assert [g["goal_id"] for g in rpc_goals(c, pathway_id, 2)] == ["g-school", "g-shy"]
    assert (third["version"], unchecked["version"]) == (3, 4)


def rpc_goals(c, pathway_id: str, version: int) -> list[dict[str, object]]:
    with c.rpc() as n:
        return list(n.coordination.get_plan_version(actor=ACTOR, pathway_id=pathway_id,
                                                    version=version)["goals"])


def test_of_two_revisions_based_on_the_same_version_at_once_exactly_one_is_made(coordination):
    """The check and the new version happen under the pathway's row lock: two editors
    saving at the same moment cannot both make version 2."""
    import eventlet

    c = coordination
    citizen = uuid.uuid4()
    with c.rpc() as n:
        rpc = n.coordination
        pathway_id = rpc.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                      tovholder=METTE)["pathway_id"]
        rpc.draft_plan(actor=ACTOR, pathway_id=pathway_id, goals=[
            {"goal_id": "g-school", "text": "Jeg vil gerne komme i skole igen."}])

    def save(text: str) -> object:
        goals = [{"goal_id": "g-school", "text": text}]
        with c.rpc() as n:
            try:
                return n.coordination.revise_plan(actor=ACTOR, pathway_id=pathway_id,
                                                  goals=goals, base_version=1)
            except RemoteError as error:
                return _refusal(error)

    answers = [t.wait() for t in [eventlet.spawn(save, "Jeg vil i skole om mandagen."),
                                  eventlet.spawn(save, "Jeg vil i skole hver dag.")]]

    made = [a for a in answers if isinstance(a, dict) and "version" in a]
    refused = [a for a in answers if isinstance(a, dict) and "rule" in a]
    assert [m["version"] for m in made] == [2]
    assert [(r["rule"], r["current_version"]) for r in refused] == [
        ("plan.version_conflict", 2)]
    with c.rpc() as n:
        listing = n.coordination.list_plan_versions(actor=ACTOR, pathway_id=pathway_id)
    assert listing["current_version"] == 2
