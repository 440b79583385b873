"""Hand-offs made from each source event and answered over RPC, through the real broker,
on SQLite and PostgreSQL. Each source event is published as its producer would; the
effect waited on is the hand-off row and the `partners.*` events that leave."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from nameko.exceptions import RemoteError

from tests.integration.partners.conftest import (
    FRONTEN,
    HOUSING_OFFICER,
    NEW_TOVHOLDER,
    OPERATOR,
    RESPONSIBLE,
    SOCIAL_VEJLEDNING,
    TOVHOLDER,
    partner,
    problems,
    wait_for,
)

pytestmark = pytest.mark.integration

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")


def bridging_due(svc, course: uuid.UUID, kind: str = "employment", **extra) -> None:
    svc.publish("intake.bridging_due", {
        "course_id": course, "citizen_ref": CITIZEN, "partner_kind": kind,
        "due_on": dt.date(2025, 4, 9), "planned_end": dt.date(2025, 6, 9), **extra,
    }, correlation=course)


def test_bridging_goes_to_every_active_partner_that_accepts_it_and_is_answered(
        partners_service):
    svc = partners_service
    svc.register("jobcenter-ballerup", "employment", ["bridging_employment"],
                 name="Jobcenter Ballerup")
    svc.register("jobcenter-herlev", "employment", ["bridging_employment"],
                 name="Jobcenter Herlev")
    svc.register("jobcenter-lukket", "employment", ["bridging_employment"])
    svc.rpc("deactivate_partner", actor=OPERATOR, partner_id="jobcenter-lukket")
    svc.register("uu-ballerup", "education", ["bridging_education"])

    course = uuid.uuid4()
    bridging_due(svc, course, responsible=RESPONSIBLE)
    rows = svc.wait_handoffs(2, subject_id=course)
    assert sorted(r.partner_id for r in rows) == ["jobcenter-ballerup", "jobcenter-herlev"]
    requested = svc.observer.wait("partners.handoff_requested", 2, subject_id=str(course))
    to_ballerup = next(p for p in requested if p["partner_id"] == "jobcenter-ballerup")
    assert to_ballerup["kind"] == "bridging_employment"
    assert to_ballerup["subject_type"] == "course"
    assert to_ballerup["citizen_ref"] == str(CITIZEN)
    # Wednesday 5 March + 5 working days.
    assert to_ballerup["answer_by"] == "2025-03-12"
    assert to_ballerup["contact"] == {"name": "Anne Andersen", "email": "anne@balk.dk",
                                      "phone": "+45 44 77 34 43"}
    assert to_ballerup["details"] == {"due_on": "2025-04-09", "planned_end": "2025-06-09"}
    assert to_ballerup["title"] == "Brobygning til beskæftigelse"
    assert "9. april 2025" in to_ballerup["ask"] and "Anne Andersen" in to_ballerup["ask"]

    # The same event again (a redelivery with a new id, or intake repeating itself)
    # makes no second open hand-off for the same course, partner and kind.
    bridging_due(svc, course, responsible=RESPONSIBLE)
    bridging_due(svc, uuid.uuid4(), kind="housing")  # not a hand-off kind: nothing
    marker = uuid.uuid4()
    bridging_due(svc, marker, kind="education")
    svc.wait_handoffs(1, subject_id=marker)
    assert len(svc.handoffs(subject_id=course)) == 2

    handoff_id = str(to_ballerup["handoff_id"])
    # The partner receives it, then accepts; each change is published.
    received = svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
                       handoff_id=handoff_id, state="received")
    assert received["state"] == "received" and "citizen_ref" not in received
    assert received["next_states"] == ["accepted", "declined"]
    accepted = svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
                       handoff_id=handoff_id, state="accepted",
                       note="Vi ringer til Anne i morgen.")
    assert accepted["state_text"] == "accepteret"
    updates = svc.observer.wait("partners.handoff_updated", 2, handoff_id=handoff_id)
    assert [(u["previous_state"], u["state"]) for u in updates] == [
        ("requested", "received"), ("received", "accepted")]
    assert updates[1]["answered_by"] == "partner:jobcenter-ballerup"
    assert updates[1]["title"] == "Brobygning til beskæftigelse: accepteret af Jobcenter Ballerup"
    assert updates[1]["citizen_ref"] == str(CITIZEN)

    # Herlev declines: a reason is needed, and it travels.
    herlev = next(r for r in rows if r.partner_id == "jobcenter-herlev")
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=partner("jobcenter-herlev"), handoff_id=str(herlev.id),
                state="declined")
    assert problems(err)[0]["rule"] == "handoff.reason_missing"
    svc.rpc("answer_handoff", actor=partner("jobcenter-herlev"), handoff_id=str(herlev.id),
            state="declined", reason="Borgeren bor uden for vores område.")
    declined = svc.observer.wait("partners.handoff_updated", handoff_id=str(herlev.id))
    assert declined[0]["reason"] == "Borgeren bor uden for vores område."

    # A transition the lifecycle does not allow is a 400 naming state and what is allowed.
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
                handoff_id=handoff_id, state="received")
    assert err.value.exc_type == "InvalidInput"
    assert problems(err) == [{
        "field": "state", "rule": "handoff.transition_not_allowed",
        "message": "A hand-off that is accepted can become in_progress, completed, "
                   "cancelled, not received."}]

    # Another partner's hand-off answers exactly like a missing one.
    with pytest.raises(RemoteError) as other:
        svc.rpc("answer_handoff", actor=partner("jobcenter-herlev"), handoff_id=handoff_id,
                state="declined", reason="x")
    with pytest.raises(RemoteError) as missing:
        svc.rpc("answer_handoff", actor=partner("jobcenter-herlev"),
                handoff_id=str(uuid.uuid4()), state="declined", reason="x")
    assert (other.value.exc_type, other.value.value) == (missing.value.exc_type,
                                                         missing.value.value)
    with pytest.raises(RemoteError) as other_read:
        svc.rpc("get_handoff", actor=partner("jobcenter-herlev"), handoff_id=handoff_id)
    assert other_read.value.value == missing.value.value

    # The course ends early: the open bridging hand-off is cancelled by the system.
    svc.publish("intake.bridging_cancelled", {
        "course_id": course, "citizen_ref": CITIZEN, "partner_kind": "employment",
        "due_on": dt.date(2025, 4, 9), "cancelled_on": dt.date(2025, 3, 6),
        "reason": "course_ended_early"}, correlation=course)
    cancelled = svc.observer.wait("partners.handoff_updated", handoff_id=handoff_id,
                                  state="cancelled")
    assert cancelled[0]["answered_by"] == "service:partners"
    assert cancelled[0]["title"].endswith("annulleret af kommunen")
    assert svc.rows("handoffs", id=uuid.UUID(handoff_id))[0].open_key is None

    # Every change is in the access log with its purpose; the creation by the service.
    log = svc.rows("access_log", subject_id=handoff_id)
    assert [(e.actor, e.action) for e in log] == [
        ("service:partners", "change"), ("partner:jobcenter-ballerup", "change"),
        ("partner:jobcenter-ballerup", "change"), ("service:partners", "change")]
    assert log[0].purpose == "overdragelse til en samarbejdspartner: Jobcenter Ballerup"
    assert log[1].purpose == "svar på en overdragelse"


def test_social_vejledning_answers_a_85_referral_and_fronten_follows_it(partners_service):
    svc = partners_service
    course = uuid.uuid4()
    svc.publish("intake.referral_85_made", {
        "course_id": course, "citizen_ref": CITIZEN, "referred_on": dt.date(2025, 3, 5),
        "responsible": RESPONSIBLE}, correlation=course)
    row = svc.wait_handoffs(1, subject_id=course)[0]
    assert (row.partner_id, row.kind, row.mailbox) == (
        "social-vejledning", "referral_85", "social_vejledning")
    handoff_id = str(row.id)

    # Fronten may see it but not answer for Social Vejledning; a tovholder may not see it.
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=FRONTEN, handoff_id=handoff_id, state="accepted")
    assert problems(err)[0] == {"field": "actor", "rule": "not_allowed",
                                "message": "The partner answers this hand-off; staff may "
                                           "only cancel it."}
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=TOVHOLDER, handoff_id=handoff_id, state="cancelled")
    assert err.value.exc_type == "NotFoundError"

    svc.rpc("answer_handoff", actor=SOCIAL_VEJLEDNING, handoff_id=handoff_id,
            state="accepted")
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=SOCIAL_VEJLEDNING, handoff_id=handoff_id,
                state="completed", outcome="paid")
    assert problems(err)[0]["message"] == (
        "A referral_85 hand-off's outcome is one of granted, refused, withdrawn.")
    done = svc.rpc("answer_handoff", actor=SOCIAL_VEJLEDNING, handoff_id=handoff_id,
                   state="completed", outcome="granted", note="Bevilget 10 timer om ugen.")
    assert done["outcome_text"] == "støtte efter § 85 er bevilget"
    assert [h["to_state"] for h in done["history"]] == ["requested", "accepted", "completed"]
    assert done["history"][-1]["note"] == "Bevilget 10 timer om ugen."
    completed = svc.observer.wait("partners.handoff_updated", handoff_id=handoff_id,
                                  state="completed")[0]
    assert completed["outcome"] == "granted"
    assert completed["answered_by"] == "staff:sv-sofie"

    # Fronten reads the course's hand-offs with their history (logged as a read).
    of_course = svc.rpc("handoffs_of_subject", actor=FRONTEN, subject_type="course",
                        subject_id=str(course))
    assert of_course["count"] == 1
    assert of_course["items"][0]["partner_name"] == "Social Vejledning"
    assert of_course["items"][0]["responsible_staff_id"] == "fronten-anne"
    reads = svc.rows("access_log", actor="staff:fronten-anne", action="read")
    assert [(r.what, r.citizen_ref, r.purpose) for r in reads] == [
        ("handoff", CITIZEN, "opfølgning på en overdragelse")]
    # A housing officer may know of none of them: the same as a course with none.
    none = svc.rpc("handoffs_of_subject", actor=HOUSING_OFFICER, subject_type="course",
                   subject_id=str(course))
    assert none == {"items": [], "count": 0}


def test_a_hold_request_goes_to_a_known_association_only(partners_service):
    svc = partners_service
    svc.register("bf-ballerup", "housing", ["hold_termination"],
                 name="Ballerup Boligforening")
    case, unknown_case = uuid.uuid4(), uuid.uuid4()
    escalation = {
        "association_id": "bf-ballerup", "tenancy_ref": "T-1-1", "citizen_ref": CITIZEN,
        "level": "escalated_to_association", "previous_level": "outreach_due",
        "next_deadline": dt.datetime(2025, 4, 16, 22, 0, tzinfo=dt.UTC),
        "asks": [{"addressee": "association", "request": "hold_termination"},
                 {"addressee": "tovholder", "request": "make_plan_or_apply_for_help"}],
        "occurred_at": dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)}
    # Not in the directory: no hand-off, noted once however often it is asked.
    for _ in range(2):
        svc.publish("housing.case_escalated", {**escalation, "case_id": unknown_case,
                                               "association_id": "bf-ukendt"},
                    correlation=unknown_case)
    # An escalation asking nothing of the association makes nothing.
    svc.publish("housing.case_escalated", {
        **escalation, "case_id": uuid.uuid4(), "level": "outreach_due",
        "asks": [{"addressee": "tovholder", "request": "contact_citizen"}]})
    svc.publish("housing.case_escalated", {**escalation, "case_id": case}, correlation=case)
    row = svc.wait_handoffs(1, subject_id=case)[0]
    assert (row.kind, row.partner_id, row.subject_type, row.mailbox) == (
        "hold_termination", "bf-ballerup", "case", "housing")
    assert row.details == {"case_ref": str(case), "tenancy_ref": "T-1-1",
                           "hold_until_requested": "2025-04-16"}
    assert row.contact_name == "Det boligsociale team"
    requested = svc.observer.wait("partners.handoff_requested", subject_id=str(case))[0]
    assert "lejemål T-1-1 til og med 16. april 2025" in requested["ask"]
    wait_for(lambda: svc.count("inbox") >= 4, what="every escalation handled")
    missing = svc.rows("missing_partners")
    assert [(m.partner_id, m.kind, m.subject_id) for m in missing] == [
        ("bf-ukendt", "hold_termination", unknown_case)]
    assert svc.handoffs(subject_id=unknown_case) == []

    # The association holds until a date; a housing officer sees it.
    with pytest.raises(RemoteError) as err:
        svc.rpc("answer_handoff", actor=partner("bf-ballerup"), handoff_id=str(row.id),
                state="accepted")
    assert problems(err)[0]["field"] == "hold_until"
    held = svc.rpc("answer_handoff", actor=partner("bf-ballerup"), handoff_id=str(row.id),
                   state="accepted", hold_until="2025-04-16")
    assert held["hold_until"] == "2025-04-16" and held["outcomes"] == [
        "held", "paid", "terminated"]
    update = svc.observer.wait("partners.handoff_updated", handoff_id=str(row.id))[0]
    assert update["hold_until"] == "2025-04-16"
    assert update["title"] == ("Anmodning om at vente med at ophæve lejemålet: accepteret af "
                               "Ballerup Boligforening, venter med ophævelse til og med "
                               "16. april 2025")
    seen = svc.rpc("get_handoff", actor=HOUSING_OFFICER, handoff_id=str(row.id))
    assert seen["hold_until"] == "2025-04-16"

    # The case comes down the ladder: an answered hold stays for the association to
    # complete; a new escalation later is a new request.
    svc.publish("housing.case_deescalated", {
        **escalation, "case_id": case, "level": "reported",
        "previous_level": "escalated_to_association", "next_deadline": None,
        "asks": [{"addressee": "association", "request": "for_information"}]})
    svc.clock.set(dt.datetime(2025, 3, 20, 9, 0, tzinfo=dt.UTC))
    svc.publish("housing.case_escalated", {**escalation, "case_id": case}, correlation=case)
    rows = svc.wait_handoffs(2, subject_id=case)
    assert [r.state for r in rows] == ["cancelled", "requested"]
    # This one is not answered: the case's closing withdraws it.
    svc.publish("housing.case_closed", {
        "case_id": case, "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
        "citizen_ref": CITIZEN, "closure": "tenancy_kept",
        "closed_at": dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC)}, correlation=case)
    withdrawn = svc.observer.wait("partners.handoff_updated", handoff_id=str(rows[1].id),
                                  state="cancelled")[0]
    assert withdrawn["previous_state"] == "requested"


def test_an_offer_referral_follows_the_tovholder(partners_service):
    svc = partners_service
    svc.register("ungdomsklubben", "volunteer", ["offer_referral"], name="Ungdomsklubben")
    pathway, unknown = uuid.uuid4(), uuid.uuid4()
    referral = {"citizen_ref": CITIZEN, "requested_at": dt.datetime(2025, 3, 5, 9, 0,
                                                                    tzinfo=dt.UTC),
                "responsible": {"staff_id": "m-social", "name": "Mette Socialrådgiver",
                                "email": "mette@balk.dk", "phone": None}}
    svc.publish("coordination.offer_referral_requested",
                {**referral, "pathway_id": unknown, "partner_id": "findes-ikke"})
    svc.publish("coordination.offer_referral_requested",
                {**referral, "pathway_id": pathway, "partner_id": "ungdomsklubben"})
    row = svc.wait_handoffs(1, subject_id=pathway)[0]
    assert (row.kind, row.subject_type, row.responsible_staff_id, row.mailbox) == (
        "offer_referral", "pathway", "m-social", "coordinators")
    # The tovholder has no phone in the event: the coordinators' desk fills nothing
    # (no phone), the e-mail is the tovholder's own.
    assert (row.contact_name, row.contact_email) == ("Mette Socialrådgiver", "mette@balk.dk")
    wait_for(lambda: svc.rows("missing_partners"), what="the unknown partner noted")

    # The tovholder sees the pathway's hand-offs; another tovholder does not.
    mine = svc.rpc("handoffs_of_subject", actor=TOVHOLDER, subject_type="pathway",
                   subject_id=str(pathway))
    assert mine["count"] == 1
    other = svc.rpc("handoffs_of_subject", actor=NEW_TOVHOLDER, subject_type="pathway",
                    subject_id=str(pathway))
    assert other["count"] == 0

    # A new tovholder takes over: the contact changes; the new one sees it and may cancel.
    svc.publish("coordination.tovholder_handed_over", {
        "pathway_id": pathway, "citizen_ref": CITIZEN, "old_tovholder_id": "m-social",
        "new_tovholder_id": "m-upoint", "new_tovholder_name": "Ulla Ungekonsulent",
        "new_tovholder_agency": "upoint", "new_tovholder_email": "ulla@balk.dk",
        "handed_over_at": dt.datetime(2025, 3, 6, 9, 0, tzinfo=dt.UTC),
        "handover_note": "Hun ringer helst om formiddagen.",
        "team": [{"member_id": "m-upoint", "name": "Ulla Ungekonsulent",
                  "email": "ulla@balk.dk"}]}, correlation=pathway)
    wait_for(lambda: svc.handoffs(subject_id=pathway)[0].contact_name == "Ulla Ungekonsulent",
             what="the new contact")
    view = svc.rpc("get_handoff", actor=NEW_TOVHOLDER, handoff_id=str(row.id))
    assert view["history"][-1]["text"] == "Ny kontaktperson"
    assert view["contact"]["email"] == "ulla@balk.dk"
    cancelled = svc.rpc("answer_handoff", actor=NEW_TOVHOLDER, handoff_id=str(row.id),
                        state="cancelled", reason="Borgeren har fundet et andet tilbud.")
    assert cancelled["state"] == "cancelled"
    with pytest.raises(RemoteError) as err:
        svc.rpc("get_handoff", actor=TOVHOLDER, handoff_id=str(row.id))
    assert err.value.exc_type == "NotFoundError"


def test_a_new_course_responsible_becomes_the_contact(partners_service):
    svc = partners_service
    svc.register("psykiatrien", "health", ["bridging_health"])
    course = uuid.uuid4()
    bridging_due(svc, course, kind="health")  # no responsible: Fronten's desk
    row = svc.wait_handoffs(1, subject_id=course)[0]
    assert (row.contact_name, row.contact_email, row.contact_phone) == (
        "Fronten", "ss-front@balk.dk", "44 77 34 43")
    svc.publish("intake.course_responsible_changed", {
        "course_id": course, "citizen_ref": CITIZEN, "staff_id": "fronten-karl",
        "name": "Karl Jensen", "changed_at": dt.datetime(2025, 3, 6, 9, 0, tzinfo=dt.UTC),
        "email": "karl@balk.dk", "phone": None}, correlation=course)
    changed = wait_for(lambda: (r := svc.handoffs(subject_id=course)[0]).contact_name
                       == "Karl Jensen" and r, what="the new responsible")
    assert (changed.contact_email, changed.contact_phone, changed.responsible_email) == (
        "karl@balk.dk", "44 77 34 43", "karl@balk.dk")


def test_the_access_report_lists_what_was_done_with_the_citizens_hand_offs(partners_service):
    svc = partners_service
    course = uuid.uuid4()
    svc.publish("intake.referral_85_made", {
        "course_id": course, "citizen_ref": CITIZEN, "referred_on": dt.date(2025, 3, 5)},
        correlation=course)
    row = svc.wait_handoffs(1, subject_id=course)[0]
    svc.rpc("answer_handoff", actor={**SOCIAL_VEJLEDNING, "purpose": "§ 85-vurdering"},
            handoff_id=str(row.id), state="received")
    report = svc.rpc("access_report", actor=FRONTEN, citizen_ref=str(CITIZEN))
    assert [(e["actor"], e["action"], e["purpose"]) for e in report] == [
        ("service:partners", "change",
         "overdragelse til en samarbejdspartner: Social Vejledning"),
        ("staff:sv-sofie", "change", "§ 85-vurdering"),
    ]
    assert all(e["service"] == "partners" for e in report)
    assert report[1]["action_text"] == "ændret" and report[1]["roles"] == ["social_vejledning"]
    logged = svc.rows("access_log", what="access_log")
    assert [(e.actor, e.action, e.citizen_ref) for e in logged] == [
        ("staff:fronten-anne", "read", CITIZEN)]
    with pytest.raises(RemoteError) as err:
        svc.rpc("access_report", actor=TOVHOLDER, citizen_ref=str(CITIZEN))
    assert problems(err)[0]["rule"] == "not_allowed"


@pytest.mark.parametrize("who", ["other partner", "tovholder not responsible",
                                 "housing officer", "social vejledning", "operator"])
def test_each_refused_read_answers_exactly_like_a_missing_hand_off(partners_service, who):
    svc = partners_service
    svc.register("jobcenter-ballerup", "employment", ["bridging_employment"])
    svc.register("jobcenter-herlev", "employment", [])
    course = uuid.uuid4()
    bridging_due(svc, course, responsible=RESPONSIBLE)
    handoff_id = str(svc.wait_handoffs(1, subject_id=course)[0].id)
    actor = {
        "other partner": partner("jobcenter-herlev"),
        "tovholder not responsible": TOVHOLDER,
        "housing officer": HOUSING_OFFICER,
        "social vejledning": SOCIAL_VEJLEDNING,
        "operator": OPERATOR,
    }[who]
    with pytest.raises(RemoteError) as refused:
        svc.rpc("get_handoff", actor=actor, handoff_id=handoff_id)
    with pytest.raises(RemoteError) as missing:
        svc.rpc("get_handoff", actor=actor, handoff_id=str(uuid.uuid4()))
    assert refused.value.exc_type == missing.value.exc_type == "NotFoundError"
    assert problems(refused) == problems(missing) == [
        {"field": "handoff_id", "rule": "not_found", "message": "No such hand-off."}]
    with pytest.raises(RemoteError) as refused_answer:
        svc.rpc("answer_handoff", actor=actor, handoff_id=handoff_id, state="cancelled")
    assert problems(refused_answer) == problems(missing)
    # Nothing was read, so nothing is logged for them; the allowed reads are, with purpose.
    assert svc.rows("access_log", action="read") == []
    svc.rpc("get_handoff", actor=partner("jobcenter-ballerup"), handoff_id=handoff_id)
    svc.rpc("get_handoff", actor={**FRONTEN, "purpose": "opfølgning på brobygning"},
            handoff_id=handoff_id)
    reads = svc.rows("access_log", action="read")
    assert [(r.actor, r.what, r.subject_id, r.citizen_ref, r.purpose) for r in reads] == [
        ("partner:jobcenter-ballerup", "handoff", handoff_id, CITIZEN,
         "opfølgning på en overdragelse"),
        ("staff:fronten-anne", "handoff", handoff_id, CITIZEN, "opfølgning på brobygning")]
