"""Issue 10's access request, end to end over HTTP: a tovholder reads the pathway they
lead and a housing officer reads the citizen's rent-arrears case; the citizen's access
report (`GET /api/citizens/<ref>/access-report`, answered by Fronten) then lists both
reads, with who, when, what and the purpose, merged across the services.

A report for a citizen that does not exist, or with no citizen in the URL at all, is a
404 problem body, never a 500.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from services.gateway.auth import Role
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e

MONDAY = dt.datetime(2021, 3, 1, 7, 0, tzinfo=dt.UTC)
# The moments of the two reads (the business clock the access log records).
PATHWAY_READ_AT = dt.datetime(2021, 3, 2, 9, 15, tzinfo=dt.UTC)
CASE_READ_AT = dt.datetime(2021, 3, 2, 10, 30, tzinfo=dt.UTC)
CPR = "120801-4321"


def test_the_access_report_lists_who_read_the_pathway_and_the_case_and_why(
    system: System,
) -> None:
    system.clock.set(MONDAY)
    operator = system.token(Role.OPERATOR, "ops")
    fronten = system.token(Role.FRONTEN, "anne")
    coordinator = system.token(Role.COORDINATOR, "karin")
    tovholder = system.token(Role.TOVHOLDER, "m-social")
    officer = system.token(Role.HOUSING_OFFICER, "ho-birgit")
    association = system.token(Role.PARTNER, "bf", partner="bf-ballerup")

    citizen = system.ok("POST", "/api/citizens", fronten, 201, json={
        "cpr": CPR, "name": "Anders Andersen", "email": "anders@example.dk",
        "preferred_channel": "email"})["citizen_ref"]
    pathway = system.ok("POST", "/api/pathways", coordinator, 201,
                        json={"citizen_ref": citizen})["pathway_id"]
    system.ok("POST", f"/api/pathways/{pathway}/team", coordinator, 201, json={
        "member_id": "m-social", "name": "Mette Socialrådgiver", "email": "mette@balk.dk",
        "agency": "social_services", "role": "socialrådgiver"})
    system.ok("PUT", f"/api/pathways/{pathway}/tovholder", coordinator,
              json={"member_id": "m-social"})
    system.ok("POST", "/api/housing/associations", operator, json={
        "association_id": "bf-ballerup", "name": "Ballerup Boligforening",
        "delivery": "partner_queue", "departments": [
            {"number": "1", "name": "Søndergården", "tenancy_refs": ["T-1-1"]}]})
    case = system.ok("POST", "/api/housing/cases", association, 201, json={
        "tenancy_ref": "T-1-1", "match": {"cpr": CPR}, "amount_dkk": "9500.00",
        "months_behind": 2, "pakrav_sent_on": "2021-02-26",
        "pakrav_deadline": "2021-03-15"})["case_id"]

    # The two reads, each at its own moment.
    system.clock.set(PATHWAY_READ_AT)
    shown = system.ok("GET", f"/api/pathways/{pathway}", tovholder)
    assert shown["tovholder_id"] == "m-social"
    system.clock.set(CASE_READ_AT)
    assert system.ok("GET", f"/api/housing/cases/{case}", officer)["citizen_ref"] == citizen

    report = system.ok("GET", f"/api/citizens/{citizen}/access-report", fronten)
    assert report["citizen_ref"] == citizen
    assert set(report["services"]) >= {"intake", "coordination", "housing", "notifications"}
    entries: list[dict[str, Any]] = report["items"]
    assert report["count"] == len(entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)

    [pathway_read] = [e for e in entries if e["actor"] == "staff:m-social"
                      and e["action"] == "read"]
    assert pathway_read["service"] == "coordination"
    assert pathway_read["roles"] == ["tovholder"]
    assert pathway_read["at"] == PATHWAY_READ_AT.isoformat()
    assert (pathway_read["what"], pathway_read["subject_id"]) == ("pathway", pathway)
    assert pathway_read["purpose"] and pathway_read["action_text"]

    [case_read] = [e for e in entries if e["actor"] == "staff:ho-birgit"
                   and e["action"] == "read"]
    assert case_read["service"] == "housing"
    assert case_read["roles"] == ["housing_officer"]
    assert case_read["at"] == CASE_READ_AT.isoformat()
    assert case_read["subject_id"] == case
    assert case_read["purpose"] == "opfølgning på huslejerestance"

    # Who else: the coordinator's changes, the association's report; nobody unnamed.
    actors = {e["actor"] for e in entries}
    assert {"staff:karin", "partner:bf-ballerup"} <= actors
    assert all(e["purpose"] for e in entries)
    print(f"\naccess report: {len(entries)} entries from "
          f"{sorted({e['service'] for e in entries})}; the tovholder's read at "
          f"{pathway_read['at']} ({pathway_read['purpose']}), the housing officer's at "
          f"{case_read['at']} ({case_read['purpose']})")

    # Asking is itself logged: the next report shows Fronten's request for insight.
    again = system.ok("GET", f"/api/citizens/{citizen}/access-report", fronten)["items"]
    assert any(e["actor"] == "staff:anne" and e["what"] == "access_log" for e in again)


def test_an_access_report_for_no_citizen_is_a_404_problem(system: System) -> None:
    fronten = system.token(Role.FRONTEN, "anne")
    for path in ("/api/citizens//access-report", f"/api/citizens/{uuid.uuid4()}/access-report"):
        resp = system.call("GET", path, fronten, allow_redirects=False)
        assert resp.status_code == 404, f"{path}: {resp.status_code} {resp.text}"
        assert resp.headers["Content-Type"] == "application/problem+json"
        body = resp.json()
        assert (body["status"], body["title"]) == (404, "Not found"), body
        assert "instance" not in body  # a 404 names no path
    # Not a citizen reference at all: a 400 naming the parameter.
    resp = system.call("GET", "/api/citizens/not-a-ref/access-report", fronten)
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "citizen_ref"
