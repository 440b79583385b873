"""The hand-off lists, paged with the kit's cursor through the real broker on SQLite and
PostgreSQL: a partner's own list (open first, by answer_by), and staff's list of those
awaiting an answer (oldest answer_by first), each showing only what the caller may know
of, each page one SEARCH in the access log."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from nameko.exceptions import RemoteError

from tests.integration.partners.conftest import (
    FRONTEN,
    HOUSING_OFFICER,
    SOCIAL_VEJLEDNING,
    TOVHOLDER,
    partner,
    problems,
)

pytestmark = pytest.mark.integration

CITIZEN = uuid.UUID("0b6d7d2e-8f4a-4f57-9c1b-3a2e5d6f7a80")
DAY = dt.timedelta(days=1)


def all_pages(svc, method: str, actor: dict[str, Any], limit: int, **filters: Any) -> list:
    items, cursor, pages = [], None, 0
    while True:
        page = svc.rpc(method, actor=actor, cursor=cursor, limit=limit, **filters)
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items
        assert len(page["items"]) == limit and pages < 50


def test_lists_page_through_what_each_caller_may_know_of(partners_service):
    svc = partners_service
    svc.register("jobcenter-ballerup", "employment", ["bridging_employment", "offer_referral"],
                 name="Jobcenter Ballerup")
    svc.register("bf-ballerup", "housing", ["hold_termination"])
    # Seven bridging hand-offs to the jobcenter, one a day (Wednesday 5 March onwards, so
    # their answer_by days differ), a § 85 referral, a hold request and an offer referral.
    courses = []
    start = svc.clock.now()
    for n in range(7):
        svc.clock.set(start + n * DAY)
        course = uuid.uuid4()
        courses.append(course)
        svc.publish("intake.bridging_due", {
            "course_id": course, "citizen_ref": CITIZEN, "partner_kind": "employment",
            "due_on": dt.date(2025, 5, 9), "planned_end": dt.date(2025, 7, 9)})
        svc.wait_handoffs(1, subject_id=course)
    referral, case, pathway = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    svc.publish("intake.referral_85_made", {"course_id": referral, "citizen_ref": CITIZEN,
                                            "referred_on": dt.date(2025, 3, 11)})
    svc.publish("housing.case_escalated", {
        "case_id": case, "association_id": "bf-ballerup", "tenancy_ref": "T-1-1",
        "citizen_ref": None, "level": "escalated_to_association",
        "previous_level": "outreach_due", "next_deadline": None,
        "asks": [{"addressee": "association", "request": "hold_termination"}],
        "occurred_at": svc.clock.now()})
    svc.publish("coordination.offer_referral_requested", {
        "pathway_id": pathway, "citizen_ref": CITIZEN, "partner_id": "jobcenter-ballerup",
        "requested_at": svc.clock.now(),
        "responsible": {"staff_id": "m-social", "name": "Mette", "email": None,
                        "phone": None}})
    for subject in (referral, case, pathway):
        svc.wait_handoffs(1, subject_id=subject)
    rows = {r.subject_id: r for r in svc.handoffs()}
    bridging = [rows[c] for c in courses]
    # The jobcenter answers two: one closed (declined), one open (accepted).
    svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
            handoff_id=str(bridging[1].id), state="declined", reason="Ingen plads.")
    svc.rpc("answer_handoff", actor=partner("jobcenter-ballerup"),
            handoff_id=str(bridging[3].id), state="accepted")

    # The partner's own list: open ones by answer_by (the offer referral is as late as
    # the last bridging one, then by id), then the declined one; each exactly once.
    mine = all_pages(svc, "partner_handoffs", partner("jobcenter-ballerup"), limit=3)
    ids = [i["details"]["handoff_id"] for i in mine]
    assert len(ids) == len(set(ids)) == 8
    assert ids[-1] == str(bridging[1].id)
    keys = [(not i["details"]["open"], i["details"]["answer_by"], i["subject_id"]) for i in mine]
    assert keys == sorted(keys)
    assert all(i["citizen_ref"] is None and "citizen_ref" not in i["details"] for i in mine)
    assert mine[0]["reason"].startswith("Brobygning til beskæftigelse: sendt. Svar senest")
    accepted = next(i for i in mine if i["details"]["handoff_id"] == str(bridging[3].id))
    assert accepted["due_on"] is None and accepted["reason_code"] == "accepted"
    only = svc.rpc("partner_handoffs", actor=partner("jobcenter-ballerup"), state="declined")
    assert [i["details"]["handoff_id"] for i in only["items"]] == [str(bridging[1].id)]
    assert svc.rpc("partner_handoffs", actor=partner("bf-ballerup"))["items"][0][
        "details"]["kind"] == "hold_termination"

    # Staff: what is unanswered, oldest answer_by first, each sees its own share.
    awaiting = all_pages(svc, "handoffs_awaiting_answer", FRONTEN, limit=2)
    expected = sorted([r for r in svc.handoffs() if r.state in ("requested", "received")],
                      key=lambda r: (r.answer_by, str(r.id)))
    assert [i["details"]["handoff_id"] for i in awaiting] == [str(r.id) for r in expected]
    assert len(awaiting) == 8  # seven bridging minus two answered, plus three others
    assert awaiting[0]["reason"].startswith("Jobcenter Ballerup skal svare på: Brobygning")
    assert awaiting[0]["citizen_ref"] == str(CITIZEN)

    def kinds_seen(actor: dict[str, Any], **filters: Any) -> list[str]:
        return [i["kind"] for i in all_pages(svc, "handoffs_awaiting_answer", actor, 5,
                                             **filters)]

    assert kinds_seen(SOCIAL_VEJLEDNING) == ["referral_85"]
    assert kinds_seen(HOUSING_OFFICER) == ["hold_termination"]
    assert kinds_seen(TOVHOLDER) == ["offer_referral"]  # the one they are responsible for
    assert kinds_seen(FRONTEN, kind="referral_85") == ["referral_85"]
    assert kinds_seen(FRONTEN, escalated_only=True) == []

    # Errors: another list's cursor, a partner on a staff list, staff on a partner list.
    page = svc.rpc("handoffs_awaiting_answer", actor=FRONTEN, limit=1)
    with pytest.raises(RemoteError) as err:
        svc.rpc("partner_handoffs", actor=partner("jobcenter-ballerup"),
                cursor=page["next_cursor"])
    assert problems(err)[0]["field"] == "cursor"
    for method, actor in (("handoffs_awaiting_answer", partner("jobcenter-ballerup")),
                          ("partner_handoffs", FRONTEN)):
        with pytest.raises(RemoteError) as err:
            svc.rpc(method, actor=actor)
        assert problems(err)[0]["rule"] == "not_allowed"

    # Each page read is one SEARCH, named by its list.
    searches = svc.rows("access_log", action="search")
    assert {s.criterion for s in searches} == {"partners.partner_handoffs",
                                               "partners.handoffs_awaiting_answer"}
    assert all(s.citizen_ref is None for s in searches)
    assert len([s for s in searches if s.actor == "partner:jobcenter-ballerup"]) == 3 + 1
