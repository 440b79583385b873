"""Bad input through the real RPC on both databases: a clear error naming the field and
the rule, nothing written, nothing published."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import insert

from services.intake.models import Inquiry
from tests.integration.intake.conftest import EventTap, make_intake

pytestmark = pytest.mark.integration

T0 = dt.datetime(2018, 4, 9, 8, 0, tzinfo=dt.UTC)
STAFF = {"kind": "staff", "id": "fronten-anne", "roles": ["fronten"]}
PLAN = {"goals": ["Jeg vil kunne åbne mine breve."], "follow_up_dates": ["2018-05-07"]}


def test_refused_commands_name_field_and_rule_and_change_nothing(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, T0)
    intake.run()
    with intake.rpc() as cluster:
        ref = cluster.intake.register_citizen(
            actor=STAFF, cpr="090295-1234", name="Mikkel Hansen", email=None, phone=None,
            preferred_channel="letter",
        )["citizen_ref"]
        anonymous = cluster.intake.register_inquiry(
            actor=STAFF, channel="phone", inquirer_kind="professional", topics=["housing"],
            wish="Råd om en borger med huslejerestance.",
        )["inquiry_id"]
        named = cluster.intake.register_inquiry(
            actor=STAFF, channel="walk_in", inquirer_kind="citizen", topics=["economy"],
            wish="Overblik over min økonomi.", citizen_ref=ref,
        )["inquiry_id"]
        course_id = cluster.intake.start_course(
            actor=STAFF, inquiry_id=named, kind="individual_82b", planned_end="2018-07-09",
            plan=PLAN,
        )["course_id"]
        given = cluster.intake.give_consent(
            actor=STAFF, citizen_ref=ref, recipient="jobcenter",
            information_kinds=["course_status"], purpose="pathway_team", form="oral",
        )
        cluster.intake.withdraw_consent(actor=STAFF, consent_id=given["consent_id"])
        other = cluster.intake.register_inquiry(
            actor=STAFF, channel="mail", inquirer_kind="citizen", topics=["loneliness"],
            wish="Jeg er ensom.", citizen_ref=ref,
        )["inquiry_id"]
        # An inquiry stored before intake checked its citizen_ref (an unknown one).
        orphan = uuid.uuid4()
        engine_rows = intake.store()
        with engine_rows.unit_of_work() as uow:
            uow.session.execute(insert(Inquiry).values(
                id=orphan, registered_at=T0, channel="phone", inquirer_kind="citizen",
                topics=["housing"], wish="Gamle data.", citizen_ref=uuid.uuid4(),
                registered_by="staff:fronten-anne",
            ))
            uow.commit()
        engine_rows.engine.dispose()
        another_lists_cursor = cluster.intake.worklist_open_inquiries(
            actor=STAFF, limit=1)["next_cursor"]
        assert another_lists_cursor
        # Everything above has left the outbox: from here on nothing may be published.
        tap.wait("intake.course_started")
        tap.wait("intake.consent_withdrawn")
        tap.wait("intake.inquiry_registered", lambda e: e["payload"]["inquiry_id"] == other)
        before = intake.counts()
        seen = len(tap.poll())

        cases = [
            ("register_citizen", dict(cpr="300218-1234", name="X", email=None, phone=None,
                                      preferred_channel="letter"),
             {"cpr": "cpr.date"}),
            ("register_citizen", dict(cpr="290201-1234", name="X", email=None, phone=None,
                                      preferred_channel="letter"),
             {"cpr": "cpr.date"}),  # 2001 is not a leap year
            ("register_citizen", dict(cpr="12345", name="X", email=None, phone=None,
                                      preferred_channel="letter"),
             {"cpr": "cpr.format"}),
            ("register_citizen", dict(cpr="0101901234", name="X", email=None, phone=None,
                                      preferred_channel="email"),
             {"email": "contact.email_missing"}),
            ("register_inquiry", dict(channel="fax", inquirer_kind="citizen",
                                      topics=["weather"], wish="x"),
             {"channel": "schema", "topics.0": "schema"}),
            ("start_course", dict(inquiry_id=anonymous, kind="individual_82b",
                                  planned_end="2018-07-09", plan=PLAN),
             {"inquiry_id": "course.anonymous_inquiry"}),
            ("start_course", dict(inquiry_id=other, kind="individual_82b",
                                  planned_end="2018-10-10", plan=PLAN),
             {"planned_end": "course.max_length_exceeded"}),
            ("start_course", dict(inquiry_id=other, kind="individual_82b",
                                  planned_end="2018-07-09",
                                  plan={"goals": [], "follow_up_dates": ["2018-05-07"]}),
             {"plan.goals": "plan.goals_missing"}),
            ("start_course", dict(inquiry_id=other, kind="sft", plan=PLAN,
                                  bridging_to=["housing"]),
             {"bridging.partner_kinds": "bridging.partner_kind"}),
            ("resolve_inquiry", dict(inquiry_id=anonymous, outcome="referral_pathway"),
             {"outcome": "inquiry.outcome_needs_citizen"}),
            ("resolve_inquiry", dict(inquiry_id=named, outcome="advice_only"),
             {"inquiry_id": "inquiry.already_resolved"}),
            ("withdraw_consent", dict(consent_id=given["consent_id"]),
             {"consent": "consent.already_withdrawn"}),
            # The consent vocabulary (issue 16): never free text.
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter",
                                  information_kinds=["diagnosis"], purpose="pathway_team",
                                  form="oral"),
             {"information_kinds.0": "schema"}),
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter",
                                  information_kinds=["contact_status"],
                                  purpose="brobygning til job", form="oral"),
             {"purpose": "schema"}),
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter balerup",
                                  information_kinds=["bridging_status"],
                                  purpose="bridging_employment", form="oral"),
             {"recipient": "consent.recipient_unknown"}),
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter",
                                  information_kinds=["bridging_status"],
                                  purpose="bridging_employment", form="oral"),
             {"recipient": "consent.recipient_not_for_purpose"}),
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter",
                                  information_kinds=[], purpose="pathway_team", form="oral"),
             {"information_kinds": "schema"}),
            ("hand_over_course", dict(course_id=course_id,
                                      responsible={"staff_id": "fronten-anne", "name": "Anne"}),
             {"responsible.staff_id": "course.same_responsible"}),
            ("hand_over_course", dict(course_id=course_id,
                                      responsible={"staff_id": "ny kollega", "name": ""}),
             {"responsible.staff_id": "schema", "responsible.name": "schema"}),
            ("end_course", dict(course_id=course_id, reason="planned_end"),
             {"review": "course.review_missing"}),
            ("end_course", dict(course_id=course_id, reason="broken_agreements"),
             {"reason": "course.end_reason_automatic"}),
            ("extend_course", dict(course_id=course_id, planned_end="2018-10-10"),
             {"planned_end": "course.max_length_exceeded"}),
            ("record_attendance", dict(course_id=course_id, on="2018-04-10", kept=True),
             {"attendance.date": "attendance.in_future"}),
            # Integrity at the door (issue 15).
            ("register_inquiry", dict(channel="phone", inquirer_kind="citizen",
                                      topics=["housing"], wish="Hjælp.",
                                      citizen_ref=str(uuid.uuid4())),
             {"citizen_ref": "citizen.unknown"}),
            ("start_course", dict(inquiry_id=other, kind="individual_82b",
                                  start_date="2018-04-08", planned_end="2018-07-09",
                                  plan=PLAN),
             {"start_date": "course.before_inquiry"}),
            ("start_course", dict(inquiry_id=str(orphan), kind="individual_82b",
                                  planned_end="2018-07-09", plan=PLAN),
             {"inquiry_id": "course.citizen_unknown"}),
            ("update_contact", dict(citizen_ref=ref, address="   "),
             {"address": "contact.address_blank"}),
            # Decisions need something to decide.
            ("confirm_course_ending", dict(course_id=course_id),
             {"ending_proposal": "ending.none_proposed"}),
            ("record_back_on_track", dict(course_id=course_id),
             {"ending_proposal": "ending.none_proposed"}),
            ("record_follow_up", dict(course_id=course_id, follow_up_on="2018-05-07"),
             {"follow_up_on": "follow_up.not_due"}),
            ("decide_target_group_flag", dict(flag_id=str(uuid.uuid4()), decision="maybe"),
             {"decision": "schema"}),
            # Worklists: a cursor is only good for the list that gave it out.
            ("worklist_open_inquiries", dict(cursor="bm9uc2Vuc2U"), {"cursor": "cursor"}),
            ("worklist_referrals_85", dict(cursor=another_lists_cursor), {"cursor": "cursor"}),
            ("worklist_follow_ups", dict(limit=0), {"limit": "schema"}),
            ("worklist_bridging", dict(partner_missing="perhaps"), {"partner_missing": "schema"}),
        ]
        for method, args, expected in cases:
            with pytest.raises(RemoteError) as err:
                getattr(cluster.intake, method)(actor=STAFF, **args)
            assert err.value.exc_type == "InvalidInput", (method, err.value)
            errors = json.loads(err.value.value)["errors"]
            assert {e["field"]: e["rule"] for e in errors} == expected, method
            assert all(e["message"] for e in errors)
            assert intake.counts() == before, method

        with pytest.raises(RemoteError) as err:
            cluster.intake.get_course(
                actor=STAFF, course_id="00000000-0000-4000-8000-000000000000", purpose="x"
            )
        assert err.value.exc_type == "NotFoundError"

        # After the review panel approved, the same end is accepted.
        cluster.intake.request_review(actor=STAFF, course_id=course_id)
        cluster.intake.decide_review(actor=STAFF, course_id=course_id, decision="end")
        ended = cluster.intake.end_course(actor=STAFF, course_id=course_id)
        assert (ended["status"], ended["end_reason"]) == ("ended", "planned_end")
    tap.wait("intake.course_ended")
    assert [e["type"] for e in tap.poll()[seen:]] == [
        "intake.course_review_requested",
        "intake.course_review_decided",
        "intake.course_ended",
    ]
