"""The consent vocabulary (issue 16) on a real broker and both databases: recipients
come from the partner directory (partners.partner_registered, real envelopes) and the
agencies, purposes are ConsentPurpose; consents written in free text before the
vocabulary are migrated where they map unambiguously and otherwise flagged for a
person, never dropped; a person corrects them from Fronten's list."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import JSON, Column, Date, MetaData, String, Table, Uuid, insert, select

from services.common.db import make_engine
from services.common.migrate import upgrade
from services.common.types import UTCDateTime
from services.intake.models import Citizen, ConsentRow, CourseResponsibleRow, CourseRow
from tests.integration.intake.conftest import EventTap, make_intake
from tests.integration.intake.support import FRONTEN, NOW, World, partner_known
from tests.support.waiting import wait_for

pytestmark = pytest.mark.integration

AGENCIES = ["housing", "jobcenter", "mentor", "psychiatry_health", "school",
            "social_services", "upoint"]


def problems(err: pytest.ExceptionInfo[RemoteError]) -> list[dict[str, str]]:
    return list(json.loads(err.value.value)["errors"])


def test_recipients_come_from_the_directory_and_unknown_values_list_the_allowed_ones(
    amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, tap: EventTap
):
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW)
    world = World.of(intake, cpr_keys)
    intake.run()
    ref = world.citizen()
    partner_known(intake, "jobcenter-ballerup", name="Jobcenter Ballerup",
                  changed_at=NOW - dt.timedelta(days=1))
    partner_known(intake, "uu-ballerup", name="UU Ballerup", category="education",
                  accepts=("bridging_education",))
    # An older change arriving late does not overwrite the newer one.
    intake.publish("partners.partner_registered", {
        "partner_id": "jobcenter-ballerup", "name": "Jobcenter Gammelt Navn",
        "category": "employment", "accepts": [], "active": False,
        "changed_at": NOW - dt.timedelta(days=30)})
    inbox = world.store.metadata.tables["inbox"]
    wait_for(lambda: len(intake.rows(select(inbox.c.message_id).where(
        inbox.c.consumer == "intake.on_partners_partner_registered"))) == 3,
        what="three directory messages handled")
    with intake.rpc() as cluster:
        vocabulary = cluster.intake.consent_vocabulary(actor=FRONTEN)
        partners = [(r["recipient"], r["name"], r["kind"]) for r in vocabulary["recipients"]
                    if r["kind"] == "partner"]
        assert partners == [("jobcenter-ballerup", "Jobcenter Ballerup", "partner"),
                            ("uu-ballerup", "UU Ballerup", "partner")]
        agencies = [r for r in vocabulary["recipients"] if r["kind"] == "agency"]
        assert sorted(r["recipient"] for r in agencies) == AGENCIES
        assert all(r["purposes"] == ["pathway_team"] for r in agencies)
        assert {p["purpose"]: p["text"] for p in vocabulary["purposes"]}["keep_home"] == (
            "at fastholde boligen")
        assert len(vocabulary["information_kinds"]) == 6

        def give(**kw: Any) -> dict[str, Any]:
            args = {"citizen_ref": ref, "information_kinds": ["bridging_status"],
                    "form": "written", **kw}
            return dict(cluster.intake.give_consent(actor=FRONTEN, **args))

        given = give(recipient="uu-ballerup", purpose="bridging_education")
        assert (given["recipient_name"], given["needs_correction"]) == ("UU Ballerup", None)
        before = intake.counts()
        with pytest.raises(RemoteError) as err:
            give(recipient="jobcenter balerup", purpose="bridging_employment")
        [problem] = problems(err)
        assert (problem["field"], problem["rule"]) == ("recipient", "consent.recipient_unknown")
        assert problem["message"] == (
            "The recipient is neither a partner in the directory nor an agency. Allowed: "
            + ", ".join(sorted([*AGENCIES, "jobcenter-ballerup", "uu-ballerup"])) + ".")
        with pytest.raises(RemoteError) as err:
            give(recipient="jobcenter-ballerup", purpose="brobygning til job")
        [problem] = problems(err)
        assert (problem["field"], problem["rule"]) == ("purpose", "schema")
        for code in ("bridging_employment", "pathway_team", "keep_home", "offer_referral"):
            assert code in problem["message"]
        with pytest.raises(RemoteError) as err:
            give(recipient="jobcenter-ballerup", purpose="pathway_team")
        [problem] = problems(err)
        assert problem["rule"] == "consent.recipient_not_for_purpose"
        assert problem["message"].endswith("Allowed: " + ", ".join(AGENCIES) + ".")
        assert intake.counts() == before

        # Deactivated in the directory: no new consent may name it.
        partner_known(intake, "uu-ballerup", name="UU Ballerup", category="education",
                      active=False, changed_at=NOW + dt.timedelta(minutes=1))
        with pytest.raises(RemoteError) as err:
            give(recipient="uu-ballerup", purpose="bridging_education")
        assert problems(err)[0]["rule"] == "consent.recipient_unknown"
        assert "uu-ballerup" not in [r["recipient"] for r in cluster.intake.consent_vocabulary(
            actor=FRONTEN)["recipients"]]
    announced = tap.wait("intake.consent_given")
    assert announced["payload"]["purpose"] == "bridging_education"
    world.close()


# Consents as they were written before the vocabulary (issue 16's examples among them).
LEGACY = [
    # recipient, purpose, withdrawn -> mapped (recipient, purpose) or the correction
    ("jobcenter-ballerup", "Brobygning til  beskæftigelse", False,
     ("jobcenter-ballerup", "bridging_employment")),
    ("Jobcenter", "koordinering af sammenhængende borgerforløb", False,
     ("jobcenter", "pathway_team")),
    ("boligforening-vest", "forebyggelse af udsættelse", True, ("boligforening-vest", "keep_home")),
    ("social_services", "pathway_team", False, ("social_services", "pathway_team")),
    ("jobcenter balerup", "brobygning til beskæftigelse", False, "recipient_unknown"),
    ("jobcenter-ballerup", "brobygning til job", False, "purpose_unknown"),
    ("Hr. Hansens nabo", "hjælp", False, "recipient_and_purpose_unknown"),
    ("uu-ballerup", "pathway_team", False, "recipient_unknown"),
]


# The consents table as migration 0004 left it (the model has more columns now).
CONSENTS_0004 = Table(
    "consents", MetaData(), Column("id", Uuid), Column("citizen_ref", Uuid),
    Column("recipient", String), Column("information_kinds", JSON), Column("purpose", String),
    Column("form", String), Column("given_at", UTCDateTime), Column("given_by", String),
    Column("withdrawn_at", UTCDateTime), Column("withdrawn_by", String))
COURSES_0004 = Table(
    "courses", MetaData(), Column("id", Uuid), Column("citizen_ref", Uuid), Column("kind", String),
    Column("start_date", Date), Column("planned_end", Date), Column("status", String),
    Column("goals", JSON), Column("follow_up_dates", JSON),
    Column("bridging_partner_kinds", JSON), Column("fired", JSON), Column("settings", JSON),
    Column("started_by", String), Column("created_at", UTCDateTime),
    Column("updated_at", UTCDateTime))


def seed_before_the_vocabulary(url: str) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    upgrade("intake", url, "0004")
    engine = make_engine(url)
    citizen, course = uuid.uuid4(), uuid.uuid4()
    ids = [uuid.uuid4() for _ in LEGACY]
    at = dt.datetime(2017, 3, 1, 9, 0, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            conn.execute(insert(Citizen.__table__).values(
                citizen_ref=citizen, cpr_lookup_hash="x" * 64, cpr_encrypted="-",
                birth_date=dt.date(1995, 3, 1), name="Borger Gammel", name_key="borger gammel",
                preferred_channel="letter", registered_at=at, registered_by="staff:a",
                updated_at=at))
            conn.execute(insert(COURSES_0004).values(
                id=course, citizen_ref=citizen, kind="individual_82b",
                start_date=dt.date(2018, 3, 1), planned_end=dt.date(2018, 8, 31),
                status="active", goals=["Mål"], follow_up_dates=[],
                bridging_partner_kinds=[], fired=[], settings={}, started_by="staff:fronten-karl",
                created_at=at, updated_at=at))
            for consent_id, (recipient, purpose, withdrawn, _) in zip(ids, LEGACY, strict=True):
                conn.execute(insert(CONSENTS_0004).values(
                    id=consent_id, citizen_ref=citizen, recipient=recipient,
                    information_kinds=["contact_status"], purpose=purpose, form="written",
                    given_at=at, given_by="staff:a",
                    withdrawn_at=at + dt.timedelta(days=1) if withdrawn else None,
                    withdrawn_by="staff:a" if withdrawn else None))
    finally:
        engine.dispose()
    return citizen, course, ids


def test_free_text_consents_are_mapped_or_flagged_never_dropped_and_a_person_fixes_them(
    amqp_uri, db_url, tmp_path: Path, runner_factory, cpr_keys, tap: EventTap
):
    citizen, course, ids = seed_before_the_vocabulary(db_url)
    intake = make_intake(amqp_uri, db_url, tmp_path, runner_factory, cpr_keys, NOW,
                         INTAKE_SWEEP_SECONDS=0.05)  # migrates to the head
    rows = {r.id: r for r in intake.rows(select(ConsentRow))}
    assert set(rows) == set(ids)  # nothing dropped
    for consent_id, (recipient, purpose, _, expected) in zip(ids, LEGACY, strict=True):
        row = rows[consent_id]
        if isinstance(expected, tuple):
            assert (row.recipient, row.purpose, row.needs_correction) == (*expected, None)
            changed = (recipient, purpose) != expected
            assert (row.original_recipient, row.original_purpose) == (
                (recipient, purpose) if changed else (None, None))
        else:
            assert (row.recipient, row.purpose, row.needs_correction) == (
                recipient, purpose, expected)
    # The course's responsible staff member is the one who started it.
    [course_row] = intake.rows(select(CourseRow.responsible_staff_id, CourseRow.responsible_name))
    assert tuple(course_row) == ("fronten-karl", "fronten-karl")
    [term] = intake.rows(select(CourseResponsibleRow.course_id, CourseResponsibleRow.staff_id,
                                CourseResponsibleRow.until))
    assert tuple(term) == (course, "fronten-karl", None)

    intake.run()
    # The gates are told the vocabulary's words of the mapped consents still in force
    # (the withdrawn one allows nothing either way), once.
    wait_for(lambda: len(tap.of_type("intake.consent_given")) >= 2, what="two announcements")
    announced = {e["payload"]["consent_id"]: e["payload"] for e in tap.of_type(
        "intake.consent_given")}
    assert set(announced) == {str(ids[0]), str(ids[1])}
    assert (announced[str(ids[0])]["recipient"], announced[str(ids[0])]["purpose"]) == (
        "jobcenter-ballerup", "bridging_employment")
    assert not any(r.announce_pending for r in intake.rows(select(ConsentRow)))

    with intake.rpc() as cluster:
        def to_correct() -> list[tuple[str, str]]:
            items = cluster.intake.worklist_consents_to_correct(actor=FRONTEN)["items"]
            return [(i["subject_id"], i["reason_code"]) for i in items]

        # jobcenter-ballerup is not in the directory yet: on the list too.
        expected = [(str(ids[0]), "consent_recipient_not_in_directory"),
                    (str(ids[4]), "consent_recipient_unknown"),
                    (str(ids[5]), "consent_purpose_unknown"),
                    (str(ids[6]), "consent_recipient_and_purpose_unknown"),
                    (str(ids[7]), "consent_recipient_unknown")]
        assert sorted(to_correct()) == sorted(expected)
        page = cluster.intake.worklist_consents_to_correct(actor=FRONTEN, limit=2)
        assert len(page["items"]) == 2 and page["next_cursor"]
        item = next(i for i in page["items"] + cluster.intake.worklist_consents_to_correct(
            actor=FRONTEN)["items"] if i["subject_id"] == str(ids[5]))
        assert item["details"]["purpose"] == "brobygning til job"
        assert item["reason"].startswith("Formålet er skrevet som fri tekst")

        partner_known(intake, "jobcenter-ballerup", name="Jobcenter Ballerup")
        assert (str(ids[0]), "consent_recipient_not_in_directory") not in to_correct()

        fixed = cluster.intake.correct_consent(
            actor=FRONTEN, consent_id=str(ids[5]), recipient="jobcenter-ballerup",
            purpose="bridging_employment")
        assert (fixed["purpose"], fixed["original_purpose"], fixed["needs_correction"]) == (
            "bridging_employment", "brobygning til job", None)
        with pytest.raises(RemoteError) as err:
            cluster.intake.correct_consent(actor=FRONTEN, consent_id=str(ids[5]),
                                           recipient="jobcenter", purpose="pathway_team")
        assert problems(err)[0]["rule"] == "consent.nothing_to_correct"
        with pytest.raises(RemoteError) as err:
            cluster.intake.correct_consent(actor=FRONTEN, consent_id=str(ids[4]),
                                           recipient="jobcenter balerup",
                                           purpose="bridging_employment")
        assert problems(err)[0]["rule"] == "consent.recipient_unknown"
        cluster.intake.withdraw_consent(actor=FRONTEN, consent_id=str(ids[6]))
        assert sorted(to_correct()) == sorted([(str(ids[4]), "consent_recipient_unknown"),
                                               (str(ids[7]), "consent_recipient_unknown")])
        listed = cluster.intake.list_consents(actor=FRONTEN, citizen_ref=str(citizen),
                                              purpose="gennemgang af samtykker")
        assert len(listed) == len(LEGACY)
    again = tap.wait("intake.consent_given", lambda e: e["payload"]["consent_id"] == str(ids[5]))
    assert (again["payload"]["recipient"], again["payload"]["purpose"]) == (
        "jobcenter-ballerup", "bridging_employment")
