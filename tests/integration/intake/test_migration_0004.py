"""Migration 0004 on a database that already holds courses (SQLite and PostgreSQL): the
worklists' stored days are filled in from each course's dates and its own settings,
and the course loads and saves as before."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import text

from services.common.clock import FixedClock
from services.common.db import Store, make_engine
from services.common.migrate import upgrade
from services.intake.models import CourseRow, metadata
from services.intake.repository import load_course

pytestmark = pytest.mark.integration

D = dt.date


def test_existing_courses_get_their_bridging_and_review_days(db_url: str) -> None:
    upgrade("intake", db_url, "0003")
    course_id = uuid.uuid4()
    settings = {"individual_max_months": 6, "sft_months": 9, "group_max_months": None,
                "broken_agreement_window_days": 28, "bridging_lead_months": 1,
                "review_lead_days": 14, "review_required_before_end": True}
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO courses (id, citizen_ref, kind, start_date, planned_end, status,"
                " goals, follow_up_dates, bridging_partner_kinds, fired, settings, started_by,"
                " created_at, updated_at) VALUES (:id, :ref, 'individual_82b', :start, :end,"
                " 'active', :goals, :follow_ups, '[]', '[]', :settings, 'staff:a', :now, :now)"
            ), {"id": course_id.hex, "ref": uuid.uuid4().hex, "start": D(2018, 3, 31),
                "end": D(2018, 8, 31), "goals": json.dumps(["Mål"]),
                "follow_ups": json.dumps(["2018-05-01"]), "settings": json.dumps(settings),
                "now": dt.datetime(2018, 4, 1, 8, 0)})
    finally:
        engine.dispose()

    upgrade("intake", db_url)

    store = Store(make_engine(db_url), metadata, "intake",
                  FixedClock(dt.datetime(2018, 6, 1, tzinfo=dt.UTC)))
    try:
        with store.read() as session:
            row = session.get(CourseRow, course_id)
            assert row is not None
            # One month (this course's setting) before 31 August: 31 July; 14 days: 17 August.
            assert (row.bridging_due_on, row.review_due_on) == (D(2018, 7, 31), D(2018, 8, 17))
            assert (row.imported, row.last_message_on) == (False, None)
            _, course = load_course(session, course_id)
            assert (course.bridging_due_on, course.review_due_on) == (
                row.bridging_due_on, row.review_due_on)
            assert course.ending_proposals == [] and course.last_message_on is None
    finally:
        store.engine.dispose()
