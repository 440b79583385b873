"""Need-to-know in intake (issue 10) over RPC, on a real broker and both databases, with
pathway membership fed by coordination's real events.

One rule per test. Every refusal of a record answers exactly like a missing record
(same error type, field, rule and message), and writes nothing; every allowed read is
in the access log with its purpose.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import func, select

from services.intake import handlers
from tests.integration.intake.conftest import make_intake
from tests.integration.intake.support import (
    ACCESS_LOG,
    ANNE,
    FRONTEN,
    NOW,
    PANEL,
    SOCIAL_VEJLEDNING,
    TODAY,
    Pathways,
    World,
)

pytestmark = pytest.mark.integration

D = dt.date
MISSING = "00000000-0000-4000-8000-000000000000"


def staff(staff_id: str, *roles: str, agency: str | None = None) -> dict[str, Any]:
    return {"kind": "staff", "id": staff_id, "name": staff_id.title(), "roles": list(roles),
            "agency": agency}


METTE = staff("mette", "tovholder", agency="social_services")  # the tovholder
JENS = staff("jens", "tovholder", agency="jobcenter")  # a team member, consent to contact
ULLA = staff("ulla", "tovholder", agency="upoint")  # a team member, consent without contact
SOFIE = staff("sofie", "tovholder", agency="school")  # a team member who has left
HOUSING_OFFICER = staff("bolig-bent", "housing_officer")
OPERATOR = staff("drift-dorte", "operator")
PARTNER = {"kind": "partner", "id": "jobcenter-ballerup", "roles": ["partner"],
           "partner_id": "jobcenter-ballerup"}


@pytest.fixture
def world(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys) -> Iterator[World]:
    intake = make_intake(
        amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW, INTAKE_SWEEP_SECONDS=3600
    )
    made = World.of(intake, cpr_keys)
    intake.run()
    yield made
    made.close()


def answer(call: Callable[[], Any]) -> tuple[str, Any]:
    """What the caller gets: ("ok", result) or (error type, error body)."""
    try:
        return "ok", call()
    except RemoteError as err:
        return str(err.exc_type), json.loads(err.value)


def reads(world: World, citizen_ref: str) -> list[tuple[str, str, str, str]]:
    return [tuple(r) for r in world.intake.rows(
        select(ACCESS_LOG.c.actor, ACCESS_LOG.c.action, ACCESS_LOG.c.what, ACCESS_LOG.c.purpose)
        .where(ACCESS_LOG.c.citizen_ref == uuid.UUID(citizen_ref), ACCESS_LOG.c.action == "read")
        .order_by(ACCESS_LOG.c.id))]


def log_size(world: World) -> int:
    return int(world.intake.rows(select(func.count()).select_from(ACCESS_LOG))[0][0])


def consent(world: World, citizen_ref: str, agency: str, *kinds: str) -> str:
    return str(world.run(
        handlers.give_consent, actor=ANNE, citizen_ref=uuid.UUID(citizen_ref),
        recipient=agency, information_kinds=list(kinds), purpose="pathway_team",
        form="written", given_at=None,
    )["consent_id"])


def citizen_with_team(world: World) -> tuple[str, Pathways]:
    """A citizen in a pathway led by Mette, with Jens (jobcenter, consent to contact),
    Ulla (Upoint, consent without contact) and Sofie (school, left yesterday)."""
    ref = world.citizen()
    pathway = Pathways(world.intake, ref)
    pathway.opened()
    pathway.member("mette", "social_services")
    pathway.handed_over("mette", "social_services")
    for who, agency in (("jens", "jobcenter"), ("ulla", "upoint"), ("sofie", "school")):
        pathway.member(who, agency)
    pathway.member_left("sofie", TODAY - dt.timedelta(days=1))
    consent(world, ref, "jobcenter", "contact_status", "meeting_schedule")
    consent(world, ref, "upoint", "meeting_schedule")
    consent(world, ref, "school", "contact_status")
    return ref, pathway


def test_the_pathway_team_sees_as_far_as_membership_and_consent_reach(world):
    ref, pathway = citizen_with_team(world)
    stranger = world.citizen()  # no pathway: none of them knows this citizen
    with world.intake.rpc() as cluster:
        def citizen(actor: dict[str, Any], who: str = ref, **kw: Any) -> tuple[str, Any]:
            return answer(lambda: cluster.intake.get_citizen(
                actor=actor, citizen_ref=who, purpose="forberedelse af møde", **kw))

        def contact(actor: dict[str, Any], who: str = ref) -> tuple[str, Any]:
            return answer(lambda: cluster.intake.get_contact(
                actor=actor, citizen_ref=who, purpose="mødeindkaldelse"))

        missing = citizen(FRONTEN, MISSING)
        assert missing[0] == "NotFoundError"
        assert missing[1] == {"errors": [{"field": "citizen_ref", "rule": "not_found",
                                          "message": "No such citizen."}]}
        assert contact(FRONTEN, MISSING) == missing

        full = cluster.intake.get_citizen(actor=FRONTEN, citizen_ref=ref, purpose="samtale")
        assert full["scope"] == "full" and full["birth_date"] and full["age"] == 23

        # The tovholder: name and contact, nothing more; no CPR number.
        kind, seen = citizen(METTE)
        assert kind == "ok" and seen["scope"] == "name_and_contact"
        assert seen["name"] == full["name"] and seen["preferred_channel"] == "letter"
        assert (seen["birth_date"], seen["age"], seen["cpr"]) == (None, None, None)
        assert contact(METTE)[0] == "ok"
        assert citizen(METTE, show_cpr=True) == ("InvalidInput", {"errors": [
            {"field": "actor", "rule": "not_allowed", "message":
             "The CPR number is shown to Fronten, and to Social Vejledning for a § 85 "
             "referral."}]})
        # Jens: consent to his agency covers contact.
        assert citizen(JENS)[1]["scope"] == "name_and_contact"
        assert contact(JENS)[1]["name"] == full["name"]
        # Ulla: consent to Upoint, not to contact: the name only; her contact read is refused
        # like a missing citizen.
        assert citizen(ULLA)[1] == {**seen, "scope": "name", "preferred_channel": None}
        assert contact(ULLA) == missing
        before = log_size(world)
        # Sofie left yesterday; nobody of the team knows the stranger; roles without a
        # membership see nothing: each answers exactly as for a missing citizen.
        for actor, who in ((SOFIE, ref), (METTE, stranger), (JENS, stranger),
                           (HOUSING_OFFICER, ref), (OPERATOR, ref), (PARTNER, ref),
                           (PANEL, ref), (SOCIAL_VEJLEDNING, ref)):
            assert citizen(actor, who) == missing, actor["id"]
            assert contact(actor, who) == missing, actor["id"]
        assert log_size(world) == before  # a refusal logs (and writes) nothing

        # Jens's consent is withdrawn: he keeps his membership and sees the first name.
        jobcenter = next(c for c in cluster.intake.list_consents(
            actor=FRONTEN, citizen_ref=ref, purpose="gennemgang") if c["recipient"] == "jobcenter")
        cluster.intake.withdraw_consent(actor=FRONTEN, consent_id=jobcenter["consent_id"])
        assert citizen(JENS)[1]["name"] == full["name"].split()[0]
        assert citizen(JENS)[1]["scope"] == "first_name"
        assert contact(JENS) == missing

        # Mette hands over to Jens: Jens now leads it and sees name and contact again;
        # Mette, still a member from social services, sees the name.
        pathway.handed_over("jens", "jobcenter", old_id="mette")
        assert citizen(JENS)[1]["scope"] == "name_and_contact"
        assert citizen(METTE)[1]["scope"] == "name"
        # The pathway is closed: the team sees nothing any more.
        pathway.closed()
        for actor in (METTE, JENS, ULLA):
            assert citizen(actor) == missing

    # Every allowed read is logged with its purpose, under the reader's label.
    log = reads(world, ref)
    assert ("staff:mette", "read", "contact", "forberedelse af møde") in log
    assert ("staff:mette", "read", "contact", "mødeindkaldelse") in log
    assert ("staff:ulla", "read", "name", "forberedelse af møde") in log
    assert ("staff:jens", "read", "name", "forberedelse af møde") in log
    assert not any(actor in ("staff:sofie", "staff:bolig-bent", "staff:drift-dorte",
                             "partner:jobcenter-ballerup") for actor, *_ in log)


def test_social_vejledning_and_the_review_panel_see_what_is_theirs_only(world):
    ref = world.citizen()
    course_id = world.course(D(2018, 4, 2), D(2018, 9, 1), [D(2018, 6, 20)], citizen_ref=ref)
    with world.intake.rpc() as cluster:
        def course(actor: dict[str, Any], which: str = course_id) -> tuple[str, Any]:
            return answer(lambda: cluster.intake.get_course(
                actor=actor, course_id=which, purpose="sagsbehandling"))

        def citizen(actor: dict[str, Any], **kw: Any) -> tuple[str, Any]:
            return answer(lambda: cluster.intake.get_citizen(
                actor=actor, citizen_ref=ref, purpose="sagsbehandling", **kw))

        missing_course = course(FRONTEN, MISSING)
        assert missing_course == ("NotFoundError", {"errors": [
            {"field": "course_id", "rule": "not_found", "message": "No such course."}]})
        missing_citizen = answer(lambda: cluster.intake.get_citizen(
            actor=FRONTEN, citizen_ref=MISSING, purpose="x"))
        # Neither has the course yet: not on the agenda, no § 85 referral.
        for actor in (PANEL, SOCIAL_VEJLEDNING):
            assert course(actor) == missing_course
            assert citizen(actor) == missing_citizen
        # A role that never reads courses is told so, whatever the course.
        not_allowed = ("InvalidInput", {"errors": [{"field": "actor", "rule": "not_allowed",
            "message": "Courses are read by Fronten, the review panel and Social Vejledning."}]})
        assert course(METTE) == not_allowed and course(METTE, MISSING) == not_allowed
        # The panel may not decide a review of a course that is not on its agenda.
        assert answer(lambda: cluster.intake.decide_review(
            actor=PANEL, course_id=course_id, decision="continue",
            new_planned_end="2018-09-20")) == missing_course

        cluster.intake.request_review(actor=FRONTEN, course_id=course_id)
        assert course(PANEL)[0] == "ok"
        seen = citizen(PANEL)[1]
        assert (seen["scope"], seen["email"], seen["birth_date"]) == ("name", None, None)
        assert course(SOCIAL_VEJLEDNING) == missing_course
        cluster.intake.decide_review(actor=PANEL, course_id=course_id, decision="refer_85")
        # Decided: off the agenda, so off the panel's view; Social Vejledning has it now,
        # with the citizen's CPR number (the authority opening the § 85 case).
        assert course(PANEL) == missing_course
        assert citizen(PANEL) == missing_citizen
        assert course(SOCIAL_VEJLEDNING)[0] == "ok"
        shown = citizen(SOCIAL_VEJLEDNING, show_cpr=True)[1]
        assert shown["scope"] == "full" and shown["cpr"]
        decided = cluster.intake.record_referral_85_outcome(
            actor=SOCIAL_VEJLEDNING, course_id=course_id, outcome="granted")
        assert decided["referrals_85"][0]["outcome"] == "granted"

    log = reads(world, ref)
    assert ("staff:udvalg-bo", "read", "course", "sagsbehandling") in log
    assert ("staff:udvalg-bo", "read", "name", "sagsbehandling") in log
    assert ("staff:sv-lise", "read", "cpr", "sagsbehandling") in log


def test_roles_that_never_may_are_told_so_whatever_the_record(world):
    ref = world.citizen()
    inquiry = world.inquiry(ref, NOW)
    before = world.intake.counts()
    with world.intake.rpc() as cluster:
        calls: list[tuple[str, dict[str, Any]]] = [
            ("register_inquiry", dict(channel="phone", inquirer_kind="citizen",
                                      topics=["housing"], wish="Hjælp.")),
            ("get_inquiry", dict(inquiry_id=inquiry, purpose="x")),
            ("register_citizen", dict(cpr="0101901234", name="X", preferred_channel="letter")),
            ("match_citizen", dict(purpose="x", cpr="0101901234")),
            ("list_consents", dict(citizen_ref=ref, purpose="x")),
            ("give_consent", dict(citizen_ref=ref, recipient="jobcenter", purpose="pathway_team",
                                  information_kinds=["contact_status"], form="oral")),
            ("consent_vocabulary", {}),
            ("lookups_of_citizen", dict(citizen_ref=ref, purpose="x")),
            ("worklist_open_inquiries", {}),
            ("worklist_consents_to_correct", {}),
            ("worklist_review_agenda", {}),
            ("worklist_referrals_85", {}),
        ]
        for method, args in calls:
            for actor in (METTE, PARTNER, OPERATOR):
                kind, body = answer(lambda m=method, a=args, who=actor:
                                    getattr(cluster.intake, m)(actor=who, **a))
                assert kind == "InvalidInput", (method, actor["id"], body)
                assert [(e["field"], e["rule"]) for e in body["errors"]] == [
                    ("actor", "not_allowed")], method
        # A label (how services call) carries no role: a "staff:" label is nobody.
        assert answer(lambda: cluster.intake.get_inquiry(
            actor="staff:fronten-anne", inquiry_id=inquiry, purpose="x"))[0] == "InvalidInput"
    assert world.intake.counts() == before


def test_the_access_report_for_fronten_and_operators_and_logged_itself(world):
    ref, _ = citizen_with_team(world)
    with world.intake.rpc() as cluster:
        cluster.intake.get_citizen(actor=METTE, citizen_ref=ref, purpose="mødeforberedelse")
        report = cluster.intake.access_report(actor=FRONTEN, citizen_ref=ref)
        assert {"at", "service", "actor", "roles", "action", "action_text", "what",
                "subject_id", "purpose"} <= set(report[0])
        mine = [e for e in report if e["actor"] == "staff:mette"]
        assert [(e["action"], e["action_text"], e["what"], e["purpose"], e["roles"])
                for e in mine] == [
            ("read", "læst", "contact", "mødeforberedelse", ["tovholder"])]
        assert all(e["service"] == "intake" for e in report)
        again = cluster.intake.access_report(
            actor={**OPERATOR, "purpose": "borgerens anmodning om indsigt, sag 12"},
            citizen_ref=ref)
        # Fronten's look at the report is in the operator's copy, with its default purpose.
        assert again[-1] == {**again[-1], "actor": "staff:fronten-anne", "what": "access_log",
                             "action": "read", "purpose": "borgerens anmodning om indsigt"}
        for actor in (METTE, PARTNER, HOUSING_OFFICER):
            kind, body = answer(lambda who=actor: cluster.intake.access_report(
                actor=who, citizen_ref=ref))
            assert (kind, body["errors"][0]["rule"]) == ("InvalidInput", "not_allowed")
    last = world.intake.rows(
        select(ACCESS_LOG.c.actor, ACCESS_LOG.c.what, ACCESS_LOG.c.purpose)
        .where(ACCESS_LOG.c.citizen_ref == uuid.UUID(ref)).order_by(ACCESS_LOG.c.id.desc())
        .limit(1))
    assert tuple(last[0]) == ("staff:drift-dorte", "access_log",
                              "borgerens anmodning om indsigt, sag 12")
