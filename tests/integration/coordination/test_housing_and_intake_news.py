"""Housing's and intake's news through the real broker: a real housing.warning_flagged
envelope becomes a housing-alert row and an outgoing coordination.housing_warning_noted
for the tovholder (with the påkrav deadline); the other housing events move the alert;
intake's decisions land on the citizen's timeline."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.coordination.models import CitizenActivity, HousingAlertRow, metadata
from tests.integration.coordination.conftest import T0
from tests.integration.coordination.paging import rows
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

ACTOR = "staff:m-social"  # the tovholder (the actor's id is the member id)
ME = "staff:m-social"
METTE = {"member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
         "agency": "social_services", "role": "socialrådgiver"}
PAKRAV = dt.date(2021, 3, 12)


def housing(citizen: uuid.UUID | None, case_id: uuid.UUID, at: dt.datetime,
            **extra: Any) -> dict[str, Any]:
    return {"case_id": case_id, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
            "citizen_ref": citizen, "level": "outreach_due",
            "next_deadline": at + dt.timedelta(days=14),
            "asks": [{"addressee": "tovholder", "request": "make_plan_or_apply_for_help"},
                     {"addressee": "association", "request": "for_information"}],
            "occurred_at": at, **extra}


def warning(citizen: uuid.UUID | None, case_id: uuid.UUID, at: dt.datetime) -> dict[str, Any]:
    return housing(citizen, case_id, at, flag="processing_exceeds_pakrav_deadline",
                   pakrav_deadline=PAKRAV)


def alert(url: str, case_id: uuid.UUID) -> Any:
    found = rows(url, HousingAlertRow, HousingAlertRow.case_id == case_id)
    return found[0] if found else None


def test_a_warning_reaches_the_tovholders_list_and_is_passed_on(coordination):
    c, seen = coordination, coordination.observer
    citizen, case_id = uuid.uuid4(), uuid.uuid4()
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                                 tovholder=METTE)["pathway_id"]

    c.publish("housing.warning_flagged", warning(citizen, case_id, T0))

    noted = seen.wait("coordination.housing_warning_noted")[0]
    assert noted == {
        "pathway_id": pathway_id, "citizen_ref": str(citizen), "case_id": str(case_id),
        "tovholder_id": "m-social", "tovholder_email": "mette@balk.dk",
        "flag": "processing_exceeds_pakrav_deadline", "level": "outreach_due",
        "pakrav_deadline": "2021-03-12",
        "next_deadline": (T0 + dt.timedelta(days=14)).isoformat(),
        "noted_at": noted["noted_at"]}
    row = wait_for(lambda: alert(c.url, case_id), what="the alert row")
    assert (row.priority, row.flags, row.pakrav_deadline) == (
        0, ["processing_exceeds_pakrav_deadline"], PAKRAV)
    assert row.requests == ["make_plan_or_apply_for_help"]  # the tovholder's asks only

    with c.rpc() as n:
        items = n.coordination.my_housing_alerts(actor=ME)["items"]
        entries = n.coordination.timeline(actor=ME, pathway_id=pathway_id)["entries"]
    assert [i["subject_id"] for i in items] == [str(case_id)]
    assert "påkravsfristen 12. marts 2021" in items[0]["reason"]
    assert items[0]["details"]["requests_text"] == ["Lav en afdragsordning eller søg om hjælp"]
    warned = [e for e in entries if e["kind"] == "housing_warning_flagged"]
    assert warned[0]["details"]["pakrav_deadline"] == "2021-03-12"


def test_housing_events_in_any_order_move_the_alert_and_a_closing_ends_it(coordination):
    c, seen = coordination, coordination.observer
    citizen, case_id = uuid.uuid4(), uuid.uuid4()
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                                 tovholder=METTE)["pathway_id"]
    # The overdue deadline is published before the opening that came earlier.
    c.publish("housing.action_overdue", housing(
        citizen, case_id, T0 + dt.timedelta(days=15), deadline_kind="outreach",
        next_deadline=None))
    c.publish("housing.case_opened", housing(
        citizen, case_id, T0, level="reported", source="association",
        citizen_match_pending=False))
    c.publish("housing.case_escalated", housing(
        citizen, case_id, T0 + dt.timedelta(days=14), level="escalated_to_association",
        previous_level="outreach_due"))
    seen.wait("coordination.housing_escalation_noted")

    def settled() -> Any:
        row = alert(c.url, case_id)
        return row if row is not None and row.last_event == "action_overdue" else None

    row = wait_for(settled, what="the three events folded")
    # Newest decision: the overdue (day 15) after the escalation (day 14).
    assert (row.level, row.overdue_kind, row.priority) == ("outreach_due", "outreach", 1)
    with c.rpc() as n:
        assert [i["kind"] for i in n.coordination.my_housing_alerts(actor=ME)["items"]] == [
            "housing_deadline_overdue"]

    c.publish("housing.case_closed", {
        "case_id": case_id, "association_id": "kab-ballerup", "tenancy_ref": "12-0304-2",
        "citizen_ref": citizen, "closure": "tenancy_kept",
        "closed_at": T0 + dt.timedelta(days=20)})
    wait_for(lambda: getattr(alert(c.url, case_id), "closed_at", None), what="the closing")
    with c.rpc() as n:
        assert n.coordination.my_housing_alerts(actor=ME)["items"] == []
        kinds = [e["kind"] for e in n.coordination.timeline(
            actor=ME, pathway_id=pathway_id)["entries"]]
    assert {"housing_case_opened", "housing_case_escalated", "housing_action_overdue",
            "housing_case_closed"} <= set(kinds)


def test_without_an_open_pathway_the_warning_is_kept_but_nobody_is_told_yet(coordination):
    c, seen = coordination, coordination.observer
    lonely, awaiting = uuid.uuid4(), uuid.uuid4()
    lonely_case, awaiting_case = uuid.uuid4(), uuid.uuid4()
    with c.rpc() as n:
        awaiting_pathway = n.coordination.open_pathway(
            actor=ACTOR, citizen_ref=str(awaiting))["pathway_id"]
    c.publish("housing.warning_flagged", warning(lonely, lonely_case, T0))
    c.publish("housing.warning_flagged", warning(awaiting, awaiting_case, T0))
    c.publish("housing.warning_flagged", warning(None, uuid.uuid4(), T0))  # tenant unknown
    marker = uuid.uuid4()  # behind the others on the same queue
    c.publish("housing.warning_flagged", warning(uuid.uuid4(), marker, T0))

    noted = seen.wait("coordination.housing_warning_noted")[0]
    # A pathway awaiting its tovholder: the warning goes out without one (Fronten acts).
    assert (noted["pathway_id"], noted["tovholder_id"], noted["tovholder_email"]) == (
        awaiting_pathway, None, None)
    wait_for(lambda: alert(c.url, marker) and alert(c.url, lonely_case),
             what="the lonely citizen's and the marker's alerts")
    # Each alert committed with its outgoing events: only the awaiting pathway's went out.
    outbox = metadata.tables["outbox"]
    assert [r.type for r in rows(c.url, outbox, outbox.c.type.like("%housing%"))] == [
        "coordination.housing_warning_noted"]
    # The unknown tenant's warning left nothing to attach (it has no citizen).
    assert len(rows(c.url, HousingAlertRow)) == 3


def test_intake_decisions_reach_the_timeline(coordination):
    c = coordination
    citizen, course, inquiry = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    c.publish("intake.inquiry_resolved", {"inquiry_id": inquiry, "citizen_ref": citizen,
                                          "outcome": "individual_course_82b",
                                          "resolved_at": T0 - dt.timedelta(days=40)})
    c.publish("intake.inquiry_resolved", {"inquiry_id": uuid.uuid4(), "citizen_ref": None,
                                          "outcome": "advice_only", "resolved_at": T0})
    c.publish("intake.course_extended", {"course_id": course, "citizen_ref": citizen,
                                         "previous_planned_end": dt.date(2021, 3, 1),
                                         "planned_end": dt.date(2021, 4, 1)},
              occurred_at=T0 - dt.timedelta(days=3))
    c.publish("intake.course_review_decided", {"course_id": course, "citizen_ref": citizen,
                                               "decision": "refer_85",
                                               "decided_on": dt.date(2021, 2, 27),
                                               "planned_end": dt.date(2021, 4, 1)},
              occurred_at=T0 - dt.timedelta(days=2))
    c.publish("intake.referral_85_decided", {"course_id": course, "citizen_ref": citizen,
                                             "outcome": "granted",
                                             "decided_on": dt.date(2021, 2, 28)},
              occurred_at=T0 - dt.timedelta(days=1))
    wait_for(lambda: len(rows(c.url, CitizenActivity)) == 4, what="four activities")
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                                 tovholder=METTE)["pathway_id"]
        entries = n.coordination.timeline(actor=ME, pathway_id=pathway_id)["entries"]
    news = [(e["kind"], e["details"]) for e in entries if e["source"] == "other_service"]
    assert news == [
        ("inquiry_resolved", {"inquiry_id": str(inquiry), "outcome": "individual_course_82b"}),
        ("course_extended", {"course_id": str(course), "previous_planned_end": "2021-03-01",
                             "planned_end": "2021-04-01"}),
        ("course_review_decided", {"course_id": str(course), "decision": "refer_85",
                                   "decided_on": "2021-02-27", "planned_end": "2021-04-01"}),
        ("referral_85_decided", {"course_id": str(course), "outcome": "granted",
                                 "decided_on": "2021-02-28"}),
    ]


def test_a_de_escalation_moves_the_alert_down_and_asks_nobody_to_act(coordination):
    c, seen = coordination, coordination.observer
    citizen, case_id = uuid.uuid4(), uuid.uuid4()
    with c.rpc() as n:
        pathway_id = n.coordination.open_pathway(actor=ACTOR, citizen_ref=str(citizen),
                                                 tovholder=METTE)["pathway_id"]
    c.publish("housing.case_escalated", housing(
        citizen, case_id, T0, level="escalated_to_association", previous_level="outreach_due"))
    c.publish("housing.action_overdue", housing(
        citizen, case_id, T0 + dt.timedelta(days=1), level="escalated_to_association",
        deadline_kind="hold_expires", next_deadline=None))
    seen.wait("coordination.housing_escalation_noted")
    wait_for(lambda: getattr(alert(c.url, case_id), "overdue_kind", None),
             what="the overdue deadline")
    # A payment plan was agreed: the case comes down the ladder (its own type now).
    c.publish("housing.case_deescalated", housing(
        citizen, case_id, T0 + dt.timedelta(days=2), level="reported",
        previous_level="escalated_to_association", next_deadline=None,
        asks=[{"addressee": "tovholder", "request": "for_information"}]))

    def moved_down() -> Any:
        row = alert(c.url, case_id)
        return row if row is not None and row.level == "reported" else None

    row = wait_for(moved_down, what="the de-escalation folded")
    assert (row.last_event, row.overdue_kind, row.priority, row.requests) == (
        "case_deescalated", None, 2, ["for_information"])
    with c.rpc() as n:
        entries = n.coordination.timeline(actor=ME, pathway_id=pathway_id)["entries"]
        items = n.coordination.my_housing_alerts(actor=ME)["items"]
    down = [e for e in entries if e["kind"] == "housing_case_deescalated"]
    assert [(e["details"]["level"], e["details"]["previous_level"]) for e in down] == [
        ("reported", "escalated_to_association")]
    assert [(i["subject_id"], i["reason"]) for i in items] == [
        (str(case_id), "Huslejerestancen er anmeldt.")]
    # Only the escalation was passed to the tovholder.
    outbox = metadata.tables["outbox"]
    assert [r.type for r in rows(c.url, outbox, outbox.c.type.like("%housing%"))] == [
        "coordination.housing_escalation_noted"]
