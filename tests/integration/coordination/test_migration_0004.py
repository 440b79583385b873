"""Migration 0004 fills the new read models from what is stored already: the actions of
each plan's newest version (with their status) and the housing cases escalated before,
so "my actions" and "housing alerts" are complete on the first start."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert

from services.common.db import make_engine
from services.common.migrate import upgrade
from services.coordination.models import HousingAlertRow, PlanActionRow, metadata
from tests.integration.coordination.paging import rows

pytestmark = pytest.mark.integration

T = dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.UTC)


def goal(*actions: tuple[str, str, str]) -> dict:
    return {"goal_id": "g-1", "text": "Jeg vil gerne i skole.", "voice": "citizen",
            "actions": [{"action_id": a, "text": f"Skridt {a}", "owner_id": o, "due_on": d}
                        for a, o, d in actions]}


def test_the_read_models_are_filled_from_the_stored_plans_and_escalations(db_url):
    upgrade("coordination", db_url, "0003")
    pathway, plan, citizen, case = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    closed_case = uuid.uuid4()
    tables = metadata.tables
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(tables["pathways"]).values(
                id=pathway, citizen_ref=citizen, opened_at=T, opened_by="staff:mette"))
            conn.execute(insert(tables["plans"]).values(id=plan, pathway_id=pathway,
                                                        created_at=T))
            conn.execute(insert(tables["plan_versions"]), [
                {"plan_id": plan, "number": 1, "created_at": T,
                 "goals": [goal(("a-old", "m-social", "2021-03-05"))]},
                {"plan_id": plan, "number": 2, "created_at": T,
                 "goals": [goal(("a-bed", "m-upoint", "2021-03-10"),
                                ("a-call", "m-social", "2021-03-20"))]},
            ])
            conn.execute(insert(tables["plan_action_status"]).values(
                plan_id=plan, action_id="a-bed", status="done", changed_at=T))
            conn.execute(insert(tables["citizen_activity"]), [
                {"citizen_ref": citizen, "kind": "housing_case_escalated", "occurred_at": T,
                 "source_message_id": uuid.uuid4(),
                 "details": {"case_id": str(case), "level": "outreach_due",
                             "previous_level": "reported", "requests": ["contact_citizen"],
                             "next_deadline": "2021-03-15T23:00:00+00:00"}},
                {"citizen_ref": citizen, "kind": "housing_case_escalated", "occurred_at": T,
                 "source_message_id": uuid.uuid4(),
                 "details": {"case_id": str(closed_case), "level": "outreach_due",
                             "previous_level": None, "requests": [], "next_deadline": None}},
                {"citizen_ref": citizen, "kind": "housing_case_closed",
                 "occurred_at": T + dt.timedelta(days=1), "source_message_id": uuid.uuid4(),
                 "details": {"case_id": str(closed_case), "closure": "tenancy_kept"}},
            ])
    finally:
        engine.dispose()

    upgrade("coordination", db_url)

    actions = {(a.action_id, a.owner_id, a.due_on, a.status, a.version)
               for a in rows(db_url, PlanActionRow)}
    assert actions == {("a-bed", "m-upoint", dt.date(2021, 3, 10), "done", 2),
                       ("a-call", "m-social", dt.date(2021, 3, 20), "open", 2)}
    alerts = {a.case_id: a for a in rows(db_url, HousingAlertRow)}
    assert set(alerts) == {case, closed_case}
    open_alert = alerts[case]
    assert (open_alert.level, open_alert.requests, open_alert.priority, open_alert.closed_at) == (
        "outreach_due", ["contact_citizen"], 2, None)
    assert open_alert.next_deadline == dt.datetime(2021, 3, 15, 23, 0, tzinfo=dt.UTC)
    assert open_alert.sort_deadline == open_alert.next_deadline
    assert alerts[closed_case].closure == "tenancy_kept"
    assert alerts[closed_case].closed_at is not None
